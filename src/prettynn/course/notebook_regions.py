"""The marked regions of an instructor notebook's cells (nbgrader's delimiters)."""

from __future__ import annotations

import ast
import re

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"

_HIDDEN = re.compile(
    rf"^[ \t]*{re.escape(BEGIN_HIDDEN)}.*?^[ \t]*{re.escape(END_HIDDEN)}[^\n]*\n?", re.S | re.M
)


def replace_hidden_tests(source: str, note: str) -> str:
    """``source`` with each hidden-test region replaced by the line ``note`` ('' removes it)."""
    replacement = f"{note}\n" if note else ""
    return _HIDDEN.sub(replacement, source).rstrip("\n")


_SOLUTION = re.compile(
    rf"^([ \t]*){re.escape(BEGIN_SOLUTION)}.*?^[ \t]*{re.escape(END_SOLUTION)}[^\n]*", re.S | re.M
)
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's ClearSolutions.code_stub default


def solution_stub(source: str) -> str:
    """A solution cell's code as the student receives it: each solution region replaced by
    nbgrader's stub, indented like the region's first delimiter."""
    def stub(match: re.Match) -> str:
        return "\n".join(match.group(1) + line for line in CODE_STUB.split("\n"))

    return _SOLUTION.sub(stub, source)


def solution_lines(source: str) -> list[str]:
    """The lines inside a solution cell's solution regions (the answer), stripped, blank lines left out."""
    lines = []
    for match in _SOLUTION.finditer(source):
        lines += [line.strip() for line in match.group(0).split("\n")[1:-1] if line.strip()]
    return lines


_DEF = re.compile(r"^def\s+(\w+)\s*\(", re.M)


def defined_functions(source: str) -> list[str]:
    """The functions a cell's code defines at top level (``def NAME(``), in order."""
    return _DEF.findall(source)


def defines(source: str, name: str) -> bool:
    """True when a cell's code has a top-level ``def name(``."""
    return name in defined_functions(source)


def strip_solution_delimiters(source: str) -> str:
    """A solution cell's code without its ``### BEGIN/END SOLUTION`` lines."""
    markers = (BEGIN_SOLUTION, END_SOLUTION)
    return "\n".join(line for line in source.split("\n") if line.strip() not in markers)


def has_marker(source: str) -> bool:
    """True when ``source`` still contains a solution or hidden-test delimiter."""
    return any(marker in source for marker in (BEGIN_HIDDEN, END_HIDDEN, BEGIN_SOLUTION, END_SOLUTION))


def graded_calls(source: str) -> list[tuple[str, int]]:
    """The ``grade("name", fn, seed=S)`` calls of a test cell, as ``(name, seed)`` pairs."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "grade" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            seed = next((k.value.value for k in node.keywords if k.arg == "seed"
                         and isinstance(k.value, ast.Constant)), 0)
            calls.append((node.args[0].value, int(seed)))
    return calls
