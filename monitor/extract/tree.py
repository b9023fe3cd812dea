"""Small helpers over a parsed page shared by the extraction steps."""

from __future__ import annotations

import json
import re
from typing import Any

import lxml.etree
import lxml.html


def norm(text: str | None) -> str:
    """Whitespace runs folded to one space, ends stripped."""
    return " ".join((text or "").split())


def marker(element: lxml.html.HtmlElement) -> str:
    """The element's class and id, lower-cased: where page parts are named."""
    return f"{element.get('class') or ''} {element.get('id') or ''}".lower()


Named = list[tuple[lxml.html.HtmlElement, str]]
_NAMED = lxml.etree.XPath("//*[@class or @id]")


def named_elements(tree: lxml.html.HtmlElement) -> Named:
    """Every element with a class or an id, with :func:`marker`'s text, in document order: read once per page and
    filtered by each step that looks for parts by their names."""
    return [(element, marker(element)) for element in _NAMED(tree)]


def marked(
    tree: lxml.html.HtmlElement, markers: re.Pattern[str], named: Named | None = None
) -> list[lxml.html.HtmlElement]:
    """Elements whose class or id contains one of the marker words, in document order."""
    return [
        element
        for element, name in (named_elements(tree) if named is None else named)
        if markers.search(name)
    ]


def drop(element: lxml.html.HtmlElement) -> None:
    """Remove the element and its text from the tree; the text that follows it (its tail) stays."""
    if element.getparent() is not None:
        element.drop_tree()


def link_density(element: lxml.html.HtmlElement, text: str) -> float:
    """Share of the element's text that is link text."""
    links = sum(len(norm(a.text_content())) for a in element.iter("a"))
    return links / len(text) if text else 0.0


def jsonld_objects(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, ``@graph`` and nested entities included."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            found.append(node)
            for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart", "itemListElement"):
                if isinstance(node.get(key), list | dict):
                    walk(node[key])

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text_content() or "null", strict=False))
        except ValueError:
            continue
    return found


def is_article_type(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and ("Article" in k or k in ("Report", "BlogPosting")) for k in kinds)


def meta_values(tree: lxml.html.HtmlElement, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, content) of the ``<meta>`` elements named (property, name or itemprop) one of ``names``."""
    values = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if key in names and content:
            values.append((key, content))
    return values
