"""Mutation testing of the instructor's solutions (``prettynn-course strength``).

- each operator makes the expected mutants of small functions, and only inside the solution region;
- a toy exercise's mutants get each fate: killed by the check, only by the hidden tests, surviving
  (a gap) and likely equivalent; a mutant that loops is stopped by its time limit;
- the reports and the summary table of ``book/instructors.md``;
- the strength test: for every exercise, the hidden tests kill at least 95 % of the mutants that are
  not likely equivalent, and the visible check at least half.
"""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from prettynn import model as model_module
from prettynn.course import class_report, cli, mutants, notebooks, strength, strength_report
from prettynn.course.exercise_cells import INSTRUCTORS_PAGE
from prettynn.judging import HIDDEN_CASES_SEED
from prettynn.model import Case, Exercise, all_exercises

from .conftest import ROOT


def cell(*body: str, name: str = "f", parameters: str = "a, b") -> str:
    """A solution cell defining ``name`` whose solution region holds the lines ``body``."""
    lines = [f"def {name}({parameters}):", '    """A docstring with 1 + 2 in it."""', "    ### BEGIN SOLUTION",
             *(f"    {line}" for line in body), "    ### END SOLUTION"]
    return "\n".join(lines) + "\n"


def changes(line: str, operator: str) -> set[str]:
    """The lines that ``operator``'s mutants of a one-line solution put in its place."""
    found = mutants.mutants("f", cell(line), {operator: mutants.OPERATORS[operator]})
    assert all(mutant.removed == (line,) and mutant.operator == operator for mutant in found)
    return {"\n".join(mutant.added) for mutant in found}


EXAMPLES = {
    "arithmetic operator": [("return a + b", {"return a - b"}), ("return a @ b", {"return a * b"}),
                            ("return a // b", {"return a / b"}), ("return a / b", {"return a * b", "return a // b"}),
                            ("a **= b", {"a *= b"})],
    "comparison": [("return a < b <= 2", {"return a <= b <= 2", "return a < b < 2"}),
                   ("return a is None", {"return a is not None"}), ("return a == b", {"return a != b"})],
    "sum/mean": [("return a.sum(axis=0)", {"return a.mean(axis=0)"}), ("return np.mean(a)", {"return np.sum(a)"})],
    "axis": [("return a.max(axis=1)", {"return a.max(axis=2)", "return a.max(axis=0)"}),
             ("return np.sum(a, axis=(0, 2))", {"return np.sum(a, axis=(2,))", "return np.sum(a, axis=(0,))"})],
    "slice bound": [("return a[1:b]", {"return a[2:b]", "return a[0:b]", "return a[1:b + 1]", "return a[1:b - 1]"}),
                    ("return slice(a, b, 2)", {"return slice(a + 1, b, 2)", "return slice(a - 1, b, 2)",
                                               "return slice(a, b + 1, 2)", "return slice(a, b - 1, 2)"})],
    "range bound": [("return range(b)", {"return range(b + 1)", "return range(b - 1)"}),
                    ("return np.arange(0, b)", {"return np.arange(1, b)", "return np.arange(-1, b)",
                                                "return np.arange(0, b + 1)", "return np.arange(0, b - 1)"})],
    "term dropped": [("return a - b", {"return a", "return b"})],
    "transpose": [("return a @ b.T", {"return a @ b", "return a.T @ b.T"}),
                  ("return a.transpose(1, 0)", {"return a"}), ("return np.transpose(a)", {"return a"}),
                  ("return np.einsum('ij,jk->ik', a, b)", {"return np.einsum('ji,jk->ik', a, b)",
                                                           "return np.einsum('ij,kj->ik', a, b)",
                                                           "return np.einsum('ij,jk->ki', a, b)"})],
    "floor/ceil": [("return math.floor(a)", {"return math.ceil(a)"}), ("return np.ceil(a)", {"return np.floor(a)"})],
    "constant": [("return 0", {"return 1"}), ("return 1", {"return 2", "return -1", "return 0"}),
                 ("return 2.5", {"return 3.5", "return -2.5"}), ("return True", {"return False"})],
    "and/or": [("return a and b", {"return a or b"})],
    "not removed": [("return not a", {"return a"}), ("return ~a", {"return a"})],
    "minus removed": [("return -a", {"return a"})],
}


def test_every_operator_has_examples():
    assert set(EXAMPLES) == set(mutants.OPERATORS)


@pytest.mark.parametrize("operator, line, expected",
                         [(operator, line, expected) for operator, cases in EXAMPLES.items()
                          for line, expected in cases])
def test_each_operator_makes_the_expected_mutants(operator, line, expected):
    assert changes(line, operator) == expected


def test_a_mutant_keeps_the_meaning_of_the_change_where_precedence_would_alter_it():
    # b ** 2 -> b * 2 inside a product: the text must say a * (b * 2), not (a * b) * 2
    assert "return a * (b * 2)" in changes("return a * b ** 2", "arithmetic operator")
    assert "return (a - b) * 2" in changes("return (a + b) * 2", "arithmetic operator")


def test_only_the_solution_region_is_mutated_and_its_lines_keep_their_layout():
    source = ("def f(a, b=1):\n    \"\"\"Return a + 2.\"\"\"\n    c = a + 3\n    ### BEGIN SOLUTION\n"
              "    d = (a\n         + len('héllo') * 2)  # a comment: 1 + 1\n    return d\n    ### END SOLUTION\n")
    found = mutants.mutants("f", source)
    assert found and all(mutant.line in (5, 6) for mutant in found)
    assert all(text.startswith("def f(a, b=1):\n    \"\"\"Return a + 2.\"\"\"\n    c = a + 3\n")
               for text in (mutant.source for mutant in found))
    diffs = {mutant.diff for mutant in found}
    assert "- + len('héllo') * 2)  # a comment: 1 + 1\n+ + len('héllo') / 2)  # a comment: 1 + 1" in diffs
    assert "- + len('héllo') * 2)  # a comment: 1 + 1\n+ - len('héllo') * 2)  # a comment: 1 + 1" in diffs
    assert len({mutant.source for mutant in found}) == len(found), "each mutated text once"


def test_a_sample_is_the_same_every_run_and_keeps_the_order():
    found = mutants.mutants("f", cell("return a * b + 2 - a // b", "x = a[1:b] @ b.T"))
    chosen = mutants.sample(found, "f", limit=5)
    assert chosen == mutants.sample(found, "f", limit=5) and len(chosen) == 5
    assert [found.index(mutant) for mutant in chosen] == sorted(found.index(mutant) for mutant in chosen)
    assert mutants.sample(found, "f", limit=len(found)) == found


# ---------------------------------------------------------------- a toy exercise and its fates

TOY_SCALE = cell("if n < 3:  # n = 1, 2: drawn by the extra seeds only",
                 "    return x + x * (n - 1)",
                 "if n > 5:  # n = 6: drawn by the hidden cases",
                 "    return n * x",
                 "return x * n  # n = 4: the visible case",
                 name="toy_scale", parameters="x, n")


def toy_hidden_cases(rng):
    """Three draws of n in [1, 8)."""
    return [Case(f"n = {n}", (np.arange(3.0) + 1, int(n))) for n in rng.integers(1, 8, size=3)]


@pytest.fixture
def toy_scale():
    """An exercise registered for the test: ``x * n``, one visible case with n = 4."""
    draws = {seed: set(np.random.default_rng(seed).integers(1, 8, size=3)) for seed in (HIDDEN_CASES_SEED,
                                                                                          *strength.EXTRA_SEEDS)}
    assert draws[HIDDEN_CASES_SEED] == {4, 5, 6} and {1, 2} <= set().union(*draws.values())
    exercise = Exercise("toy_scale", "toy", 1, lambda x, n: x * n, ("output",),
                        lambda: [Case("n = 4", (np.arange(3.0) + 1, 4))], toy_hidden_cases)
    model_module.register(exercise)
    yield exercise
    del model_module._REGISTRY["toy_scale"]


def fate_of(result: strength.Strength, removed: str, added: str) -> strength.Result:
    """The result of the mutant of ``result`` that changed ``removed`` into ``added``."""
    return next(r for r in result.results if r.mutant.removed == (removed,) and r.mutant.added == (added,))


def test_the_toy_exercises_mutants_meet_each_fate(toy_scale):
    result = strength.exercise_strength(ROOT, toy_scale, TOY_SCALE)
    check = fate_of(result, "return x * n  # n = 4: the visible case", "return x / n  # n = 4: the visible case")
    assert check.fate == strength.KILLED_BY_CHECK and check.evidence.startswith("n = 4:")
    assert fate_of(result, "return n * x", "return n / x").fate == strength.KILLED_BY_HIDDEN
    gap = fate_of(result, "return x + x * (n - 1)", "return x - x * (n - 1)")
    assert gap.fate == strength.SURVIVED and gap.evidence.startswith("n = 2:")
    for condition in ("if n <= 3:  # n = 1, 2: drawn by the extra seeds only",
                      "if n < 4:  # n = 1, 2: drawn by the extra seeds only"):
        equivalent = fate_of(result, "if n < 3:  # n = 1, 2: drawn by the extra seeds only", condition)
        assert equivalent.fate == strength.EQUIVALENT
    counts = result.counts
    killed = counts[strength.KILLED_BY_CHECK] + counts[strength.KILLED_BY_HIDDEN]
    assert result.hidden_score == killed / (killed + counts[strength.SURVIVED]) < 1
    assert not result.sampled and counts[strength.STILLBORN] == 0


def test_a_mutant_that_fails_to_run_is_stillborn_and_not_counted(toy_scale):
    setting = strength.bench(ROOT, toy_scale, TOY_SCALE)
    broken = mutants.Mutant("toy_scale", "constant", 1, ("x",), ("y",), "raise ValueError('at definition')\n")
    result = strength.judge_mutant(setting, broken)
    assert result.fate == strength.STILLBORN and "ValueError: at definition" in result.evidence
    assert strength.hidden_score({**dict.fromkeys(strength.FATES, 0), strength.STILLBORN: 3}) == 1.0


TOY_COUNT = cell("i = 0", "while i < n:", "    i += 1", "return i", name="toy_count", parameters="n")


@pytest.fixture
def toy_count():
    """An exercise registered for the test: counting to n in a loop (a mutant of ``i += 1`` never ends)."""
    exercise = Exercise("toy_count", "toy", 1, lambda n: n, ("count",), lambda: [Case("n = 3", (3,))],
                        lambda rng: [Case("n = 5", (5,))], kind="integer")
    model_module.register(exercise)
    yield exercise
    del model_module._REGISTRY["toy_count"]


def test_a_mutant_that_loops_is_killed_by_its_time_limit(toy_count, monkeypatch):
    monkeypatch.setattr(strength, "MIN_SECONDS", 0.3)
    start = time.perf_counter()
    result = strength.exercise_strength(ROOT, toy_count, TOY_COUNT)
    assert time.perf_counter() - start < 20
    looping = fate_of(result, "i += 1", "i -= 1")
    assert looping.fate == strength.KILLED_BY_CHECK and looping.timed_out and "time limit" in looping.evidence


# ---------------------------------------------------------------- reports and the summary table


def test_the_reports_show_each_survivor_with_its_diff(toy_scale, tmp_path):
    result = strength.exercise_strength(ROOT, toy_scale, TOY_SCALE)
    html, data = strength_report.write_reports(tmp_path, "toy", [result])
    assert html == tmp_path / notebooks.REPORTS / "toy" / "strength.html" and data.parent == html.parent
    page = html.read_text()
    assert class_report.STYLE in page and "<h2 id=\"toy_scale\">toy_scale</h2>" in page
    assert "- return x + x * (n - 1)\n+ return x - x * (n - 1)" in page
    assert '<tr class="failed"><td><a href="#toy_scale">' in page, "an exercise under its goals is shaded"
    report = json.loads(data.read_text())
    exercise = report["exercises"][0]
    assert exercise["counts"] == result.counts and exercise["hidden_score"] == result.hidden_score
    assert {m["fate"] for m in exercise["mutants"]} >= {strength.SURVIVED, strength.EQUIVALENT}
    assert any(line.startswith("  survivor, line 5 (arithmetic operator): n = 2:")
               for line in strength_report.summary_lines([result]))


def test_a_row_reads_back_what_it_writes():
    row = strength_report.Row("04_convolution", "conv2d", 150, 224, (120, 20, 3, 7, 0))
    assert row.text() == "| 04_convolution | `conv2d` | 150 of 224 | 120 | 20 | 3 | 7 | 0 | 97 % | 83 % |"
    assert strength_report.Row.parse(row.text()) == row
    assert strength_report.percent(0.9499) == "94 %", "a score just under the goal never reads as the goal"


def test_the_rows_of_one_chapter_replace_only_that_chapters():
    order = [("a", "x"), ("a", "y"), ("b", "z")]
    old = [strength_report.Row(chapter, name, 1, 1, (1, 0, 0, 0, 0)) for chapter, name in order]
    new = [strength_report.Row("a", "y", 2, 2, (1, 1, 0, 0, 0))]
    assert strength_report.updated_rows(old, new, order) == [old[0], new[0], old[2]]
    assert strength_report.updated_rows(old, [], order[1:]) == old[1:], "an exercise no longer declared is left out"


def test_the_strength_table_lists_every_exercise_and_is_what_its_rows_make(root):
    page = (root / INSTRUCTORS_PAGE).read_text()
    rows = strength_report.table_rows(page)
    assert [(row.chapter, row.exercise) for row in rows] == strength_report.table_order(root), \
        "run `prettynn-course strength --all`"
    assert strength_report.with_strength_table(page, rows) == page, "run `prettynn-course strength --all`"
    for chapter in notebooks.chapters(root):
        assert f"`autograde/reports/{chapter}/strength.html`" in page


def test_the_command_writes_the_reports_and_the_chapters_rows(tmp_path, capsys):
    for name in ("nbgrader_config.py", INSTRUCTORS_PAGE, "solutions/02_dropout/02_dropout.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    assert cli.main(["--root", str(tmp_path), "strength", "02_dropout"]) == 0
    output = capsys.readouterr().out
    assert "dropout_backward: 3 mutants" in output and "wrote autograde/reports/02_dropout/strength.html" in output
    rows = strength_report.table_rows((tmp_path / INSTRUCTORS_PAGE).read_text())
    assert [row.exercise for row in rows] == ["dropout", "dropout_backward"]
    with pytest.raises(SystemExit):
        cli.main(["--root", str(tmp_path), "strength"])


# ---------------------------------------------------------------- the strength test

EXERCISES = [exercise.name for exercise in all_exercises()]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_hidden_tests_kill_95_percent_of_mutants_and_the_check_half(name, root):
    result = strength.strength_of(root, name)
    survivors = "\n".join(f"line {r.mutant.line}: {r.evidence}\n{r.mutant.diff}" for r in result.with_fate(
        strength.SURVIVED))
    assert result.hidden_score >= strength.HIDDEN_GOAL, f"the hidden tests miss these mutants:\n{survivors}"
    assert result.check_score >= strength.CHECK_GOAL, (
        f"the visible check kills {strength_report.percent(result.check_score)} of the mutants of {name}")
    committed = {(row.chapter, row.exercise): row for row in strength_report.table_rows((root / INSTRUCTORS_PAGE).read_text())}
    assert committed.get((result.chapter, name)) == strength_report.Row.of(result), (
        f"{INSTRUCTORS_PAGE}'s strength table is out of date: run `prettynn-course strength --all`")
