"""What the stories' engine holds, compactly (issues #15, #17): the postings answer as a dict of sets would,
and a vector read back from the archive is the same mapping, with the same floats in the same order."""

from __future__ import annotations

import json
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.archive.clusters import StoryState, cosine, member
from monitor.archive.story_features import Features
from monitor.archive.story_held import FEW, Postings, Weights

SEEDS = [f"s{i}" for i in range(6)]

steps = st.lists(
    st.tuples(st.booleans(), st.integers(1, 3 * FEW), st.lists(st.sampled_from(SEEDS), max_size=4)),
    max_size=200,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps)
def test_the_postings_answer_as_a_set_per_seed_does(steps: list[tuple[bool, int, list[str]]]) -> None:
    postings = Postings()
    model: dict[str, set[int]] = {}
    for posting, story, seeds in steps:
        if posting:
            postings.post(story, seeds)
            for seed in seeds:
                model.setdefault(seed, set()).add(story)
        else:
            kept = {seeds[0]: 1} if seeds else None
            postings.unpost(story, seeds, kept)
            for seed in seeds:
                if kept and kept.get(seed):
                    continue
                model.get(seed, set()).discard(story)
        for seed in SEEDS:
            assert postings.holders([seed]) == model.get(seed, set())
        assert postings.holders(SEEDS) == set().union(*model.values())
        assert len(postings) == sum(1 for found in model.values() if found)


def test_a_seed_held_by_one_story_is_its_id_and_by_many_a_set() -> None:
    postings = Postings()
    postings.post(7, ["a"])
    assert postings._held["a"] == 7
    postings.post(8, ["a"])
    assert postings._held["a"] == (7, 8)
    postings.post(7, ["a"])
    assert postings._held["a"] == (7, 8)
    for story in range(9, 9 + FEW):
        postings.post(story, ["a"])
    assert isinstance(postings._held["a"], set)
    for story in range(9, 9 + FEW):
        postings.unpost(story, ["a"])
    assert postings._held["a"] == (7, 8)
    postings.unpost(8, ["a"])
    postings.unpost(99, ["a"])
    assert postings._held["a"] == 7
    postings.unpost(7, ["a"])
    assert len(postings) == 0


def _vector(seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    raw = {f"t{rng.randrange(60)}": rng.random() for _ in range(40)}
    norm = math.sqrt(sum(value * value for value in raw.values()))
    return json.loads(json.dumps({token: round(value / norm, 5) for token, value in raw.items()}))


def test_a_vector_held_compactly_is_the_same_mapping_with_the_same_floats() -> None:
    vector = _vector(1)
    held = Weights(vector)
    assert list(held) == list(vector) and len(held) == len(vector)
    assert list(held.items()) == list(vector.items())
    assert list(held.values()) == list(vector.values())
    assert dict(held) == vector and held == vector
    token = next(iter(vector))
    assert token in held and held[token] == vector[token] and held.get("absent") is None
    assert "absent" not in held
    # one string per token, whatever the article
    other = Weights(json.loads(json.dumps(vector)))
    assert all(a is b for a, b in zip(held, other, strict=True))


def test_stories_of_vectors_held_compactly_have_the_very_same_centroids_and_cosines() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    plain, compact = [], []
    for n in range(6):
        vector = _vector(n)
        at = start + timedelta(hours=n)
        for made, weights in ((plain, vector), (compact, Weights(vector))):
            made.append(member(n + 1, (at.isoformat(), str(n)), Features(at, weights)))
    one, other = StoryState(plain[0]), StoryState(compact[0])
    for a, b in zip(plain[1:], compact[1:], strict=True):
        one.add(a)
        other.add(b)
    assert one.centroid == other.centroid and one.norm == other.norm
    assert list(one.centroid) == list(other.centroid)
    probe = _vector(99)
    assert cosine(probe, one) == cosine(probe, other)
    assert cosine(Weights(probe), one) == cosine(probe, one)
