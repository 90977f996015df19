"""Start a student's solution cell in a sandbox and read back what it produced.

The sandbox is layered:

1. bubblewrap (``bwrap``), when it works on this machine: a private file system that holds
   only the Python standard library, NumPy and the job folder (no course files, no torch,
   no site-packages), no network, its own process and user namespaces, no capabilities,
   a clean environment; the sandbox dies with the grader;
2. resource limits: CPU seconds (per case and per cell in ``child``, per exercise here), address
   space, file size, no core dumps, set by ``prlimit`` as the sandbox starts: time is counted in
   CPU seconds, so that a grade does not depend on how busy the machine is;
3. an audit hook in ``child`` that refuses process creation, signals, sockets, ctypes,
   deep-learning imports and file access outside the job folder, NumPy and the standard
   library (the only layer when bubblewrap is missing);
4. a wall-clock backstop, ``wall_clock_factor`` times each CPU limit, for code that waits without
   computing; after the exercise's, the whole process group is killed.

Nothing that comes back is trusted: results are JSON and ``.npz`` files read with size
caps and without pickle, and they are judged elsewhere, against torch.
"""

from __future__ import annotations

import functools
import json
import math
import os
import pickle
import resource
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..model import Case
from ..outcome import Foreign, Outcome

CHILD = Path(__file__).with_name("child.py")
MAX_JSON_BYTES = 1 << 20
SANDBOX_UID = 65534
MAX_PROCESSES = 64  # of the sandbox user, all sandboxes together (threads count too)


@dataclass(frozen=True)
class Limits:
    """What one exercise's sandbox may use."""

    cell_seconds: float = 10.0  # CPU seconds, as the two below
    case_seconds: float = 5.0
    total_seconds: float = 60.0
    wall_clock_factor: float = 4.0  # each limit's wall-clock backstop, in multiples of it
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20


@dataclass(frozen=True)
class Supplied:
    """A graded function the exercise may call, defined in the sandbox from the instructor's
    reference solution: its name, its solution cell's code, and the functions it may call."""

    name: str
    source: str
    uses: tuple[str, ...] = ()


@dataclass(frozen=True)
class SandboxRun:
    """What came back from one sandboxed run: one outcome per case, or why there is none.

    ``problem`` is one sentence when the cell itself failed (it did not run, did not define
    the function, the process died); ``isolation`` names the sandbox that was used.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    problem: str = ""
    isolation: str = ""
    seconds: float = 0.0


def _numpy_dirs() -> list[Path]:
    """NumPy's package folder and, for wheels, its bundled libraries."""
    package = Path(np.__file__).resolve().parent
    return [path for path in (package, package.parent / "numpy.libs") if path.is_dir()]


def _stdlib_dirs() -> list[Path]:
    """The standard library folders of the base interpreter (not a virtual environment's)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    return [path for path in (stdlib, stdlib / "lib-dynload") if path.is_dir()]


def _hidden_package_dirs() -> list[Path]:
    """Folders of installed packages that the sandbox must not see (torch may be there)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(sys.base_prefix) / "lib" / version / "site-packages",
                  Path("/usr/lib/python3/dist-packages"), Path("/usr/local/lib") / version / "dist-packages",
                  Path("/usr/local/lib") / version / "site-packages"]
    return [path.resolve() for path in candidates if path.is_dir()]


def _interpreter() -> Path:
    """The real Python executable (not a virtual environment's link to it)."""
    return Path(sys.executable).resolve()


def _bwrap_command(job: Path) -> list[str]:
    """The bubblewrap command line that runs ``child`` on ``job``."""
    command = ["bwrap", "--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(name):
            command += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            command += ["--ro-bind", name, name]
    base_lib = Path(sys.base_prefix).resolve() / "lib"
    python = _interpreter()
    for folder in sorted({*_ancestors(base_lib), *_ancestors(python)}, key=lambda p: len(p.parts)):
        command += ["--perms", "0755", "--dir", str(folder)]  # readable by the sandbox's user
    if not str(base_lib).startswith("/usr/"):
        command += ["--ro-bind", str(base_lib), str(base_lib)]
    command += ["--ro-bind", str(python), str(python)]
    for hidden in _hidden_package_dirs():
        command += ["--tmpfs", str(hidden)]
    command += ["--perms", "0755", "--dir", "/site", "--perms", "0755", "--dir", "/runner"]
    for path in _numpy_dirs():
        command += ["--ro-bind", str(path), f"/site/{path.name}"]
    command += [
        "--ro-bind", str(CHILD), "/runner/child.py", "--bind", str(job), "/job", "--chdir", "/job",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv",
        "--setenv", "PYTHONPATH", "/site", "--setenv", "PYTHONHOME", str(Path(sys.base_prefix).resolve()),
        "--setenv", "HOME", "/job", "--setenv", "PATH", "/usr/bin",
        "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
        "--setenv", "MKL_NUM_THREADS", "1",
    ]
    readable = ["/site", *map(str, _stdlib_dirs())]
    return command + _identity() + [str(python), "-s", "-S", "-B", "/runner/child.py", "/job", *readable]


def _ancestors(path: Path) -> list[Path]:
    """The folders above ``path`` that the sandbox must create itself (all but / and /usr's)."""
    return [parent for parent in path.parents if parent != Path("/") and parent.parts[1] != "usr"]


def _drops_root() -> bool:
    """True when the grader runs as root and the sandbox becomes an unprivileged user by ``setpriv``:
    then that user's process limit holds (the kernel exempts root from it), which stops fork bombs."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def _identity() -> list[str]:
    """The bubblewrap options, and the command prefix, that make the sandbox's user.

    As root: bubblewrap's own namespaces, then ``setpriv`` to the ``nobody`` user with no
    capabilities. Otherwise: a user namespace in which the student runs as ``nobody``.
    """
    user = str(SANDBOX_UID)
    if _drops_root():
        return ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "/usr/bin/setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--no-new-privs",
                "--inh-caps=-all", "--bounding-set=-all"]
    return ["--unshare-all", "--unshare-user", "--uid", user, "--gid", user, "--cap-drop", "ALL"]


def _own_job(job: Path) -> None:
    """Give the job folder to the sandbox's user when it will not be root in its namespace."""
    if _drops_root():
        os.chown(job, SANDBOX_UID, SANDBOX_UID)


def _plain_command(job: Path, site: Path) -> list[str]:
    """Run ``child`` without bubblewrap: only the limits and the audit hook protect."""
    readable = [str(site), *map(str, _numpy_dirs()), *map(str, _stdlib_dirs())]
    return [str(_interpreter()), "-s", "-S", "-B", str(CHILD), str(job), *readable]


def _plain_site(job: Path) -> Path:
    """A folder holding only links to NumPy, to put on the sandbox's path."""
    site = job / "site"
    site.mkdir()
    for path in _numpy_dirs():
        (site / path.name).symlink_to(path)
    return site


@functools.lru_cache(maxsize=1)
def bubblewrap_works() -> bool:
    """True when bubblewrap can start the sandbox on this machine (checked once)."""
    if shutil.which("bwrap") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="prettynn-probe-") as folder:
        _own_job(Path(folder))
        command = _bwrap_command(Path(folder))
        python_at = command.index(str(_interpreter()), command.index("--clearenv"))
        probe = command[:python_at] + [str(_interpreter()), "-s", "-S", "-c", "import numpy"]
        try:
            return subprocess.run(probe, capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False


def _rlimits(limits: Limits) -> dict[int, tuple[int, int]]:
    """The resource limits of the sandbox process (inherited by its children), as (soft, hard)."""
    cpu = math.ceil(limits.total_seconds)  # SIGXCPU at the limit, SIGKILL a second later if it is caught
    rlimits = {resource.RLIMIT_CPU: (cpu, cpu + 1),
               resource.RLIMIT_AS: (limits.memory_bytes, limits.memory_bytes),
               resource.RLIMIT_FSIZE: (limits.file_bytes, limits.file_bytes),
               resource.RLIMIT_CORE: (0, 0)}
    if _drops_root():
        rlimits[resource.RLIMIT_NPROC] = (MAX_PROCESSES, MAX_PROCESSES)
    return rlimits


PRLIMIT_OPTIONS = {resource.RLIMIT_CPU: "--cpu", resource.RLIMIT_AS: "--as", resource.RLIMIT_FSIZE: "--fsize",
                   resource.RLIMIT_CORE: "--core", resource.RLIMIT_NPROC: "--nproc"}


def _limited(command: list[str], limits: Limits) -> tuple[list[str], object]:
    """``command`` with ``limits`` applied to it, and the ``preexec_fn`` that needs (None, usually).

    util-linux's ``prlimit`` sets them and then becomes the command, so no Python code runs in
    the forked child: that is unsafe in a process with threads (a Dask worker, a Jupyter kernel).
    Where there is no ``prlimit`` (not Linux), a ``preexec_fn`` sets them instead."""
    rlimits = _rlimits(limits)
    prlimit = shutil.which("prlimit")
    if prlimit is not None:
        options = [f"{PRLIMIT_OPTIONS[kind]}={soft}:{hard}" for kind, (soft, hard) in rlimits.items()]
        return [prlimit, *options, "--", *command], None

    def apply() -> None:
        for kind, pair in rlimits.items():
            resource.setrlimit(kind, pair)

    return command, apply


def _plain_environment(site: Path) -> dict:
    """The whole environment of a sandbox started without bubblewrap."""
    return {"PYTHONPATH": str(site), "PYTHONHOME": str(Path(sys.base_prefix).resolve()),
            "HOME": "/nonexistent", "PATH": "/usr/bin:/bin",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _start(job: Path, limits: Limits, bubblewrap: bool) -> tuple[subprocess.Popen, str]:
    """Start the sandbox on ``job``; return the process and the name of the isolation used."""
    if bubblewrap and bubblewrap_works():
        _own_job(job)
        isolation = "bubblewrap, as nobody" if _drops_root() else "bubblewrap, user namespace"
        command, environment = _bwrap_command(job), {}
    else:
        site = _plain_site(job)
        isolation = "audit hook only (bubblewrap unavailable)"
        command, environment = _plain_command(job, site), _plain_environment(site)
    command, preexec = _limited(command, limits)
    process = subprocess.Popen(command, cwd=job, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=preexec, close_fds=True)
    return process, isolation


def _exited_within(process: subprocess.Popen, seconds: float) -> bool:
    """Wait until the process exits or ``seconds`` pass; True when it exited.

    A pidfd wakes the grader the moment the sandbox ends; ``Popen.wait(timeout=...)`` polls
    with sleeps of up to 50 ms, a quarter of a typical sandbox's run.
    """
    try:
        descriptor = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: poll
        try:
            process.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ready, _, _ = select.select([descriptor], [], [], seconds)
    finally:
        os.close(descriptor)
    return bool(ready)


def _wait(process: subprocess.Popen, limits: Limits) -> str:
    """Wait for the sandbox; kill its whole process group after the exercise's wall-clock backstop.
    Why it stopped, or ''."""
    backstop = limits.total_seconds * limits.wall_clock_factor
    if not _exited_within(process, backstop):
        _kill_group(process)
        return f"it was stopped after {backstop:g} s on the clock (the grader's backstop for code that waits)"
    code = process.wait()
    _kill_group(process)  # anything it left behind
    if code == -signal.SIGXCPU:
        return f"it used more than {math.ceil(limits.total_seconds)} s of CPU time (the limit per exercise)"
    if code < 0:
        return f"it was killed by signal {signal.Signals(-code).name}" if -code in signal.valid_signals() \
            else f"it was killed by signal {-code}"
    return "" if code == 0 else f"it exited with code {code}"


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the sandbox's process group, ignoring a group that is already gone."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _read_json(path: Path):
    """A JSON file the sandbox wrote, or ``None`` when missing, too large or malformed."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_JSON_BYTES:
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_arrays(path: Path, limits: Limits) -> dict:
    """The arrays of an ``.npz`` file the sandbox wrote (no pickle), or ``{}``."""
    if not path.is_file() or path.stat().st_size > limits.file_bytes:
        return {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, KeyError, EOFError):
        return {}


def _decode(description, arrays: dict):
    """Rebuild a returned value from its JSON description (see ``child.encode``)."""
    if not isinstance(description, dict):
        raise ValueError("unreadable output")
    if description.get("none"):
        return None
    if "python" in description:
        value = description["python"]
        if isinstance(value, str):
            return float(value)
        if type(value) not in (bool, int, float):
            raise ValueError("unreadable number")
        return value
    if "array" in description:
        return arrays[description["array"]]
    if "generic" in description:
        return arrays[description["generic"]][()]
    if "sequence" in description:
        items = [_decode(item, arrays) for item in description["items"]]
        return tuple(items) if description["sequence"] == "tuple" else items
    if "foreign" in description:
        return Foreign(str(description["foreign"])[:120])
    raise ValueError("unreadable output")


def _argument_after(entry, arrays: dict):
    """An argument after the call from its record: an array's key, an encoded list, or ``None``."""
    if entry is None:
        return None
    if isinstance(entry, str):
        return arrays[entry]
    value = _decode(entry, arrays)
    if not isinstance(value, list):
        raise ValueError("unreadable argument")
    return value


def _replaced(entries) -> tuple:
    """The ``(position or keyword, index)`` pairs of list items replaced during the call, checked."""
    pairs = tuple((where, index) for where, index in entries)
    if len(pairs) > 10_000 or not all(type(w) in (int, str) and type(i) is int for w, i in pairs):
        raise ValueError("unreadable record of replaced items")
    return pairs


def _outcome(record, arrays: dict, stopped: str) -> Outcome:
    """The outcome of one case from its record, or a problem when there is none."""
    if record is None:
        return Outcome(problem=f"the function did not finish this case: {stopped or 'its result is missing'}.")
    try:
        after = tuple(_argument_after(entry, arrays) for entry in record.get("args_after", []))
        kwargs_after = {str(name): _argument_after(entry, arrays)
                        for name, entry in dict(record.get("kwargs_after", {})).items()}
        replaced = _replaced(record.get("replaced", []))
        if "timeout" in record:
            return Outcome(problem=_timeout_problem("the call", record, "per case"))
        if "skipped" in record:
            return Outcome(problem="not run: an earlier case went over the time limit.")
        if "unsaved" in record:
            return Outcome(problem=f"its result could not be saved: {str(record['unsaved'])[:200]}")
        if "error_type" in record:
            return Outcome(error_type=str(record["error_type"])[:80], error=str(record["error"])[:400],
                           where=str(record.get("where", ""))[:80], args_after=after, kwargs_after=kwargs_after,
                           replaced=replaced)
        again = _decode(record["again"], arrays) if "again" in record else None
        return Outcome(result=_decode(record["result"], arrays), args_after=after, kwargs_after=kwargs_after,
                       again=again, replaced=replaced)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError):
        return Outcome(problem="its result could not be read by the grader.")


def _timeout_problem(what: str, record: dict, per: str) -> str:
    """The sentence for a case or a cell stopped by its time limit: of CPU time, or on the clock."""
    limit = float(record["timeout"])
    if record.get("clock") == "wall":
        return (f"{what} was still running after {float(record['wall_limit']):g} s on the clock without using "
                f"its {limit:g} s of CPU time (the backstop for code that waits).")
    return f"{what} used more than {limit:g} s of CPU time (the limit {per})."


def _cell_problem(cell, name: str, stopped: str) -> str:
    """Why the cell produced no function to call, or ''."""
    if cell is None:
        return f"the solution cell did not finish: {stopped or 'its process ended early (os._exit or a crash)'}."
    if "timeout" in cell:
        return f"{_timeout_problem('the solution cell', cell, 'for the cell')[:-1]} before defining `{name}`."
    if "error_type" in cell:
        line = f" ({cell.get('where')})" if cell.get("where") else ""
        return f"the solution cell raised {cell['error_type']}{line}: {cell.get('error', '')}"
    if not cell.get("defined"):
        return f"the solution cell does not define `{name}`."
    if not cell.get("callable"):
        return f"`{name}` is not a function."
    return ""


def run_solution(source: str, name: str, cases: list[Case], limits: Limits = Limits(),
                 bubblewrap: bool = True, supplied: tuple[Supplied, ...] = (), uses: tuple[str, ...] = ()
                 ) -> SandboxRun:
    """Run the solution cell ``source`` in a sandbox and call ``name`` on every case.

    ``supplied`` are defined first, in order (each may call those before it that it
    ``uses``); the cell then runs with the functions named by ``uses`` predefined.
    ``bubblewrap=False`` leaves out the operating-system layer (as on a machine without it).
    """
    with tempfile.TemporaryDirectory(prefix="prettynn-job-") as folder:
        job = Path(folder)
        (job / "solution.py").write_text(source)
        (job / "spec.json").write_text(json.dumps(
            {"name": name, "cell_seconds": limits.cell_seconds, "case_seconds": limits.case_seconds,
             "wall_factor": limits.wall_clock_factor,
             "supplied": [{"name": s.name, "source": s.source, "uses": list(s.uses)} for s in supplied],
             "uses": list(uses)}))
        with open(job / "cases.pkl", "wb") as handle:
            pickle.dump([(case.args, case.kwargs, case.twice) for case in cases], handle)
        started = time.perf_counter()
        process, isolation = _start(job, limits, bubblewrap)
        stopped = _wait(process, limits)
        seconds = time.perf_counter() - started
        out = job / "out"
        problem = _cell_problem(_read_json(out / "cell.json"), name, stopped)
        if problem:
            return SandboxRun(problem=problem, isolation=isolation, seconds=seconds)
        outcomes = [_outcome(_read_json(out / f"{i}.json"), _read_arrays(out / f"{i}.npz", limits), stopped)
                    for i in range(len(cases))]
        return SandboxRun(outcomes=outcomes, isolation=isolation, seconds=seconds)
