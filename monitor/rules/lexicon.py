"""The lexicon: every term of a rule set, compiled once; :meth:`Lexicon.find` lists where they occur in a field.

A field is read in one pass:

1. It is folded to bytes (:func:`~monitor.rules.text.word_bytes`): letters and digits become ``a-z0-9``, every
   other character a space, one byte for one character, so byte offsets are offsets in the text.
2. An Aho-Corasick automaton (``ahocorasick_rs``, compiled code) holds ``" " + key`` for every exact form and
   stem of the first word of every term. At each word of the text that begins with a key it reports the longest
   such key, so only the words that may start a term come back to Python (a sixth to a third of the words).
3. That key says which term words the word is: when the word ends with the key, the exact forms equal to the
   key and the stems that begin it; when the word goes on, only those stems (an exact form equal to the word
   would have been a longer key). Both cases are worked out once per key when the lexicon is built.
4. The other words of a multi-word term are read in place from the field's words: each next word is the first
   that fits within ``gap`` words after the previous one.
5. Where terms overlap, the longest hit of a label wins its words, and a group hit inside a longer hit of another
   group gives way to it (``rozmowy pokojowe`` counts for the group that holds the phrase, not also for the one
   that holds ``rozmow*``); entity hits are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any, NamedTuple

from ahocorasick_rs import BytesAhoCorasick, Implementation, MatchKind

from monitor.rules.model import Term, WordPattern
from monitor.rules.text import word_bytes


class Hit(NamedTuple):
    """One occurrence of a term in a field."""

    label: str  # group name or entity id
    term: int  # index into Lexicon.terms
    field: str
    first: int  # first and last word (index among the field's words)
    last: int
    start: int  # character offsets in the field's text
    end: int


# A word of a term as the lexicon reads it: its exact forms, or its stem (folded, as bytes).
_Word = tuple[frozenset[bytes], bytes | None]


class _Phrase(NamedTuple):
    """A multi-word term, as its first word starts it."""

    term: int
    second: _Word
    later: tuple[_Word, ...]  # the words after the second
    gap: int


class _Starts(NamedTuple):
    """What a word of the text is: the single-word terms it is and the multi-word terms it may start."""

    singles: tuple[tuple[str, int], ...]  # (label, term), the first term of each label, ordered by label
    phrases: tuple[_Phrase, ...]  # in the lexicon's order: a phrase's place in it breaks ties
    # the phrases by their second word (their places in ``phrases``): by its exact forms, and by its stem
    seconds: dict[bytes, tuple[int, ...]]
    second_stems: tuple[tuple[bytes, tuple[int, ...]], ...]
    stems: tuple[bytes, ...]  # the stems alone, to ask whether a word begins with one of them at once
    reach: int  # how many words after the first the second word may be (the largest gap + 1)


# (first word - last word, first word, order among the first word's phrases, term, last word, start offset):
# sorted, the longest come first, then in text order, then in the lexicon's order
_Found = tuple[int, int, int, int, int, int]


def _word(pattern: WordPattern) -> _Word:
    stem = pattern.stem.encode() if pattern.stem is not None else None
    return frozenset(form.encode() for form in pattern.exact), stem


class Lexicon:
    """Every term of a rule set, compiled for a single pass per field (see the module's description)."""

    def __init__(self, terms: Iterable[Term], groups: Iterable[str] = ()):
        self.terms: tuple[Term, ...] = tuple(terms)
        self.groups = frozenset(groups)  # labels whose hits give way to longer hits of another group
        # The terms by their first word: each distinct first word is a unit, numbered in order of appearance.
        units: dict[WordPattern, int] = {}
        self._exact: dict[bytes, list[int]] = {}  # form → the units it is
        self._stems: dict[bytes, list[int]] = {}  # stem → the units it is
        self._singles: dict[int, list[int]] = {}  # unit → single-word terms
        self._phrases: dict[int, list[_Phrase]] = {}  # unit → multi-word terms it starts
        for index, term in enumerate(self.terms):
            first = term.words[0]
            if first not in units:
                unit = units[first] = len(units)
                exact, stem = _word(first)
                if stem is not None:
                    self._stems.setdefault(stem, []).append(unit)
                for form in exact:
                    self._exact.setdefault(form, []).append(unit)
            unit = units[first]
            if len(term.words) == 1:
                self._singles.setdefault(unit, []).append(index)
            else:
                second, *later = (_word(w) for w in term.words[1:])
                self._phrases.setdefault(unit, []).append(_Phrase(index, second, tuple(later), term.gap))
        self._stem_lengths = sorted({len(stem) for stem in self._stems})
        # A key that is not a plain folded word (a form with a space in it) never equals a word of the text.
        keys = sorted(key for key in {*self._exact, *self._stems} if key.isalnum())
        self._whole = [self._starts(key, whole=True) for key in keys]  # by key number: the word is the key
        self._prefix = [self._starts(key, whole=False) for key in keys]  # the word goes on after the key
        self._automaton = (
            BytesAhoCorasick(
                [b" " + key for key in keys],
                matchkind=MatchKind.LeftmostLongest,
                implementation=Implementation.DFA,  # the fastest scan, under 1 MB
            )
            if keys
            else None
        )
        self.prepared: Any = None  # the rules prepared for this lexicon's rule set (see engine.py)

    def _starts(self, key: bytes, whole: bool) -> _Starts | None:
        """What a word is whose longest key is ``key`` (``whole``: the word is the key); None when nothing."""
        units = list(self._exact.get(key, ())) if whole else []
        for length in self._stem_lengths:
            if length > len(key):
                break
            units += self._stems.get(key[:length], ())
        singles: dict[str, int] = {}
        phrases: list[_Phrase] = []
        for unit in units:
            for index in self._singles.get(unit, ()):
                singles.setdefault(self.terms[index].label, index)
            phrases += self._phrases.get(unit, ())
        if not singles and not phrases:
            return None
        seconds: dict[bytes, tuple[int, ...]] = {}
        second_stems: dict[bytes, tuple[int, ...]] = {}
        for order, phrase in enumerate(phrases):
            exact, stem = phrase.second
            if stem is not None:
                second_stems[stem] = (*second_stems.get(stem, ()), order)
            for form in exact:
                seconds[form] = (*seconds.get(form, ()), order)
        return _Starts(
            tuple(sorted(singles.items())),
            tuple(phrases),
            seconds,
            tuple(second_stems.items()),
            tuple(second_stems),
            max((phrase.gap for phrase in phrases), default=0) + 1,
        )

    def find(self, text: str, fieldname: str) -> list[Hit]:
        """Every occurrence of every term in ``text``, ordered by (first word, label); within one label, the
        longest hit wins a word, and group hits give way to longer group hits around them."""
        if not text or self._automaton is None:
            return []
        # a space before every word: its position in the padded text is the word's offset in the text
        padded = b" " + word_bytes(text) + b" "
        found = self._automaton.find_matches_as_indexes(padded)
        if not found:
            return []
        words = padded.split()
        # The words before a position are the places where a space is followed by a letter or digit.
        marks = padded.translate(_MARKS)
        singles: list[Hit] = []
        phrases: list[_Found] = []
        index = cursor = 0
        for key, start, end in found:
            starts = self._whole[key] if padded[end] == _SPACE else self._prefix[key]
            if starts is None:
                continue
            index += marks.count(b" x", cursor, start)
            cursor = start
            for label, term in starts.singles:
                singles.append(Hit(label, term, fieldname, index, index, start, start + len(words[index])))
            if starts.phrases:
                phrases += _phrases_at(words, index, start, starts)
        if phrases:
            return self._place(singles, phrases, words, padded, fieldname)
        return singles

    def _place(
        self, singles: list[Hit], phrases: list[_Found], words: list[bytes], padded: bytes, fieldname: str
    ) -> list[Hit]:
        """Add the multi-word hits to the one-word ones: longest first, each wins its words within its label.
        Then group hits inside a longer group hit go (see :func:`_outside`)."""
        covered: set[tuple[str, int]] = set()  # (label, word) taken by a multi-word hit
        hits: list[Hit] = []
        for _span, first, _order, term, last, start in sorted(phrases):
            label = self.terms[term].label
            span = [(label, w) for w in range(first, last + 1)]
            if not covered.isdisjoint(span):
                continue
            covered.update(span)
            hits.append(
                Hit(label, term, fieldname, first, last, start, _end(padded, words, first, start, last))
            )
        hits += [hit for hit in singles if (hit.label, hit.first) not in covered]
        hits = _outside(hits, self.groups)
        hits.sort(key=_POSITION)
        return hits


_SPACE = ord(" ")
_MARKS = bytes(code if code == _SPACE else ord("x") for code in range(256))  # letters as x, spaces kept
_POSITION = attrgetter("first", "label")  # the order of a field's hits


def _phrases_at(words: list[bytes], i: int, start: int, starts: _Starts) -> list[_Found]:
    """The multi-word terms that start at word ``i`` (at offset ``start``)."""
    window = words[i + 1 : i + 1 + starts.reach]
    if starts.seconds.keys().isdisjoint(window) and not (
        starts.stems and any(word.startswith(starts.stems) for word in window)
    ):
        return []  # no second word of any of them follows: the usual case, told at once
    found = []
    tried: set[int] = set()  # the phrases whose second word was seen: its first fit counts
    for k, word in enumerate(window, i + 1):
        orders = starts.seconds.get(word, ())
        if starts.stems and word.startswith(starts.stems):
            orders += tuple(o for stem, os in starts.second_stems if word.startswith(stem) for o in os)
        for order in orders:
            if order in tried:
                continue
            tried.add(order)
            term, _second, later, gap = starts.phrases[order]
            if k - i - 1 <= gap:
                last = _last_word(words, k, later, gap)
                if last >= 0:
                    found.append((i - last, i, order, term, last, start))
    return found


def _first_fit(words: list[bytes], lo: int, hi: int, pattern: _Word) -> int:
    """The index of the first of ``words[lo:hi]`` that fits ``pattern``, or -1."""
    exact, stem = pattern
    for k in range(lo, min(hi, len(words))):
        if words[k].startswith(stem) if stem is not None else words[k] in exact:
            return k
    return -1


def _last_word(words: list[bytes], k: int, later: tuple[_Word, ...], gap: int) -> int:
    """The last word of a term whose word ``words[k]`` is followed by ``later``: each next word of the term is
    the first that fits within ``gap`` words after the previous one; -1 when one does not."""
    for pattern in later:
        k = _first_fit(words, k + 1, k + 2 + gap, pattern)
        if k < 0:
            break
    return k


def _end(padded: bytes, words: list[bytes], first: int, start: int, last: int) -> int:
    """The offset where word ``last`` ends, from word ``first`` at offset ``start``. Every separator is a space,
    so the next occurrence of ``" word "`` after a word is the next word."""
    at = start
    for k in range(first + 1, last + 1):
        at = padded.find(b" " + words[k] + b" ", at + 1)
    return at + len(words[last])


def _outside(hits: list[Hit], groups: frozenset[str]) -> list[Hit]:
    """``hits`` without the group hits that lie inside a longer hit of a group (a container); entity hits stay.

    Only a multi-word group hit can hold another group hit with a different span, so a one-word hit is inside
    exactly when a container covers its word, and a longer one when a container reaches as far from before or
    further from its first word.
    """
    reach: dict[int, int] = {}  # first word of a container → the furthest last word of one starting there
    for hit in hits:
        if hit.first < hit.last and hit.label in groups and reach.get(hit.first, -1) < hit.last:
            reach[hit.first] = hit.last
    if not reach:
        return hits
    inside = {w for first, last in reach.items() for w in range(first, last + 1)}
    longest = max(last - first for first, last in reach.items())
    kept = []
    for hit in hits:
        if hit.label in groups:
            first, last = hit.first, hit.last
            if first == last:
                if first in inside:
                    continue
            elif reach.get(first, -1) > last or any(
                reach.get(f, -1) >= last for f in range(first - longest, first)
            ):
                continue
        kept.append(hit)
    return kept
