"""What the stories' writer (:class:`monitor.archive.story_index.StoryIndex`) holds of the archive's stories
(issue #15): bounded by the arriving articles' times, not by the archive. See docs/stories.md, "What the writer
holds".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.archive.clusters import Member
from monitor.archive.story_engine import REACH
from monitor.archive.story_events import Event


@dataclass(frozen=True)
class Held:
    """Which stored stories a :class:`StoryIndex` holds (times as in a :data:`~monitor.archive.clusters.Key`):
    every story begun at or before ``hi`` and last seen at or after ``lo``, but for stories of one article last
    seen before ``near`` (``WINDOW`` before the earliest article it was read for), and before ``ahead`` for one
    that announces a meeting (``OPEN`` before: open that long for the meeting's report)."""

    lo: str
    ahead: str
    near: str
    hi: str


# Which stored stories an article could join or follow, given (near, ahead, the announcement's token): every
# story of two articles or more (the caller bounds their last_seen by REACH); a story of one article while it is
# open: WINDOW after it, or AHEAD for an announcement of a meeting (its vector holds the event's token).
REACHABLE = (
    "(articles >= 2 OR last_seen >= ? OR (last_seen >= ? AND EXISTS (SELECT 1 FROM story_vectors v "
    "WHERE v.article_id = stories.id AND instr(v.vector, ?) > 0)))"
)
ANNOUNCED = json.dumps(Event(announced=True).tokens()[0]) + ":"


def spans(
    members: Sequence[Member], removed: Sequence[tuple[str, int]]
) -> list[tuple[list[Member], list[tuple[str, int]]]]:
    """The arriving and leaving articles in groups of times within ``REACH`` of the group's first (in the order
    of times): each group is placed against the stories of its own weeks."""
    events = sorted(
        [(item.key[0], 0, item) for item in members] + [(at, 1, i) for at, i in removed],
        key=lambda event: event[:2],
    )
    groups: list[tuple[list[Member], list[tuple[str, int]]]] = []
    first: datetime | None = None
    for at, kind, thing in events:
        moment = datetime.fromisoformat(at)
        if first is None or moment - first > REACH:
            groups.append(([], []))
            first = moment
        if kind == 0:
            groups[-1][0].append(thing)  # type: ignore[arg-type]
        else:
            groups[-1][1].append((at, thing))  # type: ignore[arg-type]
    return groups
