"""Adversarial submissions against the course's grading (slow: real nbgrader runs).

Every attack in ``tests/attacks.py`` is handed in by its own student beside the sample
submissions, and the whole class is graded by one ``nbgrader autograde`` with the
course's configuration. Each attack must cost its exercise's points and nothing else:
nbgrader exits 0, the attacker's other exercises and every other student get the scores
they get alone, and no course file changes. The same attacks are then graded by plain
nbgrader (its default preprocessors, in the student's kernel), where each must succeed:
that is what shows the tests can fail.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup

from prettynn.compare import preview
from prettynn.course import notebooks, samples
from prettynn.course.notebook_regions import graded_calls
from prettynn.model import all_exercises

from .attacks import ATTACKS, COURSE_PLACEHOLDER, WARNING_RELU, Attack
from .conftest import ROOT
from .course import PLAIN_CONFIG, copy_course, environment, file_digests, graded_scores, hidden_lines, nbgrader, nbgrader_command

pytestmark = pytest.mark.slow
CHAPTER = "01_linear"
MAX_POINTS = {f"test_{e.name}": float(e.points) for e in all_exercises(CHAPTER)}
PROTECTED_FILES = ("nbgrader_config.py", "solutions", "notebooks", "autograde/submitted", "autograde/samples")



def hand_in(course: Path, student: str, exercise: str, code: str) -> None:
    """Write a correct submission for ``student`` with ``exercise``'s cell replaced by ``code``
    (in which the course's path, which an attacker may know, stands for ``COURSE_PLACEHOLDER``)."""
    code = code.replace(COURSE_PLACEHOLDER, str(course))
    sample = {"student": student, "assignment": CHAPTER, "fill": "solutions", "replace": {exercise: code}}
    notebook = samples.submission(notebooks.read(notebooks.release_path(course, CHAPTER)),
                                  notebooks.read(notebooks.source_path(course, CHAPTER)), sample)
    notebooks.write(notebook, samples.submission_path(course, sample))


def fingerprint(course: Path) -> dict:
    """sha256 of every file the grading must leave alone."""
    digests = {}
    for name in PROTECTED_FILES:
        digests.update(file_digests(course / name, relative_to=course))
    digests["pwned.txt"] = str((course / "pwned.txt").exists())
    return digests


def scores(course: Path, student: str) -> dict:
    """``{test cell: score}`` of one student of the chapter ({} when never graded)."""
    return graded_scores(course, CHAPTER, student)


def autograded_size(course: Path, student: str) -> int:
    """Bytes of the student's autograded notebook (0 when there is none)."""
    path = course / "autograde" / "autograded" / student / CHAPTER / f"{CHAPTER}.ipynb"
    return path.stat().st_size if path.exists() else 0


def withstood(course: Path, attack: Attack, exit_code: int, files_changed: bool) -> list[str]:
    """What the attack achieved; an empty list means the grading withstood it."""
    harm = []
    if exit_code != 0:
        harm.append(f"nbgrader exited {exit_code}")
    got = scores(course, attack.student)
    target = f"test_{attack.exercise}"
    for cell, maximum in MAX_POINTS.items():
        score = got.get(cell)
        if cell == target and not attack.keeps_points:
            if score is None or score >= maximum:
                harm.append(f"{cell} got {score} of {maximum}: the attack earned the points")
        elif score != maximum:
            harm.append(f"{cell} got {score} of {maximum}: an exercise the attack did not target lost points")
    if files_changed:
        harm.append("course files changed")
    if autograded_size(course, attack.student) > 2 << 20:
        harm.append(f"autograded notebook is {autograded_size(course, attack.student) >> 20} MiB")
    return harm


@pytest.fixture(scope="module")
def protected(root, tmp_path_factory):
    """The course graded with its own configuration: samples, attacks and a warning solution, in one batch."""
    course = copy_course(root, tmp_path_factory.mktemp("protected"))
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    for attack in ATTACKS:
        hand_in(course, attack.student, attack.exercise, attack.code)
    hand_in(course, "warns", "relu", WARNING_RELU)
    before = fingerprint(course)
    done = subprocess.run(nbgrader_command("autograde", CHAPTER), cwd=course, capture_output=True, text=True,
                          timeout=1800, env=environment())
    nbgrader(course, "generate_feedback", CHAPTER)
    return course, done.returncode, before


@pytest.fixture(scope="module")
def plain(root, tmp_path_factory):
    """The attacks graded by plain nbgrader, one student per process (an attack may kill the process)."""
    course = copy_course(root, tmp_path_factory.mktemp("plain"))
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(PLAIN_CONFIG)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    attacks = [attack for attack in ATTACKS if attack.plain]
    for attack in attacks:
        hand_in(course, attack.student, attack.exercise, attack.code)
    before = fingerprint(course)

    capped = {attack.student for attack in attacks if attack.plain_memory_cap}
    cgroup = memory_cgroup(3 << 30) if capped else None

    def grade(student: str) -> int:
        command = nbgrader_command("autograde", CHAPTER, f"--student={student}")
        if student in capped:
            command = ["sh", "-c", f'echo $$ > {cgroup}/cgroup.procs && exec "$@"', "sh", *command]
        return subprocess.run(command, cwd=course, capture_output=True, timeout=600,
                              env=environment()).returncode

    writers = [attack.student for attack in attacks if attack.id == "write-course"]
    if cgroup is None:
        writers += sorted(capped)  # not graded: the plain test of the memory attack is skipped
    students = ["sample-correct"] + [attack.student for attack in attacks if attack.student not in writers]
    with ThreadPoolExecutor(2) as pool:
        codes = dict(zip(students, pool.map(grade, students)))
    after_others = fingerprint(course)
    changed = {student: after_others != before for student in students}
    for student in writers:  # alone and last, so that its writes are not blamed on the others
        if student in capped:
            continue
        codes[student] = grade(student)
        changed[student] = fingerprint(course) != after_others
    if cgroup is not None:
        cgroup.rmdir()
    return course, codes, changed


def memory_cgroup(limit: int) -> Path | None:
    """A cgroup (v1) capping memory at ``limit`` bytes, or None when this machine does not let us make one."""
    group = Path("/sys/fs/cgroup/memory/prettynn-plain-attack")
    try:
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(limit))
    except OSError:
        return None
    return group


def test_plain_nbgrader_grades_a_correct_submission(plain):
    """The baseline works: under plain nbgrader a correct submission gets full marks."""
    course, codes, _ = plain
    assert codes["sample-correct"] == 0
    assert scores(course, "sample-correct") == MAX_POINTS


def test_nbgrader_exits_zero_with_every_attack_in_the_batch(protected):
    _, exit_code, _ = protected
    assert exit_code == 0


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_attack_costs_only_its_exercise(protected, attack):
    course, exit_code, before = protected
    assert withstood(course, attack, exit_code, fingerprint(course) != before) == []


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.plain], ids=[a.id for a in ATTACKS if a.plain])
def test_attack_succeeds_against_plain_nbgrader(plain, attack):
    course, codes, changed = plain
    if attack.student not in codes:
        pytest.skip("no memory cgroup on this machine: without one the attack would exhaust the machine's memory")
    harm = withstood(course, attack, codes[attack.student], changed[attack.student])
    print(f"plain nbgrader, {attack.id}: {'; '.join(harm)}")
    assert harm, "plain nbgrader withstood it: the test proves nothing"


def test_samples_grade_as_alone(protected):
    """The samples graded in the attacked batch get the scores they get in their own test."""
    course, _, _ = protected
    assert sum(scores(course, "sample-correct").values()) == sum(MAX_POINTS.values())
    assert sum(scores(course, "sample-alternative").values()) == sum(MAX_POINTS.values())
    assert sum(scores(course, "sample-blank").values()) == 0
    assert scores(course, "sample-bias-grad-averaged")["test_linear_backward"] == 1.5


def test_a_correct_solution_that_warns_keeps_full_marks(protected):
    course, _, _ = protected
    assert scores(course, "warns") == MAX_POINTS


def test_scores_are_identical_alone_and_on_a_rerun(protected):
    course, _, _ = protected
    students = ["sample-no-max-shift", "attack-infinite-loop", "attack-torch-import"]
    first = {student: scores(course, student) for student in students}
    for student in students:
        nbgrader(course, "autograde", CHAPTER, f"--student={student}", "--force")
    assert {student: scores(course, student) for student in students} == first


def seeds() -> list[tuple[str, int]]:
    """The (exercise, seed) pairs of the chapter's hidden-test cells."""
    source = notebooks.read(notebooks.source_path(ROOT, CHAPTER))
    return [call for cell in source.cells if notebooks.is_test(cell) for call in graded_calls(cell.source)]


def hidden_inputs_previews() -> list[str]:
    """The first values of every hidden-case input array, as a feedback page would print them."""
    shown = []
    for exercise in all_exercises(CHAPTER):
        seed = next(s for name, s in seeds() if name == exercise.name)
        for case in exercise.hidden_cases(np.random.default_rng(seed)):
            shown += [preview(arg) for arg in case.args if isinstance(arg, np.ndarray) and arg.size > 3]
    return shown


def test_feedback_never_shows_hidden_tests_or_inputs(protected, root):
    """Not even when the function returns its input (the wrong relus do) or raises with it."""
    course, _, _ = protected
    pages = sorted((course / "autograde" / "feedback").glob(f"*/{CHAPTER}/*.html"))
    assert len(pages) >= len(ATTACKS)
    inputs = [line for line in hidden_inputs_previews() if line.count(",") >= 2]
    assert inputs
    secrets = inputs + hidden_lines(root) + ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
    for page in pages:
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        assert not [s for s in secrets if s in text], page


def test_feedback_explains_what_the_sandbox_stopped(protected):
    course, _, _ = protected
    page = course / "autograde" / "feedback" / "attack-torch-import" / CHAPTER / f"{CHAPTER}.html"
    text = BeautifulSoup(page.read_text(), "html.parser").get_text()
    assert "torch is not available while grading" in text


def test_outcomes_are_recorded_for_the_closing_note(protected, plain, root):
    """Write benchmarks/results/attacks.md: each attack's outcome under the course's grading and plain nbgrader."""
    import json

    course, exit_code, before = protected
    plain_course, codes, changed = plain
    rows = ["| attack | class | ours: target exercise | ours: other exercises | ours: why | plain nbgrader |",
            "|---|---|---|---|---|---|"]
    for attack in ATTACKS:
        got = scores(course, attack.student)
        target = f"test_{attack.exercise}"
        report = json.loads((course / "autograde" / "reports" / CHAPTER / attack.student / f"{CHAPTER}.json").read_text())
        entry = next(e for e in report["exercises"] if e["exercise"] == attack.exercise)
        why = entry["problem"] or f"{entry['passed']} of {entry['total']} cases pass"
        others = sum(score for cell, score in got.items() if cell != target)
        plain_harm = "; ".join(withstood(plain_course, attack, codes[attack.student], changed[attack.student])) \
            if attack.student in codes else "not run (would harm the shared machine)"
        rows.append(f"| {attack.id} | {attack.attack_class} | {got[target]} of {MAX_POINTS[target]} | "
                    f"{others} of {sum(MAX_POINTS.values()) - MAX_POINTS[target]} | {why[:120]} | {plain_harm[:160]} |")
    out = root / "benchmarks" / "results" / "attacks.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"nbgrader exit code with every attack in one batch: {exit_code}\n\n" + "\n".join(rows) + "\n")
    assert len(rows) == len(ATTACKS) + 2
