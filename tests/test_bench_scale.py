"""bench/scale.py measures an archive built before (``bench_archive.py --archive PATH``, the 5M path of #15):
size and search leave it as it was, prune drops the bodies of the oldest 80% and VACUUMs, rescore only when asked."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from _archive_helpers import ROOT, run, synthetic_archive

sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_archive(tmp_path_factory.mktemp("scale") / "a.db", 400, workers=1, days=20, run_every=60)


def test_the_prune_cutoff_is_the_archives_80th_percentile(built: Path) -> None:
    cutoff = scale.prune_cutoff(built)
    conn = sqlite3.connect(built)
    published = sorted(
        r[0] for r in conn.execute("SELECT published FROM articles WHERE published IS NOT NULL")
    )
    conn.close()
    assert len(published) > 300
    assert cutoff == published[int(len(published) * 0.8)]


def test_a_built_archive_is_measured_in_place_and_pruned_only_when_asked(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "copy.db"
    db.write_bytes(built.read_bytes())
    saved: dict[str, list[scale.Figure]] = {}
    monkeypatch.setattr(scale, "save", lambda figures, key: saved.setdefault(key, figures))

    scale.run_built(db, 0, prune=False)
    (key,) = saved
    conn = sqlite3.connect(db)
    count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert key == f"archive_scale_{count}"
    assert conn.execute("SELECT count(*) FROM articles WHERE text IS NULL").fetchone()[0] == 0  # not pruned
    assert conn.execute("SELECT count(*) FROM rescores").fetchone()[0] == 0  # not rescored
    conn.close()
    names = [f.name for f in saved[key]]
    assert names[0] == "database size / raw text" and saved[key][0].value > 0
    assert sum(name.startswith("search ") for name in names) == len(scale.QUERIES)
    assert not any("prune" in name or "rescore" in name for name in names)

    saved.clear()
    scale.run_built(db, 0, prune=True)
    figures = {f.name.split(":")[0]: f for f in saved[key]}
    dropped = next(f for name, f in figures.items() if name.startswith("prune --older-than"))
    assert 70 <= dropped.value <= 80  # the oldest 80% less the flagged bodies kept
    conn = sqlite3.connect(db)
    flagged_old = conn.execute(
        "SELECT count(*) FROM articles WHERE text IS NOT NULL AND relevance = 'primary'"
    ).fetchone()[0]
    conn.close()
    assert flagged_old > 0
    assert figures["size after prune + VACUUM"].value < 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prune"], "--prune: only with --archive"),
        (["--archive", "/nonexistent/a.db"], "--archive: /nonexistent/a.db: no such file"),
    ],
)
def test_bench_archive_refuses_a_prune_without_an_archive_and_a_missing_one(
    args: list[str], message: str
) -> None:
    result = run([sys.executable, "bench/bench_archive.py", "--no-upserts", *args])
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
