"""What the crawl's writer reads to place an article in a story is bounded by the article's time, not by the
archive (issues #15, #17): an article far older than the archive's newest (a back-filled outlet, last January's
mirror) is placed against the stories of its own weeks, and the stories are still those of the order of times."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from monitor.archive import store as store_module
from monitor.archive.story_engine import REACH
from monitor.archive.story_index import StoryIndex
from monitor.devtools import eval_stories


class CountingIndex(StoryIndex):
    made: list[StoryIndex] = []

    def __init__(self) -> None:
        super().__init__()
        CountingIndex.made.append(self)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[StoryIndex]:
    CountingIndex.made = []
    monkeypatch.setattr(store_module, "StoryIndex", CountingIndex)
    return CountingIndex.made


def test_an_old_article_reads_the_stories_of_its_own_weeks_and_lands_where_the_order_of_times_puts_it(
    tmp_path: Path, counted: list[StoryIndex]
) -> None:
    """The labelled pairs span four years. Everything but those of March 2025 is stored, then March 2025 is
    stored by a new writer: it reads the archive's stories of those weeks, not every story since March, and the
    clusters are those of the whole set stored in the order of times."""
    articles = sorted(eval_stories.labelled(), key=lambda a: (a["published"], a["id"]))
    early = [a for a in articles if a["published"].startswith("2025-03")]
    assert len(early) >= 10
    db = tmp_path / "bound.db"
    ids = eval_stories.store(db, [a for a in articles if a not in early], 25, every=True)
    ids.update(eval_stories.store(db, early, 25, every=True))
    writer = counted[-1]
    conn = sqlite3.connect(db)
    total = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    first_early = min(datetime.fromisoformat(a["published"]) for a in early)
    last_early = max(datetime.fromisoformat(a["published"]) for a in early)
    near = conn.execute(
        "SELECT count(*) FROM stories WHERE last_seen >= ? AND first_seen <= ?",
        ((first_early - REACH).isoformat(), (last_early + 3 * REACH).isoformat()),
    ).fetchone()[0]
    conn.close()
    assert writer.read <= near < total // 3  # without the bound: every story last seen since March
    expected = eval_stories.clusters(eval_stories.cluster(articles, every=True))
    assert eval_stories.clusters(eval_stories.assignments(db, ids)) == expected


def test_a_batch_of_today_and_of_last_year_is_placed_in_two_spans(
    tmp_path: Path, counted: list[StoryIndex]
) -> None:
    """One batch holding the newest and the oldest articles: each part is placed against its own weeks (the
    writer does not read the years between), with the clusters of the order of times."""
    articles = sorted(eval_stories.labelled(), key=lambda a: (a["published"], a["id"]))
    middle = articles[5:-5]
    db = tmp_path / "ends.db"
    ids = eval_stories.store(db, middle, 50, every=True)
    ids.update(eval_stories.store(db, articles[:5] + articles[-5:], 10, every=True))
    conn = sqlite3.connect(db)
    total = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    conn.close()
    assert counted[-1].read < total // 3
    expected = eval_stories.clusters(eval_stories.cluster(articles, every=True))
    assert eval_stories.clusters(eval_stories.assignments(db, ids)) == expected
