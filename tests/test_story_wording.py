"""How Polish portals word one event before and after it (issue #17): the announcement read from a title that
speaks in the first person or names an accepted invitation, the place named as a country's capital, the weekday
of an announcement read forward, a day named by its adjective ("jutrzejsza wizyta"), a date two weeks ahead, and a
side of the war standing for the people at a third country's venue (monitor/archive/story_events.py,
story_features.py, story_relations.meets_announced)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.archive.clusters import Member, StoryState, features, meets_announced, member
from monitor.archive.story_events import record
from monitor.archive.story_features import event_dates

THURSDAY = datetime(2026, 8, 13, 17, tzinfo=UTC)  # 19:00 in Warsaw


def _day(iso: str) -> int:
    return date.fromisoformat(iso).toordinal()


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        (
            "Trump: spotkam się z Putinem w Budapeszcie",
            "Prezydent ogłosił po rozmowie z Orbánem, że szczyt odbędzie się 14 lipca.",
            True,
        ),
        ("Kreml potwierdza: Putin przyjął zaproszenie na Węgry", "Przygotowania do spotkania trwają.", True),
        ("Dmitrijew w drodze do Miami", "Ma rozmawiać z Witkoffem.", True),
        # a title announcing over a lead that only reports: a call held, its next one wished for
        ("Trump: spotkamy się wkrótce", "Prezydenci rozmawiali przez telefon ponad godzinę.", False),
        ("Putin przyjął Witkoffa na Kremlu", "Rozmowa trwała pięć godzin.", False),
        ("Rozmowy w Budapeszcie zakończone", "Spotkają się znowu za miesiąc.", False),
    ],
)
def test_an_announcement_in_the_portals_words(title: str, lead: str, ahead: bool) -> None:
    assert record(title, lead, None).announced is ahead


@pytest.mark.parametrize(
    ("title", "place"),
    [
        ("Szczyt w stolicy Węgier", "hu"),
        ("Rozmowy w stolicy Kataru zakończone", "qa"),
        ("Putin przyjmie zaproszenie na Węgry", "hu"),
        ("Delegacje spotkają się w Wiedniu", "at/wieden"),
    ],
)
def test_a_place_named_by_its_capital_or_country(title: str, place: str) -> None:
    assert record(title, "", None).place == place


def test_the_weekday_of_an_announcement_is_the_next_one() -> None:
    published = THURSDAY.date()
    text = "Zełenski w poniedziałek w Białym Domu"
    assert event_dates(text, published, announced=True) == {_day("2026-08-17")}
    assert event_dates(text, published) == {_day("2026-08-10")}  # the nearest, as before
    # a sentence of the announcement that reports keeps the past
    assert event_dates("Delegacje spotkały się w poniedziałek", published, announced=True) == {
        _day("2026-08-10")
    }
    # the adjective of a day, and a day two weeks ahead only in an announcement
    assert event_dates("Jutrzejsza wizyta prezydenta", published) == {_day("2026-08-14")}
    assert event_dates("Szczyt 27 sierpnia", published, announced=True) == {_day("2026-08-27")}
    assert event_dates("Szczyt 27 sierpnia", published) == frozenset()


def _member(n: int, at: datetime, title: str, lead: str, people: tuple[str, ...]) -> Member:
    hits = dict.fromkeys(people, 1)
    return member(n, (at.isoformat(), str(n)), features(at, title, lead, None, hits, (), None, hits))


def test_a_side_named_at_a_third_country_venue_stands_for_the_people() -> None:
    story = StoryState(
        _member(
            1,
            THURSDAY,
            "Trump: spotkam się z Putinem w Budapeszcie",
            "Szczyt odbędzie się w poniedziałek.",
            ("putin",),
        )
    )
    later = THURSDAY + timedelta(hours=3)
    confirmed = _member(
        2, later, "Kreml: Putin przyjął zaproszenie do Budapesztu", "Spotkanie w poniedziałek.", ("pieskow",)
    )
    assert confirmed.features.event.announced and meets_announced(confirmed.features, story)
    # in Moscow the place names the Russian side already: no one of the people, no meeting
    moscow = StoryState(
        _member(1, THURSDAY, "Witkoff spotka się z Putinem w Moskwie", "W poniedziałek.", ("putin",))
    )
    other = _member(
        2, later, "Kreml: Putin przyjmie gościa w Moskwie", "Spotkanie w poniedziałek.", ("pieskow",)
    )
    assert not meets_announced(other.features, moscow)


def test_the_people_the_head_names_count_whether_or_not_a_rule_matched_them() -> None:
    from monitor.archive.story_features import people_in

    persons = ("putin", "pieskow", "lawrow", "indie_modi")
    found = features(
        THURSDAY, "Kreml: Putin przyjął zaproszenie", "Tak powiedział Pieskow.", None, {}, (), None, persons
    )
    assert found.people == {"putin", "pieskow"}
    assert people_in(found.vector, persons) == found.people  # read back from the stored vector
    # a name further down the body is not the head's
    body = " ".join(["słowo"] * 80) + " Ławrow"
    assert features(THURSDAY, "Rozmowy", "", body, {}, (), None, persons).people == frozenset()


def test_a_story_of_announcements_waits_for_its_report_whatever_else_joins_it() -> None:
    from monitor.archive.clusters import WINDOW

    announced = _member(
        1, THURSDAY, "Trump: spotkam się z Putinem w Budapeszcie", "Szczyt w poniedziałek.", ("putin",)
    )
    story = StoryState(announced)
    until = story.open_until
    assert until > THURSDAY + WINDOW
    # a comment on it (no meeting held) keeps it waiting; the report of the meeting closes the wait
    story.add(_member(2, THURSDAY + timedelta(hours=5), "Węgry chcą być gospodarzem", "Orbán o planie.", ()))
    assert story.open_until == until
    report = _member(
        3,
        THURSDAY + timedelta(days=4),
        "Trump i Putin rozmawiali w Budapeszcie",
        "Bez porozumienia.",
        ("putin",),
    )
    story.add(report)
    assert story.open_until == report.features.at + WINDOW


# --- the fifth batch's wordings: a date in figures, a venue named by its building, a meeting told by its result


def test_a_date_written_in_figures_is_a_day_but_a_time_or_an_amount_is_not() -> None:
    published = date(2026, 10, 13)
    assert event_dates("Rozmowy rozpoczną się 15.10 o godz. 10", published) == {_day("2026-10-15")}
    assert event_dates("Spotkanie 16.10.2026 w Stambule", published) == {_day("2026-10-16")}
    assert event_dates("Rozmowy rozpoczną się o godz. 15.10", published) == frozenset()
    assert event_dates("Obrady od 9.30 do 11.00, bilet 2.50 zł", published) == frozenset()
    assert event_dates("Inflacja wzrosła o 1.10 proc.", published) == frozenset()
    assert event_dates("Szczyt 31.02", published) == frozenset()  # no such day
    # a day an event is set for: "na czwartek", "na przyszły wtorek"
    assert event_dates("Spotkanie zaplanowano na czwartek", published) == {_day("2026-10-15")}
    assert event_dates("Wizyta planowana jest na przyszły wtorek", published) == {_day("2026-10-20")}


@pytest.mark.parametrize(
    ("title", "place"),
    [
        ("Rozmowy ma się odbyć w czwartek w pałacu Dolmabahçe", "tr/stambul"),
        ("Kolejna runda rozmów nad Bosforem", "tr/stambul"),
        ("Trump przyjmie Zełenskiego w rezydencji Mar-a-Lago", "us/floryda"),
        ("Spotkanie w Pałacu Konstantynowskim", "ru/petersburg"),
        ("Szczyt w Pałacu Elizejskim", "fr/paryz"),
        ("Rozmowy w Camp David", "us"),
    ],
)
def test_a_venue_named_by_its_building_or_its_water_places_the_meeting(title: str, place: str) -> None:
    assert record(title, "", None).place == place


@pytest.mark.parametrize(
    ("title", "lead", "kind"),
    [
        # a plan revealed the day after a meeting (the attribution after a dash) is the meeting's report
        (
            "Gwarancje na 15 lat. Tyle Waszyngton obiecał Kijowowi",
            "Stany Zjednoczone są gotowe dać Ukrainie gwarancje – ujawnił Zełenski dzień po rozmowie z Trumpem.",
            "meeting",
        ),
        ("Dokument gotowy", "Strony ogłosiły go po dwudniowym spotkaniu w Genewie.", "meeting"),
        # a plan with no meeting behind it stays a plan, and a call stays a call
        ("Gwarancje na 15 lat", "Stany Zjednoczone są gotowe dać Ukrainie gwarancje.", "plan"),
        ("Trump zadzwonił do Putina", "Rozmawiali dwa dni po spotkaniu z Zełenskim.", "call"),
    ],
)
def test_a_meeting_told_by_its_result_is_the_meeting(title: str, lead: str, kind: str) -> None:
    assert record(title, lead, None).kind == kind


def test_a_country_in_the_dative_is_the_addressee_not_the_owner() -> None:
    from monitor.archive.story_events import objects, sentences

    assert objects(sentences("Stany Zjednoczone są gotowe zapewnić Ukrainie gwarancje bezpieczeństwa")) == []
    assert objects(sentences("Ukraińska propozycja trafiła do Waszyngtonu")) == ["doc:ua"]


@pytest.mark.parametrize(
    ("title", "place"),
    [
        ("Kolejna runda w Abu Dhabi", "ae/abu-zabi"),
        ("Delegacje przybędą na rozmowy do Zjednoczonych Emiratów Arabskich", "ae"),
        ("Rozmowy w Istambule", "tr/stambul"),
        ("Spotkanie w Riadzie", "sa/rijad"),
        ("Rozmowy delegacji w Dżeddzie", "sa/dzudda"),
    ],
)
def test_a_place_as_portals_spell_it(title: str, place: str) -> None:
    assert record(title, "", None).place == place


def test_a_call_of_the_other_side_is_another_call() -> None:
    from monitor.archive.clusters import other_side

    call = _member(
        1,
        THURSDAY,
        "Trump i Putin rozmawiali przez telefon",
        "Rozmowa telefoniczna trwała dwie godziny.",
        ("trump", "putin"),
    )
    story = StoryState(call)
    later = THURSDAY + timedelta(hours=20)
    zelenski = _member(
        2,
        later,
        "Zełenski rozmawiał telefonicznie z Trumpem",
        "Dzień po rozmowie Trumpa z Putinem.",
        ("zelenski", "trump", "putin"),
    )
    assert zelenski.features.event.kind == "call" and other_side(zelenski.features, story)
    kremlin = _member(
        3,
        later,
        "Kreml: rozmowa telefoniczna Putina z Trumpem była szczera",
        "Tak ocenił Uszakow.",
        ("putin", "uszakow"),
    )
    assert not other_side(kremlin.features, story)
    # a meeting elsewhere is not the call's other side
    meeting = _member(4, later, "Zełenski spotkał się z Trumpem", "W Białym Domu.", ("zelenski", "trump"))
    assert not other_side(meeting.features, story)


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        ("Witkoff zostanie przyjęty przez Putina", "Spotkanie w Moskwie.", True),
        ("Szykuje się kolejna runda rozmów", "Delegacje przybędą w środę.", True),
        ("Wymiana jeńców nastąpi w ciągu kilku dni", "Listy są uzgodnione.", True),
        ("Spodziewana wizyta Witkoffa w Moskwie", "Kreml czeka na gościa.", True),
        ("Rozmowy na początku przyszłego tygodnia", "Tak podaje Reuters.", True),
        # a report in other words than "spotkali się"
        ("Putin gościł Witkoffa na Kremlu", "Kolejne spotkanie ma się odbyć w styczniu.", False),
        ("Pierwszy dzień rozmów za nami", "Delegacje mają wrócić do stołu we wtorek.", False),
        ("Wojskowi obradowali osiem godzin", "Kolejna runda odbędzie się za tydzień.", False),
        ("Spotkanie było konstruktywne", "Kolejne odbędzie się w przyszłym tygodniu.", False),
    ],
)
def test_an_announcement_or_a_report_in_other_words(title: str, lead: str, ahead: bool) -> None:
    assert record(title, lead, None).announced is ahead


def test_a_side_both_heads_name_stands_for_the_other_party_of_the_one_person_shared() -> None:
    monday = THURSDAY - timedelta(days=3)
    visit = StoryState(
        _member(
            1,
            monday,
            "Zełenski spotka się z Trumpem w czwartek w Białym Domu",
            "Tak zapowiada Kijów.",
            ("zelenski", "trump"),
        )
    )
    summary = _member(
        2,
        THURSDAY + timedelta(hours=4),
        "Biały Dom: rozmowa była szczera i produktywna",
        "Rzeczniczka podsumowała czwartkowe spotkanie prezydentów USA i Ukrainy.",
        ("trump",),
    )
    assert meets_announced(summary.features, visit)
    # the one person shared does not stand for himself: Putin with someone else is not Putin with the envoy
    envoy = StoryState(
        _member(
            1, monday, "Witkoff spotka się z Putinem w czwartek", "Tak zapowiada Kreml.", ("witkoff", "putin")
        )
    )
    other = _member(
        2,
        THURSDAY + timedelta(hours=4),
        "Putin rozmawiał z Orbánem",
        "Prezydenci Rosji i Węgier o gazie.",
        ("putin", "orban"),
    )
    assert other.features.event.kind == "meeting" and not meets_announced(other.features, envoy)


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        # the compound future is made of a past form: "będę rozmawiał" is to come
        ("Trump: we wtorek będę rozmawiał z Putinem", "Tak powiedział prezydent.", True),
        ("Trump i Putin będą rozmawiali w czwartek", "Kreml potwierdza.", True),
        ("Trump rozmawiał z Putinem", "Będzie kolejna rozmowa.", False),
        ("Putin zgodził się na spotkanie z Zełenskim", "Tak twierdzi Erdogan.", True),
        ("Witkoff przylatuje do Moskwy na rozmowy", "Kreml potwierdza.", True),
    ],
)
def test_an_event_to_come_in_the_compound_future_or_the_present(title: str, lead: str, ahead: bool) -> None:
    assert record(title, lead, None).announced is ahead


def test_a_postponement_names_the_new_day_of_the_same_meeting() -> None:
    monday = THURSDAY - timedelta(days=3)
    first = _member(
        1, monday, "Delegacje Rosji i Ukrainy spotkają się w czwartek w Dosze", "Tak podał Katar.", ()
    )
    story = StoryState(first)
    moved = _member(
        2,
        monday + timedelta(days=2),
        "Rozmowy w Dosze przełożone na poniedziałek",
        "Spotkanie delegacji Rosji i Ukrainy odbędzie się później, niż planowano.",
        (),
    )
    assert moved.features.event.moved and meets_announced(moved.features, story)
    # another announcement in the same city for another day is not this meeting
    other = _member(
        2,
        monday + timedelta(days=2),
        "Delegacje Rosji i Ukrainy spotkają się w Dosze w poniedziałek",
        "Tak podał Katar.",
        (),
    )
    assert not other.features.event.moved and not meets_announced(other.features, story)


def test_a_meeting_announced_in_person_is_not_held_by_phone() -> None:
    from monitor.archive.story_events import Event, from_tokens

    people = ("rubio", "lawrow")
    call = _member(
        2, THURSDAY, "Ławrow rozmawiał telefonicznie z Rubio", "Rozmowa telefoniczna trwała godzinę.", people
    )
    monday = THURSDAY - timedelta(days=3)
    meeting = StoryState(
        _member(1, monday, "Rubio i Ławrow spotkają się w przyszłym tygodniu", "W Rijadzie.", people)
    )
    talk = StoryState(
        _member(1, monday, "Rubio i Ławrow porozmawiają w przyszłym tygodniu", "Tak podał Kreml.", people)
    )
    assert meeting.members[0].features.event.in_person and not meets_announced(call.features, meeting)
    assert meets_announced(call.features, talk)  # a talk announced may be held by phone
    event = Event("meeting", "us", frozenset(), True, "sa/rijad", "ru", frozenset({"ru"}), True, True)
    assert from_tokens(event.tokens()) == event
