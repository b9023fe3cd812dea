"""The article body: page parts that are never article text removed, the "W skrócie" summary and the lead
paragraph taken, trafilatura's output cleaned line by line."""

from __future__ import annotations

import re

import lxml.html

from monitor.extract.dates import is_dateline
from monitor.extract.language import SENTENCE_END
from monitor.extract.tree import drop, link_density, marker, norm

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
_LEAD_MARKERS = re.compile(r"lead|intro|summary|standfirst|excerpt|subtitle|sapo")
_LEAD_TAGS = frozenset({"p", "div", "h2", "strong", "section", "span"})


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


def take_summary(tree: lxml.html.HtmlElement) -> str | None:
    """Remove a "W skrócie" summary box from the tree and return its text (points joined by spaces)."""
    for heading in tree.xpath("//h2|//h3|//h4|//strong|//span|//p|//div[not(*)]"):
        if not _SUMMARY_HEADING.match(heading.text_content() or ""):
            continue
        box = heading.getparent()
        while box is not None and len(norm(box.text_content())) <= len(norm(heading.text_content())) + 5:
            box = box.getparent()
        if box is None or box.tag in ("body", "article", "main"):
            continue
        items = [norm(li.text_content()) for li in box.iter("li")]
        if not items:
            items = [norm(p.text_content()) for p in box.iter("p") if p is not heading]
        drop(box)
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
        and (element.get("itemprop") == "description" or _LEAD_MARKERS.search(marker(element)))
    ]
    for element in candidates:
        named = marker(element)
        text = norm(element.text_content())
        if "leader" in named or not 60 <= len(text) <= 1200 or _BOX_HEADINGS.match(text):
            continue
        if link_density(element, text) > 0.3:
            continue
        if _STRONG_LEAD.search(named) or SENTENCE_END.search(text):
            position = order.get(element, 0)
            # the nearest one after the headline; one before it only when nothing follows
            found.append((position - start if position >= start else 10**6 - position, text))
    if found:
        return min(found)[1]
    for article in tree.xpath("//article"):
        for p in article.iter("p"):
            text = norm(p.text_content())
            if not text:
                continue
            bold = p.xpath("./strong|./b")
            if bold and len(norm(bold[0].text_content())) >= 0.8 * len(text) and len(text) >= 60:
                return text
            break
    return None


def _holds_the_article(element: lxml.html.HtmlElement) -> bool:
    """Containers are never dropped as boilerplate: the page, the article, or a block with running prose."""
    if element.tag in ("html", "body", "article", "main") or element.xpath(".//h1|.//article|.//main"):
        return True
    text = norm(element.text_content())
    return len(text) > 800 and link_density(element, text) < 0.5


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
            or (tag == "blockquote" and _EMBEDS.search(marker(element)))
            or ((element.get("class") or element.get("id")) and BOILERPLATE_MARKERS.search(marker(element)))
        )
        if chrome:
            doomed.append(element)
        elif tag in ("div", "aside", "section", "ul", "p", "span") and _BOX_HEADINGS.match(
            _leading_text(element)
        ):
            boxes.append(element)
    for element in doomed:
        if element.tag in ("script", "style", "noscript") or not _holds_the_article(element):
            drop(element)
    for element in boxes:
        text = norm(element.text_content())
        if not text or len(text) >= 600:
            continue
        if element.tag in ("p", "span") or link_density(element, text) >= 0.4 or len(text) < 40:
            drop(element)


def read_layout_tables(tree: lxml.html.HtmlElement) -> None:
    """A table that lays the page out (it holds the headline or paragraphs of prose) becomes plain blocks, so its
    text is read as paragraphs and not as the cells of one data table."""
    for table in tree.xpath("//table[.//h1 or .//article or .//p[string-length(normalize-space()) > 150]]"):
        for element in table.iter("tbody", "thead", "tfoot", "tr", "td", "th"):
            if next(element.iterancestors("table"), None) is table:
                element.tag = "div"
        table.tag = "div"


def clean_text(text: str, title: str | None = None) -> str:
    """Drop boilerplate lines, the headline and repeated lines from trafilatura's output."""
    kept: list[str] = []
    seen: set[str] = {norm(title)} if title else set()
    for line in text.splitlines():
        stripped = line.strip()
        if (
            not stripped
            or _BOILERPLATE_LINES.match(stripped)
            or norm(stripped) in seen
            or is_dateline(stripped)
        ):
            continue
        if len(stripped) > 30:
            seen.add(norm(stripped))
        kept.append(stripped)
    return "\n".join(kept)


def with_lead_first(text: str, lead: str | None) -> str:
    if not lead:
        return text
    probe = norm(lead)[:60]
    if probe and probe in norm(text):
        return text
    return lead + "\n" + text if text else lead
