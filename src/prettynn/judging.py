"""Judging: what a call produced, against the exercise's torch reference, case by case.

How a verdict is reached is decided here and nowhere else: ``judge`` compares an
``Outcome`` with the reference in float64 and notes which known mistakes explain it or are
ruled out by it; ``Verdict.of`` chooses the hint for each failed case from every case's
evidence and counts the points. ``evaluate`` calls a function in this process
(``prettynn.calling``) and judges each case; the course's autograde judges outcomes that
came back from a sandbox (``prettynn.course.gradeinsandbox``).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import warnings
from dataclasses import dataclass

import numpy as np

from .calling import call_student
from .compare import allclose, allowed_error, preview, relative_error, within, worst_violation
from .model import Case, Exercise, Mistake, get
from .outcome import CaseResult, Foreign, Outcome

HIDDEN_CASES_SEED = 0


@dataclass(frozen=True)
class Verdict:
    """The results of one exercise on a list of cases."""

    exercise: Exercise
    results: tuple[CaseResult, ...]

    @classmethod
    def of(cls, exercise: Exercise, results) -> "Verdict":
        """The verdict of ``results``, each failure hinted by the known mistake that explains it.

        A mistake is ruled out only by a case that passed although the mistake would have
        failed it (see ``_mistake_relation``): partly correct code keeps the hint of the one
        mistake it makes, and a crash on another case does not hide it. Among the mistakes
        that explain a failure, the one that explains the most failed cases is named; a hint the
        case itself gave (an input changed in place, a property) is kept.
        """
        ruled_out = frozenset().union(*(result.contradicts for result in results))
        explained = {m.name: sum(m.name in r.explains for r in results if not r.passed) for m in exercise.mistakes}
        ranked = sorted(exercise.mistakes, key=lambda m: -explained[m.name])  # stable: declaration order on ties
        hinted = []
        for result in results:
            mistake = None if result.passed or result.hint else next(
                (m for m in ranked if m.name in result.explains and m.name not in ruled_out), None)
            if mistake is not None:
                result = dataclasses.replace(result, hint=mistake.hint, mistake=mistake.name)
            hinted.append(result)
        return cls(exercise, tuple(hinted))

    @property
    def passed(self) -> int:
        """How many cases passed."""
        return sum(result.passed for result in self.results)

    @property
    def total(self) -> int:
        """How many cases ran."""
        return len(self.results)

    @property
    def all_passed(self) -> bool:
        """True when every case passed (and there was at least one)."""
        return self.total > 0 and self.passed == self.total

    @property
    def failures(self) -> list[CaseResult]:
        """The results of the cases that failed, in order."""
        return [result for result in self.results if not result.passed]

    def points(self) -> float:
        """Points earned: the share of cases passed, rounded down to 0.01, full only if all pass."""
        if self.all_passed:
            return float(self.exercise.points)
        earned = np.floor(100 * self.exercise.points * self.passed / max(self.total, 1)) / 100
        return float(min(earned, self.exercise.points - 0.01))



def _error_message(outcome: Outcome) -> str:
    """``Type: message`` of the exception a call raised."""
    return f"{outcome.error_type}: {outcome.error}"


UNDEFINED_NAME = re.compile(r"name '(\w+)' is not defined")


def undefined_name(outcome: Outcome) -> str:
    """The name a ``NameError`` says is not defined, or ''."""
    match = UNDEFINED_NAME.search(outcome.error) if outcome.error_type in ("NameError", "UnboundLocalError") else None
    return match.group(1) if match else ""


def _error_hint(outcome: Outcome) -> str:
    """What to do about an exception that is about how the cell is graded, not about the math."""
    missing = undefined_name(outcome)
    if missing:
        return (f"each solution cell is graded on its own, with only `np` and `math` predefined: "
                f"if `{missing}` is defined in another cell, define it in this one.")
    if outcome.error_type in ("ModuleNotFoundError", "ImportError") or "not available while grading" in outcome.error:
        return "only NumPy and Python's standard library can be imported when a solution is graded."
    return ""


def _describe_type(value) -> str:
    """How to name a returned value's type in a sentence."""
    if isinstance(value, Foreign):
        return value.kind
    module = type(value).__module__
    if module.startswith("torch"):
        return "a torch.Tensor"
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _is_integer(value) -> bool:
    """True for a Python or NumPy integer (not a bool, not a float that happens to be whole)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_type(exercise: Exercise, name: str, value, expected) -> str:
    """One sentence when ``value`` is not the kind of object ``expected`` is, else ''."""
    if expected is None:
        if value is not None:
            return f"`{name}` should be None here (the reference returns None), but it is {_describe_type(value)}."
        return ""
    if value is None:
        return f"`{name}` is None: did you forget a `return`?"
    if type(value).__module__.startswith("torch"):
        return f"`{name}` is a torch.Tensor: the exercises use NumPy only; return a NumPy array."
    if exercise.kind == "integer":
        if _is_integer(value) or (isinstance(value, np.ndarray) and value.ndim == 0
                                  and np.issubdtype(value.dtype, np.integer)):
            return ""
        return (f"`{name}` is {_describe_type(value)}, not an integer: a size is a whole number "
                "(floor division `//` keeps integers; `/` gives floats).")
    if exercise.kind == "number" and isinstance(value, (int, float, np.floating, np.integer)):
        return ""
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"`{name}` is {_describe_type(value)}, not a NumPy array: build it with NumPy (np.asarray converts)."
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
        return f"`{name}` has dtype {value.dtype}: return numbers."
    return ""


def _unpack(exercise: Exercise, result) -> tuple[tuple, str]:
    """Split a student's return value into its components, or explain why it can't be."""
    if not exercise.outputs:
        if result is None:
            return (), ""
        return (), (f"{exercise.name} updates its arguments in place and returns None, but it returned "
                    f"{_describe_type(result)}.")
    if not exercise.returns_tuple:
        return (result,), ""
    names = ", ".join(exercise.outputs)
    if not isinstance(result, (tuple, list)):
        return (), f"{exercise.name} should return a tuple ({names}), but it returned {_describe_type(result)}."
    if len(result) != len(exercise.outputs):
        return (), f"{exercise.name} should return {len(exercise.outputs)} values ({names}), but it returned {len(result)}."
    return tuple(result), ""


# ---------------------------------------------------------------- known mistakes


def _mistake_prediction(mistake: Mistake, case: Case) -> tuple[str, object]:
    """What ``mistake`` does on ``case``: ``("value", output)``, ``("raises", None)`` or ``("unknown", None)``."""
    if mistake.output is None:
        return "unknown", None
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "value", mistake.output(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    except (ValueError, TypeError, IndexError):
        return ("raises" if mistake.raises else "unknown"), None


def _mistake_relation(exercise: Exercise, case: Case, outcome: Outcome, mistake: Mistake, passed: bool) -> bool | None:
    """True when ``mistake`` explains what the call produced; False when the case rules it out (the
    call passed where the mistake would have failed); None otherwise (unknown, or a failed case
    that the mistake does not explain: code can be wrong in more than one way)."""
    kind, wrong = _mistake_prediction(mistake, case)
    if outcome.raised:
        return True if mistake.raises and re.search(mistake.raises, _error_message(outcome)) else None
    if kind != "value":
        return False if kind == "raises" and passed else None
    if mistake.component in exercise.updates:
        got = exercise.named_arguments(outcome.args_after, outcome.kwargs_after).get(mistake.component)
    else:
        components, problem = _unpack(exercise, outcome.result)
        if problem:
            return None
        got = components[exercise.outputs.index(mistake.component)] if mistake.component else components[0]
    if got is None or wrong is None:
        return None  # the mistake does not apply here (no bias, say)
    try:
        if _close(got, wrong, case):
            return True
    except (TypeError, ValueError):
        return None
    return False if passed else None


def _close(got, wrong, case: Case) -> bool:
    """True when ``got`` equals a mistake's prediction within the case's tolerance (lists item by item)."""
    if isinstance(wrong, list):
        return (isinstance(got, list) and len(got) == len(wrong)
                and all((g is None) == (w is None) and (w is None or _close(g, w, case)) for g, w in zip(got, wrong)))
    return allclose(got, wrong, rtol=case.rtol, atol=case.atol, equal_nan=True)


def _mistake_relations(exercise: Exercise, case: Case, outcome: Outcome, passed: bool) -> dict:
    """``explains`` and ``contradicts``: the known mistakes that account for the outcome, and those it rules out."""
    if outcome.problem or outcome.torch_calls or case.raises:
        return {}
    relations = {mistake.name: _mistake_relation(exercise, case, outcome, mistake, passed)
                 for mistake in exercise.mistakes}
    return {"explains": frozenset(name for name, r in relations.items() if r is True),
            "contradicts": frozenset(name for name, r in relations.items() if r is False)}


# ---------------------------------------------------------------- comparing what came back


def _compare_values(case: Case, name: str, got, expected, exact: bool = False, magnitude=None,
                    terms: int = 0) -> CaseResult | None:
    """Compare one array-like with its expected value; ``None`` when they agree, else the failed result
    (naming the element that broke the tolerance by the largest factor)."""
    got_array = np.asarray(got, dtype=np.float64)
    if got_array.shape != expected.shape:
        return CaseResult(case, False, f"`{name}` has shape {got_array.shape}, expected {expected.shape}.")
    allowed = np.zeros(expected.shape) if exact else allowed_error(expected, case.rtol, case.atol, magnitude, terms)
    if within(got_array, expected, allowed):
        return None
    worst = worst_violation(got_array, expected, allowed)
    at = f" at index {worst.index}" if worst.index else ""
    bound = "must be equal" if exact else f"at most {worst.allowed:.2g} allowed"
    detail = (
        f"expected {name}: {preview(expected)}\n"
        f"got      {name}: {preview(got_array)}\n"
        f"outside the tolerance{at}: expected {worst.expected_value:.6g}, got {worst.got_value:.6g} "
        f"(error {worst.max_abs_error:.3g}, {bound})"
    )
    with np.errstate(all="ignore"):
        relative = relative_error(got_array, expected)
    summary = f"error {worst.max_abs_error:.3g} where {bound} (relative error {relative:.2g})"
    if not np.all(np.isfinite(got_array)):
        detail += "\nyour output contains inf or nan"
        summary += "; your output contains inf or nan"
    return CaseResult(case, False, f"`{name}` has wrong values.", detail, summary=summary)


def _compare_component(exercise: Exercise, case: Case, name: str, got, expected, magnitude=None,
                       terms: int = 0) -> CaseResult | None:
    """Compare one output component; ``None`` when it is right, else the failed result."""
    problem = _check_type(exercise, name, got, expected)
    if problem:
        return CaseResult(case, False, problem)
    if expected is None:
        return None
    return _compare_values(case, name, got, expected, exact=exercise.kind == "integer", magnitude=magnitude,
                           terms=terms)


def _is_array_list(value) -> bool:
    """True for a list argument of arrays (or ``None`` entries), as the optimizers take them."""
    return isinstance(value, list) and all(item is None or isinstance(item, np.ndarray) for item in value)


def _unchanged(before, after) -> bool:
    """True when an array, or a list of arrays, holds after the call what it held before."""
    if isinstance(before, list):
        return (isinstance(after, list) and len(after) == len(before)
                and all(_unchanged(b, a) for b, a in zip(before, after)))
    if before is None:
        return after is None
    return isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(before, after,
                                                                                          equal_nan=True)


def _modified_input(exercise: Exercise, case: Case, outcome: Outcome) -> str:
    """Name the first input (an array or a list of arrays) the student's function changed in place
    and may not, or ''."""
    before = exercise.named_arguments(case.args, case.kwargs)
    after = exercise.named_arguments(outcome.args_after, outcome.kwargs_after)
    for name, value in before.items():
        if name in exercise.updates or name not in after:
            continue
        if (isinstance(value, np.ndarray) or _is_array_list(value)) and not _unchanged(value, after[name]):
            return name
    return ""


def _not_updated(case: Case, label: str) -> CaseResult:
    """The result of an argument (or an array in a list argument) left as it was although it had to change."""
    if "[" in label:
        hint = (f"write the new values into the array itself (`p -= ...` or `p[...] = ...`, with `p` the array "
                f"`{label}`): `p = p - ...` only rebinds the name `p`, and the array in the list stays unchanged.")
    else:
        hint = (f"write the new values into the array you were given (`{label}[...] = ...`, or `*=` and `+=`): "
                f"`{label} = ...` only rebinds a local name, the caller's array stays unchanged.")
    return CaseResult(case, False, f"`{label}` was not updated in place.", hint=hint)


def _compare_updated_array(case: Case, name: str, before, got, want) -> CaseResult | None:
    """Compare one array argument the function must update in place with what the reference left in it."""
    if not isinstance(got, np.ndarray):
        return CaseResult(case, False, f"`{name}` could not be read back after the call.")
    want = np.asarray(want, dtype=np.float64)
    if np.array_equal(got, before) and not allclose(before, want):
        return _not_updated(case, name)
    return _compare_values(case, f"{name} after the call", got, want)


def _replaced_indices(exercise: Exercise, outcome: Outcome, name: str) -> set:
    """The indices of list argument ``name`` whose items the call replaced by other objects."""
    parameters = exercise.parameters
    return {index for where, index in outcome.replaced
            if (parameters[where] if isinstance(where, int) and where < len(parameters) else where) == name}


def _compare_updated_list(exercise: Exercise, case: Case, outcome: Outcome, name: str, before: list, got,
                          want: list) -> CaseResult | None:
    """Compare a list of arrays the function must update in place (each array in place; a ``None``
    entry replaced by a new array) with what the reference left in it."""
    if not isinstance(got, list) or len(got) != len(want):
        return CaseResult(case, False, f"`{name}` should still be a list of {len(want)} entries after the call.")
    replaced = _replaced_indices(exercise, outcome, name)
    for index, (old, new, right) in enumerate(zip(before, got, want)):
        label = f"{name}[{index}]"
        if right is None:
            continue
        if new is None:
            return CaseResult(case, False, f"`{label}` is still None after the call.",
                              hint=f"a None entry of `{name}` means no state yet: put the new array in the list "
                                   f"(`{name}[i] = ...`), so the next step finds it.")
        if old is not None and index in replaced:
            return CaseResult(
                case, False, f"`{label}` was replaced by a new array instead of being updated in place.",
                hint=f"update the array that is in the list (`{label} -= ...`, `{label}[...] = ...`): a layer "
                     f"holds that array, and a new one in the list never reaches it.")
        failure = (_compare_values(case, f"{label} after the call", new, np.asarray(right, dtype=np.float64))
                   if old is None else _compare_updated_array(case, label, old, new, right))
        if failure is not None:
            return failure
    return None


def _compare_updates(exercise: Exercise, case: Case, outcome: Outcome, expected_after: dict) -> CaseResult | None:
    """Compare the arguments the function must update in place with what the reference left in them."""
    before = exercise.named_arguments(case.args, case.kwargs)
    after = exercise.named_arguments(outcome.args_after, outcome.kwargs_after)
    for name in exercise.updates:
        want = expected_after.get(name)
        if want is None:
            continue
        if isinstance(want, list):
            failure = _compare_updated_list(exercise, case, outcome, name, before[name], after.get(name), want)
        else:
            failure = _compare_updated_array(case, name, before[name], after.get(name), want)
        if failure is not None:
            return failure
    return None


def _same(first, second) -> bool:
    """True when two returned values are equal, component by component (arrays exactly, NaN = NaN)."""
    try:
        first_array, second_array = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    except (TypeError, ValueError):
        return first is second or first == second
    return first_array.shape == second_array.shape and np.array_equal(first_array, second_array, equal_nan=True)


def _compare_repeat(exercise: Exercise, case: Case, outcome: Outcome, components: tuple) -> CaseResult | None:
    """For a case called twice: the second call must have returned what the first did."""
    if not case.twice:
        return None
    again, problem = _unpack(exercise, outcome.again)
    if problem or not all(_same(a, b) for a, b in zip(components, again)):
        return CaseResult(
            case, False, f"two calls of {exercise.name} on the same inputs, with generators seeded alike, "
                         "returned different results.",
            hint="draw every random number from the `rng` you are given (not from np.random or a new "
                 "default_rng()), so that a seed reproduces a run.")
    return None


def _check_properties(exercise: Exercise, case: Case, components: tuple) -> CaseResult | None:
    """Run the exercise's properties on what the function returned; the first failure, or ``None``."""
    for prop in exercise.properties:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem = prop.check(case, components)
        except Exception as error:  # noqa: BLE001 (a strange output fails the case, with a message)
            problem = f"the output could not be checked for '{prop.name}' ({type(error).__name__})."
        if problem:
            return CaseResult(case, False, problem, hint=prop.hint)
    return None


def _expected_exception(exercise: Exercise, case: Case, outcome: Outcome) -> CaseResult:
    """Judge a case whose right answer is raising ``case.raises``."""
    if outcome.error_type == case.raises:
        return CaseResult(case, True)
    if outcome.raised:
        return CaseResult(
            case, False, f"{exercise.name} should raise {case.raises} here, but it raised {_error_message(outcome)}",
            hidden_problem=f"{exercise.name} should raise {case.raises} here, but it raised {outcome.error_type}.")
    return CaseResult(case, False, f"{exercise.name} should raise {case.raises} here, but it returned a result.",
                      hint=f"check the argument first and `raise {case.raises}(...)` with a message saying "
                           "what is allowed.")


def describe_call(exercise: Exercise, case: Case) -> str:
    """The call as a student reads it: ``linear(x=array(4, 3) float64, weight=..., bias=None)``."""
    return f"{exercise.name}({case.signature(exercise.parameters)})"


def run_case(exercise: Exercise, fn, case: Case) -> CaseResult:
    """Run ``fn`` in this process on one case and judge it against the torch reference."""
    return judge(exercise, case, call_student(fn, case))


def judge(exercise: Exercise, case: Case, outcome: Outcome) -> CaseResult:
    """Judge what a student's function produced on ``case`` against the torch reference.

    The result's hint is one that needs no other case (an exception about how the cell
    is graded, an argument not updated in place, a property); known mistakes are named by
    ``Verdict.of``, which sees every case.
    """
    result = _judge_outcome(exercise, case, outcome)
    return dataclasses.replace(result, call=describe_call(exercise, case),
                               **_mistake_relations(exercise, case, outcome, result.passed))


def _leave_as_it_is(name: str, value) -> str:
    """The hint for an input (an array, or a list of arrays) changed in place that must stay as it was."""
    if isinstance(value, list):
        return (f"leave the arrays in `{name}` as they are: `g = g + ...` makes a new array, while `g += ...` "
                f"or `g[...] = ...` changes the one in the list.")
    return (f"leave `{name}` as it is: compute the result as a new array (NumPy operations such as `np.where` or "
            f"`+` return new arrays), or change the entries of `{name}.copy()`.")


def _judge_outcome(exercise: Exercise, case: Case, outcome: Outcome) -> CaseResult:
    """The result of one case, before the call's description and the mistakes are attached."""
    if outcome.problem:
        return CaseResult(case, False, outcome.problem)
    if outcome.torch_calls:
        return CaseResult(case, False, f"{exercise.name} called torch ({outcome.torch_calls[0]}); use NumPy only.")
    if outcome.error_type == "NotImplementedError":
        return CaseResult(
            case, False,
            f"{exercise.name} is not implemented yet: replace `raise NotImplementedError` with your code.",
            not_attempted=True,
        )
    if case.raises:
        return _expected_exception(exercise, case, outcome)
    if outcome.raised:
        where = f" {outcome.where}" if outcome.where else ""
        return CaseResult(
            case, False, f"{exercise.name} raised {_error_message(outcome)}", outcome.where, _error_hint(outcome),
            hidden_problem=f"{exercise.name} raised {outcome.error_type}{where} (its message is not shown for hidden cases).",
        )
    changed = _modified_input(exercise, case, outcome)
    if changed:
        return CaseResult(case, False, f"{exercise.name} modified its input `{changed}` in place.",
                          hint=_leave_as_it_is(changed, exercise.named_arguments(case.args, case.kwargs)[changed]))
    components, problem = _unpack(exercise, outcome.result)
    if problem:
        return CaseResult(case, False, problem)
    expected, expected_after = exercise.run_reference(case)
    magnitudes, terms = exercise.term_magnitudes(case) or ((None,) * len(expected), 0)
    for name, got, want, magnitude in zip(exercise.outputs, components, expected, magnitudes):
        failure = _compare_component(exercise, case, name, got, want, magnitude, terms)
        if failure is not None:
            return failure
    if exercise.reference is None:
        for name, got in zip(exercise.outputs, components):
            problem = _check_type(exercise, name, got, np.empty(0))
            if problem:
                return CaseResult(case, False, problem)
    return (_compare_updates(exercise, case, outcome, expected_after)
            or _compare_repeat(exercise, case, outcome, components)
            or _check_properties(exercise, case, components)
            or CaseResult(case, True))


def evaluate(exercise: Exercise, fn, cases: list[Case]) -> Verdict:
    """Run ``fn`` on every case; the verdict holds one result per case."""
    if not callable(fn):
        problem = f"`{exercise.name}` is {_describe_type(fn)}, not a function."
        return Verdict(exercise, tuple(
            CaseResult(case, False, problem, call=describe_call(exercise, case)) for case in cases))
    return Verdict.of(exercise, [run_case(exercise, fn, case) for case in cases])


def hidden_verdict(name: str, fn, seed: int = HIDDEN_CASES_SEED) -> Verdict:
    """The verdict of ``fn`` on the exercise's visible cases and its seeded hidden cases."""
    exercise = get(name)
    cases = exercise.visible_cases() + exercise.hidden_cases(np.random.default_rng(seed))
    return evaluate(exercise, fn, cases)
