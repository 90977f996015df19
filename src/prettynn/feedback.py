"""Feedback text: how a verdict reads, in a visible check, in the grader's copy of that check,
and in the report of hidden tests.

Everything a student reads about a verdict is formatted here. A visible case is shown in full
(the call, expected vs got); a hidden case never shows its inputs or anything that could echo
them (a returned input, an exception message): its kind, the problem, the size of the error
and the hint.
"""

from __future__ import annotations

from .outcome import CaseResult

RED, GREEN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"


def case_report(result: CaseResult, show_call: bool = True) -> str:
    """A failed visible case as text: the case, what went wrong, expected vs got, the hint."""
    lines = [f"Case: {result.case.description}"]
    if show_call:
        lines.append(f"  call: {result.call}")
    lines.append(f"  problem: {result.problem}")
    lines += [f"  {line}" for line in result.detail.splitlines()]
    if result.hint:
        lines.append(f"  hint: {result.hint}")
    return "\n".join(lines)


def hidden_case_report(result: CaseResult) -> str:
    """A failed hidden case as text: its kind, the problem, the error size, the hint."""
    lines = [f"Case: {result.case.description}", f"  problem: {result.hidden_problem or result.problem}"]
    if result.summary:
        lines.append(f"  {result.summary}")
    if result.hint:
        lines.append(f"  hint: {result.hint}")
    return "\n".join(lines)


def pass_message(verdict) -> str:
    """The one line a check prints when every visible case passes (without its ✔)."""
    return f"{verdict.exercise.name}: all {verdict.total} visible cases pass (grading tries many more)."


def failure_message(verdict) -> str:
    """The message of a failed check: every visible case as ✔ or ✘ (with the problem of each
    failure), then the first failure in full."""
    first = verdict.failures[0]
    name = verdict.exercise.name
    lines = [f"{name}: {verdict.passed} of {verdict.total} visible cases pass."]
    for number, result in enumerate(verdict.results, 1):
        mark = f"{GREEN}✔{RESET}" if result.passed else f"{RED}✘{RESET}"
        problem = "" if result.passed else f": {result.problem}"
        lines.append(f"  {mark} {number}. {result.case.description}{problem}")
    lines += ["", f"{name}: case {verdict.results.index(first) + 1} of {verdict.total} failed.", case_report(first)]
    other_hints = sorted({r.hint for r in verdict.failures[1:] if r.hint and r.hint != first.hint})
    lines += [f"hint for another failed case: {hint}" for hint in other_hints]
    return "\n".join(lines)


def visible_message(verdict) -> str:
    """What a check cell prints, as the grader writes it into the graded notebook: the pass line,
    or the failure in full."""
    if verdict.all_passed:
        return f"✔ {pass_message(verdict)}"
    return "✘ visible check failed\n" + failure_message(verdict)


def hidden_report(verdict, most: int = 3) -> str:
    """What a student may see of a hidden-test verdict: counts, then the first failed cases as
    ``hidden_case_report`` shows them."""
    name = verdict.exercise.name
    if verdict.all_passed:
        return f"{name}: all {verdict.total} test cases pass."
    lines = [f"{name}: {verdict.passed} of {verdict.total} test cases pass."]
    lines += [hidden_case_report(result) for result in verdict.failures[:most]]
    if len(verdict.failures) > most:
        lines.append(f"... and {len(verdict.failures) - most} more failing cases.")
    return "\n".join(lines)
