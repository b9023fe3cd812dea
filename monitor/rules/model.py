"""The values of the rules engine: a compiled :class:`Ruleset` in, a :class:`Verdict` with its explanation out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELDS = ("title", "lead", "body")
RELEVANCE = ("primary", "mention", "none")
ENTITY_TYPES = ("person", "place", "organisation", "state")
SIDES = ("russia", "ukraine", "mediator", "other")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Match:
    """One matched passage: which rule it counted for, which term (and entity) matched, where, and a snippet."""

    rule: str
    group: str
    term: str
    field: str
    start: int
    end: int
    snippet: str
    entity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "term": self.term,
            "entity": self.entity,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Fired:
    """One scoring hit of a rule: the anchor match, the points, the matches near it that satisfied the rule
    (``partners``) and the matches elsewhere in the article that did (``context``: requires, article-wide all)."""

    rule: str
    field: str
    weight: float
    field_weight: float
    points: float
    anchor: Match
    partners: tuple[Match, ...] = ()
    context: tuple[Match, ...] = ()


@dataclass(frozen=True)
class Adjustment:
    """Points the body's passages add to or take from the sum of the rules' hits (see :class:`Passages`)."""

    kind: str  # "cap": a passage's points beyond the cap; "spread": passages that tell the talks
    points: float
    description: str


@dataclass
class Verdict:
    relevance: str
    score: float
    ruleset: str
    matches: list[Match] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list, compare=False, repr=False)
    notes: list[str] = field(default_factory=list, compare=False, repr=False)
    adjustments: list[Adjustment] = field(default_factory=list, compare=False, repr=False)

    @property
    def flagged(self) -> bool:
        return self.relevance == "primary"

    def to_dict(self) -> dict[str, Any]:
        """The verdict as ``monitor classify`` prints it (without the per-rule explanation)."""
        return {
            "flagged": self.flagged,
            "relevance": self.relevance,
            "score": self.score,
            "ruleset": self.ruleset,
            "matches": [m.to_dict() for m in self.matches],
        }


@dataclass(frozen=True)
class Paradigm:
    """How a base form inflects: drop ``strip`` from its end, then add each ending.

    An ending that starts with ``~`` first softens the stem's last consonants by the ruleset's ``[softening]``
    table (Kushner → Kushnerze, Alaska → Alasce, Rijad → Rijadzie).
    """

    name: str
    strip: str
    endings: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class WordPattern:
    """One word of a term: a set of exact folded forms, or a folded stem that any word may continue."""

    exact: frozenset[str] = frozenset()
    stem: str | None = None

    def matches(self, word: str) -> bool:
        return word.startswith(self.stem) if self.stem is not None else word in self.exact


@dataclass(frozen=True)
class Term:
    """A term as written in the rules (``rozmow* pokojow*``) and the words it matches, in order."""

    text: str
    words: tuple[WordPattern, ...]
    gap: int
    label: str  # the group name or entity id the term belongs to


@dataclass(frozen=True)
class Group:
    name: str
    terms: tuple[str, ...]
    description: str = ""
    gap: int = 2


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    type: str
    side: str
    role: str | None
    forms: tuple[str, ...]
    aliases: tuple[str, ...]
    paradigm: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Example:
    """An article that must (or must not) fire a rule; a plain string in the rules file is a body."""

    title: str = ""
    lead: str = ""
    body: str = ""


@dataclass(frozen=True)
class Rule:
    """A weighted boolean rule.

    Every match of the anchor (the first ``all`` selector, else each ``any`` selector) in ``fields`` is a
    candidate hit; it scores ``weight`` × the field's weight when, inside ``within`` words of it in the same
    field (or anywhere in the article when ``within`` is 0): every other ``all`` selector matches, at least one
    ``any`` selector matches (when the anchor is not one of them), and no ``none`` selector matches. ``requires``
    must match and ``unless`` must not match anywhere in the article. At most ``cap`` hits score, best first.
    """

    id: str
    weight: float
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    within: int = 0
    fields: tuple[str, ...] = FIELDS
    field_weights: dict[str, float] | None = None
    cap: int = 10
    description: str = ""
    examples_fire: tuple[Example, ...] = ()
    examples_not: tuple[Example, ...] = ()

    @property
    def group(self) -> str:
        """The anchor selector (kept for callers of the first rules format, where a rule had one group)."""
        return self.all[0] if self.all else self.any[0]


@dataclass(frozen=True)
class Dominance:
    """When ``group`` matches more often than all of ``over`` together, positive rules do not fire."""

    group: str
    over: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Opening:
    """How a text without a title or a lead is read: its opening stands in for the missing field.

    Pipelines lose titles (a page without ``<h1>``, a feed item) and leads; the news is then still where Polish
    portals put it, at the top. With ``title``, the first sentence (or a short first line, a heading) of the
    lead or else of the body is scored as the title; with ``lead``, the rest of the body's first paragraph, up to
    ``lead_chars`` characters in whole sentences, is scored as the lead. Matches keep pointing at the text where
    the words are.
    """

    title: bool = False
    lead: bool = False
    title_chars: int = 250  # a first sentence longer than this is cut at a word
    lead_chars: int = 400


@dataclass(frozen=True)
class Passages:
    """How the body's points add up, paragraph by paragraph (a paragraph longer than ``chars`` is read in
    pieces of that size).

    A story about the talks tells them throughout; a passing mention tells them in one place. So the positive
    points of body hits in one passage count up to ``cap``, and every passage after the first that scores at
    least ``spread_min`` adds ``spread``.
    """

    cap: float | None = None
    spread: float = 0.0
    spread_min: float = 0.0
    chars: int = 1500


@dataclass(frozen=True)
class Ruleset:
    name: str
    version: str
    primary: float
    mention: float
    field_weights: dict[str, float]
    groups: dict[str, Group]
    rules: tuple[Rule, ...]
    dominance: tuple[Dominance, ...] = ()
    entities: dict[str, Entity] = field(default_factory=dict)
    paradigms: dict[str, Paradigm] = field(default_factory=dict)
    softening: dict[str, str] = field(default_factory=dict)
    selectors: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    lexicon: Any = field(default=None, repr=False, compare=False)
    max_chars: int = 200_000
    path: str = ""
    opening: Opening = field(default_factory=Opening)
    passages: Passages = field(default_factory=Passages)
