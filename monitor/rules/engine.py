"""Scoring: the rules of a rule set over the hits the lexicon finds in an article's fields.

:func:`classify` finds the terms of each field (:meth:`~monitor.rules.lexicon.Lexicon.find`), files every hit
under each selector it belongs to (a group, an entity, ``side:russia``, ``talks|peace``…) field by field, and
asks each rule its questions of those lists: is a selector there, is it near this hit, how often. Every scoring
hit becomes a :class:`~monitor.rules.model.Fired` with the matches that prove it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from operator import attrgetter
from typing import NamedTuple

from monitor.rules.lexicon import Hit
from monitor.rules.model import FIELDS, Fired, Match, Rule, Ruleset, Verdict
from monitor.rules.text import snippet

_FIELD = {name: number for number, name in enumerate(FIELDS)}
_NEAR_BEFORE = 8  # a multi-word hit that starts this many words before a window may still reach into it
_FIRST = attrgetter("first")

# A selector's hits in an article: one list per field (title, lead, body), each in text order.
_Filed = tuple[list[Hit], list[Hit], list[Hit]]


class _Rule(NamedTuple):
    """A rule with its field weights worked out by field number."""

    id: str
    weight: float
    fields: tuple[int, ...]  # field numbers, heaviest first (then title, lead, body)
    field_weights: tuple[float, ...]  # by field number
    anchors: tuple[str, ...]  # the first ``all`` selector, else the ``any`` selectors
    others: tuple[str, ...]  # the other ``all`` selectors
    need_any: tuple[str, ...]  # ``any`` when the anchor is the first ``all``
    none: tuple[str, ...]
    requires: tuple[str, ...]
    unless: tuple[str, ...]
    within: int
    cap: int


class _Prepared:
    """A rule set's rules, and which selectors each label's hits are filed under."""

    def __init__(self, ruleset: Ruleset):
        self.rules = [_prepare(rule, ruleset.field_weights) for rule in ruleset.rules]
        used = {s for rule in ruleset.rules for s in (*rule.all, *rule.any, *rule.none, *rule.requires)}
        used.update(s for rule in ruleset.rules for s in rule.unless)
        used.update(s for dom in ruleset.dominance for s in (dom.group, *dom.over))
        self.used = sorted(used)
        # label → the selectors it belongs to, in a fixed order
        self.selectors: dict[str, tuple[str, ...]] = {}
        for selector in self.used:
            for label in ruleset.selectors[selector]:
                self.selectors[label] = (*self.selectors.get(label, ()), selector)


def _prepare(rule: Rule, defaults: dict[str, float]) -> _Rule:
    weights = rule.field_weights or defaults
    order = sorted(rule.fields, key=lambda f: (-weights.get(f, 1.0), _FIELD[f]))
    return _Rule(
        rule.id,
        rule.weight,
        tuple(_FIELD[f] for f in order),
        tuple(weights.get(f, 1.0) for f in FIELDS),
        rule.all[:1] if rule.all else rule.any,
        rule.all[1:],
        rule.any if rule.all else (),
        rule.none,
        rule.requires,
        rule.unless,
        rule.within,
        rule.cap,
    )


def _prepared(ruleset: Ruleset) -> _Prepared:
    """The rule set's rules prepared for classify, built on first use and kept with its lexicon."""
    lexicon = ruleset.lexicon
    if lexicon.prepared is None or lexicon.prepared[0] is not ruleset:
        lexicon.prepared = (ruleset, _Prepared(ruleset))
    prepared: _Prepared = lexicon.prepared[1]
    return prepared


def _first(filed: _Filed) -> Hit | None:
    """The first hit in the article: title first, then lead, then body."""
    for hits in filed:
        if hits:
            return hits[0]
    return None


def _near(hits: list[Hit], lo: int, hi: int, skip: Hit) -> Hit | None:
    """The hit of ``hits`` (one field's, in text order) closest to words lo..hi (inclusive), if any reaches
    into them; never the anchor ``skip`` itself."""
    best, distance = None, 0.0
    middle = (lo + hi) / 2
    for at in range(bisect_left(hits, lo - _NEAR_BEFORE, key=_FIRST), len(hits)):
        hit = hits[at]
        if hit.first > hi:
            break
        if hit.last < lo or (hit.first == skip.first and hit.label == skip.label):
            continue
        if best is None or abs(hit.first - middle) < distance:
            best, distance = hit, abs(hit.first - middle)
    return best


def _anchors(filed: dict[str, _Filed], selectors: tuple[str, ...], f: int) -> list[tuple[str, Hit]]:
    """A rule's candidate hits in one field as (selector, hit), in text order, each passage once."""
    if len(selectors) == 1:
        return [(selectors[0], hit) for hit in filed[selectors[0]][f]]
    seen: set[tuple[int, int]] = set()
    found = []
    for selector in selectors:
        for hit in filed[selector][f]:
            if (hit.start, hit.end) not in seen:
                seen.add((hit.start, hit.end))
                found.append((selector, hit))
    found.sort(key=lambda pair: pair[1].first)
    return found


class _Nearby:
    """For a rule with ``within``: the hits of its other selectors in one field, and which are near an anchor."""

    def __init__(self, filed: dict[str, _Filed], rule: _Rule, f: int):
        self.within = rule.within
        self.others = [(s, filed[s][f]) for s in rule.others]  # each must be near
        self.need_any = bool(rule.need_any)
        self.wanted = [(s, hits) for s in rule.need_any if (hits := filed[s][f])]  # one must be
        self.blockers = [hits for s in rule.none if (hits := filed[s][f])]  # none may be
        # no anchor of this field scores when a selector that must be near has no hit in it
        self.possible = all(hits for _s, hits in self.others) and (bool(self.wanted) or not self.need_any)

    def partners(self, anchor: Hit) -> list[tuple[str, Hit]] | None:
        """The hits that let ``anchor`` score: the nearest of each other ``all`` selector, then of the first
        ``any`` selector that has one near; None when one is missing or a ``none`` selector is near."""
        lo, hi = anchor.first - self.within, anchor.last + self.within
        for hits in self.blockers:
            if _near(hits, lo, hi, anchor) is not None:
                return None
        partners = []
        for selector, hits in self.others:
            hit = _near(hits, lo, hi, anchor)
            if hit is None:
                return None
            partners.append((selector, hit))
        if self.need_any:
            for selector, hits in self.wanted:
                hit = _near(hits, lo, hi, anchor)
                if hit is not None:
                    partners.append((selector, hit))
                    return partners
            return None
        return partners


# A scoring hit: (points, field number, anchor selector, anchor, partners as (selector, hit))
_Scored = tuple[float, int, str, Hit, list[tuple[str, Hit]]]


def _fire(filed: dict[str, _Filed], rule: _Rule) -> tuple[list[_Scored], list[tuple[str, Hit]]]:
    """The scoring hits of one rule, heaviest field first, at most ``cap``; and the rule's context (hits
    elsewhere in the article that satisfied it, the same for every scoring hit)."""

    def first(selector: str) -> Hit | None:
        return _first(filed[selector])

    if not any(filed[s][f] for s in rule.anchors for f in rule.fields):
        return [], []  # no candidate
    context: list[tuple[str, Hit]] = []
    for selector in rule.requires:
        hit = first(selector)
        if hit is None:
            return [], []
        context.append((selector, hit))
    if any(first(s) is not None for s in rule.unless):
        return [], []
    if not rule.within:  # the other selectors anywhere in the article
        for selector in rule.others:
            hit = first(selector)
            if hit is None:
                return [], []
            context.append((selector, hit))
        if rule.need_any:
            present = [(s, hit) for s in rule.need_any if (hit := first(s)) is not None]
            if not present:
                return [], []
            context.append(present[0])
        if any(first(s) is not None for s in rule.none):
            return [], []
    scored: list[_Scored] = []
    for f in rule.fields:
        anchors = _anchors(filed, rule.anchors, f)
        if not anchors:
            continue
        nearby = _Nearby(filed, rule, f) if rule.within else None
        if nearby is not None and not nearby.possible:
            continue
        points = rule.weight * rule.field_weights[f]
        for selector, anchor in anchors:
            partners = nearby.partners(anchor) if nearby is not None else []
            if partners is None:
                continue
            scored.append((points, f, selector, anchor, partners))
            if len(scored) >= rule.cap:
                return scored, context
    return scored, context


def _file(ruleset: Ruleset, prepared: _Prepared, texts: dict[str, str]) -> dict[str, _Filed]:
    """Every hit of the article under each selector it belongs to, per field, in text order."""
    filed: dict[str, _Filed] = {s: ([], [], []) for s in prepared.used}
    for f, name in enumerate(FIELDS):
        for hit in ruleset.lexicon.find(texts[name], name):
            for selector in prepared.selectors.get(hit.label, ()):
                filed[selector][f].append(hit)
    return filed


def _count(filed: dict[str, _Filed], selectors: Iterable[str]) -> int:
    return sum(len(hits) for s in selectors for hits in filed[s])


def classify(ruleset: Ruleset, title: str | None, lead: str | None, body: str | None) -> Verdict:
    """Score an article against the rule set; every scoring hit is kept with the passages that prove it."""
    texts = {"title": title or "", "lead": lead or "", "body": body or ""}
    notes = []
    for name, text in texts.items():
        if len(text) > ruleset.max_chars:
            texts[name] = text[: ruleset.max_chars]
            notes.append(f"{name}: matched on its first {ruleset.max_chars:,} of {len(text):,} characters")
    prepared = _prepared(ruleset)
    filed = _file(ruleset, prepared, texts)
    blocked = False
    for dom in ruleset.dominance:
        mine, theirs = _count(filed, (dom.group,)), _count(filed, dom.over)
        if mine and mine > theirs:
            blocked = True
            notes.append(
                f"dominance: '{dom.group}' matched {mine}× against {theirs}× for {', '.join(dom.over)}, "
                "so positive rules do not fire"
            )
    snippets: dict[Hit, str] = {}  # one per passage, shared by the rules
    terms, entities = ruleset.lexicon.terms, ruleset.entities

    def match(rule_id: str, selector: str, hit: Hit) -> Match:
        text = snippets.get(hit)
        if text is None:
            text = snippets[hit] = snippet(texts[hit.field], hit.start, hit.end)
        # an entity counts for the selector that asked for it (side:russia…)
        entity, group = (hit.label, selector) if hit.label in entities else (None, hit.label)
        return Match(rule_id, group, terms[hit.term].text, hit.field, hit.start, hit.end, text, entity)

    score = 0.0
    fired: list[Fired] = []
    matches: list[Match] = []
    for rule in prepared.rules:
        if blocked and rule.weight > 0:
            continue
        scored, context = _fire(filed, rule)
        if not scored:
            continue
        context_matches = tuple(match(rule.id, s, hit) for s, hit in context)
        seen: set[tuple[str, int, int]] = set()  # each passage once among the rule's matches
        for points, f, selector, anchor, partners in scored:
            score += points
            anchor_match = match(rule.id, selector, anchor)
            partner_matches = tuple(match(rule.id, s, hit) for s, hit in partners)
            fired.append(
                Fired(
                    rule.id,
                    anchor.field,
                    rule.weight,
                    rule.field_weights[f],
                    points,
                    anchor_match,
                    partner_matches,
                    context_matches,
                )
            )
            for m in (anchor_match, *partner_matches, *context_matches):
                if (m.field, m.start, m.end) not in seen:
                    seen.add((m.field, m.start, m.end))
                    matches.append(m)
    score = round(max(score, 0.0), 2)
    if score >= ruleset.primary:
        relevance = "primary"
    elif score >= ruleset.mention:
        relevance = "mention"
    else:
        relevance = "none"
    return Verdict(relevance, score, ruleset.version, matches, fired, notes)
