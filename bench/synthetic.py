"""Polish-like synthetic news text for benchmarks (``bench/make_archive.py``): fast, reproducible, and known in
advance to match no rule unless it is meant to.

Words are drawn with a Zipf law (rank r weighs 1 / (r + 2.7)) from the words of the labelled corpus
(``fixtures/corpus``), most frequent first, followed by a long tail of made-up words built from Polish
syllables, so that the vocabulary of a large archive keeps growing as a real one does. Words that could start or
continue any term of the rules are kept apart (``topic`` words): plain text is made without them, so the rules find
nothing in it, and stories meant to be about the talks get phrases of them sprinkled in (the rules then decide).

Sentences have 6–24 words and start with a capital letter; paragraphs 2–5 sentences, separated by a line break
as extracted bodies are. Drawing a word costs two random bytes and an index into a numpy array: a table of
65,536 slots holds the frequent words and a window of tail words drawn by weight in advance; each draw of words
picks one of the prepared tables, one per window.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import zlib
from bisect import bisect, bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy

from monitor.archive.stories import (
    _ASCII_PUNCTUATION,
    _CHARS_PER_WORD,
    _WIDE_PUNCTUATION,
    ANCHOR_LETTERS,
    SHINGLE,
    SKETCH_WORDS,
    _hash_runs,
    sketch,
)
from monitor.rules import Ruleset
from monitor.rules.model import WordPattern
from monitor.rules.text import fold, word_bytes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
SLOTS = 65_536
ZIPF_SHIFT = 2.7
TAIL_WORDS = 150_000
TAIL_POOL = 1 << 20  # tail words drawn in advance
CHARS_PER_10_WORDS = 76  # a word and its space, on average, times ten
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")

_ONSETS = tuple(
    "b c ch cz d dz dź f g h j k kl kr l ł m n p pl pr r s sk sł st sz śl t tr w wr z zd ż br dr gr gł prz trz szcz".split()  # noqa: SIM905
)
_VOWELS = tuple("a e i o u y a e o i ą ę ó ie ia io".split())  # noqa: SIM905
_ENDINGS = tuple(
    "ski ska skiego owy owa owe owych nia nie niu ość ości ach ami ego emu ów em a y i e o u ę ą ie cie ny na nej "  # noqa: SIM905
    "nym acja acji ista izm ek ka ko".split()
)


@dataclass(frozen=True)
class Vocabulary:
    plain: list[str]  # words in Zipf rank order, none of which any rule term can match
    topic: list[str]  # corpus words that some rule term can match, most frequent first
    phrases: list[str]  # 2–3-word passages of the labelled stories around a topic word


Matcher = tuple[frozenset[str], tuple[str, ...]]  # exact folded forms, stems


def _matcher(patterns: Iterable[WordPattern]) -> Matcher:
    exact: set[str] = set()
    stems: set[str] = set()
    for pattern in patterns:
        exact |= pattern.exact
        if pattern.stem is not None:
            stems.add(pattern.stem)
    return frozenset(exact), tuple(sorted(stems))


def _matches(matcher: Matcher, word: str) -> bool:
    exact, stems = matcher
    return any(w in exact or w.startswith(stems) for w in word_bytes(word).decode("ascii").split())


def _blocking(ruleset: Ruleset, counts: dict[str, int]) -> Matcher:
    """One word of every term of the rules, the rarest in the corpus (``counts``: folded word → count). Text
    without a word that one of these matches can match no term: a term needs all its words."""
    folded = sorted(counts)
    totals = list(accumulate(counts[w] for w in folded))

    def frequency(pattern: WordPattern) -> int:
        if pattern.stem is None:
            return sum(counts.get(form, 0) for form in pattern.exact)
        lo = bisect_left(folded, pattern.stem)
        hi = bisect_left(folded, pattern.stem + "\x7f")
        return (totals[hi - 1] if hi else 0) - (totals[lo - 1] if lo else 0)

    blocked: set[WordPattern] = set()
    for term in sorted(ruleset.lexicon.terms, key=lambda t: len(t.words)):
        if not blocked.intersection(term.words):
            blocked.add(min(term.words, key=lambda p: (frequency(p), str(p))))
    return _matcher(blocked)


def _corpus_rows() -> list[dict[str, str]]:
    rows = []
    for file in sorted(CORPUS.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _made_up_words(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words: dict[str, None] = {}
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 2, 3, 3))
        stem = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        words[stem + rng.choice(_ENDINGS)] = None
    return list(words)


def vocabulary(ruleset: Ruleset, tail: int = TAIL_WORDS, seed: int = 15) -> Vocabulary:
    """The plain and topic words for ``ruleset``: plain words include none of the words that block every term
    (:func:`_blocking`), so common words such as "w" or "z" stay plain; topic words are the corpus words that any
    word of any term matches."""
    counts: dict[str, int] = {}
    forms: dict[str, dict[str, int]] = {}
    rows = _corpus_rows()
    for row in rows:
        for field in ("title", "lead", "text"):
            for token in _WORD.findall(row.get(field) or ""):
                key = token.lower()
                counts[key] = counts.get(key, 0) + 1
                forms.setdefault(key, {})
                forms[key][token] = forms[key].get(token, 0) + 1
    folded: dict[str, int] = {}
    for word, count in counts.items():
        for piece in word_bytes(word).decode("ascii").split():
            folded[piece] = folded.get(piece, 0) + count
    blocking = _blocking(ruleset, folded)
    talk = _matcher(pattern for term in ruleset.lexicon.terms for pattern in term.words)
    phrases: dict[str, None] = {}
    for row in rows:
        if row.get("label") != "primary":
            continue
        tokens = _WORD.findall(row.get("text") or "")
        for i, token in enumerate(tokens[:-2]):
            if _matches(talk, token):
                phrases[" ".join(tokens[i : i + 2 + (i % 2)])] = None
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    surface = [max(forms[w], key=lambda f: (forms[w][f], f)) for w in ranked]
    surface = [w for w in surface if _cp1250(w)]  # a handful of names (Erdoğan): quick_sketch folds the rest
    plain = [w for w in surface if not _matches(blocking, w)]
    topic = [w for w in surface if _matches(talk, w)]
    seen = {w.lower() for w in surface}
    plain += [w for w in _made_up_words(tail, seed) if w not in seen and not _matches(blocking, w)]
    return Vocabulary(plain, topic, sorted(p for p in phrases if _cp1250(p)))


def _cp1250(text: str) -> bool:
    try:
        text.encode("cp1250")
    except UnicodeEncodeError:
        return False
    return True


class TextMaker:
    """Draws titles, leads and bodies from a :class:`Vocabulary` with its own random generator."""

    def __init__(self, vocab: Vocabulary, rng: random.Random):
        self.rng = rng
        weights = [1 / (rank + ZIPF_SHIFT) for rank in range(len(vocab.plain))]
        # The frequent words fill a table of SLOTS slots by weight; the other slots (a third) hold words of the tail:
        # a window of a pool of tail words drawn by weight once. There is one table per window of the pool, made
        # once (about 25 MB), and every draw of words picks one: as random as fresh draws of the tail, for the
        # price of one random number (replacing a third of one table every few draws cost more than the draws).
        total = sum(weights)
        head_table: list[str] = []
        head = 0
        for word, weight in zip(vocab.plain, weights, strict=False):
            slots = int(SLOTS * weight / total)
            if slots < 1:
                break
            head_table.extend([word] * slots)
            head += 1
        tail_weights = list(accumulate(weights[head:]))
        top = tail_weights[-1]
        tail = vocab.plain[head:]
        pool = [tail[bisect(tail_weights, rng.random() * top)] for _ in range(TAIL_POOL)]
        window = SLOTS - len(head_table)
        self.tables = [
            numpy.array(head_table + pool[at : at + window], dtype=object)
            for at in range(0, TAIL_POOL - window + 1, window)
        ]
        self.topic = vocab.topic
        self.phrases = vocab.phrases
        self.topic_weights = list(accumulate(1 / (r + ZIPF_SHIFT) for r in range(len(vocab.topic))))

    def restart(self, rng: random.Random) -> None:
        """Draw from ``rng`` as a new maker would: what it makes no longer depends on what it made before."""
        self.rng = rng

    def words(self, count: int) -> list[str]:
        """``count`` plain words, Zipf-distributed."""
        if count <= 0:
            return []
        rng = self.rng
        table = self.tables[rng.randrange(len(self.tables))]
        picked: list[str] = table[numpy.frombuffer(rng.randbytes(2 * count), dtype="<u2")].tolist()
        return picked

    def _text(self, words: list[str], paragraphs: bool) -> str:
        """Sentences of 6–24 of ``words`` (a comma in half of the long ones), in paragraphs of 2–5 sentences."""
        count = len(words)
        noise = self.rng.randbytes(count // 3 + 8)
        k = 0
        i = 0
        in_paragraph, paragraph = 0, 2 + noise[0] % 4
        while i < count:
            length = 6 + noise[k] % 19
            k += 1
            end = min(i + length, count)
            first = words[i]
            words[i] = first[:1].upper() + first[1:]
            if end - i >= 10 and noise[k] & 1:
                words[i + 3 + noise[k] % (end - i - 6)] += ","
            k += 1
            in_paragraph += 1
            if paragraphs and in_paragraph >= paragraph and end < count:
                words[end - 1] += ".\n"
                in_paragraph, paragraph = 0, 2 + noise[k] % 4
            else:
                words[end - 1] += "."
            i = end
        text = " ".join(words)
        return text.replace("\n ", "\n") if paragraphs else text

    def sprinkle(self, words: list[str], share: float) -> None:
        """Put topic phrases (and single topic words) in place of about ``share`` of ``words``."""
        rng = self.rng
        for _ in range(max(1, int(len(words) * share / 2))):
            at = rng.randrange(len(words))
            if rng.random() < 0.6:
                words[at] = rng.choice(self.phrases)
            else:
                words[at] = self.topic[bisect(self.topic_weights, rng.random() * self.topic_weights[-1])]

    def title(self, topic: float = 0.0) -> str:
        words = self.words(self.rng.randint(5, 12))
        if topic:
            self.sprinkle(words, topic)
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words)

    def lead(self, topic: float = 0.0) -> str:
        words = self.words(self.rng.randint(14, 40))
        if topic:
            self.sprinkle(words, topic)
        return self._text(words, paragraphs=False)

    def body(self, chars: int, topic: float = 0.0, topic_paragraphs: int = 0) -> str:
        """About ``chars`` characters in paragraphs; the first ``topic_paragraphs`` of them get topic phrases
        in place of ``topic`` of their words."""
        text = self._text(self.words(max(12, chars * 10 // CHARS_PER_10_WORDS)), paragraphs=True)
        if not topic_paragraphs:
            return text
        paragraphs = text.split("\n")
        for k in range(min(topic_paragraphs, len(paragraphs))):
            words = paragraphs[k].split(" ")
            self.sprinkle(words, topic)
            paragraphs[k] = " ".join(words)
        return "\n".join(paragraphs)


def _fold_table() -> bytes:
    table = bytearray(range(256))
    for code in range(256):
        try:
            char = bytes([code]).decode("cp1250")
        except UnicodeDecodeError:
            continue
        folded = fold(char)
        if len(folded) == 1:
            with contextlib.suppress(UnicodeEncodeError):
                table[code] = folded.encode("cp1250")[0]
    return bytes(table)


_FOLD_CP1250 = _fold_table()


def quick_sketch(text: str) -> list[int] | None:
    """The wire-story sketch of ``text`` (``sketch(anchored_shingles(text))``) for text written in Windows-1250
    characters, folded by one byte table instead of :func:`monitor.rules.text.fold`'s character map (30× faster
    on Polish text); None for text outside Windows-1250. Callers check it against the real one now and then."""
    sample = text[: SKETCH_WORDS * _CHARS_PER_WORD]
    try:
        folded = sample.encode("cp1250").translate(_FOLD_CP1250).decode("cp1250")
    except UnicodeEncodeError:
        return None
    for mark in _WIDE_PUNCTUATION:
        if mark in folded:
            folded = folded.replace(mark, " ")
    tokens = folded.encode().translate(_ASCII_PUNCTUATION).split(None, SKETCH_WORDS)[:SKETCH_WORDS]
    if len(tokens) < SHINGLE:
        return sketch(_hash_runs(tokens, SHINGLE, anchored=True))
    crc, join = zlib.crc32, b" ".join
    starts = tokens[: len(tokens) - SHINGLE + 1]
    return sketch(
        {crc(join(tokens[i : i + SHINGLE])) for i, t in enumerate(starts) if len(t) >= ANCHOR_LETTERS}
    )


def word_count(text: str) -> int:
    """``len(text.split())`` for text made here: words separated by one space or one line break."""
    return text.count(" ") + text.count("\n") + 1 if text else 0
