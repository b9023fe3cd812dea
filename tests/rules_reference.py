"""The rules engine as it was before the speed work of #4, kept as the reference the fast engine is checked
against (tests/test_rules_speedpath.py): plain Python over ``bytes.split()``, one dictionary lookup per word.

Two fixes, both in the fast engine too:

1. A selector of several labels (``side:russia|side:ukraine``) listed its hits by (field, first word) in the
   iteration order of a frozenset of labels, which depends on the process's string hashing
   (``PYTHONHASHSEED``): when two labels matched at the same word ("rosyjskiego przywódcy" is Putin, and
   "rosyjskiego" is Russia), which one a rule kept as its partner or context changed from run to run (never
   the score). Here the labels are taken in sorted order, so ties go to the label first by name.
2. The character offsets of a hit were found by looking for the word again after the previous hit; a word
   that started a phrase that did not follow was skipped, so a later occurrence of the same word got the
   earlier offset ("gwarancje bez wojsk … gwarancje bezpieczeństwa" pointed at the first "gwarancje"). Here
   every word that starts a term moves the search on.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import compress
from operator import itemgetter, methodcaller
from typing import Any, NamedTuple

from monitor.rules.model import FIELDS, Fired, Match, Rule, Ruleset, Term, Verdict, WordPattern
from monitor.rules.text import snippet, word_bytes

_CACHE_LIMIT = 200_000


class Hit(NamedTuple):
    label: str  # group name or entity id
    term: int  # index into Lexicon.terms
    field: str
    first: int  # first and last word (token index in the field)
    last: int
    start: int  # character offsets in the field's text
    end: int


_Pattern = tuple[frozenset[bytes], bytes | None]  # exact forms, or a stem


def _pattern(word: WordPattern) -> _Pattern:
    return frozenset(f.encode() for f in word.exact), word.stem.encode() if word.stem is not None else None


class Lexicon:
    """Every term of a rule set, compiled for a single pass per field.

    Only the words that can start a term (single-word terms and the first word of multi-word terms) are
    looked up while scanning; the following words of a multi-word term are checked in place, so frequent
    little words inside phrases (``w``, ``z``, ``o``) cost nothing.
    """

    def __init__(self, terms: Iterable[Term], groups: Iterable[str] = ()):
        self.terms: tuple[Term, ...] = tuple(terms)
        self.groups = frozenset(groups)  # labels whose hits give way to longer hits of another group
        units: dict[WordPattern, int] = {}
        self.exact: dict[bytes, tuple[int, ...]] = {}
        self.stems: dict[bytes, tuple[int, ...]] = {}
        single: dict[int, list[int]] = {}
        multi: dict[int, list[tuple[int, tuple[_Pattern, ...], int]]] = {}
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
            else:
                rest = tuple(_pattern(w) for w in term.words[1:])
                multi.setdefault(unit, []).append((index, rest, term.gap))
        self.single = {unit: tuple(v) for unit, v in single.items()}
        self.multi = {unit: tuple(v) for unit, v in multi.items()}
        self.stem_lengths = tuple(sorted({len(s) for s in self.stems}))
        self.prefix_len = min((4, *self.stem_lengths))
        cut = slice(0, self.prefix_len)
        self.prefixes = frozenset(k[cut] for k in (*self.exact, *self.stems))
        self._cut = itemgetter(cut)
        # every word looked up so far: what it starts (see _lookup), or False when it starts no term
        self._known: dict[bytes, Any] = {}

    def _learn(self, words: set[bytes]) -> None:
        """Look up words not seen before; remember what each starts, if anything (bounded memory)."""
        known = self._known
        if len(known) + len(words) > _CACHE_LIMIT:
            known.clear()
        cut = self.prefix_len
        prefixes = self.prefixes
        for word in words:
            info: Any = False
            if word[:cut] in prefixes:
                found = self._lookup(word)
                if found[0] or found[1]:
                    info = (*found, b" " + word + b" ", len(word))
            known[word] = info

    def _lookup(self, word: bytes) -> Any:
        """The single-word terms a word is (one per label) and the multi-word terms it may start."""
        units = list(self.exact.get(word, ()))
        for length in self.stem_lengths:
            if length > len(word):
                break
            units.extend(self.stems.get(word[:length], ()))
        singles: dict[str, int] = {}
        starts = []
        for unit in units:
            for index in self.single.get(unit, ()):
                singles.setdefault(self.terms[index].label, index)
            starts.extend(self.multi.get(unit, ()))
        # what any of these phrases needs next, to reject most occurrences with one look
        seconds = {exact_or_stem for _i, rest, _g in starts for exact_or_stem in [rest[0]]}
        exact_next = frozenset().union(*(e for e, st in seconds if st is None)) if seconds else frozenset()
        stems_next = tuple(st for _e, st in seconds if st is not None)
        reach = max((g for _i, _r, g in starts), default=0) + 1
        found = (
            tuple((index, label) for label, index in singles.items()),
            tuple(starts),
            (exact_next, stems_next, reach),
        )
        return found

    def find(self, text: str, fieldname: str) -> list[Hit]:
        """Every occurrence of every term in ``text``; within one label, the longest match wins a word."""
        if not text:
            return []
        folded = word_bytes(text)
        words = folded.split()
        count = len(words)
        infos = list(map(self._known.get, words))
        if None in infos:  # words not looked up yet
            self._learn({w for w, info in zip(words, infos, strict=True) if info is None})
            infos = list(map(self._known.get, words))
        hit_words = []
        every = []  # fix 2: every word that starts a term, rejected phrase starts included
        for i in compress(range(count), infos):
            every.append((i, infos[i][3], infos[i][4]))
            singles, starts, (exact_next, stems_next, reach), padded, size = infos[i]
            if starts:
                following = words[i + 1 : i + 1 + reach]
                if exact_next.isdisjoint(following) and not (
                    stems_next and any(map(methodcaller("startswith", stems_next), following))
                ):
                    starts = ()
                    if not singles:
                        continue
            hit_words.append((i, singles, starts, padded, size))
        if not hit_words:
            return []
        multi: list[tuple[int, int, int]] = []  # (term, first, last)
        for i, _singles, starts, _padded, _size in hit_words:
            for index, rest, gap in starts:
                last = i
                for exact, stem in rest:
                    window = words[last + 1 : last + 2 + gap]
                    if stem is None:
                        if exact.isdisjoint(window):  # most candidates end here, without a Python loop
                            break
                        for k, word in enumerate(window, last + 1):
                            if word in exact:
                                last = k
                                break
                    else:
                        for k, word in enumerate(window, last + 1):
                            if word.startswith(stem):
                                last = k
                                break
                        else:
                            break
                else:
                    multi.append((index, i, last))
        # Character offsets: every separator is a space, so the next whole-word occurrence of a word after
        # the previous one found is that word (each word that starts a term is looked at, in order).
        padded = b" " + folded + b" "
        find = padded.find
        offsets: dict[int, int] = {}
        cursor = 0
        for i, padded, size in every:
            pos = find(padded, cursor)
            offsets[i] = pos
            cursor = pos + size + 1
        hits: list[Hit] = []
        covered: set[tuple[str, int]] = set()
        groups = self.groups
        containers: list[tuple[int, int]] = []  # spans of the multi-word hits of groups
        if multi:
            multi.sort(key=lambda t: (t[1] - t[2], t[1]))  # longest first
            for index, first, last in multi:
                label = self.terms[index].label
                span = range(first, last + 1)
                if any((label, w) in covered for w in span):
                    continue
                covered.update((label, w) for w in span)
                pos = offsets[first]
                for k in range(first + 1, last + 1):  # walk to the last word of the phrase
                    pos = find(b" " + words[k] + b" ", pos + 1)
                hits.append(Hit(label, index, fieldname, first, last, offsets[first], pos + len(words[last])))
                if label in groups:
                    containers.append((first, last))
        new = tuple.__new__
        for i, singles, _starts, _padded, size in hit_words:
            start = offsets[i]
            for index, label in singles:
                if covered and (label, i) in covered:
                    continue
                hits.append(new(Hit, (label, index, fieldname, i, i, start, start + size)))
        if multi:
            if containers:
                hits = _shadow(hits, groups, containers)
            hits.sort(key=lambda h: (h.first, h.label))
        return hits


def _shadow(hits: list[Hit], groups: frozenset[str], containers: list[tuple[int, int]]) -> list[Hit]:
    """Drop group hits that lie inside a longer hit of a group: a phrase belongs to its most specific group
    (``rozmowy pokojowe`` counts as peace talks, not also as ``rozmowy``). Entity hits are kept.

    Only a multi-word group hit (one of ``containers``) can hold another group hit with a different span, so a
    one-word hit is inside exactly when a container covers its word.
    """
    inside_words = {w for first, last in containers for w in range(first, last + 1)}
    reach: dict[int, int] = {}  # first word of a container → the furthest last word of one starting there
    for first, last in containers:
        if reach.get(first, -1) < last:
            reach[first] = last
    longest = max(last - first for first, last in containers)
    kept = []
    for h in hits:
        if h.label in groups:
            first, last = h.first, h.last
            if first == last:
                if first in inside_words:
                    continue
            elif reach.get(first, -1) > last or any(
                reach.get(f, -1) >= last for f in range(first - longest, first)
            ):
                continue
        kept.append(h)
    return kept


_FIELD_ORDER = {name: i for i, name in enumerate(FIELDS)}


class _Article:
    """The hits of one article, indexed for the rules' questions (is it there, is it near, how often)."""

    def __init__(self, ruleset: Ruleset, texts: dict[str, str]):
        self.ruleset = ruleset
        self.texts = texts
        self.by_label: dict[str, list[Hit]] = {}
        for name in FIELDS:
            for hit in ruleset.lexicon.find(texts[name], name):
                if hit.label in self.by_label:
                    self.by_label[hit.label].append(hit)
                else:
                    self.by_label[hit.label] = [hit]
        self._sel: dict[str, list[Hit]] = {}
        self._near: dict[tuple[str, str], tuple[list[int], list[Hit]]] = {}
        self._matches: dict[tuple[str, str, Hit], Match] = {}
        self._snippets: dict[tuple[str, int, int], str] = {}

    def hits(self, selector: str) -> list[Hit]:
        """Every hit of a selector, title first, then lead, then body, each in text order."""
        found = self._sel.get(selector)
        if found is None:
            # fix 1: labels in sorted order
            labels = [label for label in sorted(self.ruleset.selectors[selector]) if label in self.by_label]
            if len(labels) == 1:
                found = self.by_label[labels[0]]
            else:
                found = [h for label in labels for h in self.by_label[label]]
                found.sort(key=lambda h: (_FIELD_ORDER[h.field], h.first))
            self._sel[selector] = found
        return found

    def in_field(self, selector: str, fieldname: str) -> tuple[list[int], list[Hit]]:
        """The hits of ``selector`` in one field, in text order, and the first word of each."""
        key = (selector, fieldname)
        entry = self._near.get(key)
        if entry is None:
            inside = [h for h in self.hits(selector) if h.field == fieldname]
            entry = self._near[key] = ([h.first for h in inside], inside)
        return entry

    def near(self, selector: str, fieldname: str, lo: int, hi: int, skip: Hit) -> Hit | None:
        """The hit of ``selector`` in ``fieldname`` closest to words lo..hi (inclusive), if any is inside."""
        firsts, inside = self.in_field(selector, fieldname)
        if not firsts:
            return None
        k = bisect_left(firsts, lo - 8)  # a multi-word hit may start a few words before lo
        best: Hit | None = None
        middle = (lo + hi) / 2
        n = len(inside)
        while k < n and firsts[k] <= hi:
            hit = inside[k]
            k += 1
            if hit.last < lo or (hit.first == skip.first and hit.label == skip.label):
                continue
            if best is None or abs(hit.first - middle) < abs(best.first - middle):
                best = hit
        return best

    def any_near(self, selector: str, fieldname: str, lo: int, hi: int, skip: Hit) -> bool:
        """Whether :meth:`near` would find a hit (without looking for the closest)."""
        firsts, inside = self.in_field(selector, fieldname)
        if not firsts:
            return False
        k = bisect_left(firsts, lo - 8)
        n = len(inside)
        while k < n and firsts[k] <= hi:
            hit = inside[k]
            k += 1
            if hit.last < lo or (hit.first == skip.first and hit.label == skip.label):
                continue
            return True
        return False

    def match(self, rule: str, selector: str, hit: Hit) -> Match:
        key = (rule, selector, hit)
        found = self._matches.get(key)
        if found is None:
            where = (hit.field, hit.start, hit.end)
            text = self._snippets.get(where)
            if text is None:
                text = self._snippets[where] = snippet(self.texts[hit.field], hit.start, hit.end)
            term = self.ruleset.lexicon.terms[hit.term]
            entity = hit.label if hit.label in self.ruleset.entities else None
            group = hit.label if entity is None else selector
            found = self._matches[key] = Match(
                rule, group, term.text, hit.field, hit.start, hit.end, text, entity
            )
        return found


def _field_order(fields: tuple[str, ...], weights: dict[str, float]) -> tuple[str, ...]:
    """A rule's fields, heaviest first (then title, lead, body)."""
    key = (fields, tuple(sorted(weights.items())))
    found = _FIELD_ORDERS.get(key)
    if found is None:
        found = _FIELD_ORDERS[key] = tuple(
            sorted(fields, key=lambda f: (-weights.get(f, 1.0), _FIELD_ORDER[f]))
        )
    return found


_FIELD_ORDERS: dict[tuple[tuple[str, ...], tuple[tuple[str, float], ...]], tuple[str, ...]] = {}


def _anchors(article: _Article, rule: Rule, weights: dict[str, float]) -> list[tuple[str, Hit]]:
    """The rule's candidate hits in its fields, heaviest field first, each passage once."""
    selectors = rule.all[:1] if rule.all else rule.any
    found: list[tuple[str, Hit]] = []
    for fieldname in _field_order(rule.fields, weights):
        if len(selectors) == 1:
            selector = selectors[0]
            found.extend([(selector, h) for h in article.in_field(selector, fieldname)[1]])
            continue
        seen: set[tuple[int, int]] = set()
        here = []
        for selector in selectors:
            for hit in article.in_field(selector, fieldname)[1]:
                key = (hit.start, hit.end)
                if key not in seen:
                    seen.add(key)
                    here.append((selector, hit))
        here.sort(key=lambda sh: sh[1].first)
        found.extend(here)
    return found


_Scored = tuple[float, str, Hit, list[tuple[str, Hit]], list[tuple[str, Hit]]]


def _fire(article: _Article, rule: Rule) -> list[_Scored]:
    """The scoring hits of one rule, best first, at most ``cap``."""
    weights = rule.field_weights or article.ruleset.field_weights
    context: list[tuple[str, Hit]] = []
    for selector in rule.requires:
        found = article.hits(selector)
        if not found:
            return []
        context.append((selector, found[0]))
    if any(article.hits(s) for s in rule.unless):
        return []
    others = rule.all[1:]
    need_any = rule.any if rule.all else ()
    if not rule.within:
        for selector in others:
            found = article.hits(selector)
            if not found:
                return []
            context.append((selector, found[0]))
        if need_any:
            found_any = [(s, article.hits(s)[0]) for s in need_any if article.hits(s)]
            if not found_any:
                return []
            context.append(found_any[0])
        if any(article.hits(s) for s in rule.none):
            return []
    scored: list[_Scored] = []
    for selector, anchor in _anchors(article, rule, weights):
        partners: list[tuple[str, Hit]] = []
        if rule.within:
            lo, hi, fieldname = anchor.first - rule.within, anchor.last + rule.within, anchor.field
            if rule.none and any(article.any_near(s, fieldname, lo, hi, anchor) for s in rule.none):
                continue
            for other in others:
                near = article.near(other, fieldname, lo, hi, anchor)
                if near is None:
                    break
                partners.append((other, near))
            else:
                if need_any:
                    for s in need_any:
                        near = article.near(s, fieldname, lo, hi, anchor)
                        if near is not None:
                            partners.append((s, near))
                            break
                    else:
                        continue
                scored.append(
                    (rule.weight * weights.get(anchor.field, 1.0), selector, anchor, partners, context)
                )
            if len(scored) >= rule.cap:
                break
            continue
        scored.append((rule.weight * weights.get(anchor.field, 1.0), selector, anchor, partners, context))
        if len(scored) >= rule.cap:
            break
    return scored


def classify(ruleset: Ruleset, title: str | None, lead: str | None, body: str | None) -> Verdict:
    """Score an article against the rule set; every scoring hit is kept with the passages that prove it."""
    texts = {"title": title or "", "lead": lead or "", "body": body or ""}
    notes = []
    for name, text in texts.items():
        if len(text) > ruleset.max_chars:
            texts[name] = text[: ruleset.max_chars]
            notes.append(f"{name}: matched on its first {ruleset.max_chars:,} of {len(text):,} characters")
    article = _Article(ruleset, texts)
    blocked = False
    for dom in ruleset.dominance:
        mine = len(article.hits(dom.group))
        theirs = sum(len(article.hits(o)) for o in dom.over)
        if mine and mine > theirs:
            blocked = True
            notes.append(
                f"dominance: '{dom.group}' matched {mine}× against {theirs}× for {', '.join(dom.over)}, "
                "so positive rules do not fire"
            )
    score = 0.0
    fired: list[Fired] = []
    matches: list[Match] = []
    seen: set[tuple[str, str, int, int]] = set()
    for rule in ruleset.rules:
        if blocked and rule.weight > 0:
            continue
        weights = rule.field_weights or ruleset.field_weights
        for points, selector, anchor, partners, context in _fire(article, rule):
            score += points
            anchor_match = article.match(rule.id, selector, anchor)
            partner_matches = tuple(article.match(rule.id, s, h) for s, h in partners)
            context_matches = tuple(article.match(rule.id, s, h) for s, h in context)
            fired.append(
                Fired(
                    rule.id,
                    anchor.field,
                    rule.weight,
                    weights.get(anchor.field, 1.0),
                    points,
                    anchor_match,
                    partner_matches,
                    context_matches,
                )
            )
            for m in (anchor_match, *partner_matches, *context_matches):
                key = (m.rule, m.field, m.start, m.end)
                if key not in seen:
                    seen.add(key)
                    matches.append(m)
    score = round(max(score, 0.0), 2)
    if score >= ruleset.primary:
        relevance = "primary"
    elif score >= ruleset.mention:
        relevance = "mention"
    else:
        relevance = "none"
    return Verdict(relevance, score, ruleset.version, matches, fired, notes)
