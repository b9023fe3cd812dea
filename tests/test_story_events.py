"""An article's event record (issue #17): kind, speaker and the document it is about, read from its own text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.archive import clusters, story_events
from monitor.archive.clusters import (
    Features,
    Member,
    StoryState,
    choose,
    features,
    member,
    same_object,
    score,
)
from monitor.archive.story_events import Event, from_tokens, record


@pytest.mark.parametrize(
    ("title", "lead", "expected"),
    [
        ("Rzecznik Kremla o propozycji Waszyngtonu", "", "doc:us"),
        ("Moskwa krytykuje europejskie poprawki", "", "doc:eu"),
        ("", "Deputowani odrzucili dokument, który przygotowali Amerykanie.", "doc:us"),
        ("", "Memorandum Moskwy trafiło do Kijowa.", "doc:ru"),
        ("", "Stany Zjednoczone zaproponowały amerykańskie gwarancje bezpieczeństwa.", "doc:us"),
    ],
)
def test_the_document_is_named_with_its_owner(title: str, lead: str, expected: str) -> None:
    assert record(title, lead, None).objects == frozenset({expected})


def test_who_proposes_a_document_owns_it_and_a_qualified_actor_is_its_qualifier() -> None:
    # the subject of "zaproponowały", not the addressee named nearer the document
    assert record("", "Stany Zjednoczone zaproponowały Ukrainie gwarancje.", None).objects == {"doc:us"}
    # "rosyjskie MSZ" is Russian (an unqualified MSZ, in a Polish paper, is Poland's)
    found = record("", "Rosyjskie MSZ przekazało ukraińskiej delegacji memorandum.", None)
    assert (found.speaker, found.objects) == ("ru", {"doc:ru"})
    assert record("MSZ o amerykańskim planie", "", None).speaker == "pl"
    # a dative names the addressee, never the owner
    assert record("", "Amerykanie składają ofertę Kijowowi.", None).objects == {"doc:us"}
    assert record("", "Gwarancje Kijowowi obiecano.", None).objects == frozenset()


def test_a_speaker_or_an_addressee_is_not_the_owner() -> None:
    # "Kreml o planie": the Kremlin speaks of the plan; "gwarancje dla Ukrainy": Ukraine receives them
    assert record("Kreml o planie pokojowym", "", None).objects == frozenset()
    assert record("Gwarancje dla Ukrainy na stole", "", None).objects == frozenset()


def test_a_document_without_a_named_owner_is_no_object() -> None:
    assert (
        record("Co wiemy o planie pokojowym?", "Oto najważniejsze punkty dokumentu.", None).objects
        == frozenset()
    )


@pytest.mark.parametrize(
    ("title", "lead", "speaker", "third"),
    [
        ("Pieskow: nie dostaliśmy planu", "", "ru", False),
        ("", "Deputowani Rady Najwyższej zapowiedzieli, że nie zagłosują.", "ua", False),
        ("MSZ o amerykańskim planie: Polska nie zaakceptuje", "", "pl", True),
        ("", "Sekretarz generalny NATO Mark Rutte powiedział, że sojusz czeka.", "nato", True),
        ("Bez tytułowego aktora", "Minister spraw zagranicznych Węgier przyjął propozycję.", "hu", True),
        ("Nic tu nie ma", "", None, False),
    ],
)
def test_the_speaker_is_the_first_actor_named(
    title: str, lead: str, speaker: str | None, third: bool
) -> None:
    found = record(title, lead, None)
    assert found.speaker == speaker
    assert found.third_party is third


def test_a_third_party_statement_keeps_no_object_of_another_owner() -> None:
    # a Polish minister on the American plan is a story of its own; Europeans on their own amendments are not
    assert record("Sikorski o amerykańskiej propozycji", "", None).objects == frozenset()
    assert record("Merz: europejskie poprawki gotowe", "", None).objects == frozenset({"doc:eu"})


@pytest.mark.parametrize(
    ("title", "lead", "kind"),
    [
        ("Witkoff i Kushner lecą do Moskwy. W teczce nowa wersja planu", "", "meeting"),
        ("Rozmowy w Genewie trwały do nocy", "", "meeting"),
        ("Kreml o propozycji Białego Domu", "", "plan"),
        ("Kolejna wymiana jeńców", "", "exchange"),
        (
            "Poprawki nie spodobały się Ławrowowi",
            "Sekretarz stanu rozmawiał telefonicznie z Ławrowem.",
            "call",
        ),
        ("Bez zdarzenia", "", None),
        ("", "", None),
    ],
)
def test_the_kind_of_event(title: str, lead: str, kind: str | None) -> None:
    assert record(title, lead, None).kind == kind


def test_the_record_travels_in_the_vector_as_weightless_tokens() -> None:
    event = Event("plan", "ru", frozenset({"doc:us"}))
    assert from_tokens(event.tokens()) == event
    assert from_tokens(["plan", "@putin"]) == Event()
    at = datetime(2025, 11, 21, 9, tzinfo=UTC)
    found = features(at, "Kreml o propozycji Waszyngtonu", "Pieskow: są elementy do przyjęcia.", None, {}, ())
    assert found.event == Event("plan", "ru", frozenset({"doc:us"}))
    assert {t: w for t, w in found.vector.items() if t.startswith("#")} == {
        "#k:plan": story_events.WEIGHT,
        "#s:ru": story_events.WEIGHT,
        "#o:doc:us": story_events.DOCUMENT_WEIGHT,
    }
    # the object is a seed: the stories about the same document are compared with it
    assert "#o:doc:us" in member(1, ("a", "b"), found).seeds


def _member(
    article_id: int, hour: int, title: str, lead: str, venues: frozenset[str] = frozenset()
) -> Member:
    at = datetime(2025, 11, 20, tzinfo=UTC).replace(hour=hour)
    hits = dict.fromkeys(venues, 1)
    return member(
        article_id, (at.isoformat(), str(article_id)), features(at, title, lead, None, hits, venues)
    )


def test_the_same_document_joins_articles_that_share_no_words() -> None:
    first = _member(1, 8, "Pieskow: nie dostaliśmy propozycji Waszyngtonu", "Rzecznik mówi o przeciekach.")
    second = _member(
        2, 14, "Deputowani odrzucają dokument, który przygotowali Amerykanie", "Głosowania nie będzie."
    )
    story = StoryState(first)
    assert same_object(second.features, story)
    found = score(second.features, story)
    assert found.same_object and found.value >= clusters.JOIN
    # the document's token carries the cosine: the story is among those the index gives (REACHABLE)
    assert found.text >= clusters.REACHABLE
    # a third party on the same document does not join, nor does another owner's document
    polish = _member(3, 15, "Sikorski: dokument, który przygotowali Amerykanie, do zmiany", "").features
    assert polish.event.objects == frozenset() and not same_object(polish, story)
    assert score(polish, story).value < clusters.JOIN
    other = _member(4, 15, "Deputowani odrzucają europejskie poprawki", "").features
    assert not same_object(other, story) and score(other, story).value < clusters.JOIN


def test_the_same_document_of_an_incompatible_event_counts_for_nothing() -> None:
    # a meeting elsewhere about the same document: the document's share of the cosine is taken back
    story = StoryState(_member(1, 8, "Pieskow o propozycji Waszyngtonu", "Amerykańska propozycja na stole."))
    talks = _member(2, 12, "Rozmowy w Genewie o propozycji Waszyngtonu", "", frozenset({"genewa"})).features
    found = score(talks, story)
    assert not found.same_object
    plain = Features(
        talks.at, {t: w for t, w in talks.vector.items() if not t.startswith("#o:")}, talks.entities
    )
    assert found.value == pytest.approx(score(plain, story).value, abs=2e-4)


def test_a_meeting_about_the_document_needs_the_same_venue() -> None:
    story = StoryState(_member(1, 8, "Pieskow o propozycji Waszyngtonu", "Amerykańska propozycja na stole."))
    talks = _member(2, 12, "Rozmowy w Genewie o propozycji Waszyngtonu", "", frozenset({"genewa"}))
    assert talks.features.event.kind == "meeting"
    assert not same_object(talks.features, story)
    held = StoryState(_member(3, 9, "Rozmowy w Genewie o propozycji Waszyngtonu", "", frozenset({"genewa"})))
    assert same_object(talks.features, held)
    # talks elsewhere that recall Geneva are not the Geneva talks
    elsewhere = _member(
        4, 13, "Rozmowy w Abu Zabi o propozycji Waszyngtonu", "", frozenset({"genewa", "abu_zabi"})
    )
    assert not same_object(elsewhere.features, held)


def test_a_plan_article_joins_a_story_of_plans_not_a_meeting_elsewhere() -> None:
    meeting = StoryState(
        _member(1, 8, "Rozmowy w Genewie o propozycji Waszyngtonu", "", frozenset({"genewa"}))
    )
    plan = _member(2, 12, "Pieskow o propozycji Waszyngtonu", "")
    assert plan.features.event.kind == "plan"
    assert not same_object(plan.features, meeting)
    meeting.add(_member(3, 9, "Uszakow o propozycji Waszyngtonu", ""))
    assert same_object(plan.features, meeting)


def test_the_document_joins_only_while_the_story_is_fresh() -> None:
    story = StoryState(_member(1, 1, "Pieskow o propozycji Waszyngtonu", ""))
    late = _member(2, 3, "Deputowani o propozycji Waszyngtonu", "")
    assert same_object(late.features, story)
    later = late.features.__class__(
        at=late.features.at.replace(day=23), vector=late.features.vector, entities=late.features.entities
    )
    assert not same_object(later, story)


@pytest.mark.parametrize(
    ("title", "lead", "ahead"),
    [
        ("Witkoff i Kushner lecą do Moskwy", "Wysłannicy mają we wtorek spotkać się z Putinem.", True),
        ("", "Kreml potwierdził, że Putin przyjmie w przyszłym tygodniu wysłannika USA.", True),
        ("Witkoff i Kushner na Kremlu", "Wysłannicy spotkali się z Putinem.", False),
        # a report of talks held that announces the next round reports a meeting done
        ("Rozmowy w Abu Zabi zakończone. Kolejna runda w przyszłym tygodniu", "", False),
        # an announced plan is not an announced meeting
        ("Kreml przekaże odpowiedź na propozycję Waszyngtonu w przyszłym tygodniu", "", False),
    ],
)
def test_an_announced_meeting(title: str, lead: str, ahead: bool) -> None:
    assert record(title, lead, None).announced is ahead


PARTIES = {"witkoff": 1, "putin": 1}  # entity hits: the people of the meeting


def test_a_story_of_announcements_waits_a_week_for_the_meeting_report() -> None:
    title = "Putin przyjmie wkrótce wysłannika Witkoffa w Moskwie"  # no day, no week (see test_story_legs.py)
    start = datetime(2025, 11, 20, 8, tzinfo=UTC)
    announcement = member(
        1, (start.isoformat(), "1"), features(start, title, "", None, PARTIES, (), None, PARTIES)
    )
    story = StoryState(announcement)
    assert story.announcements == 1
    assert story.open_until == announcement.features.at + clusters.AHEAD
    at = announcement.features.at + timedelta(hours=100)  # beyond the 72-hour window
    head = ("Witkoff spotkał się z Putinem w Moskwie", "Wysłannik przyleciał na Kreml.", None)
    report = features(at, *head, PARTIES, (), None, PARTIES)
    statement = Features(at, {**report.vector, "#k:plan": story_events.WEIGHT}, frozenset())
    assert report.event.kind == "meeting"
    assert choose(report, [story]).story == story.id
    # another meeting's report: no one of the announced meeting's people, or another place
    assert choose(features(at, *head, {}, ()), [story]).story is None
    elsewhere = ("Witkoff spotkał się z Putinem w Stambule", "Wysłannik przyleciał do Turcji.", None)
    assert choose(features(at, *elsewhere, PARTIES, (), None, PARTIES), [story]).story is None
    assert statement.event.kind == "plan"  # only the meeting's report is awaited
    assert choose(statement, [story]).story is None
    # once the meeting is reported the story keeps the usual window
    story.add(member(2, (at.isoformat(), "2"), report))
    assert story.open_until == at + clusters.WINDOW
