"""One event told over several days (issue #17): a visit with legs in two capitals, a meeting announced for next
week, the other side's answer two days after (monitor/archive/story_legs.py and clusters.py); each rule on its
own, on texts written as portals write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _story_helpers import story_of_features

from monitor.archive.clusters import (
    JOIN,
    answers,
    choose,
    features,
    meets_announced,
    other_side,
    score,
)
from monitor.archive.story_events import from_tokens, record
from monitor.archive.story_legs import week_end
from monitor.archive.story_tense import tense

PEOPLE = {"witkoff": 1, "putin": 1, "umierow": 1, "rubio": 1, "lawrow": 1, "uszakow": 1, "pieskow": 1}
PEOPLE.update({"zelenski": 1, "dmitrijew": 1, "kushner": 1})
THURSDAY = datetime(2026, 9, 17, 13, tzinfo=UTC)


def _features(
    at: datetime, title: str, lead: str = "", people: tuple[str, ...] = (), text: str | None = None
):
    hits = {name: PEOPLE[name] for name in people}
    return features(at, title, lead, text, hits, (), None, hits)


# --- the next leg of a visit ----------------------------------------------------------------------------------

KYIV = (
    "Afrykańska misja pokojowa w Kijowie. Podczas wizyty zawyły syreny",
    "Przywódcy siedmiu państw przyjechali do Ukrainy z misją pokojową. W sobotę mają spotkać się z Władimirem "
    "Putinem w Petersburgu.",
)
FRIDAY = datetime(2023, 6, 16, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "lead", "leg"),
    [
        (*KYIV, "ru/petersburg"),
        (
            "Wysłannik papieża w Kijowie",
            "Kardynał rozmawiał z Zełenskim. W środę ma się spotkać w Moskwie z Ławrowem.",
            "ru/moskwa",
        ),
        (
            "Witkoff na Kremlu. Cztery godziny z Putinem",
            "Wysłannik rozmawiał z Putinem do nocy. Z Moskwy poleci w piątek do Kijowa.",
            "ua/kijow",
        ),
        (
            "Misja Watykanu w Kijowie",
            "Kardynał rozmawiał z Zełenskim. Następnie uda się do Moskwy.",
            "ru/moskwa",
        ),
        (
            "Chiński wysłannik w Moskwie",
            "Li Hui rozmawiał z Ławrowem. W piątek pojedzie do Kijowa.",
            "ua/kijow",
        ),
        # an envoy flying on to talks elsewhere, the next round of the same talks: other events; the same place
        (
            "Witkoff na Kremlu. Cztery godziny z Putinem",
            "Wysłannik rozmawiał z Putinem do nocy. Z Moskwy poleci w piątek do Abu Zabi.",
            None,
        ),
        ("Rozmowy w Rijadzie zakończone", "W czwartek Witkoff ma polecieć do Moskwy.", None),
        ("Rozmowy w Genewie zakończone", "Kolejna runda ma się odbyć w Waszyngtonie.", None),
        ("Rozmowy w Genewie zakończone", "Delegacje mają spotkać się ponownie w Stambule.", None),
        ("Rozmowy w Genewie zakończone", "W czwartek delegacje mają spotkać się znów w Genewie.", None),
        # an announcement has no leg: it is the event to come
        ("Witkoff poleci do Moskwy. Potem uda się do Abu Zabi", "", None),
    ],
)
def test_the_next_leg_a_report_announces(title: str, lead: str, leg: str | None) -> None:
    found = record(title, lead, None)
    assert found.leg == leg
    assert from_tokens(found.tokens()) == found


def test_the_second_leg_of_a_visit_is_of_its_story() -> None:
    kyiv = _features(FRIDAY, *KYIV, people=("putin",))
    story = story_of_features(kyiv)
    saturday = FRIDAY + timedelta(days=1, hours=6)
    # an agency item: the first sentence is its head
    text = (
        "Przywódcy państw afrykańskich rozmawiali z Władimirem Putinem w Petersburgu o swojej misji pokojowej. "
        "Putin przez godzinę przekonywał gości."
    )
    petersburg = _features(saturday, "", "", ("putin",), text)
    assert petersburg.event.place == "ru/petersburg" and petersburg.event.kind == "meeting"
    assert meets_announced(petersburg, story)
    found = score(petersburg, story)
    assert not found.venue_conflict  # the leg's place is one of the story's places
    # without the leg the report of Petersburg is elsewhere than the story of Kyiv
    plain = story_of_features(_features(FRIDAY, KYIV[0], KYIV[1].split(". ")[0] + ".", ("putin",)))
    assert plain.ahead.last is None and not meets_announced(petersburg, plain)
    assert score(petersburg, plain).venue_conflict
    assert found.value - score(petersburg, plain).value >= 0.3
    # a meeting in Petersburg a week later is another
    later = _features(FRIDAY + timedelta(days=7), "", "", ("putin",), text)
    assert not meets_announced(later, story)


# --- a meeting announced for next week ------------------------------------------------------------------------


def test_next_week_ends_on_the_sunday_of_the_week_after() -> None:
    sunday = datetime(2026, 9, 27).date().toordinal()
    for day in range(14, 21):  # Monday 14 to Sunday 20 September 2026
        assert week_end(datetime(2026, 9, day).date()) == sunday


@pytest.mark.parametrize(
    ("title", "lead", "place"),
    [
        ("Rubio i Ławrow spotkają się w przyszłym tygodniu. Gospodarzem Arabia Saudyjska", "", "sa"),
        ("Witkoff i Uszakow spotkają się w przyszłym tygodniu. Gospodarzem rozmów emir Kataru", "", "qa"),
        ("Ministrowie spotkają się w następnym tygodniu. Gospodarzem spotkania będzie Turcja", "", "tr"),
        # a host of something else, or no host
        ("Rubio i Ławrow spotkają się w przyszłym tygodniu", "", None),
    ],
)
def test_a_host_places_the_meeting(title: str, lead: str, place: str | None) -> None:
    found = record(title, lead, None)
    assert found.place == place and found.week and found.announced


ANNOUNCED = "Rubio i Ławrow spotkają się w przyszłym tygodniu. Gospodarzem Arabia Saudyjska"
REPORT = "Cztery godziny w Rijadzie. Ławrow: Amerykanie nas usłyszeli"
UNDER = "Szef rosyjskiej dyplomacji rozmawiał w piątek z sekretarzem stanu USA w pałacu Diriyah."


def test_a_meeting_announced_for_next_week_waits_to_its_end() -> None:
    story = story_of_features(_features(THURSDAY, ANNOUNCED, "", ("rubio", "lawrow")))
    eight_days = THURSDAY + timedelta(days=8, hours=6)  # Friday of the next week
    report = _features(eight_days, REPORT, UNDER, ("rubio", "lawrow"))
    assert story.open_at(eight_days) and meets_announced(report, story)
    assert choose(report, [story]).story == story.id
    # beyond the week (and two days), at another place, or with one of the two: not the meeting announced
    assert not story.open_at(THURSDAY + timedelta(days=13))
    assert not meets_announced(
        _features(THURSDAY + timedelta(days=13), REPORT, UNDER, ("rubio", "lawrow")), story
    )
    elsewhere = _features(
        eight_days, "Cztery godziny w Stambule", "Ministrowie rozmawiali.", ("rubio", "lawrow")
    )
    assert not meets_announced(elsewhere, story)
    assert not meets_announced(_features(eight_days, REPORT, UNDER, ("rubio",)), story)


def test_next_week_with_no_place_still_waits_a_week() -> None:
    story = story_of_features(
        _features(THURSDAY, "Rubio i Ławrow spotkają się w przyszłym tygodniu", "", ("rubio", "lawrow"))
    )
    report = _features(THURSDAY + timedelta(days=8, hours=6), REPORT, UNDER, ("rubio", "lawrow"))
    assert not meets_announced(report, story)
    assert meets_announced(_features(THURSDAY + timedelta(days=6), REPORT, UNDER, ("rubio", "lawrow")), story)


# --- the other side's answer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "ahead"),
    [
        ("pieskow: nie bedziemy rozmawiac jezykiem grozb", 0),
        ("rosja nie przyjmie warunkow postawionych w kijowie", 0),
        ("putin przyjmie witkoffa w przyszlym tygodniu", 1),
        ("trojstronne spotkanie rozpocznie sie w poniedzialek", 1),  # "spotkanie" is no "nie"
    ],
)
def test_a_form_denied_announces_nothing(sentence: str, ahead: int) -> None:
    assert tense(sentence) == ahead


LEADERS = (
    "Merz, Macron i Tusk w Kijowie. Żądają od Moskwy 30-dniowego rozejmu",
    "Przywódcy Niemiec, Francji i Polski przyjechali do Kijowa. Razem z Zełenskim dali Rosji czas do poniedziałku.",
)
ANSWER = (
    "Kreml odpowiada na ultimatum. Pieskow: nie będziemy rozmawiać językiem gróźb",
    "Rzecznik Kremla odrzucił wezwanie do rozejmu.",
    "Pieskow mówił dziennikarzom o rozejmie. To odpowiedź na żądanie, które w sobotę w Kijowie postawili Rosji "
    "przywódcy Niemiec, Francji i Polski.",
)
SATURDAY = datetime(2027, 9, 18, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "lead", "text", "where"),
    [
        (*ANSWER, "ua/kijow"),
        (
            "",
            "",
            "Rosja nie przyjmie warunków postawionych w sobotę w Kijowie przez przywódców Europy.",
            "ua/kijow",
        ),
        (
            "Kreml: odpowiedź na amerykańskie propozycje po konsultacjach z prezydentem",
            "",
            "Dmitrijew wrócił w niedzielę z Miami, gdzie rozmawiał z Amerykanami.",
            "us/floryda",
        ),
        # no answer, or an answer naming no place
        ("Pieskow mówił dziennikarzom w Moskwie", "", "Dmitrijew wrócił w niedzielę z Miami.", None),
        ("Kreml odpowiada na nowe sankcje USA", "", None, None),
    ],
)
def test_the_place_an_answer_is_to(title: str, lead: str, text: str | None, where: str | None) -> None:
    found = record(title, lead, text)
    assert found.answers == where
    assert from_tokens(found.tokens()) == found


def test_the_other_sides_answer_is_of_the_story_it_answers() -> None:
    story = story_of_features(_features(SATURDAY, *LEADERS, ("zelenski",)))
    monday = SATURDAY + timedelta(days=2)
    answer = _features(monday, *ANSWER[:2], ("pieskow",), ANSWER[2])
    assert answer.event.party == "ru" and not answer.event.announced
    assert answers(answer, story)
    assert choose(answer, [story]).story == story.id
    # the same words with no answer to a place are not lifted
    plain = _features(monday, *ANSWER[:2], ("pieskow",), "Pieskow mówił dziennikarzom o rozejmie.")
    assert not answers(plain, story)
    assert score(plain, story).value < JOIN
    assert score(answer, story).value - score(plain, story).value >= 0.19


def test_an_answer_by_a_side_the_story_does_not_name_is_not_of_it() -> None:
    # the Ukrainians' talks in Miami, whose heads name only Ukraine: the Kremlin's answer to its envoy's talks
    # there the same days is not of them
    ukrainians = _features(
        SATURDAY,
        "Umierow i Witkoff w Miami",
        "Ukraiński negocjator rozmawiał z Amerykanami.",
        ("umierow", "witkoff"),
    )
    story = story_of_features(ukrainians)
    kremlin = _features(
        SATURDAY + timedelta(days=1),
        "Kreml: odpowiedź na amerykańskie propozycje po konsultacjach z prezydentem",
        "",
        ("dmitrijew",),
        "Dmitrijew wrócił w niedzielę z Miami, gdzie rozmawiał z Amerykanami.",
    )
    assert kremlin.event.answers == "us/floryda" and kremlin.event.party == "ru"
    assert not answers(kremlin, story)


def test_the_sides_of_a_story_of_meetings_are_those_its_heads_name() -> None:
    # Dmitriev named in passing in the Ukrainians' story: a report of the Russians' talks at the same place is
    # still of the other side
    lead = "Ukraiński negocjator rozmawiał z Amerykanami. Dzień wcześniej był tu Dmitrijew."
    story = story_of_features(
        _features(SATURDAY, "Umierow i Witkoff w Miami", lead, ("umierow", "witkoff", "dmitrijew"))
    )
    assert story.sides.keys() == {"ua", "ru"} and story.heads.keys() == {"ua"}
    russians = _features(
        SATURDAY + timedelta(hours=20),
        "Rosyjska delegacja zakończyła rozmowy w Miami",
        "",
        ("dmitrijew", "witkoff", "kushner"),
    )
    assert other_side(russians, story)
    ukrainians = _features(SATURDAY + timedelta(hours=20), "Umierow po rozmowach w Miami", "", ("umierow",))
    assert not other_side(ukrainians, story)


def test_a_third_partys_answer_is_a_story_of_its_own() -> None:
    story = story_of_features(_features(SATURDAY, *LEADERS, ("zelenski",)))
    warsaw = _features(
        SATURDAY + timedelta(days=2),
        "Sikorski: to odpowiedź na żądanie postawione w Kijowie",
        ANSWER[1],
        ("pieskow",),
        ANSWER[2],
    )
    assert warsaw.event.answers == "ua/kijow" and warsaw.event.speaker == "pl"
    assert not answers(warsaw, story)
