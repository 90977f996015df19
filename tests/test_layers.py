"""The package's import layering, as ARCHITECTURE.md states it: no module imports one above it.

The layers are read from ARCHITECTURE.md's numbered list "The modules, as layers" (each
backticked module name belongs to the layer of its item; a package stands for its modules
unless one of them is listed itself). Imports are read from the source, lazy ones included.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from .conftest import ROOT

SRC = ROOT / "src"
PACKAGE = SRC / "prettynn"


def layers_of_the_page() -> dict[str, int]:
    """Each module or package the layer list names, with its layer number."""
    page = (ROOT / "ARCHITECTURE.md").read_text()
    section = page.split("## The modules, as layers", 1)[1].split("\n## ", 1)[0]
    placed: dict[str, int] = {}
    for number, item in re.findall(r"^(\d+)\. (.*?)(?=^\d+\. |\Z)", section, re.M | re.S):
        for name in re.findall(r"`(prettynn(?:\.\w+)*)`", item):
            if is_module(name):
                placed.setdefault(name, int(number))
    return placed


def is_module(name: str) -> bool:
    """True when ``name`` is a module or package of the source tree."""
    path = SRC / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def modules() -> list[str]:
    """Every module of the package, dotted."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def source_of(module: str):
    """The file of ``module``."""
    path = SRC / module.replace(".", "/")
    return path / "__init__.py" if (path / "__init__.py").is_file() else path.with_suffix(".py")


def imported_modules(module: str) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its code (relative imports resolved)."""
    path = source_of(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found |= {f"{target}.{alias.name}" if is_module(f"{target}.{alias.name}") else target
                      for alias in node.names}
    return {name for name in found if name.split(".")[0] == "prettynn" and name != module}


def layer(module: str, placed: dict[str, int]) -> int | None:
    """The layer of ``module``: that of the longest listed name it is or lies in (the root
    package stands only for itself)."""
    candidates = [name for name in placed if name == module or (name != "prettynn" and module.startswith(name + "."))]
    return placed[max(candidates, key=len)] if candidates else None


def test_the_page_lists_layers_in_order_and_every_module_has_one():
    placed = layers_of_the_page()
    assert sorted(set(placed.values())) == list(range(1, max(placed.values()) + 1)), placed
    unplaced = [module for module in modules() if layer(module, placed) is None]
    assert not unplaced, f"ARCHITECTURE.md places these modules in no layer: {unplaced}"


def test_no_module_imports_one_above_it():
    placed = layers_of_the_page()
    upward = [f"{module} (layer {layer(module, placed)}) imports {used} (layer {layer(used, placed)})"
              for module in modules() for used in sorted(imported_modules(module))
              if layer(used, placed) is not None and layer(used, placed) > layer(module, placed)]
    assert not upward, "\n".join(upward)


def test_the_layering_check_sees_an_upward_import(monkeypatch):
    """The check itself can fail: a foundation module that imported the judge would be named."""
    placed = layers_of_the_page()
    assert layer("prettynn.compare", placed) < layer("prettynn.judging", placed)
    assert layer("prettynn.course.notebook_regions", placed) < layer("prettynn.course.batch", placed)
    original = imported_modules
    monkeypatch.setitem(globals(), "imported_modules",
                        lambda module: original(module) | ({"prettynn.judging"} if module == "prettynn.compare" else set()))
    with pytest.raises(AssertionError, match=r"prettynn.compare \(layer 1\) imports prettynn.judging"):
        test_no_module_imports_one_above_it()


def modules_loaded_by_importing(module: str) -> set[str]:
    """The modules a fresh interpreter holds after ``import module``."""
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(output.stdout.split())


@pytest.mark.parametrize("tool", ["exercise_cells", "book_pages", "samples", "release"])
def test_authoring_tools_load_neither_nbgraders_converters_nor_the_sandbox(tool):
    loaded = modules_loaded_by_importing(f"prettynn.course.{tool}")
    heavy = sorted(name for name in loaded if name.startswith(("nbgrader.converters", "nbgrader.preprocessors",
                                                                "prettynn.sandbox", "torch")))
    assert not heavy, f"prettynn.course.{tool} loads {heavy[:5]}"


def test_importing_the_checks_does_not_load_torch():
    assert "torch" not in modules_loaded_by_importing("prettynn.checks")
