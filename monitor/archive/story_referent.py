"""The document an article refers to without naming its owner (issue #17). Pure functions.

Portals write about a plan in the news without saying whose it is: an explainer (*Co wiemy o planie pokojowym?
Oto najważniejsze punkty dokumentu*, *Pięć pytań o plan pokojowy*), a party's reaction (*Zełenski o planie
pokojowym: nie oddamy ziemi*, *Ławrow o planie: wiele zapisów wymaga poprawek*), a parliament refusing "the
document". Its record names a document (``kind`` plan) and no owner, so it shares no document with the story of
the plan, and often few words. Such an article (:func:`ownerless`, told by a party of the talks or by no one: a
third party's statement on a plan is a story of its own) refers to the document in the news: the story about a
document (:func:`documentary`) that had an article within ``OBJECT_HOURS`` before it. When one such story is
open, that one; when several are, the one its words are closest to, if they are at least ``MARGIN`` times closer
to it than to any other (two explainers of "the most important points" the same morning, of the EU's sanctions
package and of the American plan, go each to its own); otherwise none (ambiguous: kept apart); and never one its
words are almost nothing of (a word cosine below ``FLOOR``: *punkty* of a stock index). A party of the talks
speaks of a party's document, not of a third party's own (the EU's package). The article is then scored with
that story as if it named the document's owner (:func:`implied`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from monitor.archive.story_events import BLOCS, DOCUMENT_WEIGHT, PARTIES, Event, speaker
from monitor.archive.story_features import Features


class Story(Protocol):
    """What is read of a story (``clusters.StoryState``)."""

    @property
    def objects(self) -> Counter[str]: ...
    @property
    def kinds(self) -> Counter[str | None]: ...
    @property
    def last(self) -> datetime: ...
    @property
    def founder_key(self) -> tuple[str, str]: ...
    @property
    def centroid(self) -> Mapping[str, float]: ...
    @property
    def norm(self) -> float: ...
    @property
    def reports(self) -> int: ...
    @property
    def people(self) -> Counter[str]: ...


StoryState = TypeVar("StoryState", bound=Story)

# an article and a story about the same document: within this long of the story's last article (clusters)
OBJECT_HOURS = timedelta(hours=48)
MARGIN = 2.0  # the referent's word cosine is at least this many times any other document story's
FLOOR = 0.03  # ... and at least this: an article sharing nothing with it ("WIG20 zyskał 30 punktów") is of another
OUTCOME_HOURS = timedelta(hours=24)  # a document told this soon after a meeting of its owner came of it
ASKS = tuple(f"#o:doc:{bloc}" for bloc in BLOCS)  # what an ownerless document article looks up


def ownerless(event: Event) -> bool:
    """Whether an article is about a document whose owner it does not name, told by a party of the talks or by
    no one (a third party's statement is its own story)."""
    return event.kind == "plan" and not event.objects and (event.speaker is None or event.speaker in PARTIES)


def documentary(article: Features, story: StoryState) -> bool:
    """Whether a story is about a document, as plans are told (an article of a plan or of no kind has one), with
    an article within ``OBJECT_HOURS`` before the article."""
    return (
        bool(story.objects)
        and bool(story.kinds.get("plan") or story.kinds.get(None))
        and article.at - story.last <= OBJECT_HOURS
        # a party of the talks speaks of a party's document (Zełenski on "the plan" is not on the EU's package)
        and (article.event.speaker not in PARTIES or any(name[4:] in PARTIES for name in story.objects))
    )


def referent(texts: Sequence[tuple[float, StoryState]]) -> tuple[StoryState, float] | None:
    """The document story an ownerless article refers to, among the open ones (their word cosines with it): the
    only one, or the one its words are ``MARGIN`` times closer to than to any other; None when ambiguous."""
    ranked = sorted(texts, key=lambda pair: (-pair[0], pair[1].founder_key))
    if not ranked or ranked[0][0] < FLOOR:
        return None
    if len(ranked) == 1 or ranked[0][0] >= MARGIN * ranked[1][0]:
        return ranked[0][1], ranked[0][0]
    return None


def implied(article: Features, story: StoryState, text: float) -> tuple[Features, float]:
    """The article as if it named the owner of the story's document (its most named, the first in order on a tie),
    and its cosine with the story then (``text`` is its cosine without it)."""
    owner = max(sorted(story.objects), key=lambda name: story.objects[name])
    token = f"#o:{owner}"
    found = dataclasses.replace(article, vector={**article.vector, token: DOCUMENT_WEIGHT})
    return found, text + DOCUMENT_WEIGHT * story.centroid.get(token, 0.0) / story.norm


def referred(
    article: Features,
    documents: Sequence[tuple[float, StoryState]],
    parts: Callable[[Features, StoryState, float], tuple[float, bool, bool, bool, bool, bool]],
) -> tuple[float, StoryState] | None:
    """The score (rounded as ``clusters.score`` rounds it) of an ownerless article with the document story it
    refers to (:func:`referent` among ``documents``, the open document stories and their word cosines with it),
    as if it named the document's owner (``parts`` is ``clusters._parts``); None when it refers to none."""
    meant = referent(documents)
    if meant is None:
        return None
    found, text = implied(article, *meant)
    return round(parts(found, meant[0], text)[0], 4), meant[0]


def documented(event: Event) -> bool:
    """Whether an article is about a document it names the owner of (what may have come of a meeting)."""
    return event.kind == "plan" and len(event.objects) == 1


def outcome(article: Features, story: Story) -> bool:
    """Whether an article on a document is about what came of the story's meeting: the story reports a meeting
    held, up to ``OUTCOME_HOURS`` before the article, and has no document of its own yet; the article names two
    of its people, one of them of the document's owner (the guarantees the American envoys put forward in Berlin,
    told the day after the report of their meeting there)."""
    event = article.event
    if not documented(event) or story.objects or not story.reports:
        return False
    if not story.kinds.get("meeting") or article.at - story.last > OUTCOME_HOURS:
        return False
    shared = [person for person in article.people if person in story.people]
    owner = next(iter(event.objects))[4:]
    return len(shared) >= 2 and any(speaker([[person.replace("_", " ")]]) == owner for person in shared)
