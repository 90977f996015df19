"""Lines per module of the package and its longest functions, at a git revision (default: the work tree).

Usage (from the repository root):

    .venv/bin/python benchmarks/module_sizes.py [--at REV] [--longest 10]

Counts every line of each ``src/prettynn/**/*.py`` file, and each function's or method's lines from
its ``def`` to its last line (nested functions counted inside their parent and on their own).
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "src/prettynn"


def sources(revision: str | None) -> dict[str, str]:
    """The package's Python files at ``revision`` (the work tree when ``None``), by path."""
    if revision is None:
        return {str(path.relative_to(ROOT)): path.read_text() for path in sorted((ROOT / PACKAGE).rglob("*.py"))}
    listing = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision, PACKAGE], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    return {path: subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout
            for path in listing if path.endswith(".py")}


def functions(path: str, text: str) -> list[tuple[int, str]]:
    """``(lines, "path:name")`` for every function and method defined in ``text``."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((node.end_lineno - node.lineno + 1, f"{path}:{node.name}"))
    return found


def main() -> None:
    """Print the lines of each module and the longest functions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", default=None, help="a git revision (default: the work tree)")
    parser.add_argument("--longest", type=int, default=10, help="how many of the longest functions to list")
    args = parser.parse_args()
    files = sources(args.at)
    print(f"{'lines':>6}  module ({args.at or 'work tree'})")
    for path, text in sorted(files.items(), key=lambda item: -len(item[1].splitlines())):
        print(f"{len(text.splitlines()):>6}  {path.removeprefix('src/')}")
    print(f"{sum(len(t.splitlines()) for t in files.values()):>6}  total, {len(files)} files")
    ranked = sorted((f for path, text in files.items() for f in functions(path, text)), reverse=True)
    print(f"\nthe {args.longest} longest functions:")
    for lines, name in ranked[:args.longest]:
        print(f"{lines:>6}  {name.removeprefix('src/')}")


if __name__ == "__main__":
    main()
