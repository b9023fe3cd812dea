"""Matching and scoring: a lexicon compiled once per rule set, one pass over each field, rules over the hits.

The lexicon knows every word pattern of every term (exact inflected forms and stems). A field is folded to
bytes (:func:`~monitor.rules.text.word_bytes`) and scanned once by an Aho-Corasick automaton (compiled code,
``ahocorasick_rs``) that holds the words of the terms, little words such as ``z`` or ``w`` aside: only the
words of the text that are term words come back to Python, each with what it is. Multi-word terms are
assembled from those words (in order, with at most ``gap`` other words between; little words are read in
place). Rules then combine the hits of groups and entities, filed once per selector and field.

``tests/rules_reference.py`` keeps the engine this one replaced (one dictionary lookup per word of
``bytes.split()``); the two give the same verdicts, down to every match and snippet.

It was written for mypyc, which compiled it to C at install until #14: typed locals, plain classes with slots,
loops by position. It runs as plain Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from operator import attrgetter
from typing import Any, NamedTuple

from ahocorasick_rs import BytesAhoCorasick, Implementation, MatchKind

from monitor.rules.model import FIELDS, Fired, Match, Ruleset, Term, Verdict, WordPattern
from monitor.rules.text import snippet, word_bytes


class Hit:
    """One occurrence of a term in a field. A plain class, not a tuple: compiled, its attributes are C fields."""

    __slots__ = ("label", "term", "field", "first", "last", "start", "end")

    def __init__(
        self, label: str, term: int, field: str, first: int, last: int, start: int, end: int
    ) -> None:
        self.label = label  # group name or entity id
        self.term = term  # index into Lexicon.terms
        self.field = field
        self.first = first  # first and last word (token index in the field)
        self.last = last
        self.start = start  # character offsets in the field's text
        self.end = end

    def __repr__(self) -> str:
        return (
            f"Hit({self.label!r}, term={self.term}, {self.field}, words {self.first}-{self.last}, "
            f"chars {self.start}-{self.end})"
        )


_Pattern = tuple[frozenset[bytes], bytes | None]  # exact forms, or a stem
_Start = tuple[int, tuple[_Pattern, ...], int]  # a multi-word term: its index, its other words, its gap
# a multi-word hit: (first - last, first, order, term, last, start offset, end offset); plain sorting puts the
# longest first, then in text order, then in the order of the first word's terms (as the lexicon lists them)
_Phrase = tuple[int, int, int, int, int, int, int]


_Tail = tuple[int, int, int, tuple[frozenset[int], ...]]  # (order, term, gap, codes of its third word on)


class _Phrases(NamedTuple):
    """The multi-word terms a word may start, and how to find which of them follow it.

    For the terms whose following words are all in the automaton (see :class:`Lexicon`), the words after it
    that the automaton reported say it: ``seconds`` maps what such a word is (its code) to the terms it can
    be the second word of. For the others (a term goes on with a little word such as ``z`` or ``w``, which
    would flood the automaton) two regular expressions read the text after the word: ``follows`` fails at once
    unless the second word of one of the terms follows within reach (most occurrences of ``rozmowy`` start
    no phrase), then each of ``patterns`` (the rest of the terms that share their following words and gap)
    spans them when they follow. Before reading, the reported words are asked whether a word of the terms
    that is not little (a witness: ``wojny`` in ``rozmowy o zakończeniu wojny``) is near enough: for all the
    terms at once, then for each pattern, so that of the 14 patterns after ``rozmowy`` only those whose
    words are near are read.

    Either way each next word of a term is the first that fits within ``gap`` words after the previous one,
    and stays so, as when the words were compared one by one.
    """

    reach: int  # how far after the word the second word of a term of ``seconds`` may be (largest gap + 1)
    seconds: dict[int, tuple[_Tail, ...]]  # code of a following word → terms whose second word it is
    follows: Any  # re.Pattern.match, or None when no term goes on with a little word
    # (re.Pattern.match, the codes of its words that are not little or None when all are little, its terms as
    # (order among the word's terms, term index))
    patterns: tuple[tuple[Any, frozenset[int] | None, tuple[tuple[int, int], ...]], ...]
    # with the regular expressions: when every term has a word that is not little, the codes of those words
    # and how far after the first word they may be; none of them there, no term is
    witnesses: frozenset[int] | None
    span: int


# A term found from its second word: (order by its first word's form, term, gap, second word, codes of its
# third word on)
_Back = tuple[dict[bytes, int], int, int, _Pattern, tuple[frozenset[int], ...]]
# What a word is: the single-word terms it is ((term, label), one per label, by label), the multi-word terms
# it may start (None when none) and those it may be the second word of, after a little word (or None).
_Info = tuple[tuple[tuple[int, str], ...], _Phrases | None, tuple[_Back, ...] | None]
_FOLLOWING: _Info = ((), None, None)  # a word that only goes on a term started before it
# little words: too frequent to be in the automaton as the following word of a term (z, w, na, się, dla)
_LITTLE = 3

# In a copy of the folded text where every letter or digit is "x", the words before a position are the
# " x" pairs before it (str.count, in C): that gives each hit its word index without splitting the text.
_MARKS = bytes(32 if code == 32 else ord("x") for code in range(256))
_SPACE = ord(" ")
_POSITION = attrgetter("first", "label")  # the order of a field's hits


def _pattern(word: WordPattern) -> _Pattern:
    return frozenset(f.encode() for f in word.exact), word.stem.encode() if word.stem is not None else None


def _alternation(keys: Iterable[bytes]) -> bytes:
    """A regular expression for any of ``keys`` (letters and digits), as a trie so that it is read in one go:
    ``rozmow|rozejm`` → ``roz(?:mow|ejm)``."""
    trie: dict[Any, Any] = {}
    for key in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = {}

    def build(node: dict[Any, Any]) -> bytes:
        branches = [bytes([byte]) + build(child) for byte, child in sorted(node.items(), key=str) if byte]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        return b"(?:" + body + b")?" if None in node else body

    return build(trie)


class Lexicon:
    """Every term of a rule set, compiled for a single pass per field.

    The automaton holds ``" " + key`` for every exact form and stem ``key`` of a word that starts a term, and
    of a word that goes on a term unless it is a little word (``z``, ``w``; those are checked in place, so
    they cost nothing). The space is the start of a word: the text is padded with one. The automaton reports
    leftmost-longest matches, one per word, so the match at a word is the longest key that begins it, and
    that key alone says what the word is:

    - when the word ends right after the key, the word *is* the key: its exact forms and the stems that
      begin it;
    - when the word goes on, no exact form can be the word (it would be a longer match) and no longer stem
      can begin it: only the stems that begin the key apply (often none: ``z`` is a form, ``za`` is not).

    So a word's *code* (2 × key number, + 1 when the word is the key) tells which term words it matches.

    A term that starts with a little word and goes on without one (``z udziałem amerykan*``) is found from its
    second word, looking back: otherwise ``z`` would make the automaton report every word starting with z.
    """

    def __init__(self, terms: Iterable[Term], groups: Iterable[str] = ()):
        self.terms: tuple[Term, ...] = tuple(terms)
        self.groups = frozenset(groups)  # labels whose hits give way to longer hits of another group
        self._labels = tuple(t.label for t in self.terms)
        units: dict[WordPattern, int] = {}
        self.exact: dict[bytes, tuple[int, ...]] = {}
        self.stems: dict[bytes, tuple[int, ...]] = {}
        single: dict[int, list[int]] = {}
        multi: dict[int, list[_Start]] = {}
        following: set[bytes] = set()  # the keys of the words that go on terms, little words left out
        # Terms that start with a little word and go on without one (z udziałem amerykan*) are found from
        # their second word: the little word would make the automaton report half the words of a text.
        self._behind: set[int] = set()
        starting: set[int] = set()  # the units whose words start a term the automaton has to report
        for index, term in enumerate(self.terms):
            word = term.words[0]
            if word not in units:
                unit = units[word] = len(units)
                if word.stem is not None:
                    key = word.stem.encode()
                    self.stems[key] = (*self.stems.get(key, ()), unit)
                for form in word.exact:
                    key = form.encode()
                    self.exact[key] = (*self.exact.get(key, ()), unit)
            unit = units[word]
            if len(term.words) == 1:
                single.setdefault(unit, []).append(index)
                starting.add(unit)
                continue
            rest = tuple(_pattern(w) for w in term.words[1:])
            multi.setdefault(unit, []).append((index, rest, term.gap))
            if any(_little(w) for w in rest):
                starting.add(unit)
                following.update(k for w in rest if not _little(w) for k in _keys(w))
                continue
            following.update(k for w in rest for k in _keys(w))
            if _little(_pattern(word)):
                self._behind.add(index)
            else:
                starting.add(unit)
        self.single = {unit: tuple(v) for unit, v in single.items()}
        self.multi = {unit: tuple(v) for unit, v in multi.items()}
        self.stem_lengths = tuple(sorted({len(s) for s in self.stems}))
        first = {k for k, found in (*self.exact.items(), *self.stems.items()) if starting.intersection(found)}
        # A key that is not a plain folded word (empty, or with a space) can never equal a word of the text.
        keys = sorted(k for k in first | following if k.isalnum())
        self._codes = {key: number for number, key in enumerate(keys)}
        phrases: dict[tuple[tuple[int, _Start], ...], _Phrases] = {}  # one per set of phrases
        behind = self._backs()
        infos = [
            self._lookup(k, bool(whole), phrases, behind.get(2 * n + whole))
            for n, k in enumerate(keys)
            for whole in (0, 1)
        ]
        # the words that only go on a term: reported too, when some term word is what they are
        wanted = {code for ph in phrases.values() for code in _codes_of(ph)}
        wanted.update(
            code for found in behind.values() for back in found for more in back[4] for code in more
        )
        infos = [_FOLLOWING if info is None and code in wanted else info for code, info in enumerate(infos)]
        self._prefix, self._whole = tuple(infos[0::2]), tuple(infos[1::2])
        self._automaton = (
            BytesAhoCorasick(
                [b" " + k for k in keys],
                matchkind=MatchKind.LeftmostLongest,
                implementation=Implementation.DFA,  # the fastest scan (~30% over the default), under 1 MB
            )
            if keys
            else None
        )
        self.prepared: Any = None  # (ruleset, its rules prepared for classify), built on first use

    def _starts(self, word: bytes, whole: bool) -> tuple[dict[str, int], list[_Start]]:
        """The single-word terms ``word`` is (the first per label) and the multi-word terms it starts, in the
        lexicon's order; or, not ``whole``, those of a longer word that begins with ``word`` and with no
        longer key."""
        units = list(self.exact.get(word, ())) if whole else []
        for length in self.stem_lengths:
            if length > len(word):
                break
            units.extend(self.stems.get(word[:length], ()))
        singles: dict[str, int] = {}
        starts: list[_Start] = []
        for unit in units:
            for index in self.single.get(unit, ()):
                singles.setdefault(self.terms[index].label, index)
            starts.extend(self.multi.get(unit, ()))
        return singles, starts

    def _lookup(
        self,
        word: bytes,
        whole: bool,
        cache: dict[tuple[tuple[int, _Start], ...], _Phrases],
        backs: tuple[_Back, ...] | None,
    ) -> _Info | None:
        """What a word whose longest key is ``word`` is (see :meth:`_starts`); None when nothing."""
        singles, starts = self._starts(word, whole)
        # the position of a term among the word's ones breaks ties between phrases of the same length
        ahead = tuple((order, start) for order, start in enumerate(starts) if start[0] not in self._behind)
        if not singles and not ahead and backs is None:
            return None
        phrases = None
        if ahead:
            phrases = cache.get(ahead) or cache.setdefault(ahead, self._phrases_of(ahead))
        # by label, so that a field's hits come out ordered by (first word, label)
        return tuple((index, label) for label, index in sorted(singles.items())), phrases, backs

    def _backs(self) -> dict[int, tuple[_Back, ...]]:
        """The terms found from their second word, by the codes of that word."""
        backs: dict[int, list[_Back]] = {}
        for unit, starts in self.multi.items():
            for index, rest, gap in starts:
                if index not in self._behind:
                    continue
                forms = [f for f, found in self.exact.items() if unit in found]
                orders = {}
                for form in forms:
                    _singles, starts_here = self._starts(form, True)
                    orders[form] = [i for i, _r, _g in starts_here].index(index)
                back = (orders, index, gap, rest[0], tuple(self._word_codes(w) for w in rest[1:]))
                for code in self._word_codes(rest[0]):
                    backs.setdefault(code, []).append(back)
        return {code: tuple(found) for code, found in backs.items()}

    def _word_codes(self, word: _Pattern) -> frozenset[int]:
        """The codes of the text words that are ``word`` of a term (it is not a little word)."""
        exact, stem = word
        if stem is None:
            return frozenset(2 * self._codes[f] + 1 for f in exact if f in self._codes)
        # a word begins with the stem exactly when its longest key does
        return frozenset(
            code for key, n in self._codes.items() if key.startswith(stem) for code in (2 * n, 2 * n + 1)
        )

    def _phrases_of(self, starts: tuple[tuple[int, _Start], ...]) -> _Phrases:
        """The multi-word terms a word may start, with their order among its terms (see :class:`_Phrases`):
        those that go on without little words from the reported words, the others with the expressions."""
        plain = [(order, start) for order, start in starts if not any(_little(w) for w in start[1])]
        little = [(order, start) for order, start in starts if any(_little(w) for w in start[1])]
        seconds: dict[int, list[_Tail]] = {}
        for order, (index, rest, gap) in plain:
            tail = (order, index, gap, tuple(self._word_codes(w) for w in rest[1:]))
            for code in self._word_codes(rest[0]):
                seconds.setdefault(code, []).append(tail)
        reach = max((gap for _o, (_i, _r, gap) in plain), default=-1) + 1
        phrases = _Phrases(reach, {code: tuple(tails) for code, tails in seconds.items()}, None, (), None, 0)
        if not little:
            return phrases
        seen: set[int] = set()
        witnesses: set[int] | None = seen
        for _order, (_index, rest, _gap) in little:
            found = [code for w in rest if not _little(w) for code in self._word_codes(w)]
            if not found:
                witnesses = None  # a term of little words only: always read the text
                break
            seen.update(found)
        span = max(len(rest) * (gap + 1) for _o, (_i, rest, gap) in little)
        return _regex_phrases(
            phrases, little, None if witnesses is None else frozenset(witnesses), span, self._word_codes
        )

    def find(self, text: str, fieldname: str) -> list[Hit]:
        """Every occurrence of every term in ``text``, ordered by (first word, label); within one label, the
        longest match wins a word."""
        if not text or self._automaton is None:
            return []
        folded = b" " + word_bytes(text) + b" "  # padded: every word has a space on each side
        found: list[tuple[int, int, int]] = self._automaton.find_matches_as_indexes(folded)
        if not found:
            return []
        whole, prefix = self._whole, self._prefix
        # the same text with letters as "x", as a str: its count and find compile to direct C calls
        marks = folded.translate(_MARKS).decode("ascii")
        hits: list[Hit] = []
        multi: list[_Phrase] = []
        # the words the automaton reported, (word index, code, end), and the phrase starts to look at them
        words: list[tuple[int, int, int]] = []
        starts: list[tuple[int, int, _Phrases, int]] = []
        read: list[tuple[int, int, int, _Phrases, int]] = []  # phrase starts to read with the expressions
        seconds: list[tuple[int, int, tuple[_Back, ...], int]] = []
        index = cursor = 0
        # start: the position of the space before the word in the padded text, i.e. the word's offset in
        # text; end: the position of the key's end, then of the space after the word
        for key, start, end in found:
            if folded[end] == _SPACE:
                info = whole[key]
                if info is None:
                    continue
                code = 2 * key + 1
            else:
                info = prefix[key]
                if info is None:
                    continue
                end = marks.find(" ", end)
                code = 2 * key
            index += marks.count(" x", cursor, start)
            cursor = start
            words.append((index, code, end))
            singles, phrases, backs = info  # type: ignore[misc]
            for term, label in singles:
                hits.append(Hit(label, term, fieldname, index, index, start, end - 1))
            if backs is not None:
                seconds.append((index, start, backs, len(words) - 1))
            if phrases is not None:
                if phrases.seconds:
                    starts.append((index, start, phrases, len(words)))
                if phrases.follows is not None:
                    read.append((index, start, end, phrases, len(words)))
        for i, start, phrases, after in starts:
            _follow(words, after, i, start, phrases, multi)
        for i, start, end, phrases, after in read:
            if phrases.witnesses is not None and not _witnessed(
                words, after, i + phrases.span, phrases.witnesses
            ):
                continue
            if phrases.follows(folded, end):
                multi += _assemble(folded, words, after, i, start, end, phrases, marks)
        for j, start, backs, at in seconds:
            _precede(folded, words, at, j, start, backs, multi)
        if multi:
            hits = self._place_phrases(hits, multi, fieldname)
        return hits

    def _place_phrases(self, hits: list[Hit], multi: list[_Phrase], fieldname: str) -> list[Hit]:
        """Add the multi-word hits to a field's one-word ``hits``, longest first, each winning its words within
        its label (the one-word hits of that label on them go).

        Then a group hit that lies inside a longer hit of a group goes too: a phrase belongs to its most
        specific group (``rozmowy pokojowe`` counts as peace talks, not also as ``rozmowy``); entity hits are
        kept. Only a multi-word group hit (a container) can hold another group hit with a different span, so a
        one-word hit is inside exactly when a container covers its word.
        """
        labels, groups = self._labels, self.groups
        covered: set[tuple[str, int]] = set()
        covered_words: set[int] = set()
        placed = []
        reach: dict[int, int] = {}  # first word of a container → the furthest last word of one starting there
        for _span, first, _order, index, last, start, end in sorted(multi):
            label = labels[index]
            span = [(label, w) for w in range(first, last + 1)]
            if not covered.isdisjoint(span):
                continue
            covered.update(span)
            for w in range(first, last + 1):
                covered_words.add(w)
            placed.append(Hit(label, index, fieldname, first, last, start, end))
            if label in groups and reach.get(first, -1) < last:
                reach[first] = last
        # the one-word hits on the words of the placed hits: those of the same label, and group hits inside
        # a container, go
        inside = {w for first, last in reach.items() for w in range(first, last + 1)}
        gone = []  # their positions in hits
        for w in covered_words:
            at = _first_from(hits, w)
            while at < len(hits) and hits[at].first == w:
                label = hits[at].label
                if (label, w) in covered or (w in inside and label in groups):
                    gone.append(at)
                at += 1
        if reach:
            longest = max(last - first for first, last in reach.items())
            placed = [
                hit
                for hit in placed
                if hit.label not in groups
                or not (
                    reach.get(hit.first, -1) > hit.last
                    or any(reach.get(f, -1) >= hit.last for f in range(hit.first - longest, hit.first))
                )
            ]
        if len(gone) + len(placed) <= 32:  # a few changes (an article): in place
            for at in sorted(gone, reverse=True):
                del hits[at]
            for hit in placed:
                _insert(hits, hit)  # one-word hits are in order already
            return hits
        drop = set(gone)  # many (a long text): once, without a list move per change
        hits = [hit for at, hit in enumerate(hits) if at not in drop] + placed
        hits.sort(key=_POSITION)
        return hits


def _word_pattern(word: _Pattern) -> bytes:
    """One word of a term in the padded folded text: an exact form ends at a space, a stem may go on."""
    exact, stem = word
    if stem is None:
        return b"(?:" + _alternation(exact) + b")(?= )"
    return re.escape(stem) + b"[a-z0-9]*"


def _keys(word: _Pattern) -> Iterable[bytes]:
    """The keys of the automaton for one word of a term."""
    exact, stem = word
    return [stem] if stem is not None else exact


def _witnessed(words: list[tuple[int, int, int]], after: int, bound: int, codes: frozenset[int]) -> bool:
    """Whether a word up to word index ``bound`` among ``words[after:]`` has one of ``codes``."""
    for at in range(after, len(words)):
        index, code, _end = words[at]
        if index > bound:
            return False
        if code in codes:
            return True
    return False


def _little(word: _Pattern) -> bool:
    """A word too frequent to be reported by the automaton: exact forms of at most ``_LITTLE`` letters."""
    exact, stem = word
    return stem is None and any(len(form) <= _LITTLE for form in exact)


def _codes_of(phrases: _Phrases) -> set[int]:
    """Every code the terms of ``phrases`` look for after their first word."""
    codes = set(phrases.seconds) | (phrases.witnesses or set())
    for _match, witnesses, _terms in phrases.patterns:
        codes.update(witnesses or ())
    for tails in phrases.seconds.values():
        for _order, _index, _gap, later in tails:
            for more in later:
                codes.update(more)
    return codes


def _regex_phrases(
    phrases: _Phrases,
    starts: list[tuple[int, _Start]],
    witnesses: frozenset[int] | None,
    span: int,
    word_codes: Any,
) -> _Phrases:
    """``phrases`` with the terms ``starts`` to read with regular expressions (see :class:`_Phrases`)."""
    reach = max(gap for _o, (_i, _r, gap) in starts) + 1
    seconds = b"|".join({_word_pattern(rest[0]) for _o, (_i, rest, _g) in starts})
    # from the space after the first word: up to reach - 1 other words, then one of the second words
    follows = re.compile(rb" +(?:[a-z0-9]+ +){0,%d}(?:%s)" % (reach - 1, seconds)).match
    groups: dict[tuple[tuple[_Pattern, ...], int], list[tuple[int, int]]] = {}
    for order, (index, rest, gap) in starts:
        groups.setdefault((rest, gap), []).append((order, index))
    patterns = []
    for (rest, gap), terms in groups.items():
        # each word: skip the fewest words (at most gap) before it, then hold on to it (an atomic group)
        words = b"".join(rb"(?>(?: +[a-z0-9]+){0,%d}? +%s)" % (gap, _word_pattern(w)) for w in rest)
        strong = [w for w in rest if not _little(w)]
        codes = frozenset(code for w in strong for code in word_codes(w)) if strong else None
        patterns.append((re.compile(words).match, codes, tuple(terms)))
    return phrases._replace(
        follows=follows,
        patterns=tuple(patterns),
        witnesses=witnesses,
        span=span,
    )


def _follow(
    words: list[tuple[int, int, int]], after: int, i: int, start: int, phrases: _Phrases, multi: list[_Phrase]
) -> None:
    """Add to ``multi`` the terms of ``phrases`` that start at word ``i`` (at offset ``start``), from the words
    the automaton reported after it (``words[after:]``)."""
    seconds = phrases.seconds
    limit = i + phrases.reach
    # the terms whose second word was found: its first fit counts, even if the rest of the term then does
    # not follow
    matched: set[int] = set()
    for at in range(after, len(words)):
        index, code, _end = words[at]
        if index > limit:
            break
        for order, term, gap, later in seconds.get(code, ()):
            if index - i - 1 > gap or order in matched:
                continue
            matched.add(order)
            position = _last_word(words, at, gap, later)
            if position >= 0:
                last, _code, last_end = words[position]
                multi.append((i - last, i, order, term, last, start, last_end - 1))


def _precede(
    folded: bytes,
    words: list[tuple[int, int, int]],
    at: int,
    j: int,
    start: int,
    backs: tuple[_Back, ...],
    multi: list[_Phrase],
) -> None:
    """Add to ``multi`` the terms that start with a little word and have word ``j`` (``words[at]``, at offset
    ``start``) as their second word: the little word within ``gap`` words before it, with no other fit for
    the second word in between (the first fit counts), and the rest of the term after it."""
    for orders, term, gap, second, later in backs:
        before = _words_before(folded, start, gap + 1)
        exact, stem = second
        for k, word in enumerate(before):
            order = orders.get(word)
            if order is None or any(
                w in exact if stem is None else w.startswith(stem) for w in before[k + 1 :]
            ):
                continue
            position = _last_word(words, at, gap, later)
            if position >= 0:
                last, _code, last_end = words[position]
                # walk back to the little word: the previous whole-word occurrence of each word before
                offset = start
                for other in reversed(before[k:]):
                    offset = folded.rfind(b" " + other + b" ", 0, offset + 1)
                i = j - len(before) + k
                multi.append((i - last, i, order, term, last, offset, last_end - 1))


def _words_before(folded: bytes, pos: int, count: int) -> list[bytes]:
    """The ``count`` words before position ``pos`` of the padded folded text (fewer at its start), without
    splitting all of it."""
    size = 16 * count + 32
    while True:
        low = max(0, pos - size)
        words = folded[low:pos].split()
        if len(words) > count or low == 0:  # the last ``count`` are whole words
            return words[-count:]
        size *= 4


def _last_word(
    words: list[tuple[int, int, int]], position: int, gap: int, later: tuple[frozenset[int], ...]
) -> int:
    """The position in ``words`` of a term's last word: from its second word at ``words[position]``, each of
    its next words (``later``, the codes that fit each) within ``gap`` words of the previous; -1 when one is
    missing. A two-word term ends at ``position``."""
    for codes in later:
        position = _next(words, position, words[position][0] + 1 + gap, codes)
        if position < 0:
            break
    return position


def _next(words: list[tuple[int, int, int]], position: int, bound: int, codes: frozenset[int]) -> int:
    """The position in ``words`` of the first word after ``words[position]`` and up to word index ``bound``
    whose code is one of ``codes``; -1 when there is none."""
    for at in range(position + 1, len(words)):
        index, code, _end = words[at]
        if index > bound:
            return -1
        if code in codes:
            return at
    return -1


def _assemble(
    folded: bytes,
    words: list[tuple[int, int, int]],
    after: int,
    i: int,
    start: int,
    end: int,
    phrases: _Phrases,
    marks: str,
) -> list[_Phrase]:
    """The multi-word terms of ``phrases`` read with regular expressions that start at word ``i`` (at offset
    ``start``, the space after it at ``end``): a pattern is read only when one of its words that are not little
    is among the reported words after it (``words[after:]``) within reach; ``marks`` tells where words start."""
    near: set[int] = set()
    bound = i + phrases.span
    for at in range(after, len(words)):
        index, code, _end = words[at]
        if index > bound:
            break
        near.add(code)
    found = []
    for match, codes, terms in phrases.patterns:
        if codes is not None and codes.isdisjoint(near):
            continue
        matched = match(folded, end)
        if matched is None:
            continue
        stop = matched.end()
        last = i + marks.count(" x", end, stop)
        for order, index in terms:
            found.append((i - last, i, order, index, last, start, stop - 1))
    return found


_FIELD_ORDER = {name: i for i, name in enumerate(FIELDS)}
assert len(FIELDS) == 3  # a selector's hits are filed in three consecutive places, see _Prepared


class _Rule(NamedTuple):
    """A rule with its selectors as places in an article's filed hits (see :class:`_Prepared`) and its field
    weights worked out by field number."""

    id: str
    weight: float
    fields: tuple[int, ...]  # field numbers, heaviest first (then title, lead, body)
    field_weights: tuple[float, ...]  # by field number
    points: tuple[float, ...]  # weight × field weight, by field number
    anchors: tuple[int, ...]  # the first ``all`` selector, else the ``any`` selectors
    others: tuple[int, ...]  # the other ``all`` selectors
    need_any: tuple[int, ...]  # ``any`` when the anchor is the first ``all``
    none: tuple[int, ...]
    requires: tuple[int, ...]
    unless: tuple[int, ...]
    within: int
    cap: int
    candidates: tuple[int, ...]  # the places of the anchors' hits in the rule's fields


class _Prepared:
    """A rule set's rules for :func:`classify`.

    Every selector the rules and dominance use gets a place ``s`` (a multiple of 3), and an article's hits
    are filed once into a list ``by`` where ``by[s + f]`` holds the selector's hits in field ``f`` (title 0,
    lead 1, body 2) in text order: the rules then ask list questions instead of filtering hits again.
    """

    def __init__(self, ruleset: Ruleset):
        places: dict[str, int] = {}

        def place(selectors: Iterable[str]) -> tuple[int, ...]:
            return tuple(places.setdefault(s, 3 * len(places)) for s in selectors)

        self.rules: list[_Rule] = []
        for rule in ruleset.rules:
            weights = rule.field_weights or ruleset.field_weights
            field_weights = tuple(weights.get(f, 1.0) for f in FIELDS)
            order = sorted(rule.fields, key=lambda f: (-weights.get(f, 1.0), _FIELD_ORDER[f]))
            anchors = place(rule.all[:1] if rule.all else rule.any)
            self.rules.append(
                _Rule(
                    rule.id,
                    rule.weight,
                    tuple(_FIELD_ORDER[f] for f in order),
                    field_weights,
                    tuple(rule.weight * w for w in field_weights),
                    anchors,
                    place(rule.all[1:]),
                    place(rule.any if rule.all else ()),
                    place(rule.none),
                    place(rule.requires),
                    place(rule.unless),
                    rule.within,
                    rule.cap,
                    tuple(s + _FIELD_ORDER[f] for s in anchors for f in rule.fields),
                )
            )
        self.dominance = [(dom, place((dom.group,))[0], place(dom.over)) for dom in ruleset.dominance]
        self.size = 3 * len(places)
        self.names = {s: name for name, s in places.items()}  # selector by place
        # label → the places its hits go, one dict per field
        labels = {label for labels in ruleset.selectors.values() for label in labels}
        self.filing = [
            {
                label: tuple(s + f for name, s in places.items() if label in ruleset.selectors[name])
                for label in labels
            }
            for f in range(3)
        ]
        self.entities = frozenset(ruleset.entities)
        self.term_texts = tuple(t.text for t in ruleset.lexicon.terms)


def _prepared(ruleset: Ruleset) -> _Prepared:
    """The rule set's rules prepared for classify, built on first use and kept with its lexicon."""
    lexicon = ruleset.lexicon
    cached = lexicon.prepared
    if cached is None or cached[0] is not ruleset:
        cached = lexicon.prepared = (ruleset, _Prepared(ruleset))
    return cached[1]


def _first_from(hits: list[Hit], word: int) -> int:
    """The position of the first of ``hits`` (in text order) whose first word is ``word`` or later."""
    lo, hi = 0, len(hits)
    while lo < hi:
        mid = (lo + hi) // 2
        if hits[mid].first < word:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _insert(hits: list[Hit], hit: Hit) -> None:
    """Insert ``hit`` into a field's ``hits``, ordered by (first word, label), after the equal ones."""
    first, label = hit.first, hit.label
    lo, hi = 0, len(hits)
    while lo < hi:
        mid = (lo + hi) // 2
        other = hits[mid]
        if other.first < first or (other.first == first and other.label <= label):
            lo = mid + 1
        else:
            hi = mid
    hits.insert(lo, hit)


def _near(inside: list[Hit], lo: int, hi: int, skip: Hit) -> Hit | None:
    """The hit of ``inside`` (one field's hits of a selector) closest to words lo..hi (inclusive), if any is
    inside; never the anchor ``skip`` itself. A multi-word hit starting before lo counts when it reaches lo,
    if it starts at most 8 words before (as far as the search ever looked)."""
    floor = lo - 8
    best: Hit | None = None
    best_distance = 0.0
    middle = (lo + hi) / 2
    skip_first = skip.first
    for at in range(_first_from(inside, floor), len(inside)):
        hit = inside[at]
        first = hit.first
        if first > hi:
            break
        if first < floor or hit.last < lo or (first == skip_first and hit.label == skip.label):
            continue
        distance = abs(first - middle)
        if best is None or distance < best_distance:
            best, best_distance = hit, distance
    return best


def _any_near(inside: list[Hit], lo: int, hi: int, skip: Hit) -> bool:
    """Whether :func:`_near` would find a hit (without looking for the closest)."""
    floor = lo - 8
    skip_first = skip.first
    for at in range(_first_from(inside, floor), len(inside)):
        hit = inside[at]
        first = hit.first
        if first > hi:
            return False
        if first < floor or hit.last < lo or (first == skip_first and hit.label == skip.label):
            continue
        return True
    return False


def _anchors(by: list[list[Hit]], anchors: tuple[int, ...], f: int) -> list[tuple[int, Hit]]:
    """A rule's candidate hits in one field as (selector, hit), in text order, each passage once."""
    if len(anchors) == 1:
        s = anchors[0]
        return [(s, hit) for hit in by[s + f]]
    seen: set[tuple[int, int]] = set()
    here = []
    for s in anchors:
        for hit in by[s + f]:
            key = (hit.start, hit.end)
            if key not in seen:
                seen.add(key)
                here.append((s, hit))
    here.sort(key=lambda sh: sh[1].first)
    return here


# (points, field number, anchor selector, anchor, partners); the context is the same for all of a rule's hits
_Scored = tuple[float, int, int, Hit, list[tuple[int, Hit]]]
_NOTHING: tuple[list[_Scored], list[tuple[int, Hit]]] = ([], [])


def _fire(by: list[list[Hit]], rule: _Rule) -> tuple[list[_Scored], list[tuple[int, Hit]]]:
    """The scoring hits of one rule, heaviest field first, at most ``cap``; and the rule's context (hits
    elsewhere in the article that satisfied it)."""
    for place in rule.candidates:
        if by[place]:
            break
    else:
        return _NOTHING  # no candidate hit in the rule's fields
    context: list[tuple[int, Hit]] = []
    for s in rule.requires:
        found = by[s] or by[s + 1] or by[s + 2]  # the first hit in the article
        if not found:
            return _NOTHING
        context.append((s, found[0]))
    for s in rule.unless:
        if by[s] or by[s + 1] or by[s + 2]:
            return _NOTHING
    others, need_any, none, within, cap = rule.others, rule.need_any, rule.none, rule.within, rule.cap
    if not within:  # the other selectors anywhere in the article
        for s in others:
            found = by[s] or by[s + 1] or by[s + 2]
            if not found:
                return _NOTHING
            context.append((s, found[0]))
        if need_any:
            for s in need_any:
                found = by[s] or by[s + 1] or by[s + 2]
                if found:
                    context.append((s, found[0]))
                    break
            else:
                return _NOTHING
        for s in none:
            if by[s] or by[s + 1] or by[s + 2]:
                return _NOTHING
    scored: list[_Scored] = []
    anchors = rule.anchors
    for f in rule.fields:
        if len(anchors) == 1 and not by[anchors[0] + f]:
            continue  # no candidate in this field
        points = rule.points[f]
        if not within:
            for selector, anchor in _anchors(by, anchors, f):
                scored.append((points, f, selector, anchor, []))
                if len(scored) >= cap:
                    return scored, context
            continue
        # The other selectors within ``within`` words, in the same field: none of this field's anchors can
        # score when an ``all`` selector or every ``any`` selector has no hit in it.
        required = []
        for s in others:
            if not by[s + f]:
                break
            required.append((s, by[s + f]))
        else:
            wanted = []
            for s in need_any:
                if by[s + f]:
                    wanted.append((s, by[s + f]))
            if need_any and not wanted:
                continue
            blockers = []
            for s in none:
                if by[s + f]:
                    blockers.append(by[s + f])
            for selector, anchor in _anchors(by, anchors, f):
                lo, hi = anchor.first - within, anchor.last + within
                if blockers and any(_any_near(inside, lo, hi, anchor) for inside in blockers):
                    continue
                partners: list[tuple[int, Hit]] = []
                for s, inside in required:
                    near = _near(inside, lo, hi, anchor)
                    if near is None:
                        break
                    partners.append((s, near))
                else:
                    if wanted:
                        for s, inside in wanted:
                            near = _near(inside, lo, hi, anchor)
                            if near is not None:
                                partners.append((s, near))
                                break
                        else:
                            continue
                    scored.append((points, f, selector, anchor, partners))
                    if len(scored) >= cap:
                        return scored, context
    return scored, context


def _keep(
    matches: list[Match],
    seen: set[tuple[str, int, int]],
    hits: list[tuple[int, Hit]],
    made: tuple[Match, ...],
) -> None:
    """Add to ``matches`` the match ``made`` for each of ``hits`` whose passage is not ``seen`` yet."""
    for k in range(
        len(hits)
    ):  # by position, not zip(): a zip with strict=True is a generic call once compiled
        hit = hits[k][1]
        key = (hit.field, hit.start, hit.end)
        if key not in seen:
            seen.add(key)
            matches.append(made[k])


def classify(ruleset: Ruleset, title: str | None, lead: str | None, body: str | None) -> Verdict:
    """Score an article against the rule set; every scoring hit is kept with the passages that prove it."""
    texts = {"title": title or "", "lead": lead or "", "body": body or ""}
    notes = []
    for name, text in texts.items():
        if len(text) > ruleset.max_chars:
            texts[name] = text[: ruleset.max_chars]
            notes.append(f"{name}: matched on its first {ruleset.max_chars:,} of {len(text):,} characters")
    prepared = _prepared(ruleset)
    find = ruleset.lexicon.find
    # File every hit under each selector it belongs to, per field, in text order.
    by: list[list[Hit]] = [[] for _ in range(prepared.size)]
    for f, name in enumerate(FIELDS):
        filing = prepared.filing[f]
        for hit in find(texts[name], name):
            for place in filing[hit.label]:
                by[place].append(hit)
    blocked = False
    for dom, mine_at, over in prepared.dominance:
        mine = len(by[mine_at]) + len(by[mine_at + 1]) + len(by[mine_at + 2])
        theirs = sum(len(by[s]) + len(by[s + 1]) + len(by[s + 2]) for s in over)
        if mine and mine > theirs:
            blocked = True
            notes.append(
                f"dominance: '{dom.group}' matched {mine}× against {theirs}× for {', '.join(dom.over)}, "
                "so positive rules do not fire"
            )
    score = 0.0
    fired: list[Fired] = []
    matches: list[Match] = []
    snippets: dict[Hit, str] = {}  # one per passage, shared by the rules
    names, entities, term_texts = prepared.names, prepared.entities, prepared.term_texts
    new = object.__new__

    def make(rule_id: str, selector: int, hit: Hit) -> Match:
        """``Match(...)`` for a hit, built without the frozen dataclass's ``__init__``, which sets each field
        through ``object.__setattr__`` (3× slower here; the same object: see test_rules_speedpath)."""
        label, fieldname, start, end = hit.label, hit.field, hit.start, hit.end
        text = snippets.get(hit)
        if text is None:
            text = snippets[hit] = snippet(texts[fieldname], start, end)
        entity = None
        if label in entities:  # an entity counts for the selector that asked for it (side:russia…)
            entity, label = label, names[selector]
        match = new(Match)
        match.__dict__.update(
            {
                "rule": rule_id,
                "group": label,
                "term": term_texts[hit.term],
                "field": fieldname,
                "start": start,
                "end": end,
                "snippet": text,
                "entity": entity,
            }
        )
        return match

    for rule in prepared.rules:
        if blocked and rule.weight > 0:
            continue
        scored, context = _fire(by, rule)
        if not scored:
            continue
        rule_id = rule.id
        # The rule's passages in the order they count, each once: every hit's anchor and partners, and the
        # context (the same for all the rule's hits) after the first anchor and its partners.
        context_matches = tuple([make(rule_id, s, h) for s, h in context])
        seen: set[tuple[str, int, int]] = set()
        pending = context  # the context's passages, until the first hit has added them
        for points, f, selector, anchor, partners in scored:
            score += points
            anchor_match = make(rule_id, selector, anchor)
            partner_matches = tuple([make(rule_id, s, h) for s, h in partners]) if partners else ()
            item = new(Fired)  # built like make's matches
            item.__dict__.update(
                {
                    "rule": rule_id,
                    "field": anchor.field,
                    "weight": rule.weight,
                    "field_weight": rule.field_weights[f],
                    "points": points,
                    "anchor": anchor_match,
                    "partners": partner_matches,
                    "context": context_matches,
                }
            )
            fired.append(item)
            _keep(matches, seen, [(selector, anchor)], (anchor_match,))
            _keep(matches, seen, partners, partner_matches)
            if pending:
                _keep(matches, seen, pending, context_matches)
                pending = []
    score = round(max(score, 0.0), 2)
    if score >= ruleset.primary:
        relevance = "primary"
    elif score >= ruleset.mention:
        relevance = "mention"
    else:
        relevance = "none"
    return Verdict(relevance, score, ruleset.version, matches, fired, notes)
