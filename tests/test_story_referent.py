"""A story about a document and the explainers and reactions around it (issue #17): an article on "the plan" that
names no owner refers to the document in the news (monitor/archive/story_referent.py, clusters.choose); a
document told the day after a meeting of its owner came of it (story_referent.outcome); the owner of a document
is not the party that answers it (story_events._proposer); another war's plan is not the talks'
(story_events.record, story_places.OTHER_WAR).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.archive.clusters import (
    JOIN,
    OUTCOME_BONUS,
    PEOPLE_BONUS,
    REACHABLE,
    Member,
    StoryState,
    asks,
    choose,
    features,
    member,
    score,
)
from monitor.archive.story_events import record
from monitor.archive.story_referent import ASKS, FLOOR, outcome, ownerless

MONDAY = datetime(2027, 11, 8, 9, tzinfo=UTC)  # 10:00 in Warsaw


def _member(n: int, at: datetime, title: str, lead: str, text: str = "") -> Member:
    return member(n, (at.isoformat(), str(n)), features(at, title, lead, text or None, {}, ()))


def _plan(n: int, at: datetime) -> Member:
    return _member(
        n,
        at,
        "Amerykański plan pokojowy trafił do Kijowa i Moskwy",
        "Waszyngton przekazał stronom projekt porozumienia. Przewiduje zamrożenie linii frontu, limit liczebności"
        " armii i stopniowe znoszenie sankcji.",
        "Stany Zjednoczone przedstawiły dokument liczący 22 punkty. Odpowiedzi stron mają nadejść w ciągu dwóch"
        " tygodni.",
    )


def _package(n: int, at: datetime) -> Member:
    return _member(
        n,
        at,
        "Unijna propozycja: kolejny pakiet sankcji wobec Rosji",
        "Komisja Europejska przedstawiła projekt pakietu. Obejmuje tankowce floty cieni, banki i import"
        " aluminium.",
        "Europejska propozycja musi zostać przyjęta jednomyślnie. Tankowce floty cieni nie wpłyną do portów.",
    )


EXPLAINER = (
    "Co wiemy o planie pokojowym? Oto najważniejsze punkty dokumentu",
    "Strefa zdemilitaryzowana, wybory w ciągu stu dni i członkostwo w Unii zamiast w NATO.",
    "Projekt liczy kilkanaście stron. Część zapisów eksperci uznają za nierealne.",
)


@pytest.mark.parametrize(
    ("title", "lead", "is_ownerless"),
    [
        # an explainer and a party's reaction that name no owner of the plan
        ("Co wiemy o planie pokojowym? Oto jego punkty", "Wyjaśniamy najważniejsze zapisy.", True),
        ("Zełenski o planie: nie oddamy ziemi", "Prezydent skomentował zapisy dokumentu w nagraniu.", True),
        # the owner named, a third party's statement, another kind of event
        ("Amerykański plan pokojowy. Oto jego punkty", "Wyjaśniamy najważniejsze zapisy.", False),
        ("Sikorski o planie: Europa musi być przy stole", "Szef MSZ skomentował dokument.", False),
        ("Umierow poleci do Miami omówić plan", "Spotka się z Witkoffem w czwartek.", False),
    ],
)
def test_an_article_on_a_document_whose_owner_it_does_not_name_is_ownerless(
    title: str, lead: str, is_ownerless: bool
) -> None:
    assert ownerless(record(title, lead, None)) is is_ownerless


def test_an_ownerless_article_looks_up_the_stories_of_documents() -> None:
    explainer = _member(2, MONDAY + timedelta(hours=20), *EXPLAINER)
    assert set(ASKS) <= set(asks(explainer.features)) and "#o:doc:us" in ASKS
    assert not set(ASKS) & set(explainer.seeds)  # looked up, not posted


def test_an_ownerless_explainer_joins_the_one_document_story_in_the_news() -> None:
    story = StoryState(_plan(1, MONDAY))
    explainer = _member(2, MONDAY + timedelta(hours=20), *EXPLAINER)
    assert explainer.features.event.speaker is None  # "w Unii" is where, not who
    assert score(explainer.features, story).value < JOIN  # its words alone are far from the story's
    assert choose(explainer.features, [story]).story == story.id
    # ... not once the document's story has been quiet for more than two days
    late = _member(3, MONDAY + timedelta(hours=60), *EXPLAINER)
    assert choose(late.features, [story]).story is None


def test_an_ownerless_article_goes_to_the_document_its_words_are_much_closer_to() -> None:
    plan, package = StoryState(_plan(1, MONDAY)), StoryState(_package(2, MONDAY + timedelta(hours=1)))
    explainer = _member(3, MONDAY + timedelta(hours=20), *EXPLAINER)
    assert choose(explainer.features, [plan, package]).story == plan.id
    sanctions = _member(
        4,
        MONDAY + timedelta(hours=21),
        "Co zawiera nowy pakiet sankcji? Oto najważniejsze punkty",
        "Tankowce floty cieni, banki, aluminium: kogo dotkną nowe restrykcje.",
        "Tankowce floty cieni nie wpłyną do portów. Import aluminium spadnie do zera.",
    )
    assert choose(sanctions.features, [plan, package]).story == package.id


def test_an_ownerless_article_close_to_two_document_stories_alike_is_kept_apart() -> None:
    one, two = StoryState(_plan(1, MONDAY)), StoryState(_plan(2, MONDAY + timedelta(hours=1)))
    two.id = 2
    explainer = _member(3, MONDAY + timedelta(hours=20), *EXPLAINER)
    assert choose(explainer.features, [one]).story == one.id
    assert choose(explainer.features, [one, two]).story is None  # ambiguous: which plan?


def test_a_party_on_the_plan_does_not_refer_to_a_third_partys_own_document() -> None:
    package = StoryState(_package(1, MONDAY))
    reaction = _member(
        2,
        MONDAY + timedelta(hours=5),
        "Zełenski o planie pokojowym: sankcje nie mogą być znoszone",
        "Prezydent Ukrainy zapowiedział uwagi do dokumentu. Część zapisów uznał za nie do przyjęcia.",
    )
    alone = score(reaction.features, package)
    assert alone.text > FLOOR and alone.value < JOIN  # it shares a few words, not enough to join
    assert reaction.features.event.speaker == "ua" and ownerless(reaction.features.event)
    assert choose(reaction.features, [package]).story is None


def test_an_ownerless_article_whose_words_share_almost_nothing_with_the_story_is_not_of_it() -> None:
    story = StoryState(_plan(1, MONDAY))
    stock = _member(
        2, MONDAY + timedelta(hours=2), "WIG20 zyskał 30 punktów", "Drożały spółki paliwowe i energetyczne."
    )
    assert ownerless(stock.features.event) and choose(stock.features, [story]).story is None


@pytest.mark.parametrize(
    ("title", "lead", "objects"),
    [
        # the party that answers a document, sends remarks to it, is not its owner
        ("Zełenski o planie", "Kijów przedstawi uwagi do dokumentu w ciągu kilku dni.", set()),
        ("Kreml przekaże odpowiedź na propozycję w przyszłym tygodniu", "Tak powiedział rzecznik.", set()),
        ("Kreml przekaże odpowiedź na amerykańską propozycję", "Tak powiedział rzecznik.", {"doc:us"}),
        # the one that hands it over is
        ("Stany Zjednoczone przekazały stronom projekt porozumienia", "Tak podał portal.", {"doc:us"}),
    ],
)
def test_the_proposer_is_the_subject_of_a_verb_whose_object_is_the_document(
    title: str, lead: str, objects: set[str]
) -> None:
    assert set(record(title, lead, None).objects) == objects


def test_another_wars_plan_is_not_a_document_of_the_talks() -> None:
    gaza = record(
        "Witkoff przedstawił nowy plan dla Strefy Gazy. Hamas ma odpowiedzieć do piątku",
        "Amerykański wysłannik przekazał mediatorom propozycję rozejmu.",
        None,
    )
    assert gaza.objects == frozenset({"doc:us@war"}) and not ownerless(gaza)
    unnamed = record("Nowy plan dla Strefy Gazy. Oto jego punkty", "Wyjaśniamy najważniejsze zapisy.", None)
    assert unnamed.objects == frozenset({"doc:@war"}) and not ownerless(unnamed)
    plan = _plan(1, MONDAY)
    assert plan.features.event.objects == frozenset({"doc:us"})
    # hostages are not another war's word: the plan for Ukraine has them too
    hostages = record(
        "Amerykański plan: powrót wszystkich jeńców i cywilnych zakładników", "Tak podał portal.", None
    )
    assert hostages.objects == frozenset({"doc:us"})


# --- a document told after the meeting it came of

SUNDAY = datetime(2027, 12, 12, 20, tzinfo=UTC)  # 21:00 in Warsaw


def _people(n: int, at: datetime, title: str, lead: str, people: tuple[str, ...]) -> Member:
    hits = dict.fromkeys(people, 1)
    return member(n, (at.isoformat(), str(n)), features(at, title, lead, None, hits, (), None, hits))


def _meeting() -> StoryState:
    return StoryState(
        _people(
            1,
            SUNDAY,
            "Witkoff i Kushner w Wiedniu. Sześć godzin rozmów z Zełenskim",
            "Amerykańscy wysłannicy spotkali się z prezydentem Ukrainy w Hofburgu. Rozmowy mają być kontynuowane.",
            ("witkoff", "kushner", "zelenski"),
        )
    )


def _offer(n: int, at: datetime, people: tuple[str, ...] = ("witkoff", "kushner", "zelenski")) -> Member:
    return _people(
        n,
        at,
        "Ochrona na wzór sojuszu. Amerykańska oferta gwarancji dla Ukrainy",
        "Waszyngton proponuje zobowiązania obronne na 20 lat, zatwierdzane przez Kongres.",
        people,
    )


def test_a_document_told_the_day_after_a_meeting_of_its_owner_came_of_it() -> None:
    story = _meeting()
    offer = _offer(2, SUNDAY + timedelta(hours=16))
    assert offer.features.event.objects == frozenset({"doc:us"}) and outcome(offer.features, story)
    found = score(offer.features, story)
    assert found.value >= JOIN > found.value - OUTCOME_BONUS  # what came of the meeting is its story
    assert choose(offer.features, [story]).story == story.id
    # ... also when its words' cosine is below what an article needs without the bonus to be scored at all
    low = REACHABLE - 0.005
    assert low + PEOPLE_BONUS + OUTCOME_BONUS >= JOIN
    assert choose(offer.features, [story], texts={story.id: low}).story == story.id


def test_a_document_is_not_what_came_of_a_meeting_two_days_before_nor_of_another_owners() -> None:
    story = _meeting()
    assert not outcome(_offer(2, SUNDAY + timedelta(hours=30)).features, story)
    # the owner's people are not among those it shares with the meeting
    russian = _people(
        3,
        SUNDAY + timedelta(hours=16),
        "Rosyjska oferta dla Ukrainy. Moskwa przedstawiła projekt porozumienia",
        "Zełenski i Witkoff mają ją omówić.",
        ("witkoff", "zelenski"),
    )
    assert russian.features.event.objects == frozenset({"doc:ru"}) and not outcome(russian.features, story)
    # a meeting's story that is already about a document: its document decides (same_object)
    story.add(_offer(4, SUNDAY + timedelta(hours=2)))
    assert not outcome(_offer(5, SUNDAY + timedelta(hours=16)).features, story)
