"""``prettynn-course``: the course's own steps around nbgrader and Jupyter Book."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import book_pages, samples


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand from the course root (the current directory by default)."""
    parser = argparse.ArgumentParser(prog="prettynn-course", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("book-pages", help="make book/chapters/*.ipynb from solutions/")
    commands.add_parser("samples", help="make autograde/submitted/* from autograde/samples.toml")
    args = parser.parse_args(argv)
    if not (args.root / "nbgrader_config.py").is_file():
        parser.error(f"{args.root} is not the course directory (no nbgrader_config.py); run from the repository root")
    if args.command == "book-pages":
        written = book_pages.write_pages(args.root)
    else:
        written = samples.write_samples(args.root)
    for path in written:
        print(f"wrote {path.relative_to(args.root)}")
    return 0
