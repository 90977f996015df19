"""How strong are the hidden tests? Mutation testing of the instructor's solutions.

``prettynn-course strength CHAPTER`` changes each graded function's reference solution in
small ways, one change at one site of its solution region (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; never the signature or the docstring), and
asks whether the grading notices. Each such *mutant* is defined as the grader defines a
solution (a fresh namespace with ``np``, ``math`` and the instructor's versions of the
functions the exercise ``uses``: ``prettynn.sandbox.child``) and run in this process with
``prettynn.judging.evaluate``, case by case, first on the visible cases, then on the hidden
cases drawn with ``HIDDEN_CASES_SEED``. A mutant is

- **killed by the check** when a visible case fails (what the student's check would say);
- **killed by the hidden tests** when only a hidden case fails (the graded test runs the
  visible and the hidden cases, as ``hidden_verdict`` does);
- a **survivor** when every case passes. A survivor that also passes every case of the
  extra draws (the hidden generator with ``EXTRA_SEEDS``) is **likely equivalent**: it agrees
  with torch wherever the generator looks, so no case of this generator can kill it; one
  that fails there is a **real gap** of the grading;
- **stillborn** when its cell does not compile or raises when run (reported, not counted).

A mutant runs under a CPU-time limit per phase (``TIME_FACTOR`` times what the reference
solution took on the same cases, at least ``MIN_SECONDS``): one that runs past it is killed
by a time-out in that phase, as the sandbox's per-case limit would stop it. torch and
NumPy's BLAS run on one thread meanwhile: the cases are small, and on a busy 2-core machine
a second torch thread made conv2d's hidden cases take 1-3 s instead of 0.05 s. A chapter
then takes 5-11 s in all on such a machine, so no mutant is run in parallel.

The scores of an exercise count the mutants that are not likely equivalent: the *hidden
score* is the share the graded test kills (by the check or only by the hidden cases), the
*check score* the share the visible check kills. An exercise with more than ``MAX_MUTANTS``
mutants is tested on a sample of them, drawn with a generator seeded by the exercise's
name (the same sample every run); the reports say so.

The mutants come from ``prettynn.course.mutants``.

Outputs (``prettynn.course.strength_report``): a printed summary,
``autograde/reports/<chapter>/strength.html`` (in the class report's style) and
``strength.json`` beside it, and the chapter's rows of the summary table in
``book/instructors.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ..experiments import one_torch_thread
from ..judging import HIDDEN_CASES_SEED, evaluate
from ..model import Case, Exercise, all_exercises, get
from ..outcome import CaseResult
from ..sandbox.child import base_namespace
from . import notebooks
from .mutants import Mutant, mutants, sample
from .references import instructor_functions

EXTRA_SEEDS = (1, 2)  # the extra draws of the hidden cases that tell an equivalent mutant from a gap
TIME_FACTOR = 20
MIN_SECONDS = 2.0
HIDDEN_GOAL, CHECK_GOAL = 0.95, 0.5  # what the tests require of every exercise

KILLED_BY_CHECK, KILLED_BY_HIDDEN, SURVIVED, EQUIVALENT, STILLBORN = (
    "killed by the check", "killed only by the hidden tests", "survived", "likely equivalent", "stillborn")
FATES = (KILLED_BY_CHECK, KILLED_BY_HIDDEN, SURVIVED, EQUIVALENT, STILLBORN)


class StrengthError(RuntimeError):
    """The mutants cannot be judged: the instructor's solution is missing or fails its own cases."""


# ------------------------------------------------------------------------------ running mutants


class MutantTimeout(BaseException):
    """A mutant ran past its CPU-time limit (a ``BaseException``, so no ``except Exception`` stops it)."""


def _on_time_limit(signum, frame):
    """The CPU-time alarm: stop the mutant (private: a signal handler, not to be called)."""
    raise MutantTimeout()


@contextlib.contextmanager
def cpu_time_limit(seconds: float):
    """Raise ``MutantTimeout`` in the block once the process has used ``seconds`` of CPU time."""
    previous = signal.signal(signal.SIGPROF, _on_time_limit)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def first_failure(exercise: Exercise, fn, cases: list[Case]) -> CaseResult | None:
    """The result of the first case ``fn`` fails, judged by ``evaluate``; ``None`` when all pass."""
    for case in cases:
        verdict = evaluate(exercise, fn, [case])
        if not verdict.all_passed:
            return verdict.results[0]
    return None


def define(source: str, name: str, supplied: dict):
    """The function ``name`` of a cell, defined as the grader defines a solution."""
    namespace = base_namespace()
    namespace.update(supplied)
    exec(compile(source, f"mutant of {name}", "exec"), namespace)
    return namespace[name]


@dataclasses.dataclass(frozen=True)
class Phase:
    """One set of cases a mutant runs on, the fate of a mutant that fails it, and its time limit."""

    cases: tuple[Case, ...]
    fate: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class Bench:
    """What the mutants of one exercise run with: the functions it uses and the three phases."""

    exercise: Exercise
    supplied: dict
    phases: tuple[Phase, ...]


def reference_seconds(exercise: Exercise, fn, cases: list[Case]) -> float:
    """The CPU time the reference solution takes on ``cases``; it must pass every one of them."""
    start = time.process_time()
    failure = first_failure(exercise, fn, cases)
    if failure is not None:
        raise StrengthError(f"the instructor's solution of {exercise.name} fails its own case "
                            f"'{failure.case.description}': {failure.problem}")
    return time.process_time() - start


def bench(root: Path, exercise: Exercise, source: str) -> Bench:
    """The cases and limits of ``exercise``'s mutants, its reference solution ``source`` timed on them."""
    supplied = instructor_functions(root, exercise.uses)
    reference = define(source, exercise.name, supplied)
    draws = {KILLED_BY_CHECK: exercise.visible_cases(),
             KILLED_BY_HIDDEN: exercise.hidden_cases(np.random.default_rng(HIDDEN_CASES_SEED)),
             SURVIVED: [case for seed in EXTRA_SEEDS for case in exercise.hidden_cases(np.random.default_rng(seed))]}
    phases = tuple(Phase(tuple(cases), fate,
                         max(MIN_SECONDS, TIME_FACTOR * reference_seconds(exercise, reference, cases)))
                   for fate, cases in draws.items())
    return Bench(exercise, supplied, phases)


@dataclasses.dataclass(frozen=True)
class Result:
    """A mutant's fate, the case (or error) that decided it, and whether a time-out did."""

    mutant: Mutant
    fate: str
    evidence: str = ""
    timed_out: bool = False

    def as_json(self) -> dict:
        """The result for the JSON report (the mutated cell left out)."""
        return {"operator": self.mutant.operator, "line": self.mutant.line, "removed": list(self.mutant.removed),
                "added": list(self.mutant.added), "fate": self.fate, "evidence": self.evidence,
                "timed_out": self.timed_out}


def shortened(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def judge_mutant(bench: Bench, mutant: Mutant) -> Result:
    """Run ``mutant`` phase by phase until a case fails; its fate is that phase's."""
    try:
        fn = define(mutant.source, mutant.exercise, bench.supplied)
    except Exception as error:  # noqa: BLE001 (a cell that raises when run is stillborn)
        return Result(mutant, STILLBORN, shortened(f"{type(error).__name__}: {error}"))
    for phase in bench.phases:
        try:
            with cpu_time_limit(phase.seconds):
                failure = first_failure(bench.exercise, fn, list(phase.cases))
        except MutantTimeout:
            return Result(mutant, phase.fate, f"ran past its time limit of {phase.seconds:.1f} s of CPU", True)
        if failure is not None:
            return Result(mutant, phase.fate, shortened(f"{failure.case.description}: {failure.problem}"))
    return Result(mutant, EQUIVALENT)


# ------------------------------------------------------------------------------ per exercise


def share_of_counted(killed: int, counts: dict[str, int]) -> float:
    """``killed`` as a share of the mutants the scores count (neither stillborn nor likely equivalent),
    given the number of mutants of each fate; 1 when none is counted."""
    counted = counts[KILLED_BY_CHECK] + counts[KILLED_BY_HIDDEN] + counts[SURVIVED]
    return killed / counted if counted else 1.0


def hidden_score(counts: dict[str, int]) -> float:
    """The share of counted mutants the graded test (visible and hidden cases) kills."""
    return share_of_counted(counts[KILLED_BY_CHECK] + counts[KILLED_BY_HIDDEN], counts)


def check_score(counts: dict[str, int]) -> float:
    """The share of counted mutants the visible check kills."""
    return share_of_counted(counts[KILLED_BY_CHECK], counts)


@dataclasses.dataclass(frozen=True)
class Strength:
    """The mutation results of one exercise: ``generated`` mutants, of which ``results`` were run."""

    chapter: str
    exercise: str
    generated: int
    results: tuple[Result, ...]
    seconds: float = 0.0

    def count(self, fate: str) -> int:
        """How many mutants met ``fate``."""
        return sum(result.fate == fate for result in self.results)

    @property
    def counts(self) -> dict[str, int]:
        """How many mutants met each fate."""
        return {fate: self.count(fate) for fate in FATES}

    @property
    def hidden_score(self) -> float:
        """The share of counted mutants the graded test kills."""
        return hidden_score(self.counts)

    @property
    def check_score(self) -> float:
        """The share of counted mutants the visible check kills."""
        return check_score(self.counts)

    @property
    def sampled(self) -> bool:
        """True when only a sample of the mutants ran."""
        return len(self.results) < self.generated

    def with_fate(self, fate: str) -> list[Result]:
        """The results of the mutants that met ``fate``."""
        return [result for result in self.results if result.fate == fate]

    def as_json(self) -> dict:
        """The exercise's results for the JSON report."""
        return {"chapter": self.chapter, "exercise": self.exercise, "generated": self.generated,
                "run": len(self.results), "counts": self.counts,
                "hidden_score": self.hidden_score, "check_score": self.check_score, "seconds": round(self.seconds, 2),
                "mutants": [result.as_json() for result in self.results]}


def meets_goals(strength: Strength) -> bool:
    """True when the hidden tests kill ``HIDDEN_GOAL`` of the counted mutants and the check ``CHECK_GOAL``."""
    return strength.hidden_score >= HIDDEN_GOAL and strength.check_score >= CHECK_GOAL


def solution_cells(root: Path, chapter: str) -> dict[str, str]:
    """The code of each solution cell of ``chapter``'s instructor notebook, delimiters kept, by grade id."""
    notebook = notebooks.read(notebooks.source_path(root, chapter))
    return {notebooks.grade_id(cell): cell.source for cell in notebook.cells if notebooks.is_solution(cell)}


def exercise_strength(root: Path, exercise: Exercise, source: str) -> Strength:
    """Generate, sample and judge the mutants of ``exercise``'s solution cell ``source``."""
    start = time.perf_counter()
    generated = mutants(exercise.name, source)
    chosen = sample(generated, exercise.name)
    with one_torch_thread(), threadpool_limits(1):  # small arrays: a second thread only costs, most on a busy machine
        setting = bench(root, exercise, source)
        results = tuple(judge_mutant(setting, mutant) for mutant in chosen)
    return Strength(exercise.assignment, exercise.name, len(generated), results, time.perf_counter() - start)


def strength_of(root: Path, name: str) -> Strength:
    """The mutation results of the exercise called ``name``."""
    exercise = get(name)
    source = solution_cells(root, exercise.assignment).get(name)
    if source is None:
        raise StrengthError(f"solutions/{exercise.assignment} has no solution cell for `{name}`")
    return exercise_strength(root, exercise, source)


def chapter_strength(root: Path, chapter: str) -> list[Strength]:
    """The mutation results of every exercise of ``chapter``."""
    return [strength_of(root, exercise.name) for exercise in all_exercises(chapter)]


