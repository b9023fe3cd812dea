"""What the writer derives from an article's own text, computed where the text is extracted (issue #15).

The wire-copy sketch (:func:`monitor.archive.stories.wire_sketch`) and, for a flagged or mention article, its story
features (:func:`monitor.archive.story_index.story_features`) are pure functions of the article and its verdict.
An extraction worker (``monitor.pool.work``) or the pipeline of a crawl without workers computes them
(:func:`derive`) and hands them to the writer with the item, so that the single writer only places and writes.

The writer uses them only when they are what it would compute itself: made by the same code and data
(:func:`version`, a digest of the modules and tables they come from), from the text it stores (an article new in
its batch), at the same time and with the same entity hits as it reads back (checked in
:meth:`monitor.archive.story_index.StoryIndex.place`). Anything else — no derived values (``monitor ingest``,
``stories rebuild``, a distributed worker of an older version), another version — and it computes them itself, with
the same functions.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from importlib import resources
from typing import Any

from monitor.archive.stories import Sketched, wire_sketch
from monitor.archive.story_features import Features
from monitor.archive.story_index import (
    CLUSTERED,
    Computed,
    article_time,
    person_entities,
    story_features,
    venue_entities,
)
from monitor.archive.story_mention import verdict_starts
from monitor.extract import Article
from monitor.rules import Verdict
from monitor.rules.model import Match

# The code and data the derived values come from (every module the features import: tests/test_precomputed_features.py
# checks): a worker whose copy of any of them differs gives another version.
SOURCES = (
    ("monitor.archive", "derived.py"),
    ("monitor.archive", "stories.py"),
    ("monitor.archive", "story_index.py"),
    ("monitor.archive", "story_features.py"),
    ("monitor.archive", "lemmas.py"),
    ("monitor.archive", "story_events.py"),
    ("monitor.archive", "story_tense.py"),
    ("monitor.archive", "story_places.py"),
    ("monitor.archive", "story_legs.py"),
    ("monitor.archive", "story_mention.py"),
    ("monitor.archive", "clusters.py"),
    ("monitor.rules", "text.py"),
    ("monitor.rules", "model.py"),
    ("monitor.extract", "dates.py"),
    ("monitor", "data/story_terms.toml"),
)


@functools.cache
def version() -> str:
    """A digest of :data:`SOURCES` and the packaged rules' venues and people: equal in two processes running the
    same code. When a source cannot be read (an install without sources), a digest no other process shares."""
    digest = hashlib.blake2b(digest_size=12)
    try:
        for package, name in SOURCES:
            digest.update(resources.files(package).joinpath(name).read_bytes())
    except (OSError, ModuleNotFoundError):
        return f"unshared-{uuid.uuid4().hex}"
    for names in (venue_entities(), person_entities()):
        digest.update("\x1f".join(sorted(names)).encode() + b"\x1e")
    return digest.hexdigest()


@dataclass(frozen=True)
class Derived:
    """An article's derived values, and the :func:`version` of the code that computed them."""

    version: str
    sketch: Sketched
    story: Computed | None = None  # flagged and mention articles only


def hits_of(matches: Iterable[Match]) -> Counter[str]:
    """How many distinct passages name each entity: what :func:`monitor.archive.story_index.entity_hits` reads
    back from the matches the writer stores of these."""
    return Counter(
        entity for entity, _field, _start in {(m.entity, m.field, m.start) for m in matches if m.entity}
    )


def derive(article: Article, verdict: Verdict) -> Derived:
    """The derived values of an extracted article with its verdict. Story features only for an article that will
    be clustered and whose time is its publication (else its time is when the writer first sees it)."""
    story = None
    if verdict.relevance in CLUSTERED and article.published:
        hits = hits_of(verdict.matches)
        at = article_time(article.published, None)
        starts = verdict_starts(verdict.relevance, verdict.matches)
        story = Computed(hits, story_features(at, article.title, article.lead, article.text, hits, starts))
    return Derived(version(), wire_sketch(article.text), story)


def usable(derived: Derived | None) -> Derived | None:
    """``derived`` when this process would compute the same values (same :func:`version`), else None."""
    return derived if derived is not None and derived.version == version() else None


# --- through JSON (the distributed item stream) --------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    if isinstance(value, frozenset | set):
        return {"set": sorted(value)}
    if isinstance(value, Mapping):
        return {"map": dict(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        if tag == "at":
            return datetime.fromisoformat(inner)
        if tag == "set":
            return frozenset(inner)
        if tag == "map":
            return dict(inner)
        raise ValueError(f"unknown tag {tag!r}")
    return value


def to_json(derived: Derived) -> dict[str, Any]:
    """``derived`` as JSON values (every field of the story features, whatever they are)."""
    data: dict[str, Any] = {"version": derived.version, "sketch": list(derived.sketch)}
    if derived.story is not None:
        found = derived.story.features
        data["hits"] = dict(derived.story.hits)
        data["features"] = {f.name: _encode(getattr(found, f.name)) for f in fields(found)}
    return data


def from_json(data: Any) -> Derived | None:
    """What :func:`to_json` gave; None for anything else (the writer then computes the values itself)."""
    try:
        values, anchored = data["sketch"]
        sketched = Sketched([int(v) for v in values], int(anchored))
        story = None
        if data.get("features") is not None:
            found = Features(**{name: _decode(value) for name, value in data["features"].items()})
            hits = {str(entity): int(n) for entity, n in data["hits"].items()}
            story = Computed(hits, found)
        return Derived(str(data["version"]), sketched, story)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
