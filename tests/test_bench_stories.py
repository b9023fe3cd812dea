"""bench/bench_stories.py runs both ways farm-bench compares (with the stories and without, its baseline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("baseline", [False, True], ids=["stories", "no-stories"])
def test_the_stories_benchmark_runs_with_and_without_its_baseline(baseline: bool) -> None:
    command = [sys.executable, str(ROOT / "bench" / "bench_stories.py"), "--articles", "60"]
    result = subprocess.run(
        command + (["--no-stories"] if baseline else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "stored 60 articles" in result.stdout
