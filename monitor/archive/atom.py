"""An Atom 1.0 feed (RFC 4287) of flagged stories, for feed readers and alerting. Pure: rows in, bytes out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, overload

from lxml import etree

from monitor import __version__

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:pl-peace-monitor,2026:peace-talks"


@overload
def rfc3339(value: datetime) -> str: ...


@overload
def rfc3339(value: str | datetime | None) -> str | None: ...


def rfc3339(value: str | datetime | None) -> str | None:
    """An RFC 3339 timestamp with an offset (naive values are taken as UTC), or None."""
    if value is None or value == "":
        return None
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _feed(
    feed_id: str, title: str, subtitle: str, self_url: str | None
) -> tuple[etree._Element, etree._Element]:
    """A feed's root with its head (id, titles, author, generator, self link) and its empty ``updated``."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "subtitle", subtitle)
    updated = _sub(root, "updated")
    author = _sub(root, "author")
    _sub(author, "name", "pl-peace-monitor")
    _sub(root, "generator", "pl-peace-monitor", version=__version__)
    if self_url:
        _sub(root, "link", rel="self", href=self_url, type="application/atom+xml")
    return root, updated


def summary(story: dict[str, Any]) -> str:
    """What the entry says: the outlet, the matched terms, other outlets of a wire story, the lead."""
    parts = [f"{story.get('outlet') or '?'}"]
    if story.get("top_terms"):
        parts.append(f"matched: {story['top_terms']}")
    if story.get("also"):
        parts.append(f"also on: {', '.join(story['also'])}")
    text = " · ".join(parts)
    if story.get("lead"):
        text += f"\n\n{story['lead']}"
    return text


def atom_feed(
    stories: Iterable[dict[str, Any]],
    *,
    generated: datetime,
    feed_id: str = FEED_ID,
    title: str = "Peace-talk stories in Polish news",
    self_url: str | None = None,
) -> bytes:
    """The feed: one entry per story (``id``/``url``, ``title``, ``published``, ``outlet``, ``top_terms`` …)."""
    root, updated = _feed(
        feed_id, title, "Ukraine–Russia peace-talk stories flagged by pl-peace-monitor", self_url
    )
    latest: str | None = None
    for story in stories:
        entry = _sub(root, "entry")
        _sub(entry, "id", story["url"])
        _sub(entry, "title", story.get("title") or story["url"])
        _sub(entry, "link", rel="alternate", href=story["url"], type="text/html")
        published = rfc3339(story.get("published"))
        entry_updated = rfc3339(story.get("updated")) or published or rfc3339(generated)
        if published:
            _sub(entry, "published", published)
        _sub(entry, "updated", entry_updated)
        entry_author = _sub(entry, "author")
        _sub(entry_author, "name", story.get("outlet") or "?")
        if story.get("outlet"):
            _sub(entry, "category", term=story["outlet"], label=story["outlet"])
        _sub(entry, "summary", summary(story), type="text")
        if latest is None or datetime.fromisoformat(entry_updated) > datetime.fromisoformat(latest):
            latest = entry_updated
    updated.text = latest or rfc3339(generated)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


STORY_FEED_ID = "tag:pl-peace-monitor,2026:stories"


def story_entry_id(story_id: int) -> str:
    """A story's entry id: stable while the story grows, so a feed reader updates the entry in place."""
    return f"tag:pl-peace-monitor,2026:story:{story_id}"


def story_summary(story: dict[str, Any]) -> str:
    """What a story's entry says: its spread, where it broke, who and where, then each article."""
    from monitor.archive.brief import local

    n = story.get("outlets") or 0
    parts = [
        f"{n} outlet{'s' if n != 1 else ''}, {story.get('articles') or 0} articles",
        f"first on {story.get('first_outlet') or '?'} at {local(story.get('first_seen'))} (Warsaw time)",
    ]
    if story.get("entity_names"):
        parts.append(", ".join(story["entity_names"][:8]))
    lines = [" · ".join(parts), ""]
    for link in story.get("links", []):
        lines.append(f"{local(link.get('at'))} {link.get('outlet')}: {link.get('title') or '(no title)'}")
        lines.append(f"  {link.get('url')}")
    return "\n".join(lines).rstrip()


def story_feed(
    stories: Iterable[dict[str, Any]],
    *,
    generated: datetime,
    title: str = "Peace-talk stories in Polish news, by event",
    self_url: str | None = None,
) -> bytes:
    """A feed of one entry per story (not per article): ``updated`` moves whenever an article joins it."""
    root, updated = _feed(
        STORY_FEED_ID,
        title,
        "Ukraine–Russia peace-talk stories across outlets, grouped by event, by pl-peace-monitor",
        self_url,
    )
    latest: str | None = None
    for story in stories:
        entry = _sub(root, "entry")
        _sub(entry, "id", story_entry_id(story["id"]))
        _sub(entry, "title", story.get("headline") or f"story {story['id']}")
        if story.get("url"):
            _sub(entry, "link", rel="alternate", href=story["url"], type="text/html")
        for link in story.get("links", []):
            if link.get("url") and link.get("url") != story.get("url"):
                _sub(
                    entry, "link", rel="related", href=link["url"], type="text/html", title=link.get("title")
                )
        published = rfc3339(story.get("first_seen"))
        entry_updated = rfc3339(story.get("updated")) or rfc3339(story.get("last_seen")) or rfc3339(generated)
        if published:
            _sub(entry, "published", published)
        _sub(entry, "updated", entry_updated)
        entry_author = _sub(entry, "author")
        _sub(entry_author, "name", story.get("first_outlet") or "?")
        for outlet in story.get("outlet_names", []):
            _sub(entry, "category", term=outlet, label=outlet)
        _sub(entry, "summary", story_summary(story), type="text")
        if latest is None or datetime.fromisoformat(entry_updated) > datetime.fromisoformat(latest):
            latest = entry_updated
    updated.text = latest or rfc3339(generated)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
