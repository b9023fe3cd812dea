"""Stories, not articles: which event an article reports. Pure functions over an article's features and the
features of the stories it could join; the SQL around them is :mod:`monitor.archive.story_index`.

An article is described by (:func:`features`), from its own text alone, so that the same article always gets
the same features whenever and in whatever order it is stored:

- a **word vector**: the folded words of its title (×3), lead (×2) and the first ``BODY_WORDS`` words of its body,
  cut to their first ``STEM`` letters (a crude lemma: Polish inflects the end of a word, so *Genewie* and
  *Genewa*, *rozmowy* and *rozmów* meet), without function words, plus one token per matched entity
  (``@witkoff``, weighed ×``ENTITY_BOOST``); weighed by TF-IDF, where the document frequencies are a fixed table
  (:func:`background`, counted on the labelled corpus: the words of every peace-talk story, *rozmowy*,
  *Ukraina*, weigh little and *Abu Zabi*, *jeńców*, *Driscoll* a lot), cut to its ``TOP_TOKENS`` heaviest
  tokens and normalised; its ``SEEDS`` heaviest tokens are its **seeds**;
- its **event dates**: days the text names ("22 stycznia", "w czwartek", "jutro"), resolved against its
  publication day and kept when within ``DATE_RANGE`` days of it, but neither that day nor the day before
  (the days news is reported on, not the days of the events it announces or recalls);
- its **venues**: matched entities whose role is ``venue`` (Genewa, Abu Zabi, Stambuł, Miami);
- its **time**: the publication instant, else when the monitor first saw it.

Articles are clustered in the order of their times (ties by URL), each against the stories made of the articles
before it: :class:`monitor.archive.story_engine.Engine` keeps that true whatever the order they are stored in.
A story is the sum of its articles' vectors (its centroid) with the union of their dates and venues. An article
is compared with the stories sharing one of its seeds with one of their articles' seeds, and joins the open one
it scores best with, when that score reaches ``JOIN``; a story is open to articles up to ``WINDOW`` after its
last article, so it stays open while coverage continues. The score is the cosine of
the article's vector with the centroid, plus ``DATE_BONUS`` when they name the same day, minus ``DATE_PENALTY``
when every day they name is more than ``DATE_APART`` days apart (two meetings of the same people a week apart),
minus ``VENUE_PENALTY`` when both name venues and none is shared (Geneva and Abu Dhabi), plus ``PEOPLE_BONUS`` when
both name at least ``PEOPLE_SHARED`` of the same people and the article comes within ``PEOPLE_HOURS`` of the
story's last article (a meeting leaked in the morning and reported in the evening). A copy of a wire
dispatch (:mod:`monitor.archive.stories`) joins the story of its earlier copy whatever the score.

An article that joins no story starts one; the new story *follows* the earlier story whose centroid its vector
is closest to, when that cosine reaches ``FOLLOW`` (the next meeting of the same people, a subject that
resurfaced after the earlier story went quiet; earlier: started before the article, its last article at most
``FOLLOW_SPAN`` before).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

import simplemma

from monitor.extract.dates import POLISH_MONTHS, WARSAW
from monitor.rules.text import fold, word_bytes

WINDOW = timedelta(hours=72)  # a story takes articles up to this long before its first and after its last one
FOLLOW_SPAN = timedelta(days=14)  # a new story may follow a quiet one whose last article is this recent
JOIN = 0.31  # the score an article needs to join a story
FOLLOW = 0.24  # the text cosine a new story needs with an earlier one to follow it
DATE_BONUS = 0.05  # both name the same day
DATE_PENALTY = 0.30  # every day they name is more than DATE_APART days apart
DATE_APART = 2
VENUE_PENALTY = 0.15  # both name venues, none the same
PEOPLE_BONUS = 0.05  # both name at least PEOPLE_SHARED of the same people, within PEOPLE_HOURS
PEOPLE_SHARED = 2
PEOPLE_HOURS = timedelta(hours=24)
DATE_RANGE = 10  # event dates further than this many days from the publication day are history, not events

STEM = 6  # letters kept of each lemma
MIN_LETTERS = 4  # shorter words carry no subject
BODY_WORDS = 400  # the top of a news story says what happened; the rest is background
TOP_TOKENS = 40  # tokens kept per article
SEEDS = 20  # an article's heaviest tokens: the stories it is compared with share one of them
FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # title, lead, body
ENTITY_BOOST = 2.0

# Lemmas (folded) that say nothing about the subject of a news story: function words, the commonest verbs of
# reporting and being, time words. Shorter words than MIN_LETTERS are left out anyway.
_STOPWORDS = """
    oraz jest przez ktory jego tego temu tych tym jednak takze tylko jako przy miedzy podczas poniewaz
    wszystek wszyscy kazdy inny taki taka takze potem wtedy dzis dzisiaj wczoraj jutro teraz juz jeszcze nawet
    ponad okolo wobec gdzie kiedy dlaczego jaki jesli jezeli czyli siebie swoj zeby bowiem natomiast rowniez
    bardzo wiec tutaj tamten ten ta to sam samo moc musiec chciec miec byc bywac zostac stac zostawac
    powiedziec mowic dodac przekazac poinformowac stwierdzic zaznaczyc podkreslic oswiadczyc ocenic uznac
    wedlug zdanie czytac zobaczyc wiecej mniej sprawa ramy rok lata tydzien dzien godzina miesiac noc rano
    wieczor poniedzialek wtorek sroda czwartek piatek sobota niedziela styczen luty marzec kwiecien maj
    czerwiec lipiec sierpien wrzesien pazdziernik listopad grudzien pierwszy drugi trzeci ostatni kolejny nowy
    duzy wielki dobry wysoki caly wiele wielu kilka kilkanascie kilkadziesiat procent proc tysiac milion
    miliard jeden dwa trzy cztery piec szesc siedem osiem dziewiec dziesiec ktos cos nic nikt zaden zawsze
    nigdy czesto jeszcze wlasnie jednak dlatego zatem takze aby albo lecz ani czy nie tak jak ale gdy chociaz
    choc mimo pomimo wciaz dalej dzieki wzgledu zwiazek strona sposob czas raz razem moze mozna trzeba
    powinien wlasny obecny obecnie dzisiejszy wczesniej pozniej znow znowu dotad dotychczas bardziej
    najbardziej szczegol kwestia temat dotyczyc chodzic uwazac wiedziec widziec przyjac dac brac wziac miejsce
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[^\W\d_]+")

# --- what an article is ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Features:
    """What clustering knows of an article (see the module's docstring)."""

    at: datetime
    vector: Mapping[str, float]
    entities: frozenset[str] = frozenset()
    venues: frozenset[str] = frozenset()
    dates: frozenset[int] = frozenset()  # date.toordinal() of each event day
    people: frozenset[str] = frozenset()  # the people among its entities that are in its vector


def people_in(vector: Mapping[str, float], persons: Iterable[str]) -> frozenset[str]:
    """The people (entity ids of ``persons``) whose entity token is in a vector: what an article's people are,
    whether its features were just computed or read back from the archive."""
    return frozenset(token[1:] for token in vector if token.startswith("@")) & frozenset(persons)


@functools.lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """A word's token: its lemma (simplemma's Polish dictionary), folded (``rules.text.fold``) and cut to
    ``STEM`` letters, so that *planu*, *planie* and *plan*, *rozmów* and *rozmowy*, *spotkali* and *spotkanie*
    meet, and so do words written without Polish letters and names the dictionary does not know (*Witkoffa*,
    *Witkoff*)."""
    return fold(simplemma.lemmatize(word, lang="pl"))[:STEM]


def stems(text: str | None, limit: int) -> list[str]:
    """The tokens of the first ``limit`` words of a text (:func:`lemma`), without function words and numbers."""
    if not text:
        return []
    found = []
    for match in itertools.islice(_WORD.finditer(text), limit):
        word = match.group().lower()
        if len(word) < MIN_LETTERS:
            continue
        token = lemma(word)
        if len(token) >= MIN_LETTERS and token not in STOPWORDS:
            found.append(token)
    return found


def counts(
    title: str | None, lead: str | None, text: str | None, entities: Mapping[str, int] | None = None
) -> dict[str, float]:
    """Weighted token counts of an article: its tokens by field weight, its entities as ``@id``."""
    found: dict[str, float] = {}
    for weight, value, limit in zip(FIELD_WEIGHTS, (title, lead, text), (100, 200, BODY_WORDS), strict=True):
        for stem in stems(value, limit):
            found[stem] = found.get(stem, 0.0) + weight
    for entity, n in (entities or {}).items():
        found[f"@{entity}"] = found.get(f"@{entity}", 0.0) + ENTITY_BOOST * n
    return found


def idf(df: int, docs: int) -> float:
    """Smoothed inverse document frequency (a token no article had yet weighs most)."""
    return math.log((docs + 1) / (df + 1)) + 1.0


def weigh(raw: Mapping[str, float], df: Mapping[str, int], docs: int) -> dict[str, float]:
    """The TF-IDF vector of token counts: sublinear TF, the ``TOP_TOKENS`` heaviest, unit length."""
    weighted = {token: (1.0 + math.log(n)) * idf(df.get(token, 0), docs) for token, n in raw.items() if n > 0}
    top = sorted(weighted.items(), key=lambda item: (-item[1], item[0]))[:TOP_TOKENS]
    norm = math.sqrt(sum(w * w for _t, w in top)) or 1.0
    return {token: round(w / norm, 5) for token, w in top}


_MONTH = "|".join(sorted((m for m in POLISH_MONTHS if len(m) > 3), key=len, reverse=True))
_DAY_MONTH = re.compile(rf"(?<!\d)(\d{{1,2}})\s+({_MONTH})\b(?:\s+(\d{{4}}))?", re.IGNORECASE)
_WEEKDAY_FORMS = {
    "poniedzialek": 0,
    "wtorek": 1,
    "srode": 2,
    "czwartek": 3,
    "piatek": 4,
    "sobote": 5,
    "niedziele": 6,
}
_WEEKDAY = re.compile(
    r"\bwe?\s+(?:(najblizsz[ya]|przyszl[ya]|ubiegl[ya]|zeszl[ya]|ostatni[a]?)\s+)?("
    + "|".join(_WEEKDAY_FORMS)
    + r")\b"
)
_RELATIVE_DAYS = re.compile(r"\b(przedwczoraj|wczoraj|jutro|pojutrze)\b")
_RELATIVE_SHIFT = {"przedwczoraj": -2, "wczoraj": -1, "jutro": 1, "pojutrze": 2}
_FUTURE = ("najbl", "przysz")


def event_dates(text: str | None, published: date) -> frozenset[int]:
    """Days a text names, as ``date.toordinal()``: "22 stycznia" (the year nearest ``published`` unless written),
    "w czwartek" (the nearest Thursday within three days; "w przyszły czwartek" the next one, "w ubiegły
    czwartek" the last one), "jutro", "wczoraj". Left out: days more than ``DATE_RANGE`` from ``published``
    (history), and the day of publication and the day before, the days news is reported on ("powiedział w
    środę"): what is left are the days of announced and recalled events."""
    if not text:
        return frozenset()
    folded = word_bytes(text).decode()
    base = published.toordinal()
    found: set[int] = set()
    for match in _DAY_MONTH.finditer(text):
        month = POLISH_MONTHS[match.group(2).lower()]
        day = int(match.group(1))
        years = (
            [int(match.group(3))]
            if match.group(3)
            else [published.year - 1, published.year, published.year + 1]
        )
        for year in years:
            try:
                found.add(date(year, month, day).toordinal())
            except ValueError:
                continue
    for match in _WEEKDAY.finditer(folded):
        qualifier, weekday = match.group(1) or "", _WEEKDAY_FORMS[match.group(2)]
        ahead = (weekday - published.weekday()) % 7  # 0..6 days to the next such weekday (0: that day)
        if qualifier.startswith(_FUTURE):
            shift = ahead or 7
        elif qualifier:
            shift = ahead - 7 if ahead else -7
        else:
            shift = ahead if ahead <= 3 else ahead - 7
        found.add(base + shift)
    for match in _RELATIVE_DAYS.finditer(folded):
        found.add(base + _RELATIVE_SHIFT[match.group(1)])
    return frozenset(day for day in found if abs(day - base) <= DATE_RANGE and day not in (base, base - 1))


def warsaw_day(at: datetime) -> date:
    return at.astimezone(WARSAW).date()


@dataclass(frozen=True)
class Terms:
    """Document frequencies: how many of ``docs`` documents have each token (one count per document)."""

    docs: int
    df: Mapping[str, int]


@functools.cache
def background() -> Terms:
    """The packaged document frequencies (``monitor/data/story_terms.toml``, written by ``python -m
    monitor.devtools.eval_stories --write-terms`` from the labelled corpus): fixed, so an article's vector does
    not depend on what was stored before it."""
    packaged = resources.files("monitor").joinpath("data", "story_terms.toml")  # also inside a zipped egg
    data = tomllib.loads(packaged.read_text(encoding="utf-8"))
    return Terms(int(data["docs"]), {str(k): int(v) for k, v in data["df"].items()})


def features(
    at: datetime,
    title: str | None,
    lead: str | None,
    text: str | None,
    entity_hits: Mapping[str, int],
    venues: Iterable[str],
    terms: Terms | None = None,
    persons: Iterable[str] = (),
) -> Features:
    """An article's features. ``entity_hits`` counts its matched entities (distinct passages), ``venues`` names
    the entities that are meeting places and ``persons`` those that are people, ``terms`` the document
    frequencies (:func:`background` by default)."""
    terms = terms or background()
    raw = counts(title, lead, text, entity_hits)
    head = " ".join(part for part in (title, lead, " ".join((text or "").split()[:BODY_WORDS])) if part)
    vector = weigh(raw, terms.df, terms.docs)
    return Features(
        at=at,
        vector=vector,
        entities=frozenset(entity_hits),
        venues=frozenset(venues) & frozenset(entity_hits),
        dates=event_dates(head, warsaw_day(at)),
        people=people_in(vector, persons),
    )


# --- what a story is ------------------------------------------------------------------------------------


Key = tuple[str, str]  # an article's place in the order of clustering: (its time in UTC, ISO 8601; its URL)


@dataclass(frozen=True)
class Member:
    """A clustered article: its id, its place in the order (:data:`Key`), its features, its seeds and the wire
    dispatch it copies (the ``articles.story_id`` it shares with its copies; None when it has no copy)."""

    id: int
    key: Key
    features: Features
    seeds: tuple[str, ...]
    wire: int | None = None


def member(article_id: int, key: Key, found: Features, wire: int | None = None) -> Member:
    """A :class:`Member`; its seeds are the ``SEEDS`` heaviest tokens of its vector (ordered heaviest first)."""
    return Member(article_id, key, found, tuple(list(found.vector)[:SEEDS]), wire)


class StoryState:
    """A story as clustering sees it: its articles in order, the sum of their vectors, their dates and venues.

    The sums are always made by adding the articles in order (also after one is taken out), so two stories of the
    same articles have the very same centroid to the last bit, whatever happened before."""

    def __init__(self, founder: Member):
        self.id = founder.id  # the first article's id
        self.members: list[Member] = []
        self._keys: list[Key] = []
        self.centroid: dict[str, float] = {}
        self.norm = 0.0
        self.dates: Counter[int] = Counter()
        self.venues: Counter[str] = Counter()
        self.people: Counter[str] = Counter()
        self.seeds: Counter[str] = Counter()
        self.add(founder)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def first(self) -> datetime:
        return self.members[0].features.at

    @property
    def last(self) -> datetime:
        return self.members[-1].features.at

    @property
    def founder_key(self) -> Key:
        return self._keys[0]

    def _accumulate(self, item: Member) -> None:
        centroid, squares = self.centroid, self.norm * self.norm
        for token, weight in item.features.vector.items():
            before = centroid.get(token, 0.0)
            centroid[token] = before + weight
            squares += weight * (2 * before + weight)
        self.norm = math.sqrt(max(squares, 0.0))
        self.dates.update(item.features.dates)
        self.venues.update(item.features.venues)
        self.people.update(item.features.people)
        self.seeds.update(item.seeds)

    def _recount(self) -> None:
        self.centroid, self.norm = {}, 0.0
        self.dates, self.venues, self.people, self.seeds = Counter(), Counter(), Counter(), Counter()
        for item in self.members:
            self._accumulate(item)

    def add(self, item: Member) -> None:
        """Add an article (in its place in the order)."""
        if not self._keys or item.key > self._keys[-1]:
            self.members.append(item)
            self._keys.append(item.key)
            self._accumulate(item)
            return
        at = bisect.bisect_left(self._keys, item.key)
        self.members.insert(at, item)
        self._keys.insert(at, item.key)
        self._recount()

    def remove(self, article_id: int) -> None:
        """Take an article out (the sums are made again, in order)."""
        at = next(i for i, item in enumerate(self.members) if item.id == article_id)
        del self.members[at]
        del self._keys[at]
        self._recount()

    def before(self, key: Key) -> StoryState | None:
        """The story as it was before the article at ``key``: its articles ordered before it (None when none)."""
        at = bisect.bisect_left(self._keys, key)
        if at == len(self._keys):
            return self
        if at == 0:
            return None
        earlier = StoryState(self.members[0])
        for item in self.members[1:at]:
            earlier.add(item)
        earlier.id = self.id
        return earlier

    def open_at(self, at: datetime) -> bool:
        """Whether an article at ``at`` may join: within ``WINDOW`` of the story's first or last article."""
        return self.first - WINDOW <= at <= self.last + WINDOW

    def followable_at(self, at: datetime) -> bool:
        """Whether a story started at ``at`` may follow this one: open, or quiet since its last article (of two
        articles or more) for at most ``FOLLOW_SPAN``."""
        return self.open_at(at) or (self.size >= 2 and self.last < at <= self.last + FOLLOW_SPAN)


def cosine(vector: Mapping[str, float], story: StoryState) -> float:
    """Cosine of a unit article vector with a story's centroid."""
    if not story.norm:
        return 0.0
    centroid = story.centroid
    return sum(w * centroid[t] for t, w in vector.items() if t in centroid) / story.norm


def central(story: StoryState, eligible: Iterable[int]) -> int | None:
    """The article of ``eligible`` (ids of the story's members) closest to the story's centroid: whose headline
    the story takes. Ties go to the earlier article in the order."""
    wanted = set(eligible)
    ranked = [
        (-round(cosine(item.features.vector, story), 9), item.key, item.id)
        for item in story.members
        if item.id in wanted
    ]
    return min(ranked)[2] if ranked else None


@dataclass(frozen=True)
class Score:
    value: float
    text: float
    same_day: bool = False
    days_apart: bool = False
    venue_conflict: bool = False
    same_people: bool = False


def score(article: Features, story: StoryState, text: float | None = None) -> Score:
    """How well an article fits a story (see the module's docstring); ``text``, when given, is the cosine of
    their vectors already computed."""
    text = cosine(article.vector, story) if text is None else text
    same_day = days_apart = venue_conflict = False
    value = text
    if article.dates and story.dates:
        gap = min(abs(a - b) for a in article.dates for b in story.dates)
        same_day = gap == 0
        days_apart = gap > DATE_APART
        value += DATE_BONUS if same_day else 0.0
        value -= DATE_PENALTY if days_apart else 0.0
    if article.venues and story.venues and not any(venue in story.venues for venue in article.venues):
        venue_conflict = True
        value -= VENUE_PENALTY
    same_people = (
        abs(article.at - story.last) <= PEOPLE_HOURS
        and sum(person in story.people for person in article.people) >= PEOPLE_SHARED
    )
    value += PEOPLE_BONUS if same_people else 0.0
    return Score(round(value, 4), round(text, 4), same_day, days_apart, venue_conflict, same_people)


@dataclass(frozen=True)
class Decision:
    """Where an article goes: ``story`` None starts a new one (following ``follows`` when set)."""

    story: int | None
    how: str  # "wire" (a copy of a dispatch in the story), "similar", "new"
    score: float | None = None
    follows: int | None = None


def choose(article: Features, stories: Sequence[StoryState], *, wire_story: int | None = None) -> Decision:
    """The story an article joins among ``stories`` (the stories made of the articles before it), or a new one.

    ``wire_story`` is the story of an earlier copy of the same wire dispatch. Only the stories open at the
    article's time may be joined; a new story follows the story (open, or quiet for at most ``FOLLOW_SPAN``) whose
    centroid its vector is closest to, when that cosine reaches ``FOLLOW``. Ties go to the story whose first
    article comes first in the order."""
    if wire_story is not None:
        return Decision(wire_story, "wire", 1.0)
    best: tuple[float, Key, int] | None = None
    follows: tuple[float, Key, int] | None = None
    for story in stories:
        joinable = story.open_at(article.at)
        if not joinable and not story.followable_at(article.at):
            continue
        found = score(article, story)
        if joinable and found.value >= JOIN:
            candidate = (-found.value, story.founder_key, story.id)
            best = candidate if best is None or candidate < best else best
        if story.followable_at(article.at):
            candidate = (-found.text, story.founder_key, story.id)
            follows = candidate if follows is None or candidate < follows else follows
    if best is not None:
        return Decision(best[2], "similar", -best[0])
    followed = follows[2] if follows is not None and -follows[0] >= FOLLOW else None
    return Decision(None, "new", None, followed)
