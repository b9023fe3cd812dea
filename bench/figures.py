"""A benchmark figure (value, target, the baseline measured in the same run), the table the benchmarks print
and ``bench/results.json``, where each benchmark keeps its figures under its own key."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    baseline: str = ""


def table(figures: list[Figure]) -> str:
    width = max([len("figure")] + [len(f.name) for f in figures])
    lines = [f"{'figure':<{width}}  {'value':>12}  {'unit':<16}  {'target':<30}  baseline (same run)"]
    for f in figures:
        lines.append(f"{f.name:<{width}}  {f.value:>12,.2f}  {f.unit:<16}  {f.target:<30}  {f.baseline}")
    return "\n".join(lines)


def save(figures: list[Figure], key: str) -> None:
    """Put ``figures`` under ``key`` in bench/results.json, keeping the other benchmarks' keys."""
    try:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        results = {}
    results[key] = [asdict(f) for f in figures]
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
