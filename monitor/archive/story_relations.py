"""How an article stands to a story beyond their words (issue #17): it reports the other side's meeting at the
story's place, answers what was asked at one of its meetings, is about the event its announcements announce, or
about the document it is about. Pure predicates over an article's :class:`~monitor.archive.story_features.Features`
and a story (``clusters.StoryState``); :func:`monitor.archive.clusters.score` weighs them.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

import monitor.archive.story_referent as docs
from monitor.archive.story_announced import Announced
from monitor.archive.story_events import FAMILY, SIDES
from monitor.archive.story_features import Features
from monitor.archive.story_legs import answered


class StoryState(docs.Story, Protocol):
    """What is read of a story (``clusters.StoryState``), besides what :class:`story_referent.Story` reads."""

    @property
    def ahead(self) -> Announced: ...
    @property
    def heads(self) -> Counter[str]: ...
    @property
    def places(self) -> Counter[str]: ...
    @property
    def sides(self) -> Counter[str]: ...
    @property
    def venues(self) -> Counter[str]: ...


def other_side(article: Features, story: StoryState) -> bool:
    """Whether an article reports a meeting at a place of the story's meetings, or a call to a story of calls, with
    the other side of the war: the side its head names first (the Ukrainians with Rubio in Riyadh, Zełenski on the
    phone with Trump) is none of the story's sides: its reports' heads' (else its people's: Ławrow and Uszakow
    there the day before, Putin on the phone; not Dmitriev, named in passing in the Ukrainians' story of Miami)."""
    event = article.event
    sides = story.sides if event.kind == "call" else story.heads or story.sides
    if not (event.party and sides) or event.party in sides:
        return False
    if event.kind == "call":  # a call is placed by its ends: another leader's is another call
        return bool(story.kinds.get("call"))
    return bool(event.kind == "meeting" and event.place and story.places.get(event.place))


def answers(article: Features, story: StoryState) -> bool:
    """Whether an article is the other side's answer to a meeting of the story held (story_legs.answered)."""
    event = article.event  # its speaker answers (see answered; the heads are of the reports of meetings held)
    return answered(event.answers, event.speaker, story.places, story.heads)


def meets_announced(article: Features, story: StoryState) -> bool:
    """Whether an article is about the meeting, call or exchange a story's announcements announce
    (:meth:`monitor.archive.story_events.Announced.meets`)."""
    return story.ahead.meets(article.event, article.at, article.people, article.dates)


def may_meet_announced(article: Features, story: StoryState) -> bool:
    """A necessary condition of :func:`meets_announced`, read from what the two have in common and not from
    times or days: the story announces the article's kind of event, and, but for an exchange, shares one of
    its people with the article, or both name a side of the war and the article a third country's place (where
    a side stands for a person). The engine's index path compares a report with a story of announcements below
    ``REACHABLE`` only when this holds (tests/test_story_may_meet.py checks that it follows from ``meets``)."""
    ahead, event = story.ahead, article.event
    if not ahead.kinds.get(FAMILY.get(event.kind)):
        return False
    if event.kind == "exchange" or not ahead.people.keys().isdisjoint(article.people):
        return True
    place = event.place
    return bool(
        place
        and ahead.places
        and place.split("/")[0] not in SIDES
        and not ahead.parties.keys().isdisjoint(event.parties)
    )


def same_object(article: Features, story: StoryState) -> bool:
    """Whether an article is about a document the story is about, as an event of a compatible kind, within
    ``OBJECT_HOURS`` of its last article: a plan (or an article naming no kind) and a story with such articles;
    otherwise (a meeting, a call, an exchange, or a story of them) only one that has every venue the article names
    (talks in Abu Dhabi that recall Geneva are not the Geneva talks)."""
    event = article.event
    if (
        not event.objects
        or story.objects.keys().isdisjoint(event.objects)
        or article.at - story.last > docs.OBJECT_HOURS
    ):
        return False
    if event.kind in (None, "plan") and (story.kinds.get(None) or story.kinds.get("plan")):
        return True
    return bool(article.venues) and all(venue in story.venues for venue in article.venues)
