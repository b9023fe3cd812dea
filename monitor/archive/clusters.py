"""Stories, not articles: which event an article reports. Pure functions over an article's features and the
features of the stories it could join; the SQL around them is :mod:`monitor.archive.story_index`.

An article is described by (:func:`features`):

- a **word vector**: the folded words of its title (×3), lead (×2) and the first ``BODY_WORDS`` words of its body,
  cut to their first ``STEM`` letters (a crude lemma: Polish inflects the end of a word, so *Genewie* and
  *Genewa*, *rozmowy* and *rozmów* meet), without function words, plus one token per matched entity
  (``@witkoff``, weighed ×``ENTITY_BOOST``); weighed by TF-IDF, where document frequencies count the flagged
  and mention articles clustered so far (so the words of every peace-talk story, *rozmowy*, *Ukraina*,
  weigh little and *Abu Zabi*, *jeńców*, *Driscoll* a lot), cut to its ``TOP_TOKENS`` heaviest tokens and
  normalised;
- its **event dates**: days the text names ("22 stycznia", "w czwartek", "jutro"), resolved against its
  publication day and kept when within ``DATE_RANGE`` days of it, but neither that day nor the day before
  (the days news is reported on, not the days of the events it announces or recalls);
- its **venues**: matched entities whose role is ``venue`` (Genewa, Abu Zabi, Stambuł, Miami);
- its **time**: the publication instant, else when the monitor first saw it.

A story is the sum of its articles' vectors (its centroid) with the union of their dates and venues. An article
joins the open story it scores best with, when that score reaches ``JOIN``; a story is open to articles within
``WINDOW`` of its first and last article, so it stays open while coverage continues. The score is the cosine of
the article's vector with the centroid, plus ``DATE_BONUS`` when they name the same day, minus ``DATE_PENALTY``
when every day they name is more than ``DATE_APART`` days apart (two meetings of the same people a week apart),
minus ``VENUE_PENALTY`` when both name venues and none is shared (Geneva and Abu Dhabi). A copy of a wire
dispatch (:mod:`monitor.archive.stories`) joins the story of its earlier copy whatever the score.

An article that joins no story starts one; the new story *follows* the earlier story whose centroid its vector
is closest to, when that cosine reaches ``FOLLOW`` (the next meeting of the same people, a subject that
resurfaced after the earlier story went quiet; earlier: started before the article, its last article at most
``FOLLOW_SPAN`` before).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from monitor.extract.dates import POLISH_MONTHS, WARSAW
from monitor.rules.text import word_bytes

WINDOW = timedelta(hours=72)  # a story takes articles up to this long before its first and after its last one
FOLLOW_SPAN = timedelta(days=14)  # a new story may follow a quiet one whose last article is this recent
JOIN = 0.26  # the score an article needs to join a story
FOLLOW = 0.24  # the text cosine a new story needs with an earlier one to follow it
DATE_BONUS = 0.05  # both name the same day
DATE_PENALTY = 0.30  # every day they name is more than DATE_APART days apart
DATE_APART = 2
VENUE_PENALTY = 0.15  # both name venues, none the same
DATE_RANGE = 10  # event dates further than this many days from the publication day are history, not events

STEM = 5  # letters kept of each word
MIN_LETTERS = 4  # shorter words carry no subject
BODY_WORDS = 400  # the top of a news story says what happened; the rest is background
TOP_TOKENS = 80  # tokens kept per article
FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # title, lead, body
ENTITY_BOOST = 2.0

# Words of four letters or more that say nothing about the subject (folded).
_STOPWORDS = """
    oraz jest przez ktore ktory ktora ktorych ktorym ktorej jego jej ich tego temu tych tym jednak takze tylko
    jako przy miedzy podczas poniewaz ktorzy bedzie beda byly bylo byla zostal zostala zostaly zostalo moze mozna
    bardzo wiec tutaj teraz juz jeszcze nawet ponad okolo wobec gdzie kiedy dlaczego jaki jaka jakie jesli jezeli
    czyli sobie siebie swoj swoja swoje swoich swoim zeby aby bowiem natomiast rowniez wszystko wszyscy wszystkie
    kazdy kazda kazde inne innych inny taki taka takie tamtej takze potem wtedy dzis dzisiaj wczoraj jutro sama
    samo samych mamy maja miec majac jestesmy sa byc bedziemy powiedzial powiedziala dodal dodala przekazal
    przekazala poinformowal poinformowala stwierdzil stwierdzila zaznaczyl zaznaczyla podkreslil podkreslila
    wedlug zdaniem czytaj takze rowniez wiecej zobacz sprawie sprawy ramach roku latach tygodniu tygodnia dniu
    godzinie godz poniedzialek wtorek sroda srode czwartek piatek sobota sobote niedziela niedziele
    """
STOPWORDS = frozenset(_STOPWORDS.split())

# --- what an article is ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Features:
    """What clustering knows of an article (see the module's docstring)."""

    at: datetime
    vector: Mapping[str, float]
    entities: frozenset[str] = frozenset()
    venues: frozenset[str] = frozenset()
    dates: frozenset[int] = frozenset()  # date.toordinal() of each event day


def stems(text: str | None, limit: int) -> list[str]:
    """The content words of a text, folded and cut to ``STEM`` letters (function words and numbers left out).

    Words are read with :func:`monitor.rules.text.word_bytes`, the rules' own folding (every letter to a-z,
    everything that is not a letter or digit a space), which runs in C."""
    if not text:
        return []
    folded = word_bytes(text[: limit * 16]).split()[:limit]
    return [
        word[:STEM].decode()
        for word in folded
        if len(word) >= MIN_LETTERS and not word[:1].isdigit() and word.decode() not in STOPWORDS
    ]


def counts(
    title: str | None, lead: str | None, text: str | None, entities: Mapping[str, int] | None = None
) -> dict[str, float]:
    """Weighted token counts of an article: its stems by field weight, its entities as ``@id``."""
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


def features(
    at: datetime,
    title: str | None,
    lead: str | None,
    text: str | None,
    entity_hits: Mapping[str, int],
    venues: Iterable[str],
    df: Mapping[str, int],
    docs: int,
) -> tuple[Features, frozenset[str]]:
    """An article's features and its distinct tokens (for the document frequencies). ``entity_hits`` counts
    its matched entities (distinct passages), ``venues`` names the entities that are meeting places,
    ``df``/``docs`` are the document frequencies so far."""
    raw = counts(title, lead, text, entity_hits)
    head = " ".join(part for part in (title, lead, " ".join((text or "").split()[:BODY_WORDS])) if part)
    found = Features(
        at=at,
        vector=weigh(raw, df, docs),
        entities=frozenset(entity_hits),
        venues=frozenset(venues) & frozenset(entity_hits),
        dates=event_dates(head, warsaw_day(at)),
    )
    return found, frozenset(raw)


# --- what a story is ------------------------------------------------------------------------------------


@dataclass
class StoryState:
    """A story as clustering sees it: its span, the sum of its articles' vectors, their dates and venues."""

    id: int
    first: datetime
    last: datetime
    centroid: dict[str, float] = field(default_factory=dict)
    norm: float = 0.0
    dates: set[int] = field(default_factory=set)
    venues: set[str] = field(default_factory=set)
    members: dict[int, Mapping[str, float]] = field(default_factory=dict)  # article id -> vector

    @property
    def size(self) -> int:
        return len(self.members)

    def add(self, article_id: int, article: Features) -> None:
        centroid, squares = self.centroid, self.norm * self.norm
        for token, weight in article.vector.items():
            before = centroid.get(token, 0.0)
            centroid[token] = before + weight
            squares += weight * (2 * before + weight)
        self.norm = math.sqrt(max(squares, 0.0))
        self.dates |= article.dates
        self.venues |= article.venues
        self.first = min(self.first, article.at)
        self.last = max(self.last, article.at)
        self.members[article_id] = article.vector

    def open_at(self, at: datetime) -> bool:
        """Whether an article at ``at`` may join: within ``WINDOW`` of the story's first or last article."""
        return self.first - WINDOW <= at <= self.last + WINDOW


def start(article_id: int, article: Features) -> StoryState:
    """A new story, named after the article that starts it."""
    story = StoryState(article_id, article.at, article.at)
    story.add(article_id, article)
    return story


def cosine(vector: Mapping[str, float], story: StoryState) -> float:
    """Cosine of a unit article vector with a story's centroid."""
    if not story.norm:
        return 0.0
    centroid = story.centroid
    return sum(vector[t] * centroid[t] for t in vector.keys() & centroid.keys()) / story.norm


def central(story: StoryState, eligible: Iterable[int]) -> int | None:
    """The article of ``eligible`` (ids of the story's members) closest to the story's centroid: whose headline
    the story takes. Ties go to the lower id (the earlier stored)."""
    ranked = [(-cosine(story.members[i], story), i) for i in eligible if i in story.members]
    return min(ranked)[1] if ranked else None


@dataclass(frozen=True)
class Score:
    value: float
    text: float
    same_day: bool = False
    days_apart: bool = False
    venue_conflict: bool = False


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
    if article.venues and story.venues and not article.venues & story.venues:
        venue_conflict = True
        value -= VENUE_PENALTY
    return Score(round(value, 4), round(text, 4), same_day, days_apart, venue_conflict)


@dataclass(frozen=True)
class Decision:
    """Where an article goes: ``story`` None starts a new one (following ``follows`` when set)."""

    story: int | None
    how: str  # "wire" (a copy of a dispatch in the story), "similar", "new"
    score: float | None = None
    follows: int | None = None


def choose(
    article: Features,
    stories: Iterable[StoryState],
    *,
    wire_story: int | None = None,
    quiet: Iterable[StoryState] = (),
    texts: Mapping[int, float] | None = None,
) -> Decision:
    """The story an article joins among ``stories`` (those open at its time are considered), or a new one.

    ``wire_story`` is the story of an earlier copy of the same wire dispatch; ``quiet`` are earlier stories that
    may be followed (of two articles or more, their last one ``WINDOW`` to ``FOLLOW_SPAN`` before the article).
    ``texts`` may give the cosines of the article with the stories, by story id, computed beforehand (a story
    missing from it shares no token with the article: its cosine is 0)."""
    if wire_story is not None:
        return Decision(wire_story, "wire", 1.0)
    best: tuple[float, int] | None = None
    follows: tuple[float, int] | None = None
    for story in stories:
        if not story.open_at(article.at):
            continue
        found = score(article, story, None if texts is None else texts.get(story.id, 0.0))
        if found.value >= JOIN and (best is None or (found.value, -story.id) > (best[0], -best[1])):
            best = (found.value, story.id)
        if story.first < article.at and (follows is None or found.text > follows[0]):
            follows = (found.text, story.id)
    if best is not None:
        return Decision(best[1], "similar", best[0])
    for story in quiet:
        if story.size >= 2 and story.first < article.at <= story.last + FOLLOW_SPAN:
            text = cosine(article.vector, story) if texts is None else texts.get(story.id, 0.0)
            if follows is None or text > follows[0]:
                follows = (text, story.id)
    followed = follows[1] if follows and follows[0] >= FOLLOW else None
    return Decision(None, "new", None, followed)
