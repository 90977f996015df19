"""The sandbox on its own: what a solution cell can and cannot do while it is graded.

Each test runs a few lines of student code through ``run_solution`` (about 0.1 s each),
with bubblewrap and with the audit hook alone, and judges what came back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from prettynn.model import get
from prettynn.course.references import supplied_for
from prettynn.judging import judge
from prettynn.outcome import Foreign
from prettynn.sandbox.runner import Limits, bubblewrap_works, run_solution

RELU = get("relu")
CASES = RELU.visible_cases() + RELU.hidden_cases(np.random.default_rng(7))
QUICK = Limits(cell_seconds=2, case_seconds=1, total_seconds=10)
LAYERS = [pytest.param(True, id="bubblewrap",
                       marks=pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap does not work here")),
          pytest.param(False, id="audit-hook-only")]
RIGHT = "def relu(x):\n    return np.maximum(x, 0)\n"


def passed(source: str, bubblewrap: bool, limits: Limits = QUICK) -> tuple[int, str]:
    """How many cases ``source`` passes, and the first problem (the cell's, or a case's)."""
    run = run_solution(source, "relu", CASES, limits, bubblewrap=bubblewrap)
    if run.problem:
        return 0, run.problem
    results = [judge(RELU, case, outcome) for case, outcome in zip(CASES, run.outcomes)]
    failures = [r.problem for r in results if not r.passed]
    return sum(r.passed for r in results), failures[0] if failures else ""


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_a_correct_solution_passes_every_case(bubblewrap):
    assert passed(RIGHT, bubblewrap) == (len(CASES), "")


@pytest.mark.parametrize("bubblewrap", LAYERS)
@pytest.mark.parametrize("source, expected", [
    ("import torch\n" + RIGHT, "torch"),
    ("import importlib\nimportlib.import_module('to' + 'rch')\n" + RIGHT, "torch"),
    ("open('/etc/hostname').read()\n" + RIGHT, ""),
    ("import os\nos.listdir('/work')\n" + RIGHT, ""),
    ("open('/tmp/prettynn-escaped', 'w').write('x')\n" + RIGHT, ""),
    ("import os\nos.fork()\n" + RIGHT, "os.fork"),
    ("import subprocess\nsubprocess.run(['true'])\n" + RIGHT, ""),
    ("import socket\nsocket.create_connection(('pypi.org', 443), timeout=1)\n" + RIGHT, ""),
    ("import os, signal\nos.kill(1, signal.SIGKILL)\n" + RIGHT, ""),
    ("import ctypes\nctypes.CDLL(None).fork()\n" + RIGHT, ""),
    ("import os\nos._exit(3)\n" + RIGHT, "did not finish"),
    ("while True:\n    pass\n" + RIGHT, "used more than 2 s of CPU time"),
    ("ballast = np.ones((40 << 30) // 8)\n" + RIGHT, "MemoryError"),
], ids=["torch", "torch-importlib", "read-file", "list-dir", "write-outside", "fork", "subprocess", "network",
        "kill", "ctypes", "os-exit", "endless-cell", "40-GiB"])
def test_a_forbidden_action_fails_the_cell(bubblewrap, source, expected):
    count, problem = passed(source, bubblewrap)
    assert count == 0
    assert expected in problem
    assert not __import__("os").path.exists("/tmp/prettynn-escaped")


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_a_function_that_hangs_costs_one_case_time_limit(bubblewrap):
    count, problem = passed("def relu(x):\n    while True:\n        pass\n", bubblewrap)
    assert count == 0 and "used more than 1 s of CPU time (the limit per case)" in problem


@contextlib.contextmanager
def every_core_busy(per_core: int = 3):
    """``per_core`` spinning processes for each core while the block runs, each in a session of its own:
    the sandbox runs in a new session, and Linux shares the processor between sessions (autogroups)
    before it shares it between the processes of one."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
                for _ in range(per_core * (os.cpu_count() or 1))]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_a_function_that_waits_is_stopped_by_the_wall_clock_backstop(bubblewrap):
    count, problem = passed("import time\ndef relu(x):\n    time.sleep(60)\n", bubblewrap)
    assert count == 0
    assert problem == ("the call was still running after 4 s on the clock without using its 1 s of CPU time "
                       "(the backstop for code that waits).")


BURNS_HALF_A_SECOND = ("import time\n"
                       "def relu(x):\n"
                       "    start = time.process_time()\n"
                       "    while time.process_time() - start < 0.5:\n"
                       "        pass\n"
                       "    return np.maximum(x, 0)\n")


@pytest.mark.slow
@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_the_time_limits_count_cpu_time_so_a_busy_machine_costs_no_points(bubblewrap):
    """Half a second of CPU time per call passes a 1-second limit with three spinning processes per core,
    where the call takes well over a second on the clock (a wall-clock limit would fail it)."""
    cases = CASES[:2]
    with every_core_busy():
        run = run_solution(BURNS_HALF_A_SECOND, "relu", cases, QUICK, bubblewrap=bubblewrap)
    assert run.problem == ""
    assert all(judge(RELU, case, outcome).passed for case, outcome in zip(cases, run.outcomes))
    assert run.seconds > 2 * QUICK.case_seconds, "the machine was not busy enough to tell the clocks apart"


def loop_solutions(chapter: str) -> dict:
    """The plain-loop solutions of a chapter's ``sample-alternative`` submission, by function name."""
    spec = tomllib.loads((Path(__file__).resolve().parents[1] / "autograde" / "samples" / f"{chapter}.toml")
                         .read_text())
    return next(entry["replace"] for entry in spec["sample"] if entry["student"] == "sample-alternative")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", ["04_convolution", "05_pooling"])
def test_loop_solutions_get_the_same_grade_with_every_core_busy(chapter):
    root = Path(__file__).resolve().parents[1]
    for name, source in loop_solutions(chapter).items():
        exercise = get(name)
        cases = exercise.visible_cases() + exercise.hidden_cases(np.random.default_rng(0))
        grades = []
        for busy in (contextlib.nullcontext(), every_core_busy()):
            with busy:
                run = run_solution(source, name, cases, Limits(), supplied=supplied_for(root, exercise),
                                   uses=exercise.uses)
            grades.append([judge(exercise, case, outcome).passed for case, outcome in zip(cases, run.outcomes)])
        assert grades[0] == grades[1] and all(grades[0]), name


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_numpy_testing_may_be_used(bubblewrap):
    source = RIGHT + "np.testing.assert_allclose(relu(np.array([-1.0, 2.0])), [0.0, 2.0])\n"
    assert passed(source, bubblewrap) == (len(CASES), "")


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_processes_cannot_be_started_through_numpy_testings_imports(bubblewrap):
    source = "import _posixsubprocess\n_posixsubprocess.fork_exec()\n" + RIGHT
    count, problem = passed(source, bubblewrap)
    assert count == 0 and "starting a process" in problem


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_printing_and_warnings_do_not_matter(bubblewrap):
    source = "import warnings\ndef relu(x):\n    print('x' * 10**6)\n    warnings.warn('w')\n    return np.maximum(x, 0)\n"
    assert passed(source, bubblewrap) == (len(CASES), "")


def test_forged_results_are_rejected_not_trusted():
    """A cell that writes its own result files for later cases cannot crash or fool the grader."""
    source = ("import os, json\n"
              "for i in range(200):\n"
              "    open(f'{i}.json', 'w').write('{\"result\": {\"array\": \"nope\"}, \"args_after\": [7]}')\n"
              "open('1.npz', 'wb').write(b'not a zip')\n"
              "def relu(x):\n    os._exit(0)\n")
    count, problem = passed(source, bubblewrap=False)
    assert count == 0 and "could not be read" in problem


def test_returned_objects_are_described_not_unpickled():
    run = run_solution("class Evil:\n    pass\ndef relu(x):\n    return Evil()\n", "relu", CASES[:1], QUICK)
    assert run.outcomes[0].result == Foreign("an Evil")


def sandbox_facts(expression: str, bubblewrap: bool = True):
    """The value of ``expression`` (numbers) as computed inside the sandbox, read back as an output."""
    source = f"import os, resource\ndef relu(x):\n    return np.array({expression}, dtype=float)\n"
    run = run_solution(source, "relu", CASES[:1], QUICK, bubblewrap=bubblewrap)
    assert not run.problem, run.problem
    return run.outcomes[0].result.tolist()


LIMITS_INSIDE = ("[*resource.getrlimit(resource.RLIMIT_CPU), *resource.getrlimit(resource.RLIMIT_AS), "
                 "*resource.getrlimit(resource.RLIMIT_FSIZE), *resource.getrlimit(resource.RLIMIT_CORE)]")


@pytest.mark.parametrize("prlimit", [True, False], ids=["prlimit", "preexec-fn"])
@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_the_sandbox_runs_under_the_limits_it_is_given(bubblewrap, prlimit, monkeypatch):
    """``prlimit`` applies them where it exists (no Python runs in the forked child, which a
    threaded grader such as a Dask worker needs); a ``preexec_fn`` where it does not."""
    which, popen, started = shutil.which, subprocess.Popen, []
    monkeypatch.setattr(shutil, "which", lambda name: which(name) if prlimit or name != "prlimit" else None)
    monkeypatch.setattr(subprocess, "Popen", lambda command, **options: started.append(options) or popen(command, **options))
    cpu, memory, size = 10, QUICK.memory_bytes, QUICK.file_bytes
    assert sandbox_facts(LIMITS_INSIDE, bubblewrap) == [cpu, cpu + 1, memory, memory, size, size, 0, 0]
    assert [options["preexec_fn"] is None for options in started] == [prlimit]


@pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap does not work here")
def test_the_course_and_the_packages_are_not_in_the_sandbox():
    from .conftest import ROOT

    torch_dir = __import__("torch").__file__
    assert sandbox_facts(f"[os.path.exists({str(ROOT)!r}), os.path.exists({torch_dir!r})]") == [0, 0]


@pytest.mark.parametrize("bubblewrap", LAYERS)
def test_the_sandbox_uses_the_graders_standard_library(bubblewrap):
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"]
    source = f"[__import__('zipfile').__file__.startswith({stdlib!r})]"
    assert sandbox_facts(source, bubblewrap) == [1]


@pytest.mark.skipif(not bubblewrap_works() or __import__("os").geteuid() != 0,
                    reason="needs bubblewrap and a grader running as root")
def test_as_root_the_sandbox_runs_as_nobody_with_a_process_limit():
    assert sandbox_facts("[os.getuid(), resource.getrlimit(resource.RLIMIT_NPROC)[0]]") == [65534, 64]
