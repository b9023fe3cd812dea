"""The synthetic text of bench/make_archive.py (issue #15): its shortcuts give what the archive's own functions
give (the wire-story sketch, the word count), and its words are drawn reproducibly from the whole vocabulary."""

from __future__ import annotations

import random
import sys
from collections import Counter

import pytest
from _archive_helpers import ROOT

from monitor.archive.stories import wire_sketch
from monitor.rules import load_rules

sys.path.insert(0, str(ROOT / "bench"))

from synthetic import TextMaker, Vocabulary, quick_sketch, vocabulary, word_count  # noqa: E402


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return vocabulary(load_rules(), seed=15)


@pytest.fixture(scope="module")
def maker(vocab: Vocabulary) -> TextMaker:
    return TextMaker(vocab, random.Random(15))


def made_texts(maker: TextMaker) -> list[str]:
    rng = random.Random(4)
    maker.restart(random.Random(4))
    texts = []
    for i in range(400):
        chars = rng.choice((40, 120, 300, 2000, 6000))
        body = maker.body(chars, 0.3, 3) if i % 3 == 0 else maker.body(chars)
        texts += [body, maker.title(0.6 if i % 5 == 0 else 0.0), maker.lead(0.2 if i % 4 == 0 else 0.0)]
        if i % 7 == 0:
            texts.append(body + "\nCzytaj też: " + maker.title())
    return texts


def test_the_quick_sketch_is_the_archives_sketch(maker: TextMaker) -> None:
    for text in made_texts(maker):
        assert quick_sketch(text) == wire_sketch(text).values, text[:80]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Jedno",
        "Cztery słowa tylko tutaj.",
        "Pięć słów: rozmowy pokojowe, Dżudda.",
        # the same long-worded shingles again and again: each hash counts once
        "Rozmowy pokojowe delegacji ukraińskiej zakończone. " * 30,
        "„Negocjacje” — mówił przedstawiciel… «Porozumienie» – dodał rzecznik‚ ‘zawieszenie’ broni • dzisiaj · jutro.",
        "Słowo " * 400 + "ostatniewyrazyyyyy " * 10,
    ],
)
def test_the_quick_sketch_of_edge_cases(text: str) -> None:
    assert quick_sketch(text) == wire_sketch(text).values


def test_the_quick_sketch_declines_text_outside_windows_1250() -> None:
    assert quick_sketch("Prezydent Erdoğan zaprasza delegacje do Stambułu na kolejne rozmowy") is None


def test_word_count_is_the_count_of_split_words(maker: TextMaker) -> None:
    for text in [*made_texts(maker), "", "jedno", "dwa słowa", "akapit.\ndrugi akapit."]:
        assert word_count(text) == len(text.split())


def test_words_are_drawn_from_the_whole_vocabulary_reproducibly(vocab: Vocabulary, maker: TextMaker) -> None:
    maker.restart(random.Random(9))
    first = [maker.words(300) for _ in range(300)]
    maker.restart(random.Random(9))
    assert [maker.words(300) for _ in range(300)] == first  # a chunk is the same whoever makes it
    counts = Counter(word for words in first for word in words)
    rank = {word: r for r, word in enumerate(vocab.plain)}
    tail = [word for word in counts if rank[word] >= 5000]
    assert len(tail) > 10_000  # the long tail, from many windows of the pool, not one table's
    assert counts[vocab.plain[0]] > counts[vocab.plain[100]] > 0  # Zipf: the first word is the most frequent
    assert not set(counts) - set(vocab.plain)
