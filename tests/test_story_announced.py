"""An announced meeting, call or exchange and its later report are one event (issue #17): the event record reads
where and between whom (monitor/archive/story_events.py), and clustering ties a report to the announcement when
the place, the sides, the people and the day agree (story_relations.meets_announced)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _story_helpers import story_of_features

from monitor.archive import clusters
from monitor.archive.clusters import choose, features, meets_announced, member, other_side
from monitor.archive.story_events import Event, from_tokens, record, same_place

PEOPLE = {"witkoff": 1, "putin": 1, "umierow": 1, "rubio": 1, "lawrow": 1, "uszakow": 1}
MONDAY = datetime(2026, 3, 9, 8, tzinfo=UTC)


def _features(at: datetime, title: str, lead: str = "", people: tuple[str, ...] = ("witkoff", "putin")):
    hits = {name: PEOPLE[name] for name in people}
    return features(at, title, lead, None, hits, (), None, hits)


@pytest.mark.parametrize(
    ("title", "lead", "place"),
    [
        ("W czwartek w Genewie spotkają się delegacje USA i Ukrainy", "", "ch/genewa"),
        ("Umierow leci do Szwajcarii. Planowane na czwartek rozmowy", "", "ch"),
        ("Witkoff na Kremlu. Cztery godziny rozmowy z Putinem", "", "ru/moskwa"),
        ("Rozmowy w saudyjskim Rijadzie zakończone", "", "sa/rijad"),
        ("", "Delegacje spotkały się w Abu Zabi.", "ae/abu-zabi"),
        # "wojna w Ukrainie" places no meeting; a plan has no place
        ("Rozmowy o wojnie w Ukrainie", "", None),
        ("Plan pokojowy w Genewie", "", None),
    ],
)
def test_the_place_of_a_meeting(title: str, lead: str, place: str | None) -> None:
    assert record(title, lead, None).place == place


def test_a_city_is_at_its_country_and_not_at_another() -> None:
    assert same_place("ch/genewa", "ch") and same_place("ch", "ch/genewa")
    assert same_place("ru/moskwa", "ru/moskwa")
    assert not same_place("ch/genewa", "ae/abu-zabi") and not same_place("ru/moskwa", "ru/petersburg")


@pytest.mark.parametrize(
    ("title", "lead", "kind", "ahead"),
    [
        ("Witkoff uda się do Moskwy", "", "meeting", True),
        ("Planowane na przyszły tydzień rozmowy wojskowych w Abu Zabi", "", "meeting", True),
        ("Trump i Putin porozmawiają we wtorek", "", "meeting", True),
        ("Trump zapowiada: w czwartek zadzwonię do Putina", "", "call", True),
        ("Ukraińska delegacja wyleciała do Dżuddy", "We wtorek rozmowy z Amerykanami.", "meeting", True),
        ("", "Rosja i Ukraina wymienią w piątek jeńców.", "exchange", True),
        # done: reports, also of a round that began, and talks going on
        ("Rozmowy w Genewie zakończone", "", "meeting", False),
        ("Po rozmowach w Genewie Zełenski zwołuje naradę", "", "meeting", False),
        ("W Rijadzie trwają rozmowy delegacji", "", "meeting", False),
        # exchanging lists is not an exchange of prisoners
        ("", "Delegacje wymieniły się listami jeńców.", None, False),
    ],
)
def test_an_announcement_of_a_meeting_call_or_exchange(
    title: str, lead: str, kind: str | None, ahead: bool
) -> None:
    found = record(title, lead, None)
    assert (found.kind, found.announced) == (kind, ahead)


def test_the_sides_the_head_names_first_and_all() -> None:
    found = record("Umierow rozmawiał w Rijadzie z Rubio", "Ukraina chce znać ustalenia z Rosjanami.", None)
    assert (found.party, found.parties) == ("ua", frozenset({"ua", "ru"}))
    assert record("Witkoff uda się do Moskwy", "", None).party == "ru"
    assert record("Plan pokojowy Kremla", "", None).party is None  # only for meetings, calls and exchanges


def test_the_new_parts_of_the_record_travel_in_the_vector() -> None:
    event = Event("meeting", "us", frozenset(), True, "ru/moskwa", "ru", frozenset({"ru", "ua"}))
    assert from_tokens(event.tokens()) == event
    found = _features(MONDAY, "Witkoff uda się do Moskwy w czwartek")
    assert found.event.place == "ru/moskwa" and found.event.announced
    # an announcement is listed under its people; a report looks them up, a plan does not
    assert {"#a:putin", "#a:witkoff"} <= set(member(1, ("a", "1"), found).seeds)
    report = _features(MONDAY, "Witkoff spotkał się z Putinem w Moskwie")
    assert member(2, ("b", "2"), report).asks == ("#a:putin", "#a:witkoff")
    assert not {"#a:putin", "#a:witkoff"} & set(member(2, ("b", "2"), report).seeds)
    assert member(3, ("c", "3"), _features(MONDAY, "Plan Witkoffa i Putina")).asks == ()


def test_a_report_on_the_announced_day_at_the_announced_place_joins() -> None:
    story = story_of_features(_features(MONDAY, "Witkoff spotka się z Putinem w Moskwie w czwartek"))
    thursday = MONDAY + timedelta(days=3, hours=12)
    report = _features(thursday, "Witkoff na Kremlu. Spotkał się z Putinem")
    assert meets_announced(report, story)
    assert choose(report, [story]).story == story.id
    # ... or up to two days after it; not four
    assert meets_announced(
        _features(thursday + timedelta(days=2), "Witkoff spotkał się z Putinem w Moskwie"), story
    )
    assert not meets_announced(
        _features(thursday + timedelta(days=4), "Witkoff spotkał się z Putinem w Moskwie"), story
    )


@pytest.mark.parametrize(
    ("title", "people"),
    [
        ("Witkoff w Kairze. Spotkał się z mediatorami", ("witkoff",)),  # another place: Gaza
        ("Witkoff spotkał się z Putinem w Petersburgu", ("witkoff", "putin")),  # another city
        ("Umierow spotkał się z Witkoffem w Moskwie", ("umierow",)),  # another side, no one of theirs
        ("Rozmowy na Kremlu zakończone", ()),  # no one of the people
    ],
)
def test_a_report_of_another_meeting_does_not_meet_the_announcement(
    title: str, people: tuple[str, ...]
) -> None:
    story = story_of_features(_features(MONDAY, "Witkoff spotka się z Putinem w Moskwie w czwartek"))
    assert not meets_announced(_features(MONDAY + timedelta(days=3, hours=12), title, "", people), story)


def test_a_second_announcement_must_name_a_day_near_theirs() -> None:
    story = story_of_features(_features(MONDAY, "Witkoff spotka się z Putinem w Moskwie w czwartek"))
    tuesday = MONDAY + timedelta(days=1)
    assert meets_announced(_features(tuesday, "Witkoff poleci do Moskwy w czwartek"), story)
    assert not meets_announced(_features(tuesday, "Witkoff poleci do Moskwy 19 marca"), story)


def test_without_a_day_the_announcement_waits_a_week() -> None:
    # (no day and no period: "w przyszłym tygodniu" waits to the end of that week, tests/test_story_legs.py)
    story = story_of_features(_features(MONDAY, "Putin przyjmie Witkoffa w Moskwie wkrótce"))
    report = "Witkoff spotkał się z Putinem w Moskwie"
    assert meets_announced(_features(MONDAY + timedelta(days=6), report), story)
    assert not meets_announced(_features(MONDAY + timedelta(days=8), report), story)
    assert story.open_until == MONDAY + clusters.AHEAD


def test_an_announcement_naming_a_day_stays_open_past_a_week_for_it() -> None:
    story = story_of_features(_features(MONDAY, "Rozmowy w Stambule odbędą się 18 marca", "", ("umierow",)))
    assert story.open_until > MONDAY + clusters.AHEAD  # to the end of 20 March
    report = _features(
        datetime(2026, 3, 18, 18, tzinfo=UTC), "Rozmowy w Stambule zakończone", "", ("umierow",)
    )
    assert meets_announced(report, story)
    assert choose(report, [story]).story == story.id


def test_a_meeting_at_the_same_place_with_the_other_side_is_another_meeting() -> None:
    story = story_of_features(
        _features(MONDAY, "Rubio i Ławrow spotkali się w Rijadzie", "", ("rubio", "lawrow", "uszakow")),
    )
    ukrainians = _features(
        MONDAY + timedelta(days=1), "Umierow rozmawiał w Rijadzie z Rubio", "", ("umierow", "rubio")
    )
    russians = _features(
        MONDAY + timedelta(days=1), "Ławrow po rozmowach w Rijadzie", "", ("lawrow", "rubio")
    )
    assert other_side(ukrainians, story) and not other_side(russians, story)
