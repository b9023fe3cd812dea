"""The daily brief (issue #17): the stories with coverage in a time window, ranked, as text, Markdown, a
self-contained HTML page fit to e-mail, or JSON. Queries read the archive only; rendering is pure.

A story is ranked by the outlets that covered it in the window, then its articles in the window, then its
newest article. Each comes with its headline, where and when it broke (its first article, which may be older
than the window), how many outlets carried it, its key people and places (matched entities, most articles
first, named as the rules name them) and links to its articles.
"""

from __future__ import annotations

import html
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.extract.dates import WARSAW

PEOPLE, PLACES = 5, 4  # entities shown per story
ARTICLES = 12  # article links shown per story


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str  # person, place, state, organisation, or "" when the rules do not know the id


def entity_names(path: str | None = None) -> dict[str, Entity]:
    """Entity ids of the rules (the packaged file unless ``path``) with their names and types."""
    from monitor.rules import load_rules

    ruleset = load_rules(path)
    return {e.id: Entity(e.name, e.type) for e in ruleset.entities.values()}


_STORIES = """
WITH coverage AS (
    SELECT sa.story_id, count(*) AS window_articles, count(DISTINCT a.source) AS window_outlets,
           max(sa.at) AS window_last
    FROM story_articles sa JOIN articles a ON a.id = sa.article_id
    WHERE sa.at >= :since AND (:until IS NULL OR sa.at < :until)
    GROUP BY sa.story_id
)
SELECT s.id, s.headline, s.first_seen, s.first_outlet, s.last_seen, s.outlets, s.outlet_names, s.articles,
       s.flagged, s.entities, s.peak_day, s.follows, s.updated,
       c.window_articles, c.window_outlets,
       (SELECT f.url FROM articles f WHERE f.id = s.headline_article_id) AS url,
       (SELECT p.headline FROM stories p WHERE p.id = s.follows) AS follows_headline
FROM coverage c JOIN stories s ON s.id = c.story_id
WHERE :mentions OR s.flagged > 0
ORDER BY c.window_outlets DESC, c.window_articles DESC, c.window_last DESC, s.id DESC
LIMIT :limit
"""


_ARTICLES = """
SELECT sa.at, a.published, a.source AS outlet, a.title, a.url, a.relevance
FROM story_articles sa JOIN articles a ON a.id = sa.article_id
WHERE sa.story_id = ?
ORDER BY sa.at, sa.article_id
"""


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def brief_stories(
    conn: sqlite3.Connection,
    since: datetime,
    until: datetime | None = None,
    *,
    mentions: bool = False,
    limit: int = 30,
    entities: Mapping[str, Entity] | None = None,
) -> list[dict[str, Any]]:
    """The ranked stories with articles in ``[since, until)``; with ``mentions``, also stories of passing
    mentions only. Each is a dict of the story's columns plus ``people``, ``places`` and ``links``."""
    params = {"since": _utc(since), "until": _utc(until), "mentions": int(mentions), "limit": limit}
    cursor = conn.execute(_STORIES, params)
    names = [d[0] for d in cursor.description]
    stories = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    known = entities or {}
    for story in stories:
        ids = json.loads(story.pop("entities") or "[]")
        story["outlet_names"] = json.loads(story["outlet_names"] or "[]")
        story["people"] = [known[i].name for i in ids if i in known and known[i].kind == "person"][:PEOPLE]
        story["places"] = [known[i].name for i in ids if i in known and known[i].kind == "place"][:PLACES]
        story["entities"] = ids
        cursor = conn.execute(_ARTICLES, [story["id"]])
        columns = [d[0] for d in cursor.description]
        story["links"] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return stories


def local(value: str | None) -> str:
    """A stored instant as Warsaw time, ``2026-01-20 07:42``."""
    if not value:
        return "????-??-?? ??:??"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M")


def _window(since: datetime, until: datetime | None) -> str:
    end = local(_utc(until)) if until else "now"
    return f"{local(_utc(since))} – {end} (Warsaw time)"


def _outlets(story: Mapping[str, Any]) -> str:
    n = story["outlets"]
    return f"{n} outlet{'s' if n != 1 else ''}"


def _articles(count: int) -> str:
    return f"{count} article{'s' if count != 1 else ''}"


def _who(story: Mapping[str, Any]) -> str:
    parts = []
    if story["people"]:
        parts.append("people: " + ", ".join(story["people"]))
    if story["places"]:
        parts.append("places: " + ", ".join(story["places"]))
    return "; ".join(parts)


def _shown(story: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    links = story["links"]
    return links[:ARTICLES], max(0, len(links) - ARTICLES)


def render_text(stories: list[dict[str, Any]], since: datetime, until: datetime | None = None) -> str:
    lines = [f"Peace-talk stories, {_window(since, until)}: {len(stories)}"]
    if not stories:
        lines.append("No stories in this window.")
    for rank, story in enumerate(stories, start=1):
        lines.append("")
        lines.append(f"{rank}. {story['headline'] or '(no headline)'}")
        lines.append(
            f"   first: {story['first_outlet']}, {local(story['first_seen'])} · {_outlets(story)} · "
            f"{_articles(story['articles'])} ({story['window_articles']} in this window)"
        )
        if _who(story):
            lines.append(f"   {_who(story)}")
        if story.get("follows_headline"):
            lines.append(f"   follows: {story['follows_headline']}")
        shown, more = _shown(story)
        for link in shown:
            lines.append(f"   - {local(link['at'])}  {link['outlet']}  {link['title'] or '(no title)'}")
            lines.append(f"     {link['url']}")
        if more:
            lines.append(f"   … and {more} more")
    return "\n".join(lines) + "\n"


def _md(value: str | None) -> str:
    """Text safe inside Markdown: the characters that would make links, emphasis or HTML are escaped."""
    text = " ".join((value or "").split())
    for char in "\\`*_[]<>#|":
        text = text.replace(char, f"\\{char}")
    return text


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def render_markdown(stories: list[dict[str, Any]], since: datetime, until: datetime | None = None) -> str:
    lines = [f"# Peace-talk stories, {_window(since, until)}", ""]
    if not stories:
        lines.append("No stories in this window.")
    for rank, story in enumerate(stories, start=1):
        lines.append(f"## {rank}. {_md(story['headline']) or '(no headline)'}")
        lines.append("")
        lines.append(
            f"First on **{_md(story['first_outlet'])}** at {local(story['first_seen'])} · {_outlets(story)} · "
            f"{_articles(story['articles'])} ({story['window_articles']} in this window)"
        )
        if _who(story):
            lines.append("")
            lines.append(_md(_who(story)))
        if story.get("follows_headline"):
            lines.append("")
            lines.append(f"Follows: {_md(story['follows_headline'])}")
        lines.append("")
        shown, more = _shown(story)
        for link in shown:
            title = _md(link["title"]) or "(no title)"
            lines.append(f"- {local(link['at'])} {_md(link['outlet'])}: [{title}]({_md_url(link['url'])})")
        if more:
            lines.append(f"- … and {more} more")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_STYLE = {
    "body": "margin:0;padding:16px;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;color:#222;",
    "main": "max-width:720px;margin:0 auto;background:#ffffff;padding:16px 20px;border:1px solid #dddddd;",
    "h1": "font-size:20px;margin:0 0 4px 0;",
    "window": "font-size:13px;color:#666;margin:0 0 16px 0;",
    "story": "border-top:1px solid #e2e2e2;padding:12px 0;",
    "h2": "font-size:17px;margin:0 0 6px 0;",
    "meta": "font-size:13px;color:#444;margin:0 0 4px 0;",
    "list": "margin:6px 0 0 0;padding-left:18px;font-size:13px;",
    "item": "margin:2px 0;",
    "time": "color:#666;",
    "a": "color:#1a4f8b;",
}


def _safe_url(url: str | None) -> str | None:
    """Only http(s) addresses become links (an archive row could hold anything)."""
    if url and url.lower().startswith(("http://", "https://")):
        return html.escape(url, quote=True)
    return None


def render_html(stories: list[dict[str, Any]], since: datetime, until: datetime | None = None) -> str:
    """A self-contained page fit to e-mail: inline styles only, no scripts, images or external resources, every
    text escaped."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="pl"><head><meta charset="utf-8">',
        f"<title>Peace-talk stories, {e(_window(since, until))}</title></head>",
        f'<body style="{_STYLE["body"]}"><div style="{_STYLE["main"]}">',
        f'<h1 style="{_STYLE["h1"]}">Peace-talk stories</h1>',
        f'<p style="{_STYLE["window"]}">{e(_window(since, until))} · {len(stories)} stories</p>',
    ]
    if not stories:
        out.append(f'<p style="{_STYLE["meta"]}">No stories in this window.</p>')
    for rank, story in enumerate(stories, start=1):
        headline = e(story["headline"] or "(no headline)")
        url = _safe_url(story.get("url"))
        if url:
            headline = f'<a href="{url}" style="{_STYLE["a"]}">{headline}</a>'
        out.append(f'<div style="{_STYLE["story"]}"><h2 style="{_STYLE["h2"]}">{rank}. {headline}</h2>')
        out.append(
            f'<p style="{_STYLE["meta"]}">First on <strong>{e(story["first_outlet"] or "?")}</strong> at '
            f"{e(local(story['first_seen']))} · {e(_outlets(story))} · {story['articles']} articles "
            f"({story['window_articles']} in this window)</p>"
        )
        if _who(story):
            out.append(f'<p style="{_STYLE["meta"]}">{e(_who(story))}</p>')
        if story.get("follows_headline"):
            out.append(f'<p style="{_STYLE["meta"]}">Follows: {e(story["follows_headline"])}</p>')
        shown, more = _shown(story)
        out.append(f'<ul style="{_STYLE["list"]}">')
        for link in shown:
            title = e(link["title"] or "(no title)")
            href = _safe_url(link["url"])
            if href:
                title = f'<a href="{href}" style="{_STYLE["a"]}">{title}</a>'
            out.append(
                f'<li style="{_STYLE["item"]}"><span style="{_STYLE["time"]}">{e(local(link["at"]))}</span> '
                f"{e(link['outlet'] or '?')}: {title}</li>"
            )
        if more:
            out.append(f'<li style="{_STYLE["item"]}">… and {more} more</li>')
        out.append("</ul></div>")
    out.append("</div></body></html>")
    return "\n".join(out) + "\n"


def render_json(stories: list[dict[str, Any]], since: datetime, until: datetime | None = None) -> str:
    document = {"since": _utc(since), "until": _utc(until), "stories": stories}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html, "json": render_json}


_FEED = """
SELECT s.id, s.headline, s.first_seen, s.first_outlet, s.last_seen, s.outlets, s.outlet_names, s.articles,
       s.flagged, s.entities, s.updated,
       (SELECT f.url FROM articles f WHERE f.id = s.headline_article_id) AS url
FROM stories s
WHERE (:since IS NULL OR s.last_seen >= :since) AND s.flagged > 0
ORDER BY s.updated DESC, s.id DESC
LIMIT :limit
"""


def feed_stories(
    conn: sqlite3.Connection,
    *,
    since: datetime | None = None,
    limit: int = 50,
    entities: Mapping[str, Entity] | None = None,
) -> list[dict[str, Any]]:
    """Stories with a flagged article and coverage since ``since``, most recently grown first, for the Atom
    feed: the story's columns, ``entity_names`` and its articles as ``links``."""
    cursor = conn.execute(_FEED, {"since": _utc(since), "limit": limit})
    names = [d[0] for d in cursor.description]
    stories = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    known = entities or {}
    for story in stories:
        ids = json.loads(story.pop("entities") or "[]")
        story["outlet_names"] = json.loads(story["outlet_names"] or "[]")
        story["entity_names"] = [known[i].name if i in known else i for i in ids]
        cursor = conn.execute(_ARTICLES, [story["id"]])
        columns = [d[0] for d in cursor.description]
        story["links"] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return stories
