"""Title, authors, paywall and canonical address of the page."""

from __future__ import annotations

import re
from typing import Any

import lxml.etree
import lxml.html

from monitor.discovery.urls import absolute, host_of, on_domains
from monitor.extract.tree import Named, is_article_type, marked, meta_values, norm

_PAYWALL_MARKERS = re.compile(r"paywall|premium|subscri|locked|piano")
_PAYWALL_TEXT = re.compile(
    r"dostępn\w+\s+(?:tylko\s+|wyłącznie\s+)?dla\s+(?:subskrybentów|prenumeratorów|abonentów)"
    r"|treść\s+(?:premium|płatna)|zostań\s+subskrybentem|ten\s+artykuł\s+jest\s+dostępny\s+(?:tylko|wyłącznie)",
    re.IGNORECASE,
)
_AUTHOR_NOISE = re.compile(
    r"^(?:oprac\.?|opracowanie|źródło|zrodlo|redakcja|red\.|pap|iar|reuters|afp|ap|dpa|onet|interia|wp|tvn24"
    r"|polsat\s*news|rmf\s*fm|rmf24|rp\.pl|rzeczpospolita|gazeta\.pl|wirtualna\s+polska|polskie\s+radio)\b",
    re.IGNORECASE,
)


def _split_names(value: str) -> list[str]:
    return [n.strip() for n in re.split(r";|,|\s+i\s+|\s+oraz\s+|\s*/\s*|\n", value) if n.strip()]


_AUTHOR_PREFIX = re.compile(
    r"(?i)^\s*(?:(?:autor|autorka|autorzy|tekst|by|napisał[a]?)\s*(?:/\s*autor\w*)?\s*:?\s*)+"
)
_ROLE_WORDS = re.compile(
    r"\s+(?:dziennikar\w*|redaktor\w*|reporter\w*|korespondent\w*|publicyst\w*|synoptyk\w*|wydawc\w*"
    r"|komentator\w*|współpracown\w*|szef\w*|kierownik\w*|zastępc\w*|analityk\w*)\b.*$",
    re.IGNORECASE,
)
_PHOTO_CREDIT = re.compile(r"(?i)\b(?:foto|fot|zdj|zdjęci[ae]|photo|ilustracja)\b")


def clean_authors(names: list[str]) -> list[str]:
    """Person names only: no 'oprac.', 'Źródło:' credits, photo credits, agencies, outlets or job titles."""
    result: list[str] = []
    for raw in names:
        if _PHOTO_CREDIT.search(raw):
            continue  # a photo credit, not a byline: none of its names wrote the article
        for name in _split_names(_AUTHOR_PREFIX.sub("", raw)):
            name = _ROLE_WORDS.sub("", _AUTHOR_PREFIX.sub("", norm(name))).strip(".:-– ")
            if not name or _AUTHOR_NOISE.match(name) or len(name) > 60 or len(name.split()) > 4:
                continue
            if not re.search(r"[A-ZĄĆĘŁŃÓŚŹŻ]", name) or any(ch.isdigit() for ch in name) or name.isupper():
                continue
            if name not in result:
                result.append(name)
    return result


def jsonld_authors(objects: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for node in objects:
        if not is_article_type(node):
            continue
        authors = node.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict):
                kind = author.get("@type")
                if kind in (None, "Person") and isinstance(author.get("name"), str):
                    names.append(author["name"])
            elif isinstance(author, str):
                names.append(author)
    return names


def byline_authors(tree: lxml.html.HtmlElement) -> list[str]:
    names = [v for _k, v in meta_values(tree, ("author", "article:author", "dc.creator"))]
    names = [n for n in names if not n.startswith("http")]
    bylines = tree.xpath(
        "//*[@rel='author'] | //*[@itemprop='author']//*[@itemprop='name'] | //*[@itemprop='author'][not(*)]"
        " | //a[contains(@href,'/autor/') or contains(@href,'/author/') or contains(@href,'/autorzy/')]"
    )
    for element in bylines[:4]:
        names.append(element.text_content())
    if not clean_authors(names):
        names += [element.text_content() for element in _MARKED_BYLINES(tree)[:3]]
    return names


# Bylines named by their class or id ("article-author-name", "story-footer__author"): the innermost such element
# with a short text, not an author's biography box.
_MARKED_BYLINES = lxml.etree.XPath(
    "//*[contains(@class,'author') or contains(@id,'author') or contains(@class,'byline')]"
    "[not(.//*[contains(@class,'author') or contains(@id,'author') or contains(@class,'byline')])]"
    "[not(contains(@class,'bio') or contains(@class,'about') or contains(@class,'avatar') or contains(@class,'photo')"
    " or contains(@class,'image') or contains(@class,'img') or contains(@class,'foto'))]"
    "[string-length(normalize-space()) > 3 and string-length(normalize-space()) < 80]"
)


_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·•:/]|-{1,2}|::)\s+")


def title_of(tree: lxml.html.HtmlElement, fallback: str | None) -> str | None:
    """The headline: the page's ``<h1>``, else ``og:title``, else the discovery hint, else the ``<title>`` without
    the site's name ("Headline – Site" or "Site | Headline": the longest part)."""
    for h1 in tree.iter("h1"):
        text = norm(h1.text_content())
        if 3 <= len(text) <= 300:
            return text
    og = [v for _k, v in meta_values(tree, ("og:title", "twitter:title"))]
    if og:
        return norm(og[0])
    if fallback:
        return fallback
    head = tree.find(".//title")
    text = norm(head.text_content()) if head is not None else ""
    return max(_TITLE_SEPARATOR.split(text), key=len) if text else None


def is_paywalled(
    tree: lxml.html.HtmlElement, objects: list[dict[str, Any]], named: Named | None = None
) -> bool:
    """JSON-LD says the article is not free, or the page shows a subscriber-only box."""
    for node in objects:
        free = node.get("isAccessibleForFree")
        if free is False or (isinstance(free, str) and free.strip().lower() in ("false", "no", "0")):
            return True
    for element in marked(tree, _PAYWALL_MARKERS, named)[:20]:
        if _PAYWALL_TEXT.search(norm(element.text_content())[:400]):
            return True
    body = tree.find("body")
    return bool(body is not None and _PAYWALL_TEXT.search(body.text_content()))


def canonical_link(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The page's ``<link rel=canonical>`` when it stays on the page's own site (a wrong one elsewhere is ignored)."""
    site = host_of(url).removeprefix("www.")
    saved = url.startswith("file:")  # a page saved to disk: its canonical link is its real address
    for link in tree.xpath('//link[@rel="canonical"][@href]'):
        target = absolute(url, link.get("href"))
        if target and (saved or on_domains(target, (site,))):
            return target
    return None
