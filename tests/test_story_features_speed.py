"""The shortcuts of story features (issue #17) give what the plain computation gives: the words of a prefix, the
remembered tokens, simplemma's dictionary read from a trie cached on disk, the cosine summed in C."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import simplemma
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.archive import lemmas, story_features
from monitor.archive.clusters import Member, StoryState, _cosine, cosine
from monitor.archive.story_features import Features, lemma, stems, words

WORD = re.compile(r"[^\W\d_]+")
TEXT = st.text(alphabet=st.sampled_from("abcąęłśżź ĄŁ-.,1\n"), max_size=400)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=0, max_value=40))
def test_words_of_a_prefix_are_the_first_words_of_the_text(text, limit):
    assert words(text, limit) == WORD.findall(text)[:limit]


def test_a_word_cut_at_the_end_of_the_prefix_is_not_taken():
    limit = 3
    text = "ab " * limit + "x" * (limit * 16) + " koniec"  # the fourth word runs past the prefix
    assert words(text, limit + 1)[-1] == "x" * (limit * 16)
    assert words(text, limit) == ["ab"] * limit


def test_remembered_tokens_are_the_tokens():
    text = "Rozmowy rozmów ROZMOWAMI w Genewie, Witkoffa i Witkoff; oraz jest"
    first = stems(text, 100)
    story_features._TOKENS.clear()
    assert stems(text, 100) == first
    expected = []
    for word in WORD.findall(text):
        lowered = word.lower()
        token = lemma(lowered) if len(lowered) >= story_features.MIN_LETTERS else ""
        if len(token) >= story_features.MIN_LETTERS and token not in story_features.STOPWORDS:
            expected.append(token)
    assert first == expected


def test_the_memory_of_tokens_is_bounded(monkeypatch):
    monkeypatch.setattr(story_features, "_TOKENS_HELD", 3)
    story_features._TOKENS.clear()
    stems("pierwsze drugie trzecie czwarte piąte", 10)
    assert len(story_features._TOKENS) <= 3


SAMPLE = [
    "rozmowy",
    "rozmów",
    "spotkania",
    "spotkali",
    "planu",
    "planie",
    "Genewie",
    "Witkoffa",
    "jeńców",
    "wymianie",
    "gwarancje",
]


def test_the_trie_gives_simplemmas_own_lemmas():
    lemmatizer = story_features._lemmatizer()
    for word in SAMPLE:
        assert lemmatizer.lemmatize(word, lang="pl") == simplemma.lemmatize(word, lang="pl")


class _Trie:
    """Stands for a MARISA trie: ``save`` writes its file in two parts, noting whether the cache's own file was
    there in between (where a process opening the cache would read it half-written)."""

    def __init__(self, cache: Path, fail: bool = False):
        self.cache, self.fail = cache, fail
        self.saves: list[tuple[Path, bool]] = []

    def save(self, path: str) -> None:
        Path(path).write_bytes(b"first half")
        self.saves.append((Path(path), (self.cache / "pl.dic").exists()))
        if self.fail:
            raise OSError("disk full")
        with Path(path).open("ab") as out:
            out.write(b", second half")


def test_the_trie_is_written_aside_and_renamed_into_place(tmp_path: Path) -> None:
    pytest.importorskip("marisa_trie")
    factory = lemmas.AtomicTrieFactory(disk_cache_dir=str(tmp_path))
    trie = _Trie(tmp_path)
    factory._write_trie_to_disk("pl", trie)
    [(written, cache_was_there)] = trie.saves
    assert written.parent == tmp_path and written.name != "pl.dic" and not cache_was_there
    assert [p.name for p in tmp_path.iterdir()] == ["pl.dic"]  # no temporary file left behind
    assert (tmp_path / "pl.dic").read_bytes() == b"first half, second half"


def test_a_trie_that_fails_to_save_leaves_neither_a_cache_nor_a_temporary_file(tmp_path: Path) -> None:
    pytest.importorskip("marisa_trie")
    factory = lemmas.AtomicTrieFactory(disk_cache_dir=str(tmp_path))
    with pytest.raises(OSError, match="disk full"):
        factory._write_trie_to_disk("pl", _Trie(tmp_path, fail=True))
    assert list(tmp_path.iterdir()) == []


def test_the_cosine_in_c_is_the_cosine_summed_in_order():
    at = datetime(2026, 1, 20, tzinfo=UTC)
    story = StoryState(Member(1, ("a", "a"), Features(at, {"x": 0.6, "y": 0.8}), ("x",)))
    story.add(Member(2, ("b", "b"), Features(at, {"y": 0.28, "z": 0.96}), ("z",)))
    vector = {"z": 0.1, "q": 0.5, "x": 0.3, "y": 0.2}
    plain = sum(w * story.centroid[t] for t, w in vector.items() if t in story.centroid) / story.norm
    assert cosine(vector, story) == plain == _cosine(tuple(vector), tuple(vector.values()), story)
    assert cosine({"q": 1.0}, story) == 0.0


def _sums(story: StoryState) -> tuple[object, ...]:
    return (
        list(story.centroid.items()),
        story.norm,
        story.dates,
        story.venues,
        story.people,
        story.objects,
        story.kinds,
        story.announcements,
        story.documents,
        story.seeds,
        [item.id for item in story.members],
        (story.first, story.last, story.open_from, story.open_until, story.follow_until),
    )


def _fresh(members: list[Member]) -> StoryState:
    story = StoryState(members[0])
    for item in members[1:]:
        story.add(item)
    return story


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_story_before_an_article_is_the_story_made_of_the_articles_before_it(seed):
    """``before`` keeps the state it made and grows it: after any adds (in order or between articles), removals
    and askings, it is the state made from the start of the articles before, to the last bit."""
    from test_story_rebuild_speed import random_members

    rng = random.Random(seed)
    pool = random_members(seed, 120, hours=2.0)
    story = StoryState(pool[0])
    held = [pool[0]]
    for step in range(400):
        action = rng.random()
        if action < 0.35 and len(held) < len(pool):
            item = rng.choice([m for m in pool if m not in held])
            story.add(item)
            held = sorted([*held, item], key=lambda m: m.key)
        elif action < 0.45 and len(held) > 1:
            item = rng.choice(held[1:])
            story.remove(item.id)
            held.remove(item)
        else:
            key = rng.choice(pool).key if rng.random() < 0.3 else rng.choice(held).key
            earlier = story.before(key)
            before = [m for m in held if m.key < key]
            if key > held[-1].key:
                assert earlier is story
            elif not before:
                assert earlier is None
            else:
                assert earlier is not None and earlier.id == story.id, step
                assert _sums(earlier) == _sums(_fresh(before)), step


def test_deciding_the_articles_after_a_late_one_in_order_costs_additions_linear_in_the_story(monkeypatch):
    """The engine decides the articles after a late arrival in the order of their times, asking each time for
    the story before the next one: the story's sums are grown, not made again from its first article."""
    from test_story_rebuild_speed import random_members

    members = random_members(4, 400, hours=1.0)
    story = _fresh(members)
    added = 0
    accumulate = StoryState._accumulate

    def counting(self: StoryState, item: Member) -> None:
        nonlocal added
        added += 1
        accumulate(self, item)

    monkeypatch.setattr(StoryState, "_accumulate", counting)
    for item in members[1:]:
        assert story.before(item.key) is not None
    assert added < 2 * len(members)  # made again each time: len(members)² / 2
