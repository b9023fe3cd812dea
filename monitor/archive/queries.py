"""Reading the archive: flagged stories for reports and alerts, time windows. Queries only, no writes.

The SQL lives here and in the views of :mod:`monitor.archive`; the ``monitor report`` and ``monitor export atom``
commands are thin layers over :func:`flagged_stories`.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.extract.dates import WARSAW

_RELATIVE = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """A point in time from what a user typed: ``24h``, ``7d``, ``30m``, ``2w``, ``2026-01-14``, ISO 8601.

    A date or a time without an offset is Warsaw time. Raises ``ValueError`` with a readable message.
    """
    now = now or datetime.now(UTC)
    relative = _RELATIVE.match(value or "")
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return (now - timedelta(**{_UNITS[unit]: amount})).astimezone(UTC)
    text = (value or "").strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time: use 24h, 7d, 30m, 2w, a date (2026-01-14) or ISO 8601 (2026-01-14T10:00+01:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=WARSAW)
    return parsed.astimezone(UTC)


FLAGGED_SQL = """
SELECT p.article_id AS id, p.published, p.outlet, p.title, p.url, p.lead, p.score, p.top_terms,
       p.story_id, p.story_outlets, p.first_seen,
       coalesce(a.changed_at, a.modified, p.published, p.first_seen) AS updated
FROM peace_talks p
JOIN articles a ON a.id = p.article_id
WHERE (:since IS NULL OR julianday(coalesce(p.published, p.first_seen)) >= julianday(:since))
ORDER BY coalesce(julianday(p.published), julianday(p.first_seen)) DESC, p.article_id DESC
LIMIT :limit
"""


def flagged_stories(
    conn: sqlite3.Connection, *, since: datetime | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Flagged (primary) stories published since ``since`` (first seen, when the date is unknown), newest first."""
    params = {
        "since": since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if since else None,
        "limit": limit,
    }
    cursor = conn.execute(FLAGGED_SQL, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def other_outlets(conn: sqlite3.Connection, story_id: int, outlet: str) -> list[str]:
    """The other outlets that carried the same wire story."""
    rows = conn.execute(
        "SELECT DISTINCT source FROM articles WHERE story_id = ? AND source != ? ORDER BY source",
        [story_id, outlet],
    )
    return [name for (name,) in rows]


# Each outlet's own runs, read through idx_run_sources_source (newest first where that is what is asked), so the
# cost is per outlet and does not grow with the runs ever recorded (a year of runs every 15 minutes: 3.6M rows).
_CRAWL_RUNS = (
    "FROM run_sources rs JOIN crawl_runs r ON r.id = rs.run_id "
    "WHERE rs.source = s.name AND r.spider IS NOT 'ingest' AND r.status IS NOT 'running'"
)
_RECENT = f"SELECT rs.discovered {_CRAWL_RUNS} ORDER BY rs.run_id DESC LIMIT :runs"
# Outlets with at least :runs finished crawl runs, none of the last :runs of which discovered anything.
SILENT_RUNS_SQL = f"""
SELECT s.name FROM sources s
WHERE (SELECT count(*) FROM ({_RECENT})) = :runs
  AND (SELECT max(coalesce(discovered, 0)) FROM ({_RECENT})) = 0
ORDER BY s.name
"""
# Outlets crawled during the window, watched for longer than it (a run before it), with no new article in it.
SILENT_HOURS_SQL = f"""
WITH watched AS (
    SELECT s.name AS source FROM sources s
    WHERE EXISTS (SELECT 1 FROM crawl_runs WHERE started >= :cutoff)  -- once: no run in the window, no outlet
      AND EXISTS (SELECT 1 {_CRAWL_RUNS} AND r.started >= :cutoff ORDER BY rs.run_id DESC LIMIT 1)
      AND EXISTS (SELECT 1 {_CRAWL_RUNS} AND r.started < :cutoff ORDER BY rs.run_id LIMIT 1)
)
SELECT w.source, (SELECT max(a.first_seen) FROM articles a WHERE a.source = w.source) AS last_new
FROM watched w
WHERE coalesce((SELECT max(a.first_seen) FROM articles a WHERE a.source = w.source), '') < :cutoff
ORDER BY w.source
"""


def silent_outlets(
    conn: sqlite3.Connection, *, runs: int = 3, hours: float | None = 24, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Outlets that went silent, each with why: nothing discovered in each of their last ``runs`` runs, or
    (with ``hours``) crawled in the last ``hours`` hours, watched for longer, and no new article stored in them.
    A moved feed or a changed URL shape looks like this."""
    silent: dict[str, str] = {
        name: f"nothing discovered in the last {runs} runs"
        for (name,) in conn.execute(SILENT_RUNS_SQL, {"runs": runs})
    }
    if hours:
        cutoff = ((now or datetime.now(UTC)) - timedelta(hours=hours)).astimezone(UTC)
        params = {"cutoff": cutoff.isoformat(timespec="seconds")}
        for name, last_new in conn.execute(SILENT_HOURS_SQL, params):
            when = f"last {last_new[:16].replace('T', ' ')}" if last_new else "none stored yet"
            silent.setdefault(name, f"no new article for {hours:g} hours ({when})")
    return sorted(silent.items())


def format_report(stories: list[dict[str, Any]], wire: dict[int, list[str]] | None = None) -> list[str]:
    """Terminal lines for flagged stories: time, outlet, title; then matched terms, other outlets and the link."""
    if not stories:
        return ["No flagged peace-talk stories in this window."]
    width = max(len(s["outlet"] or "") for s in stories)
    lines = [f"Flagged peace-talk stories ({len(stories)}), newest first:"]
    for story in stories:
        when = (story["published"] or story["first_seen"] or "????-??-??T??:??")[:16].replace("T", " ")
        lines.append(f"  {when}  {story['outlet']:<{width}}  {story['title'] or '(no title)'}")
        details = []
        if story.get("top_terms"):
            details.append(f"terms: {story['top_terms']}")
        also = (wire or {}).get(story["id"]) or []
        if also:
            details.append(f"also on {', '.join(also)}")
        indent = " " * (2 + 16 + 2)
        if details:
            lines.append(f"{indent}{' · '.join(details)}")
        lines.append(f"{indent}{story['url']}")
    return lines
