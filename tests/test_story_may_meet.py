"""The engine's index path compares a report with a story of announcements below ``REACHABLE`` only when they may
meet (issue #17): :func:`story_relations.may_meet_announced` must follow from ``Announced.meets`` (else the index path
and the seed path decide differently, and the stories depend on the order articles come in), and it must leave
out the announcements that share neither a person nor, at a third country's place, a side with the report (else
every report is compared with every open announcement, the cost this condition removes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.archive import story_engine
from monitor.archive.clusters import REACHABLE, Features, cosine, member
from monitor.archive.story_announced import Announced
from monitor.archive.story_engine import Engine
from monitor.archive.story_events import WEIGHT, Event
from monitor.archive.story_relations import may_meet_announced

MONDAY = datetime(2026, 3, 9, 8, tzinfo=UTC)
DAY = MONDAY.date().toordinal()
PEOPLE = ("witkoff", "kushner", "putin", "lawrow", "zelenski", "umierow", "rubio")
PLACES = (None, "ch", "ch/genewa", "ru", "ru/moskwa", "ua/kijow", "ae/abu-zabi", "tr/stambul", "us/floryda")

events = st.builds(
    Event,
    kind=st.sampled_from(("meeting", "call", "exchange", "plan", None)),
    speaker=st.sampled_from((None, "us", "ru", "ua", "eu")),
    announced=st.booleans(),
    place=st.sampled_from(PLACES),
    party=st.sampled_from((None, "ru", "ua")),
    parties=st.frozensets(st.sampled_from(("ru", "ua"))),
    moved=st.booleans(),
    in_person=st.booleans(),
)
people = st.frozensets(st.sampled_from(PEOPLE), max_size=3)
days = st.frozensets(st.integers(DAY - 2, DAY + 9), max_size=2)
hours = st.integers(0, 24 * 12)


def _view(event: Event, who: frozenset[str]) -> Any:
    """What may_meet_announced reads of an article and of a story (their record, people and announcements)."""
    return SimpleNamespace(event=event, people=who)


@settings(max_examples=600, deadline=None)
@given(
    announcements=st.lists(st.tuples(events, hours, people, days), min_size=1, max_size=3),
    event=events,
    later=hours,
    who=people,
    dates=days,
)
def test_whatever_meets_an_announcement_may_meet_it(
    announcements: list[tuple[Event, int, frozenset[str], frozenset[int]]],
    event: Event,
    later: int,
    who: frozenset[str],
    dates: frozenset[int],
) -> None:
    ahead = Announced()
    for announced, hour, named, named_days in sorted(announcements, key=lambda one: one[1]):
        ahead.add(announced, MONDAY + timedelta(hours=hour), named, named_days)
    at = MONDAY + timedelta(hours=later)
    if ahead.meets(event, at, who, dates):
        story: Any = SimpleNamespace(ahead=ahead)
        assert may_meet_announced(_view(event, who), story)


def _announced(*events_people: tuple[Event, frozenset[str]]) -> Any:
    ahead = Announced()
    for event, named in events_people:
        ahead.add(event, MONDAY, named, ())
    return SimpleNamespace(ahead=ahead)


def test_what_may_meet_an_announcement() -> None:
    geneva = Event("meeting", announced=True, place="ch/genewa", parties=frozenset({"ru"}))
    story = _announced((geneva, frozenset({"witkoff", "putin"})))
    report = Event("meeting", place="ch", party="ru", parties=frozenset({"ru"}))
    # a person shared
    assert may_meet_announced(_view(Event("meeting"), frozenset({"putin"})), story)
    # no person, but a side both name at a third country's place
    assert may_meet_announced(_view(report, frozenset({"rubio"})), story)
    # no person, and the side at the place of a side of the war, or no place, or another side: never
    assert not may_meet_announced(
        _view(Event("meeting", place="ru/moskwa", parties=frozenset({"ru"})), frozenset()), story
    )
    assert not may_meet_announced(
        _view(Event("meeting", parties=frozenset({"ru"})), frozenset({"rubio"})), story
    )
    assert not may_meet_announced(
        _view(Event("meeting", place="ch", parties=frozenset({"ua"})), frozenset()), story
    )
    # another kind of event: never; an exchange announced meets an exchange without people
    assert not may_meet_announced(_view(Event("exchange"), frozenset({"putin"})), story)
    exchange = _announced((Event("exchange", announced=True), frozenset()))
    assert may_meet_announced(_view(Event("exchange"), frozenset()), exchange)


def _member(article_id: int, at: datetime, words: dict[str, float], event: Event, who: frozenset[str]) -> Any:
    vector = {
        **words,
        **{f"@{person}": 0.05 for person in sorted(who)},
        **dict.fromkeys(event.tokens(), WEIGHT),
    }
    found = Features(at=at, vector=vector, entities=who, people=who)
    return member(article_id, (at.isoformat(), f"u{article_id}"), found)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Engine:
    """An engine on its index path holding one story announcing talks in Geneva of Witkoff with Putin's side."""
    monkeypatch.setattr(story_engine, "INDEX_FROM", 0)
    held = Engine()
    announcement = Event("meeting", announced=True, place="ch/genewa", parties=frozenset({"ru"}))
    held.insert(
        [_member(1, MONDAY, {"spotka": 0.2, "genewa": 0.97}, announcement, frozenset({"witkoff", "putin"}))]
    )
    assert held._announcing == {1}
    return held


@pytest.mark.parametrize(
    ("event", "who", "compared"),
    [
        # the report shares a word seed and little else: compared only when the announcement may meet it
        (Event("meeting", place="ch", party="ru", parties=frozenset({"ru"})), frozenset({"umierow"}), True),
        (Event("meeting", parties=frozenset({"ru"})), frozenset({"umierow"}), False),
        (Event("meeting", place="ch", parties=frozenset({"ua"})), frozenset({"umierow"}), False),
        (Event("call"), frozenset({"putin"}), True),
    ],
)
def test_the_index_path_compares_a_report_with_the_announcements_that_may_meet_it(
    engine: Engine, event: Event, who: frozenset[str], compared: bool
) -> None:
    report = _member(2, MONDAY + timedelta(days=1), {"spotka": 0.2, "rozmow": 0.97}, event, who)
    story = engine.stories[1]
    assert cosine(report.features.vector, story) < REACHABLE
    near = engine._near(report)
    assert near is not None
    states, _texts = near
    assert (story in states) is compared
