"""ARCHITECTURE.md stays true: every module and function it names exists."""

from __future__ import annotations

import importlib
import re

from .conftest import ROOT

PAGE = (ROOT / "ARCHITECTURE.md").read_text()
SOURCE = "\n".join(path.read_text() for path in (ROOT / "src").rglob("*.py"))


def resolves(dotted: str) -> bool:
    """True when ``dotted`` is a module, or a module followed by attributes it has."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_every_module_named_exists():
    named = set(re.findall(r"`(prettynn(?:\.\w+)*)`", PAGE))
    assert len(named) > 20
    missing = [name for name in sorted(named) if not resolves(name)]
    assert not missing, f"ARCHITECTURE.md names modules or functions that do not exist: {missing}"


def test_every_function_named_exists():
    names = {name for name in re.findall(r"`(\w+)`", PAGE) if name.islower() and "_" in name or name in
             {"judge", "page", "grade", "check"}}
    names -= {"done", "grades"}  # file names, not functions
    names -= {name for name in names if (ROOT / "src" / "prettynn" / "exercises" / f"{name}.py").exists()}  # modules
    missing = [name for name in sorted(names) if not re.search(rf"^\s*(def|class) {name}\b", SOURCE, re.M)]
    assert not missing, f"ARCHITECTURE.md names functions that do not exist: {missing}"


def test_every_file_named_exists():
    paths = set(re.findall(r"`((?:src|book|solutions|autograde|tests)/[\w./<>-]+|nbgrader_config\.py|_config\.yml)`", PAGE))
    missing = [p for p in sorted(paths) if "<" not in p and not (ROOT / p).exists()]
    assert not missing, missing
