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
- its **time**: the publication instant, else when the monitor first saw it;
- its **event record** (:mod:`monitor.archive.story_events`): the kind of event, who speaks, whose document it
  is about, whether it announces a meeting to come; carried in the vector (the document as a token of weight
  ``DOCUMENT_WEIGHT``, the rest weightless), the document's token also a seed.

Articles are clustered in the order of their times (ties by URL), each against the stories made of the articles
before it: :class:`monitor.archive.story_engine.Engine` keeps that true whatever the order they are stored in.
A story is the sum of its articles' vectors (its centroid) with the union of their dates and venues. An article
is compared with the stories sharing one of its seeds with one of their articles' seeds, and joins the open one
it scores best with, when that score reaches ``JOIN``; a story is open to articles up to ``WINDOW`` after its
last article, so it stays open while coverage continues, up to ``SPAN`` after its first (a story with
announcements of a meeting and no report of one, to a meeting's report up to ``AHEAD`` after). The score is the cosine of the article's vector with the centroid —
of its words: the share of the centroid's norm its documents' tokens hold is given back, up to ``NORM_CAP``
times the cosine; and the document they share counts only as the same event (:func:`same_object`: of a
compatible kind, within ``OBJECT_HOURS``), else its share of the cosine is taken away — plus ``DATE_BONUS`` when they name the same day, minus ``DATE_PENALTY``
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
import itertools
import math
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import monitor.archive.story_referent as docs
from monitor.archive.story_announced import Announced
from monitor.archive.story_events import AHEAD as AHEAD
from monitor.archive.story_events import (
    FAMILY,
    same_place,
    side,
)
from monitor.archive.story_features import Features as Features
from monitor.archive.story_features import Terms as Terms
from monitor.archive.story_features import background as background
from monitor.archive.story_features import counts as counts
from monitor.archive.story_features import event_dates as event_dates
from monitor.archive.story_features import features as features
from monitor.archive.story_features import people_in as people_in
from monitor.archive.story_features import stems as stems
from monitor.archive.story_features import warsaw_day as warsaw_day
from monitor.archive.story_features import weigh as weigh
from monitor.archive.story_relations import answers, meets_announced, other_side, same_object

WINDOW = timedelta(hours=72)  # a story takes articles up to this long before its first and after its last one
FOLLOW_SPAN = timedelta(days=14)  # a new story may follow a quiet one whose last article is this recent
SPAN = timedelta(days=21)  # a story takes articles up to this long after its first; later ones start another
JOIN = 0.31  # the score an article needs to join a story
FOLLOW = 0.24  # the text cosine a new story needs with an earlier one to follow it
DATE_BONUS = 0.05  # both name the same day
DATE_PENALTY = 0.30  # every day they name is more than DATE_APART days apart
DATE_APART = 2
VENUE_PENALTY = 0.15  # both name venues, none the same
SIDE_PENALTY = 0.30  # a meeting at the story's place with the other side of the war (see other_side)
PEOPLE_BONUS = 0.05  # both name at least PEOPLE_SHARED of the same people, within PEOPLE_HOURS
PEOPLE_SHARED = 2
PEOPLE_HOURS = timedelta(hours=24)
ANNOUNCED_BONUS = 0.20  # an article about the meeting or call a story announces (see meets_announced)
OUTCOME_BONUS = 0.10  # a document that came of the story's meeting (story_referent.outcome)
NORM_CAP = 1.2  # the most the documents' share of a centroid's norm is given back to its words' cosine

SEEDS = 20  # an article's heaviest tokens: the stories it is compared with share one of them
# seeds of an announcement: one per person it names ("#a:witkoff"), "#a:exchange" (see asks)
ANNOUNCES = "#a:"

# Below this cosine a story can neither be joined (the bonuses add at most DATE_BONUS + PEOPLE_BONUS, the words'
# cosine is at most NORM_CAP times it, the score is rounded to 4 places) nor followed: :func:`choose` decides the
# same without it (less a margin for rounding), and scores no further a story it can only follow.
REACHABLE = min((JOIN - DATE_BONUS - PEOPLE_BONUS) / NORM_CAP, FOLLOW) - 0.001
_FOLLOWABLE = FOLLOW - 0.001  # below this cosine a story cannot be followed
OUTCOME_REACH = (JOIN - DATE_BONUS - PEOPLE_BONUS - OUTCOME_BONUS) / NORM_CAP - 0.001  # ... for a document's

# --- what a story is ------------------------------------------------------------------------------------


Key = tuple[str, str]  # an article's place in the order of clustering: (its time in UTC, ISO 8601; its URL)


@dataclass(frozen=True, slots=True)
class Member:
    """A clustered article: its id, its place in the order (:data:`Key`), its features, its seeds and the wire
    dispatch it copies (the ``articles.story_id`` it shares with its copies; None when it has no copy)."""

    id: int
    key: Key
    features: Features
    seeds: tuple[str, ...]
    wire: int | None = None
    asks: tuple[str, ...] = ()  # the announcements' seeds it looks up (not posted): see asks()


def asks(found: Features) -> tuple[str, ...]:
    """The seeds of the announcements an article of a meeting, call or exchange could be the event of: one per
    person it names (:func:`meets_announced` wants one of the announcement's people), or, for an exchange, the
    exchange's; posted by an announcement, looked up by any such article, so that a story announcing is compared
    with its report however low their cosine, and no other story is for that."""
    event = found.event
    if docs.ownerless(event):  # the document stories (story_referent)
        return docs.ASKS
    if event.kind not in FAMILY:
        return ()
    if event.kind == "exchange":
        return (f"{ANNOUNCES}exchange",)
    # the people the rules matched: a name the head gives in passing (#n:) would list too many stories
    return tuple(f"{ANNOUNCES}{person}" for person in sorted(found.people) if f"@{person}" in found.vector)


def member(article_id: int, key: Key, found: Features, wire: int | None = None) -> Member:
    """A :class:`Member`; its seeds are the ``SEEDS`` heaviest tokens of its vector (ordered heaviest first), its
    document's token and, for an announcement, :func:`asks`."""
    words = [token for token in found.vector if not token.startswith("#")][:SEEDS]
    event = found.event
    documents = (f"#o:{item}" for item in sorted(event.objects))
    looked = asks(found)
    announced = looked if event.announced else ()
    return Member(article_id, key, found, (*words, *documents, *announced), wire, looked)


class StoryState:
    """A story as clustering sees it: its articles in order, the sum of their vectors, their dates and venues.

    The sums are always made by adding the articles in order (also after one is taken out), so two stories of the
    same articles have the very same centroid to the last bit, whatever happened before."""

    def __init__(self, founder: Member):
        self.id = founder.id  # the first article's id
        self.members: list[Member] = []
        self._keys: list[Key] = []
        self._prefix: StoryState | None = None  # the state of members[:n] last asked for (before), kept
        self.centroid: dict[str, float] = {}
        self.norm = 0.0
        self.dates: Counter[int] = Counter()
        self.venues: Counter[str] = Counter()
        self.people: Counter[str] = Counter()
        self.objects: Counter[str] = Counter()
        self.kinds: Counter[str | None] = Counter()
        self.announcements = 0  # its articles that announce a meeting to come
        self.reports = 0  # its articles that report a meeting, call or exchange held
        self.ahead = Announced()  # what they announce (and the next legs of visits its reports announce)
        self.places: Counter[str] = Counter()  # where its meetings take place
        self.sides: Counter[str] = Counter()  # the sides of the war (ru, ua) of its people
        self.heads: Counter[str] = Counter()  # the sides of the war its reports' heads name
        self.documents = 0.0  # the squares of the centroid's document tokens (their share of its norm)
        self.scale = 1.0  # what the cosine is multiplied by to be the words' (see _parts)
        self.seeds: Counter[str] = Counter()
        # its first and last article's times and the bounds they set, kept as the articles change (read for
        # every story an article is compared with)
        self.first = self.last = founder.features.at
        self.founder_key: Key = founder.key
        self.open_from = self.open_until = self.follow_until = self.first
        self.add(founder)

    @property
    def size(self) -> int:
        return len(self.members)

    def _ends(self) -> None:
        self.first, self.last = self.members[0].features.at, self.members[-1].features.at
        self.founder_key = self._keys[0]
        until = self.ahead.until() if self.announcements and not self.reports else None
        until = min(until or self.last + WINDOW, self.first + SPAN)
        self.open_from, self.open_until = self.first - WINDOW, until
        self.follow_until = self.last + FOLLOW_SPAN

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
        event = item.features.event
        self.objects.update(event.objects)
        self.kinds[event.kind] += 1
        self.announcements += event.announced
        self.reports += not event.announced and event.kind in FAMILY
        self.heads.update(event.parties if not event.announced and event.kind in FAMILY else ())
        if event.announced or event.leg:  # a report's next leg of a visit: a meeting in person there, to come
            own = item.features
            visit = replace(event, place=event.leg, in_person=True) if event.leg else event
            self.ahead.add(visit, own.at, own.people, own.dates)
        self.places.update(place for place in (event.place, event.leg) if place)  # where its meetings are
        self.sides.update(found for person in item.features.people if (found := side(person)))
        if event.objects:
            self.documents = sum(centroid[f"#o:{name}"] ** 2 for name in self.objects)
        if self.documents and self.norm:
            # the words' share of the norm: the cosine of the words is the cosine times norm / that
            words = self.norm * self.norm - self.documents
            self.scale = min(self.norm / math.sqrt(words), NORM_CAP) if words > 0 else NORM_CAP
        self.seeds.update(item.seeds)

    def _recount(self) -> None:
        self.centroid, self.norm = {}, 0.0
        self.dates, self.venues, self.people, self.seeds = Counter(), Counter(), Counter(), Counter()
        self.objects, self.kinds, self.announcements, self.documents = Counter(), Counter(), 0, 0.0
        self.reports = 0
        self.ahead, self.places, self.sides, self.heads = Announced(), Counter(), Counter(), Counter()
        self.scale = 1.0
        for item in self.members:
            self._accumulate(item)

    def add(self, item: Member) -> None:
        """Add an article (in its place in the order)."""
        if not self._keys or item.key > self._keys[-1]:
            self.members.append(item)
            self._keys.append(item.key)
            self._accumulate(item)
        else:
            at = bisect.bisect_left(self._keys, item.key)
            self.members.insert(at, item)
            self._keys.insert(at, item.key)
            self._recount()
            if self._prefix is not None and at < self._prefix.size:
                self._prefix = None  # the kept prefix no longer is one
        self._ends()

    def remove(self, article_id: int) -> None:
        """Take an article out (the sums are made again, in order)."""
        at = next(i for i, item in enumerate(self.members) if item.id == article_id)
        del self.members[at]
        del self._keys[at]
        if self._prefix is not None and at < self._prefix.size:
            self._prefix = None
        self._recount()
        self._ends()

    def before(self, key: Key) -> StoryState | None:
        """The story as it was before the article at ``key``: its articles ordered before it (None when none).

        The state made is kept and grown by the next call that asks for more of the story: the engine decides
        articles in the order of their times, so deciding the n articles after a late arrival in a story of
        n articles costs n additions, not n²/2. Grown by the same additions in the same order, the sums are
        those a state made from the start has, to the last bit. A returned state is only read, and only until
        the next call."""
        if key > self._keys[-1]:
            return self
        at = bisect.bisect_left(self._keys, key)
        if at == 0:
            return None
        earlier = self._prefix
        if earlier is None or earlier.size > at:
            earlier = StoryState(self.members[0])
        for item in self.members[earlier.size : at]:
            earlier.add(item)
        earlier.id = self.id
        self._prefix = earlier
        return earlier

    def open_at(self, at: datetime) -> bool:
        """Whether an article at ``at`` may join: within ``WINDOW`` of the story's first or last article."""
        return self.open_from <= at <= self.open_until

    def followable_at(self, at: datetime) -> bool:
        """Whether a story started at ``at`` may follow this one: open, or quiet since its last article (of two
        articles or more) for at most ``FOLLOW_SPAN``."""
        return self.open_at(at) or (self.size >= 2 and self.last < at <= self.follow_until)


def cosine(vector: Mapping[str, float], story: StoryState) -> float:
    """Cosine of a unit article vector with a story's centroid."""
    return _cosine(tuple(vector), tuple(vector.values()), story)


def _cosine(tokens: tuple[str, ...], weights: tuple[float, ...], story: StoryState) -> float:
    """:func:`cosine` of a vector given as its tokens and their weights (in its order): the products are summed
    in that order, a token the centroid lacks adding an exact 0.0, all in C (an article is compared with every
    story it could join or follow)."""
    if not story.norm:
        return 0.0
    return sum(map(operator.mul, weights, map(story.centroid.get, tokens, _ZEROS))) / story.norm


_ZEROS = itertools.repeat(0.0)


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
    same_object: bool = False


def score(article: Features, story: StoryState, text: float | None = None) -> Score:
    """How well an article fits a story (see the module's docstring); ``text``, when given, is the cosine of
    their vectors already computed."""
    text = cosine(article.vector, story) if text is None else text
    value, same_day, days_apart, venue_conflict, same_people, document = _parts(article, story, text)
    return Score(round(value, 4), round(text, 4), same_day, days_apart, venue_conflict, same_people, document)


def _parts(article: Features, story: StoryState, text: float) -> tuple[float, bool, bool, bool, bool, bool]:
    """The unrounded score of :func:`score` and what made it: same day, days apart, venue conflict, same people,
    same document."""
    same_day = days_apart = venue_conflict = False
    value = text
    # the next meeting announced (its head says "kolejna runda") to a story of one held: another event
    following = article.event.following and story.reports > 0
    # the event its announcements (or the next leg of a visit) announce, or the other side's answer to one held
    announced = not following and (meets_announced(article, story) or answers(article, story))
    value -= DATE_PENALTY if following else 0.0
    if article.dates and story.dates:
        gap = min(abs(a - b) for a in article.dates for b in story.dates)
        same_day = gap == 0
        days_apart = gap > DATE_APART and not announced
        value += DATE_BONUS if same_day else 0.0
        value -= DATE_PENALTY if days_apart else 0.0
    if article.venues and story.venues and not any(venue in story.venues for venue in article.venues):
        venue_conflict = True
    place = article.event.place
    if place and story.places and not any(same_place(place, other) for other in story.places):
        venue_conflict = True
    value -= VENUE_PENALTY if venue_conflict else 0.0
    # the announced event has checked the sides against those its announcements name as well as their people's
    value -= SIDE_PENALTY if not announced and other_side(article, story) else 0.0
    value += ANNOUNCED_BONUS if announced else 0.0
    same_people = (
        abs(article.at - story.last) <= PEOPLE_HOURS
        and sum(person in story.people for person in article.people) >= PEOPLE_SHARED
    )
    value += PEOPLE_BONUS if same_people else 0.0
    value += OUTCOME_BONUS if docs.outcome(article, story) else 0.0
    document = False
    if story.documents and story.norm:
        # the cosine of the words: the documents' share of the centroid's norm given back (up to NORM_CAP)
        scale = story.scale
        value += text * (scale - 1.0)
        shared = [token for item in article.event.objects if (token := f"#o:{item}") in story.centroid]
        if shared:
            document = same_object(article, story)
            if not document:
                value -= (
                    scale
                    * sum(article.vector[token] * story.centroid[token] for token in shared)
                    / story.norm
                )
    return value, same_day, days_apart, venue_conflict, same_people, document


@dataclass(frozen=True)
class Decision:
    """Where an article goes: ``story`` None starts a new one (following ``follows`` when set)."""

    story: int | None
    how: str  # "wire" (a copy of a dispatch in the story), "similar", "new"
    score: float | None = None
    follows: int | None = None


def choose(
    article: Features,
    stories: Sequence[StoryState],
    *,
    wire_story: int | None = None,
    texts: Mapping[int, float | None] | None = None,
) -> Decision:
    """The story an article joins among ``stories`` (the stories made of the articles before it), or a new one.

    ``wire_story`` is the story of an earlier copy of the same wire dispatch. Only the stories open at the
    article's time may be joined; a new story follows the story (open, or quiet for at most ``FOLLOW_SPAN``) whose
    centroid its vector is closest to, when that cosine reaches ``FOLLOW``. Ties go to the story whose first
    article comes first in the order. ``texts`` may give the cosine of the article with stories (by id), summed as
    :func:`cosine` sums it."""
    if wire_story is not None:
        return Decision(wire_story, "wire", 1.0)
    best: tuple[float, Key, int] | None = None
    follows: tuple[float, Key, int] | None = None
    at, kind = article.at, article.event.kind
    tokens, weights = tuple(article.vector), tuple(article.vector.values())
    documents: list[tuple[float, StoryState]] | None = [] if docs.ownerless(article.event) else None
    for story in stories:  # open_at and followable_at, inline: this loop is the cost of clustering
        joinable = story.open_from <= at <= story.open_until and (
            at - story.last <= WINDOW or meets_announced(article, story)
        )
        if not joinable and not (len(story.members) >= 2 and story.last < at <= story.follow_until):
            continue
        known = texts.get(story.id) if texts is not None else None
        text = _cosine(tokens, weights, story) if known is None else known
        # below REACHABLE only the announced event's bonus, or what came of a meeting, can lift it to JOIN
        if joinable and (
            text >= REACHABLE
            or (story.announcements and kind in FAMILY)
            or (text >= OUTCOME_REACH and docs.outcome(article, story))
        ):
            value = round(_parts(article, story, text)[0], 4)
            if value >= JOIN:
                candidate = (-value, story.founder_key, story.id)
                best = candidate if best is None or candidate < best else best
        if documents is not None and joinable and docs.documentary(article, story):
            documents.append((text, story))
        if text >= _FOLLOWABLE:
            candidate = (-round(text, 4), story.founder_key, story.id)
            follows = candidate if follows is None or candidate < follows else follows
    if (
        documents and (meant := docs.referred(article, documents, _parts)) and meant[0] >= JOIN
    ):  # story_referent
        candidate = (-meant[0], meant[1].founder_key, meant[1].id)
        best = candidate if best is None or candidate < best else best
    if best is not None:
        return Decision(best[2], "similar", -best[0])
    followed = follows[2] if follows is not None and -follows[0] >= FOLLOW else None
    return Decision(None, "new", None, followed)
