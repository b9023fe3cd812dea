"""What a story's announcements announce (issue #17): :class:`Announced` gathers the announcements of a story's
articles (:attr:`monitor.archive.story_events.Event.announced`) — the kinds of event, places, sides, people and
days to come they name — and :meth:`Announced.meets` tells whether an article is about the event they announce
(``story_relations.meets_announced``); :meth:`Announced.until` how long the story waits for its report. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from monitor.archive.story_events import (
    AHEAD,
    ANNOUNCED_DAYS,
    FAMILY,
    LONGEST,
    SIDES,
    Event,
    mediating,
    same_place,
    side,
)
from monitor.archive.story_legs import week_end
from monitor.extract.dates import WARSAW


class Announced:
    """What a story's announcements announce: the kinds of event, the places, the days to come they name (after
    the day each was published) and the time of the last."""

    __slots__ = ("kinds", "places", "parties", "people", "sides", "days", "last", "talks", "week")

    def __init__(self) -> None:
        self.kinds: Counter[str | None] = Counter()
        self.places: Counter[str] = Counter()
        self.parties: Counter[str] = Counter()
        self.people: Counter[str] = Counter()
        self.sides: Counter[str] = Counter()  # the sides of the war of their people
        self.days: Counter[int] = Counter()
        self.last: datetime | None = None
        self.talks = 0  # announcements of talks that may be held by phone (not a meeting in person)
        self.week = 0  # the last day of the latest "next week" they announce

    def add(self, event: Event, at: datetime, people: Iterable[str], dates: Iterable[int]) -> None:
        """Take in an announcement: its record, time, people and event days."""
        self.kinds[FAMILY.get(event.kind)] += 1
        if event.place:
            self.places[event.place] += 1
        self.parties.update(event.parties)
        people = tuple(people)
        self.people.update(people)
        self.sides.update(found for person in people if (found := side(person)))
        published = at.astimezone(WARSAW).date().toordinal()
        self.days.update(day for day in dates if day > published)
        self.talks += event.kind in ("meeting", "call") and not event.in_person
        self.week = max(self.week, week_end(at.astimezone(WARSAW).date()) if event.week else 0)
        self.last = at

    def meets(self, event: Event, at: datetime, people: frozenset[str], dates: frozenset[int]) -> bool:
        """Whether an article (its record, time, people and event days) is about what they announce: of the same
        kind; of the same sides of the war (the first the article's head names is one theirs name: the Americans
        with the Russians in Riyadh are not the Americans with the Ukrainians there the next day); at the same
        place (a city meets its country: "do Szwajcarii" and "w Genewie") with one of the same people, or, when
        either names no place, two (an exchange needs none: its parties are the sides); and at its time: a report
        published on a day they named or up to ``ANNOUNCED_DAYS`` after it (later when it tells of the event as
        held late, *z opóźnieniem*, at their place with two of their people: the story's wait, :meth:`until`,
        bounds it), another
        announcement naming a day within one of theirs; when they name no day, within ``AHEAD`` of the last
        announcement.

        A side of the war both heads name stands for one of the people: at a third country's venue (in Moscow the
        place names the Russian side anyway), and, where two are needed and one is shared, for the other party
        (the spokeswoman of the White House on the meeting of "the presidents of the USA and Ukraine"), not
        for the shared person's own side (Putin with someone else is not Putin with the envoy announced)."""
        if not self.kinds.get(FAMILY.get(event.kind)) or self.last is None or at < self.last:
            return False
        sides = self.parties.keys() | self.sides.keys()
        if event.party is not None and sides and event.party not in sides:
            return False
        place = event.place
        if place and self.places:
            if not any(same_place(place, other) for other in self.places):
                return False
            needed = 1
        else:
            needed = 2
        if event.kind == "exchange":
            needed = 0
        shared = [person for person in people if person in self.people]
        # a side stands for a person only where the article names every side they name: one side of a round of
        # both (the Russians with the Americans in its city the next day) is another meeting
        named = event.parties & self.parties.keys() if event.parties >= self.parties.keys() else frozenset()
        if needed == 2 and len(shared) == 1:
            named -= {side(shared[0])}
            # the mediator's country in the head ("przywódcy USA i Rosji") stands for their American
            if event.mediator and any(mediating(person) for person in self.people if person != shared[0]):
                named |= {"us"}
        elif needed != 1 or place is None or place.split("/")[0] in SIDES:
            named = frozenset()
        if needed and len(shared) < needed and not (named and len(shared) + 1 >= needed):
            return False
        if event.kind == "call" and not self.talks:
            return False  # a meeting in person is not held by phone
        day = at.astimezone(WARSAW).date().toordinal()
        if not self.days:
            # for next week: to its end (and ANNOUNCED_DAYS more), at their place with two of their people
            return at - self.last <= AHEAD or (
                day <= self.week + ANNOUNCED_DAYS and bool(place and self.places) and len(shared) >= 2
            )
        if event.announced:
            ahead = [other for other in dates if other > day]
            return (
                not ahead or event.moved or any(abs(one - other) <= 1 for one in ahead for other in self.days)
            )
        if any(0 <= day - other <= ANNOUNCED_DAYS for other in self.days) or any(
            other in self.days for other in dates
        ):
            return True
        # held later than the day they named, and told so ("z kilkudniowym opóźnieniem"): at their place, with two
        # of their people
        return event.moved and bool(place and self.places) and len(shared) >= 2 and day > max(self.days)

    def until(self) -> datetime | None:
        """Until when a report of what they announce may come: ``AHEAD`` after the last, or to the end of the
        ``ANNOUNCED_DAYS``-th day after the latest day they name (at most ``LONGEST`` after the last), whichever is
        later."""
        if self.last is None:
            return None
        if not self.days and not self.week:
            return self.last + AHEAD
        end = date.fromordinal(max(self.days or [self.week]) + ANNOUNCED_DAYS + 1)
        named = datetime(end.year, end.month, end.day, tzinfo=WARSAW)
        return max(self.last + AHEAD, min(named, self.last + LONGEST))
