"""The event record of a passing mention (issue #17): an article whose head says nothing of the talks (a crime or
economy story with one paragraph on them, a sports piece quoting a politician) is read from the body sentences the
rules matched, as if the first of them that names an event were its title and the next its lead. Pure functions;
the record itself is :func:`monitor.archive.story_events.record`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date

from monitor.archive.story_events import Event, record
from monitor.rules.model import Match
from monitor.rules.text import word_bytes

MENTION = "mention"  # the relevance of a passing mention
Text = str | None
Starts = Sequence[int] | None  # where the rules' matches in a mention's body start; None for another article

_STOP = re.compile(r"(?<=[.?!…])\s+|\n+")  # the end of a sentence, or of a paragraph
PASSAGES = 3  # the matched sentences read, at most (the paragraph on the talks)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each sentence of ``text``, split at full stops and paragraph breaks."""
    spans, start = [], 0
    for stop in _STOP.finditer(text):
        if stop.start() > start:
            spans.append((start, stop.start()))
        start = stop.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def matched_sentences(text: str | None, starts: Iterable[int]) -> list[str]:
    """The sentences of ``text`` in which a match of the rules starts (``starts``: its character offsets), in
    order, each once."""
    if not text:
        return []
    wanted = sorted(set(starts))
    if not wanted:
        return []
    found = []
    for begin, end in sentence_spans(text):
        if any(begin <= at < end for at in wanted):
            found.append(text[begin:end])
    return found


def passing(text: str | None, starts: Iterable[int]) -> tuple[Event, str, str] | None:
    """The event record of a passing mention read from the body sentences the rules matched (``starts``: where
    the matches in the body begin), the sentences it was read from, and the matched sentences together (the
    passage). The first of them (``PASSAGES`` at most) is read as a title with the next as its lead (a sentence
    naming the country of the war, then the one on the talks), until one names an event. None when none does."""
    found = matched_sentences(text, starts)
    read = found[:PASSAGES]
    for at, sentence in enumerate(read):
        following = read[at + 1] if at + 1 < len(read) else None
        event = record(sentence, following, None)
        if event.kind is not None:
            return event, " ".join(part for part in (sentence, following) if part), " ".join(found)
    return None


# a weekday named by its adjective ("piątkowe rozmowy", "po czwartkowym spotkaniu"), folded
_WEEKDAY_ADJECTIVE = re.compile(r"\b(poniedzialkow|wtorkow|srodow|czwartkow|piatkow|sobotni|niedzieln)\w*")
_WEEKDAYS = ("poniedzialkow", "wtorkow", "srodow", "czwartkow", "piatkow", "sobotni", "niedzieln")


def adjective_days(sentence: str, published: date, announced: bool) -> frozenset[int]:
    """The days (``date.toordinal()``) a sentence names by a weekday's adjective: in an announcement the next
    such day (or the day itself), else the nearest within three days ahead or the last one. A passing mention
    names the talks so (*Inwestorzy czekają na piątkowe rozmowy*, *po piątkowych rozmowach w Stambule*); the day
    of publication is left out, as :func:`monitor.archive.story_features.event_dates` leaves it out."""
    base, found = published.toordinal(), set()
    for match in _WEEKDAY_ADJECTIVE.finditer(word_bytes(sentence).decode()):
        ahead = (_WEEKDAYS.index(match.group(1)) - published.weekday()) % 7
        found.add(base + (ahead if announced or ahead <= 3 else ahead - 7))
    return frozenset(found - {base})


def body_starts(conn: sqlite3.Connection, article_ids: Sequence[int]) -> dict[int, list[int]]:
    """Where each article's stored matches in the body start (the ``passages`` of
    :func:`monitor.archive.story_features.features`), read back as the verdict gave them."""
    found: dict[int, list[int]] = {article_id: [] for article_id in article_ids}
    for begin in range(0, len(article_ids), 500):
        chunk = list(article_ids[begin : begin + 500])
        rows = conn.execute(
            "SELECT DISTINCT article_id, start FROM matches "
            f"WHERE field = 'body' AND article_id IN ({', '.join('?' * len(chunk))}) ORDER BY article_id, start",
            chunk,
        )
        for article_id, start in rows:
            found[article_id].append(start)
    return found


def verdict_starts(relevance: str, matches: Iterable[Match]) -> list[int] | None:
    """The ``passages`` of an article from its verdict: where its matches in the body start, for a passing
    mention; None for any other relevance (its head tells its event)."""
    if relevance != MENTION:
        return None
    return sorted({match.start for match in matches if match.field == "body"})
