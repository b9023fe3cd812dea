"""A passing mention's event record (issue #17, monitor/archive/story_mention.py): an article whose head says
nothing of the talks (a crime or market story with one paragraph on them, a sports piece quoting a politician) is
read from the body sentences the rules matched — its record, its words and the days it names — when they name an
event (a place or a day); talks named in general leave it as it was, and a primary article is read from its head.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.archive.clusters import JOIN, StoryState, member, score
from monitor.archive.story_features import features
from monitor.archive.story_mention import (
    adjective_days,
    body_starts,
    matched_sentences,
    passing,
    sentence_spans,
    verdict_starts,
)
from monitor.rules import classify, load_rules
from monitor.rules.model import Match

WEDNESDAY = datetime(2027, 6, 9, 7, tzinfo=UTC)  # 09:00 in Warsaw; the talks are on Friday, 11 June
FRIDAY = date(2027, 6, 11)
PEOPLE = ("umierow", "miedinski")

ANNOUNCEMENT = (
    "Delegacje Rosji i Ukrainy spotkają się w piątek w Stambule",
    "Rozmowy mają dotyczyć wymiany jeńców. Stronę rosyjską poprowadzi Władimir Miedinski, ukraińską Rustem Umierow.",
    "Turecki minister potwierdził, że delegacje usiądą do stołu w pałacu Dolmabahçe.",
)
CRIME = (
    "Celnicy zatrzymali ciężarówkę z papierosami. Kierowca usłyszał zarzuty",
    "W naczepie ukryto ponad milion paczek bez polskich znaków akcyzy.",
    "Towar był schowany za paletami z owocami. Kierowcy grozi do pięciu lat więzienia.\n\n"
    "Przewoźnicy liczą na większy ruch po piątkowych rozmowach delegacji Rosji i Ukrainy w Stambule, na które"
    " jadą Rustem Umierow i Władimir Miedinski. Celnicy zapowiadają więcej kontroli.",
)
GENERAL = (
    "Unia przyjęła budżet na przyszły rok. Więcej na obronność",
    "Państwa członkowskie zgodziły się na wyższe wydatki na wojsko.",
    "Wydatki na obronność wzrosną o jedną piątą. Komisarz przekonywał, że silna Europa wzmacnia pozycję"
    " Ukrainy w trwających negocjacjach pokojowych. Budżet musi jeszcze przyjąć parlament.",
)


def _starts(text: str, *needles: str) -> list[int]:
    return [text.index(needle) for needle in needles]


def test_sentences_are_split_at_full_stops_and_paragraphs() -> None:
    text = "Pierwsze zdanie. Drugie!\n\nTrzecie bez kropki\nCzwarte"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Pierwsze zdanie.",
        "Drugie!",
        "Trzecie bez kropki",
        "Czwarte",
    ]
    assert matched_sentences(text, [0, 3, 30]) == ["Pierwsze zdanie.", "Trzecie bez kropki"]
    assert matched_sentences(text, []) == [] and matched_sentences(None, [1]) == []


def test_a_mention_is_read_from_the_sentences_the_rules_matched() -> None:
    text = CRIME[2]
    found = passing(text, _starts(text, "Rosji", "Stambule"))
    assert found is not None
    event, sentence, passage = found
    assert (event.kind, event.place, event.parties) == ("meeting", "tr/stambul", frozenset({"ru", "ua"}))
    assert sentence.startswith("Przewoźnicy liczą") and passage == sentence
    # sentences the rules did not match are not read, and a passage that names no event gives nothing
    assert passing(text, _starts(text, "Towar")) is None
    assert passing(text, []) is None


def test_a_sentence_naming_the_country_before_the_talks_takes_the_next_as_its_lead() -> None:
    text = "Zatrzymany to obywatel Ukrainy. Tymczasem w Genewie trwają rozmowy delegacji."
    event, sentence, _passage = passing(text, _starts(text, "Ukrainy", "Genewie"))  # type: ignore[misc]
    assert (event.kind, event.place) == ("meeting", "ch/genewa")
    assert "Genewie" in sentence


@pytest.mark.parametrize(
    ("sentence", "published", "announced", "day"),
    [
        ("Inwestorzy czekają na piątkowe rozmowy w Stambule.", date(2027, 6, 9), False, FRIDAY),
        ("Po piątkowych rozmowach w Stambule złoty zyskał.", date(2027, 6, 14), False, FRIDAY),
        ("Liczy na czwartkowe spotkanie.", date(2027, 6, 11), True, date(2027, 6, 17)),
        ("Po czwartkowym spotkaniu bez przełomu.", date(2027, 6, 11), False, date(2027, 6, 10)),
    ],
)
def test_a_weekday_named_by_its_adjective_is_a_day(
    sentence: str, published: date, announced: bool, day: date
) -> None:
    assert adjective_days(sentence, published, announced) == frozenset({day.toordinal()})


def test_the_day_of_publication_named_by_its_adjective_is_left_out() -> None:
    assert adjective_days("Po piątkowych rozmowach.", FRIDAY, False) == frozenset()
    assert adjective_days("Środowa produkcja.", FRIDAY, False) == frozenset({date(2027, 6, 9).toordinal()})


def test_a_mentions_features_are_those_of_its_passage() -> None:
    title, lead, text = CRIME
    hits = dict.fromkeys(PEOPLE, 1)
    starts = _starts(text, "Rosji", "Stambule", "Rustem")
    plain = features(WEDNESDAY, title, lead, text, hits, (), None, PEOPLE)
    read = features(WEDNESDAY, title, lead, text, hits, (), None, PEOPLE, passages=starts)
    assert "#k:meeting" not in plain.vector
    assert {"#k:meeting", "#p:tr/stambul", "#h:ru", "#h:ua"} <= set(read.vector)
    assert FRIDAY.toordinal() in read.dates and FRIDAY.toordinal() not in plain.dates
    # its head's words (another subject) are left out of its vector
    assert "naczep" in plain.vector and "naczep" not in read.vector


def test_talks_named_in_general_and_a_head_naming_an_event_are_read_as_before() -> None:
    title, lead, text = GENERAL
    starts = _starts(text, "Ukrainy", "negocjacjach")
    assert passing(text, starts) is not None  # the sentence names talks ...
    # ... but no place and no day: not an event, the article stays as it was
    assert features(WEDNESDAY, title, lead, text, {}, (), None, (), passages=starts) == features(
        WEDNESDAY, title, lead, text, {}, (), None, ()
    )
    title, lead, text = ANNOUNCEMENT
    starts = _starts(text, "Dolmabahçe")
    assert features(WEDNESDAY, title, lead, text, {}, (), None, (), passages=starts) == features(
        WEDNESDAY, title, lead, text, {}, (), None, ()
    )


def test_a_mention_joins_the_story_of_the_talks_it_names_only_when_read_so() -> None:
    story = StoryState(
        member(
            1,
            (WEDNESDAY.isoformat(), "1"),
            features(WEDNESDAY, *ANNOUNCEMENT, dict.fromkeys(PEOPLE, 1), (), None, PEOPLE),
        )
    )
    later = WEDNESDAY + timedelta(hours=6)
    title, lead, text = CRIME
    hits = dict.fromkeys(PEOPLE, 1)
    starts = _starts(text, "Rosji", "Stambule", "Rustem")
    read = features(later, title, lead, text, hits, (), None, PEOPLE, passages=starts)
    plain = features(later, title, lead, text, hits, (), None, PEOPLE)
    assert score(read, story).value >= JOIN > score(plain, story).value


def test_the_passages_come_from_a_mentions_verdict_and_from_the_stored_matches() -> None:
    title, lead, text = CRIME
    verdict = classify(load_rules(), title, lead, text)
    assert verdict.relevance == "mention"
    starts = verdict_starts(verdict.relevance, verdict.matches)
    assert starts and all(text[start:] for start in starts)
    assert starts == sorted({m.start for m in verdict.matches if m.field == "body"})
    match = Match("r", "g", "t", "body", 5, 9, "s")
    assert verdict_starts("primary", [match]) is None and verdict_starts("none", [match]) is None
    assert verdict_starts("mention", [match, Match("r", "g", "t", "title", 1, 2, "s")]) == [5]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE matches (article_id INTEGER, field TEXT, start INTEGER)")
    conn.executemany(
        "INSERT INTO matches VALUES (?, ?, ?)",
        [(1, "body", 40), (1, "body", 7), (1, "body", 7), (1, "title", 3), (2, "lead", 0)],
    )
    assert body_starts(conn, [1, 2, 3]) == {1: [7, 40], 2: [], 3: []}


def test_offsets_outside_the_body_and_an_empty_body_read_nothing() -> None:
    text = CRIME[2]
    assert matched_sentences(text, [len(text), len(text) + 50, -3]) == []
    assert passing(text, [len(text) + 1]) is None
    assert passing("", [0]) is None and passing(None, [0]) is None
    title, lead, _text = CRIME
    # a mention stored without its body (pruned) is read from its head, whatever offsets its matches kept
    assert features(WEDNESDAY, title, lead, None, {}, (), None, (), passages=[120]) == features(
        WEDNESDAY, title, lead, None, {}, (), None, ()
    )
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE matches (article_id INTEGER, field TEXT, start INTEGER)")
    assert body_starts(conn, []) == {}
