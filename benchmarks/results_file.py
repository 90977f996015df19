"""Where benchmark scripts save their figures."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def save(name: str, report: dict) -> None:
    """Write ``report`` to benchmarks/results/NAME.json and say where."""
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"saved {out.relative_to(ROOT)}")
