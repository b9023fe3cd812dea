"""Announcements and reports as the portals write them around a meeting (issue #17, the fourteenth batch): the
media's conditional (*rozmowy miałyby się odbyć*, *delegacje mogą spotkać się w środę*) announces; a title of one
actor received by another (*Zełenski u Trumpa*) names a meeting whatever came of it; and one side of a round of
both, at its place the next day with none of its people, is another meeting; and a report naming the mediator's
country (*przywódcy USA i Rosji*) for the American of the announcement meets it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _story_helpers import story_of_features

from monitor.archive.clusters import features, meets_announced
from monitor.archive.story_events import from_tokens, record

PEOPLE = {"driscoll": 1, "umierow": 1, "dmitrijew": 1, "witkoff": 1, "trump": 1, "putin": 1, "uszakow": 1}
FRIDAY = datetime(2027, 11, 12, 10, tzinfo=UTC)


def _features(at: datetime, title: str, lead: str = "", people: tuple[str, ...] = ()):
    hits = {name: PEOPLE[name] for name in people}
    return features(at, title, lead, None, hits, (), None, hits)


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        ("Kolejna runda rozmów w Emiratach? Media: delegacje mogą spotkać się w środę", "", True),
        ("Rozmowy w Abu Zabi?", "Według agencji rozmowy delegacji miałyby się odbyć w środę.", True),
        ("Rozmowy w Abu Zabi?", "Przedstawiciele Rosji i Ukrainy mieliby usiąść do stołu w środę.", True),
        # what a round done may bring is no announcement of it
        ("Rozmowy w Abu Zabi", "Ich wynik może przesądzić o rozejmie.", False),
        ("Rozmowy w Abu Zabi zakończone. Porozumienie może być blisko", "", False),
    ],
)
def test_the_media_conditional_announces(title: str, lead: str, ahead: bool) -> None:
    found = record(title, lead, None)
    assert (found.kind, found.announced) == ("meeting", ahead)


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Zełenski u Trumpa. „Gwarancje na piętnaście lat”", "meeting"),
        ("Witkoff i Kushner u Putina. Amerykańska oferta gwarancji", "meeting"),
        ("Gwarancje bezpieczeństwa u progu porozumienia", "plan"),  # no actor received
    ],
)
def test_a_title_of_an_actor_received_by_another_names_a_meeting(title: str, kind: str) -> None:
    assert record(title, "", None).kind == kind


def test_one_side_of_a_round_of_both_with_none_of_its_people_is_another_meeting() -> None:
    story = story_of_features(
        _features(FRIDAY, "Delegacje Rosji i Ukrainy spotkają się w środę w Abu Zabi", people=("driscoll",))
    )
    wednesday = FRIDAY + timedelta(days=5, hours=10)
    # the round's report, naming both sides and none of the announcement's people
    assert meets_announced(_features(wednesday, "Rozmowy Rosji i Ukrainy w Abu Zabi zakończone"), story)
    # the Russian envoy with the American one in the same city the next day
    other = _features(
        wednesday + timedelta(days=1),
        "Dmitrijew i Witkoff w Abu Zabi. Rozmowy o interesach",
        people=("dmitrijew", "witkoff"),
    )
    assert not meets_announced(other, story)


CALLED = ("Putin zgodził się na rozmowy o rozejmie. Ponad dwie godziny przy telefonie",)


def test_a_report_naming_the_mediators_country_for_its_american_meets_the_announcement() -> None:
    found = record(*CALLED, "Przywódcy USA i Rosji rozmawiali w poniedziałek po południu.", None)
    assert found.kind == "call" and found.mediator and from_tokens(found.tokens()) == found
    saturday = datetime(2027, 11, 27, 18, tzinfo=UTC)
    story = story_of_features(
        _features(saturday, "Trump: w poniedziałek porozmawiam z Putinem", people=("trump", "putin"))
    )
    monday = saturday + timedelta(days=2, hours=1)
    report = _features(
        monday, *CALLED, "Przywódcy USA i Rosji rozmawiali w poniedziałek po południu.", ("putin", "uszakow")
    )
    assert meets_announced(report, story)
    # without the USA, Putin alone is one of the two people a report with no place needs
    alone = _features(
        monday, *CALLED, "Przywódcy rozmawiali w poniedziałek po południu.", ("putin", "uszakow")
    )
    assert not alone.event.mediator and not meets_announced(alone, story)
