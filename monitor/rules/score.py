"""Verdicts: the engine's hits read as a person reads an article, top first and paragraph by paragraph.

:func:`classify` is the rules' entry point. Around the engine (:func:`monitor.rules.engine.classify`, which
finds the terms and scores each rule's hits field by field) it does two things the rule set declares:

- **The opening stands in for a missing title or lead** (``[opening]``, :class:`~monitor.rules.model.Opening`).
  A page without ``<h1>`` or a feed item without a lead is still written top first: its first sentence says what
  the title would have said. The stand-ins are slices of the text, so every match still points at the words in
  the field where they are (``body``, with the body's offsets); a note says what stood in for what.
- **The body is scored by passage** (``[passages]``, :class:`~monitor.rules.model.Passages`). A story about the
  talks tells them in paragraph after paragraph; a war report that mentions them does so in one. The positive
  points of the body's hits count up to a cap per paragraph, and each further paragraph that scores adds a
  bonus. Both show in the verdict as :class:`~monitor.rules.model.Adjustment` entries.

Pure Python on purpose: it reads the few hits the engine returns, not the text, and costs a few microseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import replace
from typing import TypeVar

from monitor.rules.engine import classify as score_fields
from monitor.rules.model import Adjustment, Fired, Match, Opening, Passages, Ruleset, Verdict
from monitor.rules.text import snippet

# A sentence ends at . ! ? or … (quotes and brackets may close it) before a space and what starts a sentence.
_END = re.compile(r"[.!?…]+[\"”»’)]*(?=\s+[„\"«(–—-]?\s*[A-ZĄĆĘŁŃÓŚŹŻ0-9])")
_LAST_WORD = re.compile(r"(\S+)$")
# Words that end in a full stop without ending a sentence (the full stop itself left out).
_ABBREVIATIONS = frozenset(
    "np m.in ok tys mln mld ws tzw godz r ul dr prof gen płk ppłk kpt ks św im al pl proc zob wg itd itp tj "  # noqa: SIM905
    "mjr por inż hab mgr red oprac ang ros ukr ur zm jw del min pkt nr tel art ust".split()
)
_Frozen = TypeVar("_Frozen", Match, Fired)
_HEADING_CHARS = 160  # a first line this short, without a full stop at its end, is a heading


def classify(ruleset: Ruleset, title: str | None, lead: str | None, body: str | None) -> Verdict:
    """Score an article against the rule set; every scoring hit is kept with the passages that prove it."""
    texts = {"title": title or "", "lead": lead or "", "body": body or ""}
    places, notes = stand_ins(ruleset.opening, texts)
    fields = {role: texts[source][start:end] for role, (source, start, end) in places.items()}
    verdict = score_fields(ruleset, fields["title"], fields["lead"], fields["body"])
    if notes:
        verdict = _moved(verdict, texts, places, notes)
    return _by_passage(ruleset, verdict, texts["body"])


def stand_ins(opening: Opening, texts: dict[str, str]) -> tuple[dict[str, tuple[str, int, int]], list[str]]:
    """Where each field the engine scores comes from: role → (field of the text, start, end); and a note for
    each stand-in. Without a missing field (or with ``opening`` off) every role is its own field."""
    places = {name: (name, 0, len(text)) for name, text in texts.items()}
    notes: list[str] = []
    if opening.title and not texts["title"].strip():
        source = "lead" if texts["lead"].strip() else "body"
        text = texts[source]
        start = _skip_space(text, 0)
        end = _first_sentence(text, start, opening.title_chars)
        if end > start:
            places["title"] = (source, start, end)
            places[source] = (source, end, len(text))
            notes.append(f"no title: the {source}'s opening (characters {start}–{end}) stands in for it")
    if opening.lead and not texts["lead"].strip():
        _, begin, finish = places["body"]
        text = texts["body"]
        start = _skip_space(
            text, begin
        )  # the rest of the first paragraph, or the next when the title took it
        end = _sentences(text, start, opening.lead_chars)
        if end > start:
            places["lead"] = ("body", start, end)
            places["body"] = ("body", end, finish)
            notes.append(f"no lead: the body's characters {start}–{end} stand in for it")
    return places, notes


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _paragraph_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Where the sentences of ``text[start:end]`` end (after their full stop and closing quotes)."""
    ends = []
    for found in _END.finditer(text, start, end):
        if "." in found.group():
            word = _LAST_WORD.search(text, start, found.start())
            last = word.group(1).lower().lstrip('(„"') if word else ""
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()) or last[-2:-1] == ".":
                continue  # np., m.in., an initial (J. Vance), J.D.
        ends.append(found.end())
    return ends


def _first_sentence(text: str, start: int, limit: int) -> int:
    """The end of the title that a text's opening gives: a short first line without a full stop (a heading), or
    the first sentence, cut at a word after ``limit`` characters."""
    line_end = _paragraph_end(text, start)
    line = text[start:line_end].rstrip()
    if len(line) <= _HEADING_CHARS and not line.endswith((".", "…")):
        return start + len(line)
    ends = _sentence_ends(text, start, min(line_end, start + limit))
    return ends[0] if ends else _cut(text, start, min(line_end, start + limit))


def _sentences(text: str, start: int, limit: int) -> int:
    """The end of the whole sentences of one paragraph from ``start`` that fit in ``limit`` characters (at least
    one, cut at a word when it is longer)."""
    end = min(_paragraph_end(text, start), start + limit)
    if end == _paragraph_end(text, start):
        return len(text[:end].rstrip())
    ends = _sentence_ends(text, start, end)
    return ends[-1] if ends else _cut(text, start, end)


def _cut(text: str, start: int, end: int) -> int:
    """``end``, moved back to the end of a word when it falls inside one."""
    if end >= len(text) or not text[end].isalnum():
        return end
    space = text.rfind(" ", start, end)
    return space if space > start else end


def _moved(
    verdict: Verdict, texts: dict[str, str], places: dict[str, tuple[str, int, int]], notes: list[str]
) -> Verdict:
    """The verdict with every match moved from the stand-in it was found in to the field where its words are."""
    cache: dict[int, Match] = {}

    def move(m: Match) -> Match:
        found = cache.get(id(m))
        if found is None:
            source, offset, _ = places[m.field]
            start, end = m.start + offset, m.end + offset
            found = cache[id(m)] = _changed(
                m, field=source, start=start, end=end, snippet=snippet(texts[source], start, end)
            )
        return found

    fired = [
        _changed(
            hit,
            anchor=move(hit.anchor),
            partners=tuple(map(move, hit.partners)),
            context=tuple(map(move, hit.context)),
        )
        for hit in verdict.fired
    ]
    return replace(
        verdict, matches=[move(m) for m in verdict.matches], fired=fired, notes=notes + verdict.notes
    )


def _changed(item: _Frozen, **changes: object) -> _Frozen:
    """A copy of a frozen Match or Fired with some fields changed: ``dataclasses.replace`` without its
    ``__init__``, which sets each field through ``object.__setattr__``."""
    copy = object.__new__(type(item))
    copy.__dict__.update(item.__dict__)
    copy.__dict__.update(changes)
    return copy


def _by_passage(ruleset: Ruleset, verdict: Verdict, body: str) -> Verdict:
    """The verdict with the body's points counted by passage (:class:`Passages`), the score and relevance
    recomputed from the rules' hits and the adjustments. Paragraphs are the body's non-blank lines, numbered
    from 1 (the body as given, its opening included: the matches point into it).

    The hits of an opening that stood in for a missing title or lead are not capped (they are not the body's),
    but their paragraph still counts for the spread, at what they weigh without the title's or lead's field
    weight: a body-only text must not lose the paragraph its title took (#12)."""
    rules: Passages = ruleset.passages
    body_weight = ruleset.field_weights.get("body", 1.0)
    if rules.cap is None and not rules.spread:
        return verdict
    points: dict[tuple[int, int], float] = {}
    opening: dict[tuple[int, int], float] = {}  # stand-ins' hits, at what they would weigh in the body
    starts: list[int] = []
    for hit in verdict.fired:
        if hit.points <= 0 or hit.anchor.field != "body":
            continue
        if not starts:
            starts = _paragraph_starts(body)
        at = hit.anchor.start
        line = max(bisect_right(starts, at) - 1, 0)
        key = (line, (at - starts[line]) // rules.chars)
        if hit.field == "body":
            points[key] = points.get(key, 0.0) + hit.points
        elif hit.field_weight:
            opening[key] = opening.get(key, 0.0) + hit.points / hit.field_weight * body_weight
    if not points:
        return verdict
    adjustments = []
    if rules.cap is not None:
        over = [(key, value) for key, value in sorted(points.items()) if value > rules.cap]
        if over:
            excess = sum(value - rules.cap for _, value in over)
            where = ", ".join(f"paragraph {_label(key)}: {value:g}" for key, value in over)
            adjustments.append(
                Adjustment("cap", -excess, f"one paragraph of the body counts up to {rules.cap:g} ({where})")
            )
    told = dict(points)
    for key, value in opening.items():
        told[key] = told.get(key, 0.0) + value
    telling = [_label(key) for key, value in sorted(told.items()) if value >= rules.spread_min]
    if rules.spread and len(telling) > 1:
        adjustments.append(
            Adjustment(
                "spread",
                rules.spread * (len(telling) - 1),
                f"{len(telling)} paragraphs of the body tell the talks (paragraphs "
                f"{', '.join(telling)}): +{rules.spread:g} for each after the first",
            )
        )
    if not adjustments:
        return verdict
    score = sum(hit.points for hit in verdict.fired) + sum(a.points for a in adjustments)
    score = round(max(score, 0.0), 2)
    relevance = "primary" if score >= ruleset.primary else "mention" if score >= ruleset.mention else "none"
    return replace(verdict, relevance=relevance, score=score, adjustments=adjustments)


def _label(passage: tuple[int, int]) -> str:
    """A passage as people count it: paragraph 3, or 3.2 for the second piece of a long one."""
    line, piece = passage
    return f"{line + 1}.{piece + 1}" if piece else str(line + 1)


def _paragraph_starts(body: str) -> list[int]:
    """Where the body's non-blank lines start."""
    starts = []
    at = 0
    while at < len(body):
        end = body.find("\n", at)
        end = len(body) if end < 0 else end
        if not body[at:end].isspace() and end > at:
            starts.append(at)
        at = end + 1
    return starts or [0]
