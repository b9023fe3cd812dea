"""An event told after it by what came of it, and a report's head that names the next meeting (issue #17): the
eighth written batch's wordings (monitor/archive/story_events.py, story_places.py, story_relations.meets_announced).

- a meeting or call behind the news, however many words stand between *po* and it (*po trwającej ponad dwie
  godziny rozmowie przywódców*, *po ośmiu godzinach rozmów*), but not a recollection (*po raz pierwszy od
  rozmów*);
- an exchange of prisoners *agreed* (*uzgodniliśmy wymianę*) is what came of the talks, not the exchange;
- the place of the next meeting in a report's head (*Następna runda w Waszyngtonie*) is not the reported one's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.archive.clusters import JOIN, Member, StoryState, features, meets_announced, member, score
from monitor.archive.story_events import record

FRIDAY = datetime(2027, 2, 12, 15, tzinfo=UTC)  # 16:00 in Warsaw


@pytest.mark.parametrize(
    ("title", "lead", "kind"),
    [
        (
            "Putin zgodził się wstrzymać ataki na elektrownie. Komunikat Kremla",
            "Prezydent Rosji przystał na propozycję Donalda Trumpa – przekazał Kreml po trwającej ponad dwie"
            " godziny rozmowie przywódców.",
            "meeting",
        ),
        ("Ukraina zgadza się na rozejm", "Ogłoszono to po ośmiu godzinach rozmów w Dżuddzie.", "meeting"),
        ("Jest porozumienie", "Strony podpisały je po dwóch dniach negocjacji.", "meeting"),
        # a recollection of talks is not what came of them, and a plan with nothing behind it stays a plan
        ("Nowy plan pokojowy", "To pierwszy dokument po raz pierwszy od rozmów w Stambule.", "plan"),
        ("Nowy plan pokojowy", "Waszyngton przedstawił propozycję.", "plan"),
    ],
)
def test_what_came_of_talks_however_many_words_stand_between(title: str, lead: str, kind: str) -> None:
    assert record(title, lead, None).kind == kind


@pytest.mark.parametrize(
    ("title", "lead", "kind"),
    [
        ("Witkoff: uzgodniliśmy wymianę 314 jeńców", "To jedyny efekt dwudniowego spotkania.", "meeting"),
        ("Delegacje ustaliły wymianę jeńców", "Rozmowy trwały dwa dni.", "meeting"),
        # the exchange itself, carried out or to come, is an exchange
        (
            "157 żołnierzy wróciło do domu. Przeprowadzono wymianę jeńców",
            "Mediatorem były Emiraty.",
            "exchange",
        ),
        ("Rosja i Ukraina wymienią jeńców w sobotę", "Tak podał Kijów.", "exchange"),
    ],
)
def test_an_exchange_agreed_is_what_came_of_the_talks(title: str, lead: str, kind: str) -> None:
    assert record(title, lead, None).kind == kind


@pytest.mark.parametrize(
    ("title", "lead", "place"),
    [
        # a report: the next meeting's place is not the reported one's
        ("Zacharowa: rozmowy były konstruktywne. Następna runda w Waszyngtonie", "Bez szczegółów.", None),
        (
            "Rozmowy zakończone. Kolejne spotkanie w Moskwie",
            "Obrady trwały w Stambule sześć godzin.",
            "tr/stambul",
        ),
        # ... but a round reported, or announced, is placed by its sentence
        ("Kolejna runda rozmów w Genewie zakończona", "Bez przełomu.", "ch/genewa"),
        ("Kolejna runda w Genewie w przyszły czwartek", "Delegacje potwierdziły udział.", "ch/genewa"),
    ],
)
def test_a_reports_head_naming_the_next_meeting_does_not_place_it(
    title: str, lead: str, place: str | None
) -> None:
    assert record(title, lead, None).place == place


def _member(n: int, at: datetime, title: str, lead: str, people: tuple[str, ...]) -> Member:
    hits = dict.fromkeys(people, 1)
    return member(n, (at.isoformat(), str(n)), features(at, title, lead, None, hits, (), None, hits))


def test_a_call_announced_meets_its_report_told_by_its_result_and_not_another_call() -> None:
    story = StoryState(
        _member(
            1,
            FRIDAY,
            "Biały Dom: rozmowa prezydentów w poniedziałek. Kreml potwierdza",
            "Donald Trump i Władimir Putin będą rozmawiać telefonicznie w poniedziałek.",
            ("trump", "putin"),
        )
    )
    monday = FRIDAY + timedelta(days=3, hours=5)
    result = _member(
        2,
        monday,
        "Putin zgodził się wstrzymać ataki na elektrownie. Komunikat Kremla",
        "Prezydent Rosji przystał na propozycję Donalda Trumpa – przekazał Kreml po trwającej ponad dwie"
        " godziny rozmowie przywódców.",
        ("trump", "putin"),
    )
    assert meets_announced(result.features, story)
    story.add(result)
    other = _member(
        3,
        monday + timedelta(hours=23),
        "Trump zadzwonił do Zełenskiego. Rozmawiali o elektrowniach",
        "Prezydent USA rozmawiał telefonicznie z przywódcą Ukrainy dzień po rozmowie z Władimirem Putinem.",
        ("trump", "zelenski", "putin"),
    )
    assert score(other.features, story).value < JOIN


# --- the ninth batch: a round held days after the day named, the next round announced after one held

THURSDAY = datetime(2027, 3, 4, 9, tzinfo=UTC)  # 10:00 in Warsaw


def test_a_round_told_as_held_late_meets_at_its_place_with_its_people() -> None:
    story = StoryState(
        _member(
            1,
            THURSDAY,
            "Delegacje Ukrainy i Rosji spotkają się w niedzielę w Stambule",
            "Delegacje poprowadzą Umierow i Miedinski.",
            ("umierow", "miedinski"),
        )
    )
    assert story.ahead.days  # the Sunday named
    wednesday = THURSDAY + timedelta(days=6, hours=11)
    held = _member(
        2,
        wednesday,
        "Trzy godziny w Stambule. Rosjanie i Ukraińcy znów przy stole",
        "Umierow i Miedinski rozmawiali w środę, z kilkudniowym opóźnieniem.",
        ("umierow", "miedinski"),
    )
    assert held.features.event.moved and meets_announced(held.features, story)
    # not told as late: another meeting of theirs (a report four days after the day named is not the one announced)
    untold = _member(
        6,
        wednesday,
        "Trzy godziny w Stambule. Rosjanie i Ukraińcy znów przy stole",
        "Umierow i Miedinski rozmawiali w środę.",
        ("umierow", "miedinski"),
    )
    assert not meets_announced(untold.features, story)
    # one of the people only, or another place, is not the round put off
    one = _member(
        3, wednesday, "Trzy godziny w Stambule", "Umierow rozmawiał w środę, z opóźnieniem.", ("umierow",)
    )
    assert not meets_announced(one.features, story)
    elsewhere = _member(
        4,
        wednesday,
        "Trzy godziny w Dosze. Rosjanie i Ukraińcy znów przy stole",
        "Umierow i Miedinski rozmawiali w środę, z opóźnieniem.",
        ("umierow", "miedinski"),
    )
    assert not meets_announced(elsewhere.features, story)
    # nor a report before the day named
    early = _member(
        5,
        THURSDAY + timedelta(days=1),
        "Rozmowy w Stambule. Rosjanie i Ukraińcy przy stole",
        "Umierow i Miedinski rozmawiali w piątek.",
        ("umierow", "miedinski"),
    )
    assert not meets_announced(early.features, story)


def test_the_next_round_announced_after_one_held_is_another_event() -> None:
    monday = datetime(2027, 3, 15, 11, tzinfo=UTC)
    story = StoryState(
        _member(
            1,
            monday,
            "Wojskowi Rosji i Ukrainy spotkają się w czwartek w Katarze",
            "Delegacje poprowadzą Budanow i Kostiukow.",
            ("budanow", "kostiukow"),
        )
    )
    next_round = (
        "Kolejna runda w Katarze w przyszłym tygodniu. Tym razem o jeńcach",
        "Budanow i Kostiukow wrócą do Dohy.",
        ("budanow", "kostiukow"),
    )
    assert record(*next_round[:2], None).following
    # to a story of announcements only, "kolejna runda" is the round they announce
    waiting = _member(2, monday + timedelta(hours=5), *next_round)
    assert score(waiting.features, story).value >= JOIN
    story.add(
        _member(
            3,
            monday + timedelta(days=3, hours=8),
            "Rozmowy w Dosze zakończone",
            "Budanow i Kostiukow rozmawiali w czwartek pięć godzin.",
            ("budanow", "kostiukow"),
        )
    )
    later = _member(4, monday + timedelta(days=4, hours=9), *next_round)
    assert score(later.features, story).value < JOIN
    # a report of a round, or an announcement of the second day, is not the next round
    assert not record("Kolejna runda rozmów w Dosze zakończona", "Bez przełomu.", None).following
    assert not record("Jutro drugi dzień rozmów w Dosze", "Delegacje wrócą do stołu.", None).following


# --- how an agency's copy (the body only) and the talks' subject are read


def test_an_agency_copy_is_read_from_its_first_sentence_as_its_title() -> None:
    text = (
        "Delegacje Ukrainy i Rosji spotkają się w niedzielę w Stambule – poinformowało w czwartek tureckie MSZ."
        " Rozmowy mają dotyczyć jeńców. Delegację poprowadzi Umierow."
    )
    found = record("", "", text)
    assert (found.kind, found.announced, found.place) == ("meeting", True, "tr/stambul")
    # the announcement in the second sentence, under a first one that names the talks, as under a title
    found = record("", "", "Rosja i USA wznowią rozmowy. Delegacje spotkają się w Rijadzie we wtorek.")
    assert found.announced and found.place == "sa/rijad"


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Rozmowy w Dosze mają dotyczyć wymiany ciał poległych i jeńców", "meeting"),
        ("Negocjacje w Stambule bez przełomu. Jedynym konkretem wymiana jeńców", "meeting"),
        ("Wymiana jeńców po rozmowach w Stambule", "exchange"),
        ("300 za 300. Kolejna wymiana jeńców między Rosją a Ukrainą", "exchange"),
        ("Kolejna rozmowa Trumpa z Putinem. Tym razem o wymianie jeńców", "meeting"),
    ],
)
def test_an_exchange_named_after_the_talks_is_their_subject(title: str, kind: str) -> None:
    assert record(title, "", None).kind == kind


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        # the clause said (after ", że") tells the tense, whatever the circumstance of the saying
        (
            "Trump ogłosił po rozmowie z Orbánem, że szczyt z Putinem odbędzie się w Budapeszcie",
            "Termin: 14 lipca.",
            True,
        ),
        ("Kreml potwierdził, że rozmowy w Rijadzie się zakończyły", "Delegacje wrócą jutro.", False),
        # with no clause said, a title that reports is a report, as before
        ("Po rozmowie z Orbánem Trump spotka się z Putinem", "Szczyt w lipcu.", False),
        ("Jutrzejsza wizyta prezydenta w Waszyngtonie", "Może przesądzić o porozumieniu.", True),
    ],
)
def test_what_is_said_after_ze_tells_the_tense(title: str, lead: str, ahead: bool) -> None:
    assert record(title, lead, None).announced is ahead


def test_an_agency_copys_first_sentence_is_its_head_for_the_days_it_names() -> None:
    monday = datetime(2027, 3, 1, 9, tzinfo=UTC)
    text = "Delegacje spotkają się w sobotę w Stambule – poinformowało MSZ Turcji. Tematem są jeńcy."
    found = features(monday, "", "", text, {}, (), None, ())
    assert {date.fromordinal(day).isoformat() for day in found.dates} == {"2027-03-06"}  # ahead, not behind


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        # an arrival for the talks is not the talks held, and preparations going on are for an event to come
        ("Witkoff przyleciał do Moskwy. Spotkanie z Putinem wieczorem", "Ma rozmawiać o rozejmie.", True),
        ("Kreml: trwają przygotowania do rozmowy Putina z Trumpem", "Termin nie jest znany.", True),
        # an arrival with the meeting held is a report; talks going on are talks held
        ("Witkoff przyleciał do Moskwy i spotkał się z Putinem", "Rozmowa trwała pięć godzin.", False),
        ("Rozmowy w Rijadzie trwają", "Delegacje obradują od rana.", False),
    ],
)
def test_an_arrival_or_preparations_tell_of_an_event_to_come(title: str, lead: str, ahead: bool) -> None:
    assert record(title, lead, None).announced is ahead


def test_a_report_naming_first_a_side_the_announcement_names_is_not_the_other_side() -> None:
    monday = datetime(2027, 4, 5, 15, tzinfo=UTC)
    story = StoryState(
        _member(
            1,
            monday,
            "Umierow: w środę w Abu Zabi siądziemy do stołu z Rosjanami",
            "Umierow zapowiedział rozmowy; amerykańską delegację poprowadzi Witkoff.",
            ("umierow", "witkoff"),
        )
    )
    assert story.sides.keys() == {"ua"}  # of its people; its head names the Russians as the other party
    report = _member(
        2,
        monday + timedelta(days=2, hours=4),
        "Rosjanie przedstawili mapę. Trzecia runda w Abu Zabi bez przełomu",
        "Kostiukow, Umierow i Witkoff rozmawiali w środę.",
        ("kostiukow", "umierow", "witkoff"),
    )
    assert meets_announced(report.features, story)
    assert score(report.features, story).value >= JOIN
    # the other side of an announcement that names only one (the Ukrainians after the Russians) still is
    russians = StoryState(
        _member(
            1,
            monday,
            "W środę w Rijadzie rozmowy Rubio z Ławrowem",
            "Rubio i Ławrow spotkają się w Rijadzie.",
            ("rubio", "lawrow"),
        )
    )
    ukrainians = _member(
        2,
        monday + timedelta(days=3),
        "Umierow rozmawiał w Rijadzie z Rubio",
        "Ukraina chce znać ustalenia z Rosjanami.",
        ("umierow", "rubio"),
    )
    assert not meets_announced(ukrainians.features, russians)
    assert score(ukrainians.features, russians).value < JOIN
