"""Stories do not depend on the order articles are stored in (issue #17): a crawl meets outlets' feeds in any
order, and the clusters must be those of the articles placed in the order of their times (what `rebuild` gives).
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.archive.clusters import features, member
from monitor.archive.story_engine import Engine
from monitor.archive.story_index import article_time, person_entities, utc_iso, venue_entities
from monitor.archive.story_rebuild import rebuild
from monitor.devtools import eval_stories
from monitor.rules import classify, load_rules

DEMO_PAIR = ("sites/interia/kushner-witkoff-putin-moskwa", "sites/rmf24/witkoff-kushner-na-kremlu")


def in_time(articles: list[dict]) -> list[str]:
    return [a["id"] for a in sorted(articles, key=lambda a: (a["published"], a["id"]))]


def orders(articles: list[dict], shuffles: int = 3) -> list[list[str]]:
    """Reverse time order and a few shuffles."""
    names = in_time(articles)
    return [names[::-1]] + [random.Random(seed).sample(names, len(names)) for seed in range(shuffles)]


def test_the_original_set_gives_the_same_clusters_in_any_arrival_order():
    articles = eval_stories.load()
    expected = eval_stories.clusters(eval_stories.cluster(articles))
    assert len(expected) == 10
    for arrival in orders(articles):
        for batch in (1, 7):
            got = eval_stories.clusters(eval_stories.cluster(articles, batch, arrival=arrival))
            assert got == expected, (batch, arrival[:5])


@pytest.fixture(scope="module")
def mirror() -> list[dict]:
    return eval_stories.mirror_articles()


def test_the_demo_pair_is_one_story_whatever_order_the_crawl_stores_them_in(mirror):
    """The demo's two Witkoff/Kushner articles (Interia 07:42, RMF24 21:47 the same day) are one story, and the
    mirror's clusters are the same, in time order, reverse order and shuffled (one at a time and in batches)."""
    expected = eval_stories.clusters(eval_stories.cluster(mirror))
    assert [group for group in expected if len(group) > 1] == [list(DEMO_PAIR)]
    for arrival in orders(mirror):
        for batch in (1, 5):
            predicted = eval_stories.cluster(mirror, batch, arrival=arrival)
            assert predicted[DEMO_PAIR[0]] == predicted[DEMO_PAIR[1]], (batch, arrival[:5])
            assert eval_stories.clusters(predicted) == expected


def test_rebuild_gives_what_the_writer_built_from_a_shuffled_crawl(tmp_path):
    articles = eval_stories.load()
    db = tmp_path / "shuffled.db"
    eval_stories.store(db, articles, 4, arrival=orders(articles)[1])
    conn = sqlite3.connect(db)
    before = conn.execute(
        "SELECT article_id, story_id, at, how, score FROM story_articles ORDER BY 1"
    ).fetchall()
    stories = "SELECT * FROM stories ORDER BY id"
    rows_before = [row[:14] for row in conn.execute(stories)]
    with conn:
        rebuild(conn)
    after = conn.execute(
        "SELECT article_id, story_id, at, how, score FROM story_articles ORDER BY 1"
    ).fetchall()
    assert after == before
    assert [row[:14] for row in conn.execute(stories)] == rows_before
    conn.close()


# --- the engine alone, on every labelled article ---------------------------------------------------------


@pytest.fixture(scope="module")
def members() -> list:
    return labelled_members()


def labelled_members() -> list:
    """Every article of the labelled pairs (the rules' verdicts ignored), as clustering sees it; ids by the
    labels' order."""
    ruleset = load_rules()
    found = []
    for number, item in enumerate(eval_stories.labelled(), start=1):
        verdict = classify(ruleset, item["title"], item["lead"], item["text"])
        at = article_time(item["published"], None)
        computed = features(
            at,
            item["title"],
            item["lead"],
            item["text"],
            eval_stories.entity_hits(verdict.matches),
            venue_entities(),
            persons=person_entities(),
        )
        found.append(member(number, (utc_iso(at), item["url"]), computed, None))
    return found


def partition(engine: Engine) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for article_id, placement in engine.placed.items():
        groups.setdefault(placement.story, []).append(article_id)
    return sorted(sorted(group) for group in groups.values())


def placed_in_time(members: list, leave: frozenset[int] = frozenset()) -> Engine:
    engine = Engine()
    engine.insert(sorted((m for m in members if m.id not in leave), key=lambda m: m.key))
    return engine


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 40), leaving=st.integers(0, 15))
# found in CI: the White House spokeswoman's summary meets Zełenski's announced visit through a side of the war
# standing for a person, at a cosine below REACHABLE; the index (an article later than all) must still compare it
@example(seed=200000, chunk=1, leaving=3)
@pytest.mark.slow  # many arrival orders of a few hundred articles
def test_the_engine_places_articles_as_the_order_of_times_does_whatever_the_order_they_come_in(
    members, seed, chunk, leaving
):
    """Articles inserted in a random order, in chunks of any size, some of them taken out again at the end
    (no longer flagged), leave the stories, scores and `follows` of the articles inserted in the order of their
    times without those."""
    rng = random.Random(seed)
    shuffled = rng.sample(members, len(members))
    leave = frozenset(m.id for m in rng.sample(members, leaving))
    engine = Engine()
    for start in range(0, len(shuffled), chunk):
        engine.insert(shuffled[start : start + chunk])
    engine.insert([], sorted(leave))
    expected = placed_in_time(members, leave)
    assert partition(engine) == partition(expected)
    assert engine.placed == expected.placed  # the same story ids, ways of joining, scores and follows


def test_articles_in_time_order_are_decided_once_each(members):
    engine = Engine()
    ordered = sorted(members, key=lambda m: m.key)
    decided = sum(engine.insert(ordered[start : start + 25]).decided for start in range(0, len(ordered), 25))
    assert decided == len(members)  # nothing decided again when articles come in time order


def test_an_earlier_article_moves_later_ones_only_as_the_order_of_times_would(members):
    """The latest article comes first: every later insertion is before it, so it is decided again, and the
    result is still the order of times'."""
    ordered = sorted(members, key=lambda m: m.key)[:120]
    engine = Engine()
    engine.insert([ordered[-1]])
    outcome = engine.insert(ordered[:-1])
    assert outcome.decided >= len(ordered) - 1
    assert engine.placed == placed_in_time(ordered).placed


def test_a_story_whose_first_article_leaves_is_placed_again(members):
    engine = placed_in_time(members)
    founders = [story.id for story in engine.stories.values() if story.size >= 3]
    assert founders
    engine.insert([], founders[:3])
    expected = placed_in_time(members, frozenset(founders[:3]))
    assert engine.placed == expected.placed
    assert all(founder not in engine.stories for founder in founders[:3]) or all(
        engine.stories[f].members[0].id == f for f in founders[:3] if f in engine.stories
    )


def test_nothing_to_insert_changes_nothing(members):
    engine = placed_in_time(members[:50])
    before = dict(engine.placed)
    outcome = engine.insert([], [])
    assert outcome.placed == {} and outcome.decided == 0 and engine.placed == before
    assert engine.insert([], [10**9]).placed == {}  # an article the engine does not hold


def test_evicted_stories_are_given_back_with_what_they_follow(members):
    engine = placed_in_time(members)
    total = len(engine.stories)
    latest = max(m.features.at for m in members)
    gone = engine.evict(latest)
    assert gone and len(engine.stories) == total - len(gone)
    assert all(story.last < latest for story, _follows in gone)
    assert not any(story.id in engine.stories for story, _follows in gone)


def test_the_labelled_pairs_cluster_the_same_when_stored_shuffled(tmp_path: Path):
    """Through the crawl's writer: the labelled pairs stored in a shuffled order, in batches of 25, give the
    clusters of the order of times."""
    articles = eval_stories.labelled()
    expected = eval_stories.clusters(eval_stories.cluster(articles))
    shuffled = random.Random(17).sample(in_time(articles), len(articles))
    assert eval_stories.clusters(eval_stories.cluster(articles, 25, arrival=shuffled)) == expected
