"""docs/reliability.md is the fault suite's own output (``python -m monitor.devtools.reliability``): its rows are the
cases the suite records, and the page is rendered, not written by hand."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

from monitor.devtools.reliability import MARKER, render

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"


def recorded_faults() -> list[re.Pattern[str]]:
    """A pattern for the fault each ``record(...)`` call of the suite writes (f-string parts match anything)."""
    patterns = []
    for source in sorted((ROOT / "tests").glob("test_fault*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record" and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant):
                patterns.append(re.compile(re.escape(first.value)))
            elif isinstance(first, ast.JoinedStr):
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+?" for v in first.values]
                patterns.append(re.compile("".join(parts)))
            else:
                patterns.append(re.compile(".+"))  # a parametrized case: its fault comes from the parameters
    return patterns


def doc_rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| fault |"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_the_page_is_generated_and_every_row_is_a_case_the_suite_records():
    text = DOC.read_text(encoding="utf-8")
    assert text.startswith(MARKER)
    rows = doc_rows()
    patterns = recorded_faults()
    assert len(rows) >= len(patterns)
    for row in rows:
        assert len(row) == 5, row
        assert any(p.fullmatch(row[0].replace("\\|", "|")) for p in patterns), f"no case records {row[0]!r}"
    for pattern in patterns:
        if pattern.pattern != ".+":
            assert any(pattern.fullmatch(row[0]) for row in rows), f"{pattern.pattern} has no row: regenerate"


def test_render_puts_each_record_in_a_row_and_says_how_it_was_made():
    records = [
        {
            "fault": "a | b",
            "expected": "x",
            "observed": "y",
            "peak_mb": 161.6,
            "stored": 3,
            "expected_rows": 3,
        },
        {
            "fault": "c",
            "expected": "x",
            "observed": "y",
            "peak_mb": None,
            "stored": None,
            "expected_rows": None,
        },
    ]
    page = render(records, datetime(2026, 1, 1, tzinfo=UTC), "Python 3.11", "pytest: 2 passed")
    assert page.startswith(MARKER) and "python -m monitor.devtools.reliability" in page
    assert "| a \\| b | x | y | 162 MB | 3 / 3 |" in page
    assert "| c | x | y | – | – |" in page
    assert "Generated 2026-01-01T00:00:00+00:00 on Python 3.11; pytest: 2 passed." in page
