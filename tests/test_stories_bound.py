"""What the crawl's writer reads to place an article in a story is bounded by the article's time, not by the
archive (issues #15, #17): an article far older than the archive's newest (a back-filled outlet, last January's
mirror) is placed against the stories of its own weeks, and the stories are still those of the order of times."""

from __future__ import annotations

import math
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_stories_order import labelled_members

from monitor.archive import store as store_module
from monitor.archive.clusters import SPAN, Features, Member, StoryState, member
from monitor.archive.story_engine import REACH, Engine
from monitor.archive.story_index import StoryIndex
from monitor.archive.story_rebuild import rebuild
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


@pytest.mark.slow  # the labelled pairs stored and rebuilt
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


@pytest.mark.parametrize(("seed", "batch"), [(1, 3), (2, 10), (3, 40)])
def test_four_years_stored_in_any_order_give_the_rebuilds_rows(tmp_path: Path, seed: int, batch: int) -> None:
    """The labelled pairs (four years, every article clustered) stored shuffled: each batch is placed in spans
    against its own weeks and reads ahead only as far as its moves reach, and every placement (story, how, score)
    and story row is what a rebuild in the order of times writes."""
    articles = eval_stories.labelled()
    names = [a["id"] for a in articles]
    db = tmp_path / "shuffled.db"
    eval_stories.store(db, articles, batch, arrival=random.Random(seed).sample(names, len(names)), every=True)
    conn = sqlite3.connect(db)
    placements = "SELECT article_id, story_id, at, how, score FROM story_articles ORDER BY 1"
    stories = "SELECT * FROM stories ORDER BY id"
    before = conn.execute(placements).fetchall()
    rows_before = [row[:14] for row in conn.execute(stories)]
    with conn:
        rebuild(conn)
    assert conn.execute(placements).fetchall() == before
    assert [row[:14] for row in conn.execute(stories)] == rows_before
    conn.close()


def test_a_story_of_one_announcement_is_read_for_a_report_that_comes_days_later(tmp_path: Path) -> None:
    """The Kremlin visit of December 2025 was announced (corpus/pos-152) 89 hours before the first report of the
    meeting (corpus/pos-050): a story made only of announcements stays open a week, longer than other stories of
    one article. A new writer that starts with the report reads that story too, and the report joins it as in the
    order of times."""
    articles = sorted(eval_stories.labelled(), key=lambda a: (a["published"], a["id"]))
    report = next(i for i, a in enumerate(articles) if a["id"] == "corpus/pos-050")
    db = tmp_path / "announced.db"
    ids = eval_stories.store(db, articles[:report], 25, every=True)
    conn = sqlite3.connect(db)
    story = conn.execute(
        "SELECT s.articles FROM stories s JOIN story_articles sa ON sa.story_id = s.id WHERE sa.article_id = ?",
        (ids["corpus/pos-152"],),
    ).fetchone()
    conn.close()
    assert story == (1,)  # the announcement alone, 89 hours before the report
    ids.update(eval_stories.store(db, articles[report:], 25, every=True))
    predicted = eval_stories.assignments(db, ids)
    assert predicted["corpus/pos-050"] == predicted["corpus/pos-152"]
    assert eval_stories.clusters(predicted) == eval_stories.clusters(
        eval_stories.cluster(articles, every=True)
    )


def test_no_story_is_open_or_followable_beyond_the_bounds_the_writer_reads_by() -> None:
    """The writer reads, and lets go of, stories by OPEN (how long after its last article a story can be joined)
    and REACH (joined or followed): every story of the labelled pairs, clustered in the order of times, keeps
    within them, and a story of one article cannot be followed."""
    from monitor.archive.story_engine import OPEN

    members = labelled_members()
    engine = Engine()
    engine.insert(sorted(members, key=lambda m: m.key))
    assert len(engine.stories) > 50
    for story in engine.stories.values():
        assert story.open_until <= story.last + OPEN
        assert story.follow_until <= story.last + REACH
        later = story.last + OPEN + timedelta(seconds=1)
        assert story.size >= 2 or not story.followable_at(later)


def test_a_wire_copy_weeks_after_its_first_copy_joins_that_story_in_a_batch_read_a_day_at_a_time(
    tmp_path: Path,
) -> None:
    """A dispatch copied three weeks after its first copy joins the first copy's story whatever the time between
    them. Stored in a batch whose earliest article is a day before it, the writer lets go of old stories as it
    goes through the batch's days, but not of the story the copy is to join."""
    base = sorted(eval_stories.labelled(), key=lambda a: (a["published"], a["id"]))
    first, other = base[200], base[201]
    start = datetime.fromisoformat(first["published"])
    copy = dict(first, id="copy", outlet="pap", url="https://pap.example.pl/kopia")
    copy["published"] = (start + timedelta(days=21)).isoformat()
    before = dict(other, id="before", published=(start + timedelta(days=20)).isoformat())
    db = tmp_path / "wire.db"
    ids = eval_stories.store(db, [first], 1, every=True)
    ids.update(eval_stories.store(db, [before, copy], 2, every=True))
    conn = sqlite3.connect(db)
    how = dict(conn.execute("SELECT article_id, how FROM story_articles").fetchall())
    conn.close()
    predicted = eval_stories.assignments(db, ids)
    assert predicted["copy"] == predicted[first["id"]] and how[ids["copy"]] == "wire"


def test_a_dispatch_used_again_a_year_later_is_not_a_copy_in_the_first_ones_story(tmp_path: Path) -> None:
    """The same text a year after its first copy (an agency's background piece run again, an outlet's template)
    is linked to it as a copy of one dispatch, but a story ends ``SPAN`` after its first article: it is placed as
    an article of its own, not put in a story a year old."""
    base = sorted(eval_stories.labelled(), key=lambda a: (a["published"], a["id"]))
    first = base[200]
    copy = dict(first, id="copy", outlet="pap", url="https://pap.example.pl/kopia-po-roku")
    copy["published"] = (datetime.fromisoformat(first["published"]) + timedelta(days=365)).isoformat()
    db = tmp_path / "wire.db"
    ids = eval_stories.store(db, [first], 1, every=True)
    ids.update(eval_stories.store(db, [copy], 1, every=True))
    conn = sqlite3.connect(db)
    how = dict(conn.execute("SELECT article_id, how FROM story_articles").fetchall())
    wire = dict(conn.execute("SELECT id, story_id FROM articles").fetchall())
    conn.close()
    predicted = eval_stories.assignments(db, ids)
    assert wire[ids["copy"]] == wire[ids[first["id"]]]  # still one dispatch for the wire-copy link
    assert predicted["copy"] != predicted[first["id"]] and how[ids["copy"]] != "wire"


def _busy(article_id: int, event: str, at: datetime) -> Member:
    """An article of ``event`` (its own six words) that also names Putin and talks, as every story of a busy
    news day does: the seeds they all share."""
    vector = {"@putin": 0.8, "rozmow": 0.8, **{f"{event}w{word}": 1.0 for word in range(6)}}
    norm = math.sqrt(sum(weight * weight for weight in vector.values()))
    weights = {token: weight / norm for token, weight in vector.items()}
    return member(article_id, (at.isoformat(timespec="seconds"), f"u{article_id}"), Features(at, weights))


def test_an_early_article_on_a_busy_day_decides_again_only_what_it_could_change() -> None:
    """400 articles over two days, in pairs of one event each, all sharing the seeds *Putin* and *talks*. An
    article older than all of them that starts a story of its own is compared, for each later article, with that
    one new story only (it cannot beat the story the later article is in): one decision, not one per article of
    the day. One that joins a pair decides that pair's articles again. Either way the result is the order of
    times'."""
    start = datetime(2026, 1, 14, 6, tzinfo=UTC)
    day = [_busy(10 + n, f"event{n // 2}", start + timedelta(minutes=7 * n)) for n in range(400)]
    alone = _busy(1, "other", start - timedelta(hours=1))
    joining = _busy(2, "event1", start - timedelta(minutes=30))
    for newcomer, most in ((alone, 1), (joining, 3)):
        engine = Engine()
        engine.insert(day)
        outcome = engine.insert([newcomer])
        assert outcome.decided <= most
        expected = Engine()
        expected.insert(sorted([*day, newcomer], key=lambda item: item.key))
        assert engine.placed == expected.placed


def test_a_story_covered_every_day_takes_articles_for_three_weeks_then_a_story_following_it_does() -> None:
    """A subject covered twice a day for six weeks is not one story of 84 articles (and months of them on an
    archive of years, all decided again whenever an early one arrives): a story takes articles up to ``SPAN``
    after its first (21 days: 43 articles, 12 hours apart); the next starts a story that follows it."""
    start = datetime(2026, 1, 1, 8, tzinfo=UTC)
    daily = [_busy(10 + n, "siege", start + timedelta(hours=12 * n)) for n in range(84)]
    engine = Engine()
    engine.insert(daily)
    stories = sorted(engine.stories.values(), key=lambda story: story.first)
    assert [story.size for story in stories] == [43, 41]
    assert all(story.last - story.first <= SPAN for story in stories)
    assert engine.follows(stories[1]) == stories[0].id


@pytest.mark.parametrize("seed", range(6))
def test_a_busy_fortnight_stored_in_any_order_gives_the_stories_of_the_order_of_times(seed: int) -> None:
    """Where every story shares common seeds and articles come in any order, in chunks, the later articles that
    are not decided again are exactly those no change could move: the engine ends where the order of times does
    (stories, scores and follows)."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 6, tzinfo=UTC)
    articles = [
        _busy(10 + n, f"event{rng.randrange(40)}", start + timedelta(minutes=rng.randrange(14 * 24 * 60)))
        for n in range(300)
    ]
    shuffled = rng.sample(articles, len(articles))
    engine = Engine()
    for begin in range(0, len(shuffled), 17):
        engine.insert(shuffled[begin : begin + 17])
    expected = Engine()
    expected.insert(sorted(articles, key=lambda item: item.key))
    assert engine.placed == expected.placed
    assert len({placement.story for placement in expected.placed.values()}) < 200  # stories of many articles


def _letters(number: int) -> str:
    return "".join(chr(ord("a") + int(digit)) for digit in f"{number:04d}")


def _lone(day: int, n: int) -> dict[str, str]:
    """An article of its own subject (words no other article has) on a day of January 2026."""
    words = [f"{_letters(day * 100 + n)}{stem}" for stem in ("kwazar", "meteor", "planeta", "galaktyka")]
    published = datetime(2026, 1, 1, 9, tzinfo=UTC) + timedelta(days=day, hours=n)
    return {
        "id": f"lone/{day}-{n}",
        "outlet": "kosmos",
        "url": f"https://example.pl/lone/{day}-{n}",
        "published": published.isoformat(),
        "title": " ".join(words[:2]).capitalize(),
        "lead": " ".join(words).capitalize() + ".",
        "text": (" ".join(words) + ". ") * 12,
    }


def test_an_earlier_batch_reads_only_the_stories_begun_by_its_first_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that placed an article of day 25 and then gets one of day 15 (the mirror's January articles in a
    crawl's two batches) reads the stories of day 15's weeks begun by it, not also the ten days after it up to
    what it held (at 5M's density thousands of stories, all held at once): the engine reads those as it reaches
    them. The stories are still those of the order of times."""
    archive = [_lone(day, n) for day in range(30) for n in range(6)]
    late, early = _lone(25, 9), _lone(15, 9)
    db = tmp_path / "back.db"
    ids = eval_stories.store(db, archive, 30, every=True)
    covered: list[tuple[datetime, list[StoryState]]] = []
    cover = StoryIndex._cover

    def spy(self: StoryIndex, conn: sqlite3.Connection, first: datetime) -> None:
        held = set(self.engine.stories)
        cover(self, conn, first)
        covered.append((first, [s for i, s in self.engine.stories.items() if i not in held]))

    monkeypatch.setattr(StoryIndex, "_cover", spy)
    ids.update(eval_stories.store(db, [late, early], 1, arrival=[late["id"], early["id"]], every=True))
    assert len(covered) == 2
    first, read = covered[1]
    assert read  # the stories before day 15, of its weeks
    assert all(story.first <= first for story in read)
    everything = [*archive, late, early]
    expected = eval_stories.clusters(eval_stories.cluster(everything, every=True))
    assert eval_stories.clusters(eval_stories.assignments(db, ids)) == expected
