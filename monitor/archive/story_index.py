"""The archive's stories (issue #17): thin SQL around :mod:`monitor.archive.story_engine` and
:mod:`monitor.archive.clusters`.

Every flagged (``primary``) or ``mention`` article joins a story when it is stored (:class:`StoryIndex`, called by
:class:`monitor.archive.store.Storage` inside the batch's transaction); :func:`rebuild` clusters the whole archive
again after a rule or threshold change. Both place the articles in the order of their times, so they give the
same stories whatever order the crawl stored the articles in. Tables (migration ``m009_stories``):

- ``stories``: one row per story, named by the id of its first article;
- ``story_articles``: which story each clustered article is in, its time, how it joined and with what score;
- ``story_vectors`` (hidden): each article's features, so the writer decides without reading texts again.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from monitor.archive.clusters import (
    WINDOW,
    Features,
    Member,
    StoryState,
    central,
    features,
    member,
    people_in,
    warsaw_day,
)
from monitor.archive.story_engine import OPEN, REACH, Engine, Outcome, Placement
from monitor.archive.story_held import Weights
from monitor.archive.story_mention import MENTION, Starts, Text, body_starts
from monitor.archive.story_window import ANNOUNCED, REACHABLE, Held, spans
from monitor.extract.dates import WARSAW

CLUSTERED = ("primary", "mention")
T = TypeVar("T")


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def article_time(published: str | None, first_seen: str | None) -> datetime:
    """An article's time: its publication instant, else when the monitor first saw it (UTC when naive)."""
    for value, zone in ((published, WARSAW), (first_seen, UTC)):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return datetime.now(UTC)


@functools.cache
def venue_entities() -> frozenset[str]:
    """Entities of the packaged rules whose role is ``venue`` (Genewa, Abu Zabi …)."""
    from monitor.rules import RulesError, load_rules

    try:
        ruleset = load_rules()
    except RulesError:
        return frozenset()
    return frozenset(e.id for e in ruleset.entities.values() if e.role == "venue")


@functools.cache
def person_entities() -> frozenset[str]:
    """Entities of the packaged rules that are people (Witkoff, Pieskow …)."""
    from monitor.rules import RulesError, load_rules

    try:
        ruleset = load_rules()
    except RulesError:
        return frozenset()
    return frozenset(e.id for e in ruleset.entities.values() if e.type == "person")


def story_features(
    at: datetime, title: Text, lead: Text, text: Text, hits: Mapping[str, int], passages: Starts = None
) -> Features:
    """An article's features for clustering (the packaged rules' venues and people; ``passages``, a mention's, see
    ``story_mention``): the one computation of them, by the writer (:meth:`StoryIndex.place`) or where the
    article was extracted (``monitor.archive.derived``)."""
    return features(at, title, lead, text, hits, venue_entities(), None, person_entities(), passages)


@dataclass(frozen=True)
class Computed:
    """An article's features computed before it reached the writer, with the time and entity hits they were
    computed from: the writer uses them only when its own time and hits for the article are the same."""

    hits: Mapping[str, int]
    features: Features


def _chunks(items: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(n: int) -> str:
    return ", ".join("?" * n)


def entity_hits(conn: sqlite3.Connection, article_ids: Sequence[int]) -> dict[int, Counter[str]]:
    """How many distinct passages name each entity in each article's stored matches."""
    found: dict[int, Counter[str]] = {i: Counter() for i in article_ids}
    for chunk in _chunks(article_ids):
        rows = conn.execute(
            "SELECT DISTINCT article_id, entity, field, start FROM matches "
            f"WHERE article_id IN ({marks(len(chunk))}) AND entity IS NOT NULL",
            list(chunk),
        )
        for article_id, entity, _field, _start in rows:
            found[article_id][entity] += 1
    return found


_ARTICLES = (
    "SELECT a.id, a.url, a.title, a.lead, a.text, a.published, a.first_seen, a.relevance, a.story_id, "
    "sa.story_id FROM articles a LEFT JOIN story_articles sa ON sa.article_id = a.id WHERE a.id IN ({})"
)

_MEMBERS = (
    "SELECT sa.article_id, sa.story_id, sa.at, sa.how, sa.score, a.url, a.story_id, v.vector, v.dates, v.venues "
    "FROM story_articles sa JOIN story_vectors v ON v.article_id = sa.article_id "
    "JOIN articles a ON a.id = sa.article_id WHERE sa.story_id IN ({})"
)


@dataclass(frozen=True)
class Placed:
    article_id: int
    story_id: int
    at: datetime
    how: str


@dataclass(frozen=True)
class Meta:
    """What a story's row says of each of its articles."""

    source: str
    title: str | None
    relevance: str
    joined: str
    entities: frozenset[str]


def story_row(story: StoryState, meta: Mapping[int, Meta], follows: int | None) -> list[object]:
    """The ``stories`` row of a story (its columns in order), from its articles in order."""
    members = story.members
    flagged = [item.id for item in members if meta[item.id].relevance == "primary"]
    headline = central(story, flagged or [item.id for item in members])
    assert headline is not None
    outlets = list(dict.fromkeys(meta[item.id].source for item in members))
    days = Counter(warsaw_day(item.features.at).isoformat() for item in members)
    entities = Counter(entity for item in members for entity in meta[item.id].entities)
    return [
        story.id,
        members[0].key[0],
        max(item.key[0] for item in members),
        meta[headline].title,
        headline,
        members[0].id,
        meta[members[0].id].source,
        len(outlets),
        json.dumps(outlets, ensure_ascii=False),
        len(members),
        len(flagged),
        json.dumps(sorted(entities, key=lambda entity: (-entities[entity], entity))),
        min(days, key=lambda day: (-days[day], day)),
        follows,
        max(meta[item.id].joined for item in members),
    ]


STORY_ROW = (
    "INSERT OR REPLACE INTO stories (id, first_seen, last_seen, headline, headline_article_id, first_article_id, "
    "first_outlet, outlets, outlet_names, articles, flagged, entities, peak_day, follows, updated) "
    f"VALUES ({marks(15)})"
)
PLACEMENT = (
    "INSERT INTO story_articles (article_id, story_id, at, how, score, joined) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (article_id) DO UPDATE SET story_id = excluded.story_id, how = excluded.how, "
    "score = excluded.score"
)
VECTOR = "INSERT OR REPLACE INTO story_vectors (article_id, vector, dates, venues) VALUES (?, ?, ?, ?)"


def vector_row(item: Member) -> tuple[int, str, str, str]:
    found = item.features
    return (
        item.id,
        json.dumps(found.vector, separators=(",", ":")),
        json.dumps(sorted(found.dates)),
        json.dumps(sorted(found.venues)),
    )


def placement_row(item: Member, placement: Placement, joined: str) -> tuple[object, ...]:
    return (item.id, placement.story, item.key[0], placement.how, placement.score, joined)


class StoryIndex:
    """Places articles in stories inside the caller's transaction, keeping the stories it has read in memory.

    What it holds is bounded by the articles' times, not by the archive: the stories an arriving article could
    join or follow (those last seen up to ``REACH`` before it; a story of one article only while it is open,
    ``WINDOW`` or, for an announcement of a meeting, ``OPEN``, as it can be joined but not followed), the stories
    begun up to its time, and, only when placing it moves others, the stories begun up to where those moves can
    reach (:meth:`Engine.insert`'s ``more``). An article far older than what is held (a back-filled outlet, a mirror of last January) is placed against the
    stories of its own weeks, read for it; the memory is read again for the next article of today.

    The memory is dropped whenever another connection has written the archive (``PRAGMA data_version``) or the
    rows it last wrote are not there (a batch rolled back), and read again as needed."""

    def __init__(self) -> None:
        self.engine = Engine()
        self._version: int | None = None
        self._held: Held | None = None  # which stored stories the engine holds (see Held)
        self._written: list[tuple[int, int]] = []  # (article, story) rows the last batch wrote
        self.read = 0  # stories read from the archive since this index was made (for tests and benchmarks)

    def _sync(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        intact = all(
            conn.execute("SELECT 1 FROM story_articles WHERE article_id = ? AND story_id = ?", row).fetchone()
            for row in self._written
        )
        if version != self._version or not intact:
            self._drop()
        self._version = version
        self._written = []

    def _drop(self) -> None:
        self.engine = Engine()
        self._held = None

    def place(
        self,
        conn: sqlite3.Connection,
        article_ids: Iterable[int],
        computed: Mapping[int, Computed] | None = None,
    ) -> list[Placed]:
        """Put each flagged or mention article that is in no story yet into one; take articles that are no longer
        flagged or mentions out of theirs; move the articles the order of times says must move. Refreshes the
        stories that changed. A re-fetched article stays where it is. ``computed``: features of articles whose
        stored title, lead and text they were computed from (see :class:`Computed`)."""
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        self._sync(conn)
        fresh: list[tuple[object, ...]] = []
        removed: list[int] = []
        for chunk in _chunks(ids):
            for row in conn.execute(_ARTICLES.format(marks(len(chunk))), list(chunk)):
                if row[7] in CLUSTERED and row[9] is None:
                    fresh.append(row)
                elif row[7] not in CLUSTERED and row[9] is not None:
                    removed.append(row[0])
        if not fresh and not removed:
            return []
        hits = entity_hits(conn, [row[0] for row in fresh])  # type: ignore[misc]
        starts = body_starts(conn, [row[0] for row in fresh if row[7] == MENTION])  # type: ignore[misc]
        members = []
        for row in fresh:
            article_id, url, title, lead, text, published, first_seen = row[:7]
            assert isinstance(article_id, int)
            at = article_time(_text(published), _text(first_seen))
            given = computed.get(article_id) if computed else None
            if given is not None and given.features.at == at and given.hits == hits[article_id]:
                found = replace(given.features, at=at)  # the same moment, in the writer's own time zone
            else:
                found = story_features(
                    at, _text(title), _text(lead), _text(text), hits[article_id], starts.get(article_id)
                )
            members.append(member(article_id, (utc_iso(at), str(url)), found, _int(row[8])))
        leaving: list[tuple[str, int]] = []
        for chunk in _chunks(removed):
            leaving.extend(
                conn.execute(
                    f"SELECT at, article_id FROM story_articles WHERE article_id IN ({marks(len(chunk))})",
                    list(chunk),
                )
            )
        now = utc_iso(datetime.now(UTC))
        placed = []
        for group, gone in spans(members, leaving):
            placed.extend(self._place(conn, group, gone, now))
        return placed

    def _place(
        self,
        conn: sqlite3.Connection,
        members: Sequence[Member],
        removed: Sequence[tuple[str, int]],
        now: str,
    ) -> list[Placed]:
        """Place articles (and take out articles) whose times lie within one ``REACH`` of each other."""
        times = [item.key[0] for item in members] + [at for at, _id in removed]
        self._cover(conn, datetime.fromisoformat(min(times)))
        self._hold_wires(conn, members)
        (stored,) = conn.execute("SELECT max(last_seen) FROM stories").fetchone()
        outcome = self.engine.insert(
            members, [i for _at, i in removed], more=lambda until: self._more(conn, until), stored=stored
        )
        held = self._held
        if outcome.released is not None and held is not None:
            released = datetime.fromisoformat(outcome.released)
            self._held = Held(
                max(held.lo, utc_iso(released - REACH)),
                max(held.ahead, utc_iso(released - OPEN)),
                max(held.near, utc_iso(released - WINDOW)),
                held.hi,
            )
        self._write(conn, outcome, members, now)
        placed = [
            Placed(
                item.id, self.engine.placed[item.id].story, item.features.at, self.engine.placed[item.id].how
            )
            for item in members
        ]
        self._forget_old()
        return placed

    def _cover(self, conn: sqlite3.Connection, first: datetime) -> None:
        """Hold every stored story an article at ``first`` could join or follow (the engine reads the stories
        after it as it needs them); start again from nothing when what is held is far from there."""
        want = Held(utc_iso(first - REACH), utc_iso(first - OPEN), utc_iso(first - WINDOW), utc_iso(first))
        held = self._held
        if held is not None and (want.hi < held.lo or want.lo > held.hi):
            self._drop()
            held = None
        if held is None:
            found = conn.execute(
                f"SELECT id FROM stories WHERE last_seen >= ? AND first_seen <= ? AND {REACHABLE}",
                (want.lo, want.hi, want.near, want.ahead, ANNOUNCED),
            ).fetchall()
            self._held = want
        else:
            found = []
            hi = held.hi
            if want.lo < held.lo or want.ahead < held.ahead or want.near < held.near:  # last seen before
                # only those begun by the article: the engine reads the later ones as it reaches them, and what
                # it let go of behind itself since is not all read back at once (thousands at 5M's density)
                hi = min(want.hi, held.hi)
                found += conn.execute(
                    "SELECT id FROM stories WHERE last_seen >= ? AND last_seen < ? AND first_seen <= ? "
                    f"AND {REACHABLE}",
                    (want.lo, held.near, hi, want.near, want.ahead, ANNOUNCED),
                ).fetchall()
            self._held = Held(
                min(want.lo, held.lo), min(want.ahead, held.ahead), min(want.near, held.near), hi
            )
            found += [(i,) for i in self._begun(conn, want.hi)]
        self._load(conn, [i for (i,) in found if i not in self.engine.stories])

    def _begun(self, conn: sqlite3.Connection, until: str) -> list[int]:
        """The stored stories begun after what is held and by ``until``, now held too (their ids)."""
        held = self._held
        assert held is not None
        if until <= held.hi:
            return []
        found = [
            i
            for (i,) in conn.execute(
                "SELECT story_id FROM story_articles WHERE at > ? AND at <= ? AND story_id = article_id",
                (held.hi, until),
            )
        ]
        self._held = Held(held.lo, held.ahead, held.near, until)
        return found

    def _more(self, conn: sqlite3.Connection, until: str) -> list[tuple[Member, Placement]]:
        """For :meth:`Engine.insert`: the stored stories begun by ``until`` that are not held."""
        return self._read(conn, [i for i in self._begun(conn, until) if i not in self.engine.stories])

    def _hold_wires(self, conn: sqlite3.Connection, members: Sequence[Member]) -> None:
        """Hold the stories of the arriving articles' wire copies (every copy of a dispatch is in one story)."""
        groups = sorted({item.wire for item in members if item.wire is not None})
        wanted: set[int] = set()
        for chunk in _chunks(groups):
            wanted.update(
                story_id
                for (story_id,) in conn.execute(
                    "SELECT DISTINCT sa.story_id FROM articles w JOIN story_articles sa ON sa.article_id = w.id "
                    f"WHERE w.story_id IN ({marks(len(chunk))})",
                    list(chunk),
                )
            )
        self._load(conn, sorted(wanted - self.engine.stories.keys()))

    def _load(self, conn: sqlite3.Connection, story_ids: Sequence[int]) -> None:
        self.engine.load(self._read(conn, story_ids))

    def _read(self, conn: sqlite3.Connection, story_ids: Sequence[int]) -> list[tuple[Member, Placement]]:
        """Every article of these stored stories, with its placement."""
        self.read += len(story_ids)
        items = []
        for chunk in _chunks(story_ids):
            follows = dict(
                conn.execute(
                    f"SELECT id, follows FROM stories WHERE id IN ({marks(len(chunk))})", list(chunk)
                )
            )
            for article_id, story_id, at, how, score, url, wire, vector, dates, venues in conn.execute(
                _MEMBERS.format(marks(len(chunk))), list(chunk)
            ):
                weights = Weights(json.loads(vector))  # most of what the writer holds: held compactly
                found = Features(
                    datetime.fromisoformat(at),
                    weights,
                    venues=_frozen(json.loads(venues)),
                    dates=_frozen(json.loads(dates)),
                    people=_frozen(people_in(weights, person_entities())),
                )
                placement = Placement(
                    story_id, how, score, follows.get(story_id) if article_id == story_id else None
                )
                items.append((member(article_id, (at, url), found, wire), placement))
        return items

    def _write(
        self, conn: sqlite3.Connection, outcome: Outcome, members: Sequence[Member], joined: str
    ) -> None:
        conn.executemany(VECTOR, [vector_row(item) for item in members])
        gone = [article_id for article_id, placement in outcome.placed.items() if placement is None]
        for chunk in _chunks(gone):
            for table in ("story_articles", "story_vectors"):
                conn.execute(f"DELETE FROM {table} WHERE article_id IN ({marks(len(chunk))})", list(chunk))
        rows = [
            placement_row(self.engine.members[article_id], placement, joined)
            for article_id, placement in outcome.placed.items()
            if placement is not None
        ]
        conn.executemany(PLACEMENT, rows)
        self._written = [(int(row[0]), int(row[1])) for row in rows[-3:]]  # type: ignore[call-overload]
        kept = sorted(i for i in outcome.stories if i in self.engine.stories)
        gone_stories = sorted(outcome.stories - set(kept))
        for chunk in _chunks(gone_stories):
            conn.execute(f"DELETE FROM stories WHERE id IN ({marks(len(chunk))})", list(chunk))
        meta = read_meta(conn, [item.id for i in kept for item in self.engine.stories[i].members])
        conn.executemany(STORY_ROW, [self._row(i, meta) for i in kept])

    def _row(self, story_id: int, meta: Mapping[int, Meta]) -> list[object]:
        story = self.engine.stories[story_id]
        return story_row(story, meta, self.engine.follows(story))

    def _forget_old(self) -> None:
        """Keep in memory the stories the latest articles could still join or follow (plus a day)."""
        latest = self.engine._latest
        held = self._held
        if latest is None or held is None:
            return
        horizon = utc_iso(datetime.fromisoformat(latest[0]) - REACH - REACH)
        if horizon > held.lo:
            self.engine.evict(datetime.fromisoformat(horizon))
            self._held = Held(horizon, max(horizon, held.ahead), max(horizon, held.near), held.hi)


def read_meta(conn: sqlite3.Connection, article_ids: Sequence[int]) -> dict[int, Meta]:
    """Each clustered article's outlet, title, relevance, when it joined and the entities it matched."""
    entities = entity_hits(conn, article_ids)
    found = {}
    for chunk in _chunks(article_ids):
        for article_id, source, title, relevance, joined in conn.execute(
            "SELECT a.id, a.source, a.title, a.relevance, sa.joined FROM articles a "
            f"JOIN story_articles sa ON sa.article_id = a.id WHERE a.id IN ({marks(len(chunk))})",
            list(chunk),
        ):
            found[article_id] = Meta(source, title, relevance, joined, frozenset(entities[article_id]))
    return found


_EMPTY: frozenset[Any] = frozenset()


def _frozen(items: Iterable[T]) -> frozenset[T]:
    """A frozenset of ``items``, the one empty frozenset when there are none (most articles name no venue)."""
    found = frozenset(items)
    return found if found else _EMPTY


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None
