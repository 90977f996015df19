"""Helpers for tests that run nbgrader on a temporary copy of the course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE_FILES = ("nbgrader_config.py", "solutions", "notebooks", "autograde/samples.toml", "autograde/submitted")


def copy_course(root: Path, destination: Path) -> Path:
    """Copy what nbgrader needs of the course into ``destination``; return it."""
    for name in COURSE_FILES:
        source, target = root / name, destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return destination


def nbgrader(course: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course`` with this Python's environment; fail loudly on error."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [str(bin_dir / "nbgrader"), *args]
    done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done
