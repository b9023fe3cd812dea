"""The shortcut that makes `monitor stories rebuild` fast (issue #17) decides what the plain comparison decides:
the inverted index of centroids (monitor/archive/story_scores.py) gives the cosines `cosine` gives, leaves out only
stories below `REACHABLE`, which `choose` can neither join nor follow, and the engine places every article the
same with and without it, in the order of times and in any other."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.archive import story_engine, story_rebuild
from monitor.archive.clusters import (
    REACHABLE,
    Features,
    Member,
    StoryState,
    choose,
    cosine,
    member,
)
from monitor.archive.story_engine import Engine
from monitor.archive.story_scores import EXACT, MARGIN, CentroidIndex
from monitor.devtools import eval_stories

START = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = [f"tok{n:03d}" for n in range(120)]


def vector(rng: random.Random, size: int) -> dict[str, float]:
    """A unit vector over a skewed vocabulary (a few words common to many), heaviest first, 5 decimals."""
    tokens = list(dict.fromkeys(WORDS[int(len(WORDS) * rng.random() ** 2)] for _ in range(size)))
    weights = sorted((rng.random() + 0.05 for _ in tokens), reverse=True)
    norm = sum(w * w for w in weights) ** 0.5
    return {token: round(w / norm, 5) for token, w in zip(tokens, weights, strict=True)}


def random_members(seed: int, n: int, hours: float = 6.0) -> list[Member]:
    """``n`` articles an average of ``hours`` apart, with dates, venues and people drawn from small sets."""
    rng = random.Random(seed)
    found = []
    at = START
    for number in range(1, n + 1):
        at += timedelta(hours=rng.expovariate(1 / hours))
        day = at.date().toordinal()
        found.append(
            member(
                number,
                (at.isoformat(timespec="seconds"), f"https://example.pl/{number}"),
                Features(
                    at,
                    vector(rng, rng.randint(3, 40)),
                    venues=frozenset(rng.sample(["genewa", "miami", "abuzabi"], rng.randint(0, 1))),
                    dates=frozenset(day + rng.randint(-6, 6) for _ in range(rng.randint(0, 2))),
                    people=frozenset(
                        rng.sample(["witkoff", "kushner", "pieskow", "umierow"], rng.randint(0, 3))
                    ),
                ),
            )
        )
    return found


def story_of(members: list[Member], story_id: int) -> StoryState:
    story = StoryState(members[0])
    for item in members[1:]:
        story.add(item)
    story.id = story_id
    return story


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), floor=st.floats(0.01, 0.6))
def test_the_index_gives_every_story_at_or_above_the_floor_with_its_cosine_to_the_last_bit(seed, floor):
    rng = random.Random(seed)
    pool = random_members(seed, 160)
    stories = [story_of(pool[i : i + rng.randint(1, 6)], 1000 + i) for i in range(0, 140, 7)]
    index = CentroidIndex(stories[:10])
    for story in stories[10:]:
        index.put(story)
    # changes the index must follow: an article added last, one taken out, a story gone
    stories[0].add(pool[150])
    index.put(stories[0], pool[150].features.vector)
    if stories[1].size > 1:
        stories[1].remove(stories[1].members[-1].id)
        index.put(stories[1])
    index.drop(stories[2].id)
    held = [story for story in stories if story.id != stories[2].id]
    for probe in pool[-9:]:
        found = index.near(tuple(probe.features.vector), tuple(probe.features.vector.values()), floor)
        for story in held:
            text = cosine(probe.features.vector, story)
            if text >= floor:
                assert story.id in found
                if EXACT:
                    assert found[story.id] == text  # the same float, not a close one
            elif text < floor - MARGIN:
                assert story.id not in found
        assert stories[2].id not in found


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_stories_below_reachable_change_no_decision(seed):
    """`choose` over all stories and over those whose cosine reaches REACHABLE: the same decision, the same
    score and the same story followed."""
    rng = random.Random(seed)
    pool = random_members(seed, 90, hours=2.0)
    article = pool[-1].features
    stories = [story_of(pool[i : i + rng.randint(1, 5)], 1000 + i) for i in range(0, 80, 4)]
    reachable = [story for story in stories if cosine(article.vector, story) >= REACHABLE]
    assert choose(article, reachable) == choose(article, stories)


def placed(members: list[Member], index: bool, monkeypatch: pytest.MonkeyPatch, chunk: int = 25) -> Engine:
    monkeypatch.setattr(story_engine, "INDEX_FROM", 0 if index else 10**9)
    engine = Engine()
    for start in range(0, len(members), chunk):
        engine.insert(members[start : start + chunk])
    assert (engine._index is not None) == index
    return engine


@pytest.mark.slow  # 700 articles placed three ways, three times
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_engine_places_the_same_with_and_without_the_index(seed, monkeypatch):
    members = random_members(seed, 700, hours=1.0)
    plain = placed(members, False, monkeypatch)
    indexed = placed(members, True, monkeypatch)
    assert indexed.placed == plain.placed  # stories, ways of joining, scores and stories followed
    assert len({p.story for p in plain.placed.values()}) > 60  # many stories, most of them open
    assert any(p.how == "similar" for p in plain.placed.values())
    assert any(p.follows is not None for p in plain.placed.values())
    # in any order of arrival, what the order of times gives
    shuffled = random.Random(seed).sample(members, len(members))
    assert placed(shuffled, True, monkeypatch, chunk=50).placed == plain.placed


def test_rebuild_gives_the_writers_stories_with_and_without_the_index(tmp_path, monkeypatch):
    """Every labelled article clustered (mentions included) by the writer, then rebuilt with the index and
    without: the same placements and story rows."""
    articles = eval_stories.labelled()
    db = tmp_path / "labelled.db"
    eval_stories.store(db, articles, 25, every=True)
    conn = sqlite3.connect(db)
    placements = "SELECT article_id, story_id, at, how, score FROM story_articles ORDER BY 1"
    rows = "SELECT * FROM stories ORDER BY id"
    written = conn.execute(placements).fetchall(), [row[:14] for row in conn.execute(rows)]
    assert len(written[1]) > 40
    for index_from in (0, 10**9):
        monkeypatch.setattr(story_engine, "INDEX_FROM", index_from)
        with conn:
            story_rebuild.rebuild(conn, processes=1)
        assert (conn.execute(placements).fetchall(), [row[:14] for row in conn.execute(rows)]) == written
    conn.close()
