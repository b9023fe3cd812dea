"""Article extraction: bytes in, :class:`Article` out. Pure: no Scrapy, no network, no database.

The steps, each a small function tested on stored pages:

1. decode the bytes (BOM, HTTP charset, ``<meta>`` charset, then detection between UTF-8, windows-1250 and
   ISO-8859-2 — every declared charset is checked against the bytes before it is believed);
2. refuse pages that are not articles (video pages, galleries, empty pages, pages too large);
3. collect every date candidate with its source and choose the publication time by ``DATE_PRECEDENCE``;
4. take the "W skrócie" summary and the lead paragraph, then drop outlet boilerplate that is the same everywhere
   (consent dialogs, navigation, link boxes, ads, newsletter and subscription prompts, social-embed chrome,
   author bios, comment counters) and hand the cleaned tree to trafilatura for the body;
5. clean the body line by line, put the lead paragraph first when trafilatura dropped it, read the language.
"""

from __future__ import annotations

import codecs
import json
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from langdetect import DetectorFactory, LangDetectException, detect

from monitor.dates import (
    WARSAW,
    date_from_url,
    has_time,
    iso,
    parse_date,
    plausible,
    text_dates,
)
from monitor.urls import absolute, canonical_url, host_of, on_domains

DetectorFactory.seed = 0  # langdetect is random unless seeded
LANGUAGE_PREFIX = 1000  # characters given to langdetect: enough for news prose, bounded in time
MIN_WORDS = 40  # fewer words of running prose: not an article (video, gallery, stub)
MAX_BYTES = 8 * 1024 * 1024  # larger pages are refused, not parsed
TIME_LIMIT = 10.0  # seconds for one page, where the platform allows a timer
PROSE_SENTENCE_WORDS = 5  # a sentence of at least this many words is prose, not a caption or a label
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"”'»)]*\s+|\n+")
_SENTENCE_END = re.compile(r"[.!?…][\"”'»)]*\s*$")

# Where a publication date came from, best first. Modification times are never publication times.
DATE_PRECEDENCE = (
    "site:date_selector",
    "jsonld:datePublished",
    "meta:article:published_time",
    "sitemap",
    "feed",
    "meta:date",
    "time[datetime]",
    "text",
    "url",
)
_META_PUBLISHED = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "pubdate",
    "dc.date.issued",
    "dcterms.created",
    "date",
)
_META_MODIFIED = ("article:modified_time", "og:updated_time", "datemodified", "lastmod", "dcterms.modified")

# Page parts recognised by words in their class or id (one pass over the tree; kept specific).
BOILERPLATE_MARKERS = re.compile(
    r"cookie|consent|rodo|gdpr|cmp-"
    r"|newsletter|paywall|subscription|subscribe|premium-box|piano"
    r"|related|recommend|polecane|polecamy|see-also|read-also|zobacz"
    r"|author-bio|author-box|authorbox|author__bio|about-author"
    r"|comments|komentarze|comment-count|share|social"
    r"|advert|reklama|adslot|ad-slot|ad-container|banner"
    r"|audio|video|player|podcast|gallery|galeria"
)
BOILERPLATE_TAGS = frozenset({"nav", "footer", "script", "style", "noscript", "iframe"})
_EMBEDS = re.compile(r"twitter-tweet|instagram-media|tiktok")
_DATE_MARKERS = re.compile(r"date|time|publi|data|byline|meta|info|when|signature|stamp|czas|posted")
_PAYWALL_MARKERS = re.compile(r"paywall|premium|subscri|locked|piano")
_LEAD_MARKERS = re.compile(r"lead|intro|summary|standfirst|excerpt|subtitle|sapo")
_LEAD_TAGS = frozenset({"p", "div", "h2", "strong", "section", "span"})


def _marker(element: lxml.html.HtmlElement) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}".lower()


def _marked(tree: lxml.html.HtmlElement, markers: re.Pattern[str]) -> list[lxml.html.HtmlElement]:
    """Elements whose class or id contains one of the marker words, in document order."""
    found = []
    for element in tree.iter():
        if (
            isinstance(element.tag, str)
            and (element.get("class") or element.get("id"))
            and markers.search(_marker(element))
        ):
            found.append(element)
    return found


# Lines of trafilatura's output that are outlet boilerplate in every Polish portal.
_BOILERPLATE_LINES = re.compile(
    r"""^\s*(?:
        reklama | advertisement
      | (?:zobacz|czytaj|przeczytaj)\s+(?:też|także|również|więcej|dalej)\b.*
      | polecamy\b.* | warto\s+przeczytać\b.* | więcej\s+informacji\s+znajdziesz\b.*
      | dalsza\s+część\s+(?:artykułu|tekstu)\s+pod\s+(?:materiałem|reklamą|wideo).*
      | (?:źródło|zrodlo)\s*:.* | oprac(?:\.|owanie)\s*:?.* | (?:fot|foto|fot\.|zdj)\s*[.:].*
      | (?:zapisz\s+się|zamów|subskrybuj|zasubskrybuj)\b.*newsletter.* | .*\bnewsletter\w*\b.*(?:zapisz|subskryb).*
      | masz\s+newsa.* | (?:kup|wykup)\s+(?:subskrypcję|prenumeratę|dostęp).* | masz\s+już\s+(?:subskrypcję|konto).*
      | .*dostępny\s+(?:tylko\s+)?dla\s+(?:subskrybentów|prenumeratorów).* | .*nieograniczony\s+dostęp\s+do.*
      | komentarze?\s*\(\d+\) | \d+\s+komentarz\w* | skomentuj.* | udostępnij.*
      | wyświetl\s+ten\s+post\s+(?:na|w)\s+\w+.* | (?:post|wpis)\s+udostępniony\s+przez.*
      | (?:autor|autorka)(?:\s*/\s*autor\w*)?\s*:\s*\S+(?:\s+\S+){0,3}
      | .*\(@\w+\)\s+\w+\s+\d{1,2},\s+\d{4}
      | (?:i\s+)?(?:autor|autorka|author)\s*:\s*[^.!?]{1,40}?(?:\s+\S+){0,10}
      | dowiedz\s+się\s+więcej\s*:.* | materiał\s+chroniony\s+prawem\s+autorskim.* | wszelkie\s+prawa\s+zastrzeżone.*
      | zapraszamy\s+(?:też\s+|także\s+|również\s+)?do\s+(?:subskrypcji|prenumeraty|lektury|słuchania|oglądania).*
      | .*\bwesprzyj\s+(?:nas|naszą|nasz|redakcję|portal)\b.* | .*\bzobacz\s+oferty\b.*
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_BOX_HEADINGS = re.compile(
    r"^\s*(?:zobacz|czytaj|przeczytaj)\s+(?:też|także|również|więcej)|^\s*polecamy|^\s*warto\s+przeczytać"
    r"|^\s*najnowsze|^\s*najczęściej\s+czytane|^\s*popularne",
    re.IGNORECASE,
)
_SUMMARY_HEADING = re.compile(r"^\s*w\s+skrócie\s*:?\s*$", re.IGNORECASE)
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


class NotAnArticle(ValueError):
    """The page is not an article with text (a video, gallery, section or empty page); message is the reason."""


@dataclass(frozen=True)
class SiteHints:
    """Per-outlet extraction hints from sources.toml, for the few outlets the general rules get wrong."""

    drop: tuple[str, ...] = ()  # CSS selectors of boxes that are never article text
    date_selector: str | None = None  # CSS selector of the element that shows the publication time


@dataclass(frozen=True)
class Hints:
    """What discovery said about the article (feed or news-sitemap entry)."""

    title: str | None = None
    published: str | None = None
    published_source: str | None = None  # "feed" or "sitemap"


@dataclass
class Article:
    url: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published: str | None
    published_source: str | None
    modified: str | None
    date_candidates: list[dict[str, str]]
    lead: str | None
    text: str
    language: str | None
    paywalled: bool
    words: int
    fetched_at: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- decoding -------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-:.]+)", re.IGNORECASE)
_C1_CONTROLS = re.compile("[\x80-\x9f]")
_POLISH = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        found = codecs.lookup(name.strip().lower().replace("x-", "")).name
    except LookupError:
        return None
    # Browsers read latin-1 and ascii labels as windows-1252; for Polish pages the real choice is cp1250.
    return {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}.get(found, found)


def _decodes(body: bytes, codec: str) -> str | None:
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if codec != "utf-8" and _C1_CONTROLS.search(text):
        return None  # windows-1250 bytes 0x80–0x9f read as ISO-8859-2 control characters: wrong codec
    return text


def _polish_score(text: str) -> int:
    return sum(text.count(c) for c in _POLISH) - 3 * sum(text.count(c) for c in "±¶¼¡¦¬ĽľĹĺ")


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes to text with exact Polish letters.

    Order: a BOM; the HTTP charset; the ``<meta>`` charset; UTF-8; then whichever of windows-1250 and
    ISO-8859-2 yields more Polish letters. A declared charset is used only when the bytes decode under it (a
    page served as UTF-8 that is really windows-1250 is read as windows-1250); the last resort replaces
    undecodable bytes.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    declared = []
    if content_type and (match := _HEADER_CHARSET.search(content_type)):
        declared.append(_codec(match.group(1)))
    if match := _META_CHARSET.search(body[:4096]):
        declared.append(_codec(match.group(1).decode("ascii", "ignore")))
    for codec in [c for c in declared if c] + ["utf-8"]:
        if (text := _decodes(body, codec)) is not None:
            if codec in ("cp1252",) and _polish_score(text) <= 0 and re.search(rb"[\x80-\xff]", body):
                break  # a Western label on a Polish page: detect instead
            return text
    guesses = [(codec, _decodes(body, codec)) for codec in ("cp1250", "iso8859-2")]
    readable = [(codec, text) for codec, text in guesses if text is not None]
    if readable:
        return max(readable, key=lambda pair: _polish_score(pair[1]))[1]
    return body.decode("cp1250", errors="replace")


# --- small helpers --------------------------------------------------------------------------


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, deterministic; None for text without letters."""
    sample = text[:LANGUAGE_PREFIX]
    if not re.search(r"[^\W\d_]", sample):
        return None
    try:
        return detect(sample)
    except LangDetectException:
        return None


def prose_words(text: str) -> int:
    """Words in sentences: runs of at least ``PROSE_SENTENCE_WORDS`` words ending in . ! ? or … .

    Captions, menus, labels and photo credits are not sentences, so a gallery or video page has almost none.
    """
    total = 0
    for sentence in _SENTENCE_SPLIT.split(text):
        words = len(sentence.split())
        if words >= PROSE_SENTENCE_WORDS and _SENTENCE_END.search(sentence):
            total += words
    return total


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`NotAnArticle` when the block runs longer than ``seconds`` (main thread on Unix only)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise NotAnArticle(f"extraction took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- structured data ------------------------------------------------------------------------


def _jsonld_objects(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
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


def _is_article_type(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and ("Article" in k or k in ("Report", "BlogPosting")) for k in kinds)


def _meta(tree: lxml.html.HtmlElement, names: tuple[str, ...]) -> list[tuple[str, str]]:
    values = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if key in names and content:
            values.append((key, content))
    return values


# --- dates ----------------------------------------------------------------------------------


def _text_after_headline(tree: lxml.html.HtmlElement, limit: int = 400) -> str:
    """The page text that follows the headline, where bylines and dates sit."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return ""
    parts: list[str] = []
    size = 0
    node: lxml.html.HtmlElement | None = h1
    while node is not None and size < limit:
        for sibling in node.itersiblings():
            if not isinstance(sibling.tag, str) or sibling.tag in ("script", "style"):
                continue
            text = _norm(sibling.text_content())
            parts.append(text)
            size += len(text)
            if size >= limit:
                break
        node = node.getparent()
    return " ".join(parts)[:limit]


def collect_dates(
    tree: lxml.html.HtmlElement,
    url: str,
    hints: Hints | None,
    now: datetime,
) -> tuple[list[dict[str, str]], str | None]:
    """Every publication-date candidate with its source, plus the modification time when one is given."""
    candidates: list[dict[str, str]] = []
    modified: list[datetime] = []

    def add(value: datetime | str | None, source: str, raw: str | None = None) -> None:
        parsed = parse_date(value) if isinstance(value, str) or value is None else value
        if parsed is not None and plausible(parsed, now):
            stamp = iso(parsed.astimezone(WARSAW)) or ""
            timed = has_time(raw if raw is not None else str(value))
            candidates.append({"value": stamp, "source": source, "timed": "1" if timed else ""})

    def add_modified(value: str | None) -> None:
        parsed = parse_date(value)
        if parsed is not None and plausible(parsed, now):
            modified.append(parsed)

    for node in _jsonld_objects(tree):
        if _is_article_type(node) or "datePublished" in node:
            if isinstance(node.get("datePublished"), str):
                add(node["datePublished"], "jsonld:datePublished")
            if isinstance(node.get("dateModified"), str):
                add_modified(node["dateModified"])
    for key, value in _meta(tree, _META_PUBLISHED):
        add(value, "meta:article:published_time" if "published" in key else "meta:date")
    for _key, value in _meta(tree, _META_MODIFIED):
        add_modified(value)
    if hints and hints.published:
        add(hints.published, hints.published_source or "feed")
    for element in tree.xpath("//time[@datetime]")[:5]:
        marker = " ".join(
            filter(
                None,
                (
                    element.get("itemprop"),
                    element.get("class"),
                    element.getparent().get("class") if element.getparent() is not None else None,
                ),
            )
        ).lower()
        if any(word in marker for word in ("modif", "updat", "aktualiz")):
            add_modified(element.get("datetime"))
        else:
            add(element.get("datetime"), "time[datetime]")
    seen_text: set[str] = set()
    for element in _marked(tree, _DATE_MARKERS)[:60]:
        text = _norm(element.text_content())
        if not text or len(text) > 200 or text in seen_text:
            continue
        seen_text.add(text)
        for value, kind in text_dates(text, now):
            if kind == "modified":
                if plausible(value, now):
                    modified.append(value)
            else:
                add(value, "text", raw=value.strftime("%H:%M") if (value.hour or value.minute) else "")
    if not any(c["source"] == "text" for c in candidates):
        for value, kind in text_dates(_text_after_headline(tree), now):
            if kind == "published":
                add(value, "text", raw=value.strftime("%H:%M") if (value.hour or value.minute) else "")
                break
    url_date = date_from_url(url)
    if url_date is not None:
        add(url_date, "url", raw="")
    latest_modified = max(modified) if modified else None
    return candidates, iso(latest_modified.astimezone(WARSAW)) if latest_modified else None


def choose_published(
    candidates: list[dict[str, str]], now: datetime | None = None
) -> tuple[str | None, str | None]:
    """The publication time: the best-ranked source; when it gives only a day, a candidate with a time on the
    same day refines it to the minute."""
    if not candidates:
        return None, None

    def rank(c: dict[str, str]) -> int:
        return DATE_PRECEDENCE.index(c["source"]) if c["source"] in DATE_PRECEDENCE else len(DATE_PRECEDENCE)

    ranked = sorted(candidates, key=lambda c: (rank(c), not c.get("timed")))
    best = ranked[0]
    if not best.get("timed"):
        day = best["value"][:10]
        for other in ranked[1:]:
            if other.get("timed") and other["value"][:10] == day:
                return other["value"], other["source"]
    return best["value"], best["source"]


# --- authors, title, paywall ----------------------------------------------------------------


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
_PHOTO_CREDIT = re.compile(r"(?i)\b(?:foto|fot\.|zdj\.|zdjęci[ae]|photo|ilustracja)\b")


def clean_authors(names: list[str]) -> list[str]:
    """Person names only: no 'oprac.', 'Źródło:' credits, photo credits, agencies, outlets or job titles."""
    result: list[str] = []
    for raw in names:
        if _PHOTO_CREDIT.search(raw):
            continue  # a photo credit, not a byline: none of its names wrote the article
        for name in _split_names(_AUTHOR_PREFIX.sub("", raw)):
            name = _ROLE_WORDS.sub("", _AUTHOR_PREFIX.sub("", _norm(name))).strip(".:-– ")
            if not name or _AUTHOR_NOISE.match(name) or len(name) > 60 or len(name.split()) > 4:
                continue
            if not re.search(r"[A-ZĄĆĘŁŃÓŚŹŻ]", name) or any(ch.isdigit() for ch in name) or name.isupper():
                continue
            if name not in result:
                result.append(name)
    return result


def _jsonld_authors(objects: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for node in objects:
        if not _is_article_type(node):
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


def _byline_authors(tree: lxml.html.HtmlElement) -> list[str]:
    names = [v for _k, v in _meta(tree, ("author", "article:author", "dc.creator"))]
    names = [n for n in names if not n.startswith("http")]
    bylines = tree.xpath(
        "//*[@rel='author'] | //*[@itemprop='author']//*[@itemprop='name'] | //*[@itemprop='author'][not(*)]"
        " | //a[contains(@href,'/autor/') or contains(@href,'/author/') or contains(@href,'/autorzy/')]"
    )
    for element in bylines[:4]:
        names.append(element.text_content())
    return names


def _title(tree: lxml.html.HtmlElement, fallback: str | None) -> str | None:
    for h1 in tree.iter("h1"):
        text = _norm(h1.text_content())
        if 3 <= len(text) <= 300:
            return text
    og = [v for _k, v in _meta(tree, ("og:title",))]
    return _norm(og[0]) if og else fallback


def is_paywalled(tree: lxml.html.HtmlElement, objects: list[dict[str, Any]]) -> bool:
    """JSON-LD says the article is not free, or the page shows a subscriber-only box."""
    for node in objects:
        free = node.get("isAccessibleForFree")
        if free is False or (isinstance(free, str) and free.strip().lower() in ("false", "no", "0")):
            return True
    for element in _marked(tree, _PAYWALL_MARKERS)[:20]:
        if _PAYWALL_TEXT.search(_norm(element.text_content())[:400]):
            return True
    body = tree.find("body")
    return bool(body is not None and _PAYWALL_TEXT.search(_norm(body.text_content())))


def _canonical_link(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The page's ``<link rel=canonical>`` when it stays on the page's own site (a wrong one elsewhere is ignored)."""
    site = host_of(url).removeprefix("www.")
    saved = url.startswith("file:")  # a page saved to disk: its canonical link is its real address
    for link in tree.xpath('//link[@rel="canonical"][@href]'):
        target = absolute(url, link.get("href"))
        if target and (saved or on_domains(target, (site,))):
            return target
    return None


# --- body -----------------------------------------------------------------------------------


def _drop(element: lxml.html.HtmlElement) -> None:
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def take_summary(tree: lxml.html.HtmlElement) -> str | None:
    """Remove a "W skrócie" summary box from the tree and return its text (points joined by spaces)."""
    for heading in tree.xpath("//h2|//h3|//h4|//strong|//span|//p|//div[not(*)]"):
        if not _SUMMARY_HEADING.match(heading.text_content() or ""):
            continue
        box = heading.getparent()
        while box is not None and len(_norm(box.text_content())) <= len(_norm(heading.text_content())) + 5:
            box = box.getparent()
        if box is None or box.tag in ("body", "article", "main"):
            continue
        items = [_norm(li.text_content()) for li in box.iter("li")]
        if not items:
            items = [_norm(p.text_content()) for p in box.iter("p") if p is not heading]
        _drop(box)
        summary = " ".join(i for i in items if i)
        return summary or None
    return None


_STRONG_LEAD = re.compile(r"lead(?!er)|sapo|standfirst")


def find_lead(tree: lxml.html.HtmlElement) -> str | None:
    """The lead paragraph marked up as such (class 'lead', 'intro' …) or a bold first paragraph of the article."""
    h1 = next(tree.iter("h1"), None)
    order = {element: index for index, element in enumerate(tree.iter())} if h1 is not None else {}
    start = order.get(h1, 0)
    found: list[tuple[int, str]] = []
    candidates = [
        element
        for element in tree.iter()
        if element.tag in _LEAD_TAGS
        and (element.get("itemprop") == "description" or _LEAD_MARKERS.search(_marker(element)))
    ]
    for element in candidates:
        marker = _marker(element)
        text = _norm(element.text_content())
        if "leader" in marker or not 60 <= len(text) <= 1200 or _BOX_HEADINGS.match(text):
            continue
        if _link_density(element, text) > 0.3:
            continue
        if _STRONG_LEAD.search(marker) or _SENTENCE_END.search(text):
            position = order.get(element, 0)
            # the nearest one after the headline; one before it only when nothing follows
            found.append((position - start if position >= start else 10**6 - position, text))
    if found:
        return min(found)[1]
    for article in tree.xpath("//article"):
        for p in article.iter("p"):
            text = _norm(p.text_content())
            if not text:
                continue
            bold = p.xpath("./strong|./b")
            if bold and len(_norm(bold[0].text_content())) >= 0.8 * len(text) and len(text) >= 60:
                return text
            break
    return None


def _link_density(element: lxml.html.HtmlElement, text: str) -> float:
    links = sum(len(_norm(a.text_content())) for a in element.iter("a"))
    return links / len(text) if text else 0.0


def _holds_the_article(element: lxml.html.HtmlElement) -> bool:
    """Containers are never dropped as boilerplate: the page, the article, or a block with running prose."""
    if element.tag in ("html", "body", "article", "main") or element.xpath(".//h1|.//article|.//main"):
        return True
    text = _norm(element.text_content())
    return len(text) > 800 and _link_density(element, text) < 0.5


def _leading_text(element: lxml.html.HtmlElement, size: int = 40) -> str:
    pieces: list[str] = []
    for piece in element.itertext():
        if piece.strip():
            pieces.append(piece.strip())
            if sum(map(len, pieces)) >= size:
                break
    return " ".join(pieces)


def drop_boilerplate(tree: lxml.html.HtmlElement) -> None:
    """Remove page parts that are never article text: chrome by tag, class or id, then link boxes by heading."""
    doomed: list[lxml.html.HtmlElement] = []
    boxes: list[lxml.html.HtmlElement] = []
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag in ("script", "style", "noscript"):
            doomed.append(element)
            continue
        chrome = (
            tag in BOILERPLATE_TAGS
            or (tag == "header" and next(element.iterancestors("article"), None) is None)
            or (tag == "blockquote" and _EMBEDS.search(_marker(element)))
            or ((element.get("class") or element.get("id")) and BOILERPLATE_MARKERS.search(_marker(element)))
        )
        if chrome:
            doomed.append(element)
        elif tag in ("div", "aside", "section", "ul", "p", "span") and _BOX_HEADINGS.match(
            _leading_text(element)
        ):
            boxes.append(element)
    for element in doomed:
        if element.tag in ("script", "style", "noscript") or not _holds_the_article(element):
            _drop(element)
    for element in boxes:
        text = _norm(element.text_content())
        if not text or len(text) >= 600:
            continue
        if element.tag in ("p", "span") or _link_density(element, text) >= 0.4 or len(text) < 40:
            _drop(element)


def clean_text(text: str, title: str | None = None) -> str:
    """Drop boilerplate lines, the headline and repeated lines from trafilatura's output."""
    kept: list[str] = []
    seen: set[str] = {_norm(title)} if title else set()
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or _BOILERPLATE_LINES.match(stripped) or _norm(stripped) in seen:
            continue
        if len(stripped) > 30:
            seen.add(_norm(stripped))
        kept.append(stripped)
    return "\n".join(kept)


def _with_lead_first(text: str, lead: str | None) -> str:
    if not lead:
        return text
    probe = _norm(lead)[:60]
    if probe and probe in _norm(text):
        return text
    return lead + "\n" + text if text else lead


# --- the whole page -------------------------------------------------------------------------


def extract_article(
    url: str,
    body: bytes,
    *,
    content_type: str | None = None,
    hints: Hints | None = None,
    fetched_at: datetime | None = None,
    min_words: int = MIN_WORDS,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIME_LIMIT,
    site: SiteHints | None = None,
) -> Article:
    """Extract one article from page bytes. Raises :class:`NotAnArticle` with the reason when there is none."""
    now = fetched_at or datetime.now(UTC)
    if not body or not body.strip():
        raise NotAnArticle("empty page")
    if len(body) > max_bytes:
        raise NotAnArticle(f"page too large ({len(body) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
    if b"\x00" in body[:2048] and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotAnArticle("binary content, not HTML")
    with time_limit(timeout):
        return _extract(url, body, content_type, hints, now, min_words, site or SiteHints())


def _site_dates(tree: lxml.html.HtmlElement, selector: str | None, now: datetime) -> list[dict[str, str]]:
    if not selector:
        return []
    for element in tree.cssselect(selector)[:3]:
        value = element.get("datetime") or element.get("content") or _norm(element.text_content())
        parsed = parse_date(value)
        if parsed is None:
            found = [d for d, kind in text_dates(value, now) if kind == "published"]
            parsed = found[0] if found else None
        if parsed is not None and plausible(parsed, now):
            timed = "1" if (parsed.hour or parsed.minute) else ""
            return [
                {
                    "value": iso(parsed.astimezone(WARSAW)) or "",
                    "source": "site:date_selector",
                    "timed": timed,
                }
            ]
    return []


def _extract(
    url: str,
    body: bytes,
    content_type: str | None,
    hints: Hints | None,
    now: datetime,
    min_words: int,
    site: SiteHints,
) -> Article:
    html = decode_html(body, content_type)
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NotAnArticle(f"unreadable HTML: {exc}") from exc
    og_type = next((v for _k, v in _meta(tree, ("og:type",))), "")
    if og_type.startswith("video"):
        raise NotAnArticle(f"a video page (og:type {og_type})")
    objects = _jsonld_objects(tree)
    title = _title(tree, hints.title if hints else None)
    canonical = _canonical_link(tree, url) or url
    paywalled = is_paywalled(tree, objects)
    authors = clean_authors(_jsonld_authors(objects) or _byline_authors(tree))
    candidates, modified = collect_dates(tree, url, hints, now)
    candidates = _site_dates(tree, site.date_selector, now) + candidates
    for selector in site.drop:
        for element in tree.cssselect(selector):
            _drop(element)
    summary = take_summary(tree)
    drop_boilerplate(tree)
    lead_paragraph = find_lead(tree)
    # trafilatura's own parse of the cleaned page keeps more of the body than handing it our tree
    document = trafilatura.bare_extraction(
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params={
            "extensive_search": False,
            "original_date": True,
            "max_date": now.date().isoformat(),
        },
    )
    text = clean_text((document.text if document is not None else "") or "", title)
    text = _with_lead_first(text, lead_paragraph)
    prose = prose_words(text)
    if prose < min_words:
        raise NotAnArticle(f"no article text ({prose} words of prose)")
    published, published_source = choose_published(candidates, now)
    if not authors and document is not None and document.author:
        authors = clean_authors([document.author])
    description = next((v for _k, v in _meta(tree, ("description", "og:description"))), None)
    lead = summary or lead_paragraph or _norm(description) or None
    return Article(
        url=url,
        canonical_url=canonical_url(canonical),
        title=title or (document.title if document else None),
        authors=authors,
        published=published,
        published_source=published_source,
        modified=modified if modified != published else None,
        date_candidates=[{"value": c["value"], "source": c["source"]} for c in candidates],
        lead=lead,
        text=text,
        language=detect_language(text),
        paywalled=paywalled,
        words=len(text.split()),
        fetched_at=iso(now) or "",
    )
