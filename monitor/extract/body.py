"""The article body: page parts that are never article text removed, the "W skrócie" summary and the lead
paragraph taken, trafilatura's output cleaned line by line."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from monitor.extract.language import SENTENCE_END
from monitor.extract.prose import ProseMap, main_run, run_words
from monitor.extract.tree import Named, drop, link_density, marked, marker, norm

# Page parts recognised by words in their class or id (one pass over the tree; kept specific).
BOILERPLATE_MARKERS = re.compile(
    r"reading-time|read-time|readtime|czas-czytania|"
    r"cookie|consent|rodo|gdpr|cmp-"
    r"|newsletter|paywall|subscription|subscribe|premium-box|piano"
    r"|related|recommend|polecane|polecamy|see-also|read-also|zobacz"
    r"|author-bio|author-box|authorbox|author__bio|about-author"
    r"|comments|komentarze|comment-count|share|social"
    r"|advert|reklama|adslot|ad-slot|ad-container|banner"
    r"|audio|video|player|podcast|gallery|galeria"
)
# Parts that are never the article, however much prose they hold: reader comments and consent dialogs.
_NEVER_THE_ARTICLE = re.compile(
    r"(?:^|[\s_-])(?:comments?|komentarz\w*|disqus|cookies?|consent|gdpr|rodo|cmp|onetrust)"
)
_LEAD_MARKERS = re.compile(r"lead|intro|summary|standfirst|excerpt|subtitle|sapo")
_LEAD_TAGS = frozenset({"p", "div", "h2", "strong", "section", "span"})


_BOX_HEADINGS = re.compile(
    r"^\s*(?:zobacz|czytaj|przeczytaj)\s+(?:też|także|również|więcej)|^\s*polecamy|^\s*warto\s+przeczytać"
    r"|^\s*najnowsze|^\s*najczęściej\s+czytane|^\s*popularne",
    re.IGNORECASE,
)
# Page chrome by tag: scripts, styles, navigation, footers, frames, a header outside the article, social embeds.
_CHROME_TAGS = lxml.etree.XPath(
    "//script | //style | //noscript | //nav | //footer | //iframe | //header[not(ancestor::article)]"
    " | //blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media')"
    " or contains(@class, 'tiktok')]"
)
_TEXT_HOLDERS = lxml.etree.XPath("//*[not(self::script or self::style)][text()[normalize-space()]]")
_BOX_TAGS = frozenset({"div", "aside", "section", "ul", "p", "span"})
_BOX_HEADING_START = re.compile(
    r"\s*(?:zobacz|czytaj|przeczytaj|polecamy|warto|najnowsze|najczęściej|popularne)", re.IGNORECASE
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


def find_lead(tree: lxml.html.HtmlElement, body_start: lxml.html.HtmlElement | None = None) -> str | None:
    """The lead paragraph marked up as such (class 'lead', 'intro' …) or a bold first paragraph of the article.

    Taken from the right block by position: the nearest one after the headline that does not come after the
    start of the article body (``body_start``, the first block of the page's largest run of prose) — an excerpt
    or summary further down the page (a teaser, the next post, a box after the text) is not this article's lead
    — and never from inside a link or a list item.
    """
    order = {element: index for index, element in enumerate(tree.iter())}
    h1 = next(tree.iter("h1"), None)
    start = order.get(h1, 0) if h1 is not None else 0
    limit = order.get(body_start, len(order)) if body_start is not None else len(order)
    if body_start is not None:
        limit += sum(
            1 for _ in body_start.iter()
        )  # the first block itself, and what it holds, may be the lead
    found: list[tuple[int, str]] = []
    for element in order:
        if element.tag not in _LEAD_TAGS or not (
            element.get("itemprop") == "description" or _LEAD_MARKERS.search(marker(element))
        ):
            continue
        named = marker(element)
        text = norm(element.text_content())
        if "leader" in named or not 60 <= len(text) <= 1200 or _BOX_HEADINGS.match(text):
            continue
        if link_density(element, text) > 0.3 or next(element.iterancestors("a", "li"), None) is not None:
            continue
        position = order[element]
        if position >= limit:
            continue  # after the body has begun: another block's excerpt or summary
        if _STRONG_LEAD.search(named) or SENTENCE_END.search(text):
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
                return text if order.get(p, 0) < limit else None
            break
    return None


def _holds_the_article(element: lxml.html.HtmlElement, prose: ProseMap) -> bool:
    """Never dropped as boilerplate, whatever its class says: the page, a box holding the headline, or one that holds
    most of the page's prose (a post inside a "gallery" or "podcast" box is still the post). Reader comments and
    consent dialogs are never the article, however long."""
    if element.tag in ("html", "body") or element.tag == "h1" or element.find(".//h1") is not None:
        return True
    return not _NEVER_THE_ARTICLE.search(marker(element)) and prose.holds_the_article(element)


def _leading_text(element: lxml.html.HtmlElement, size: int = 40) -> str:
    pieces: list[str] = []
    for piece in element.itertext():
        if piece.strip():
            pieces.append(piece.strip())
            if sum(map(len, pieces)) >= size:
                break
    return " ".join(pieces)


WIDGET_CHARS = 400  # a sign-up box around an e-mail field is at most this long


def _drop_widget(field: lxml.html.HtmlElement, prose: ProseMap) -> None:
    """Remove the largest box around a form field that is short and holds no article."""
    box = None
    element = field.getparent()
    while element is not None and element.tag not in ("body", "html", "article", "main"):
        if len(norm(element.text_content())) > WIDGET_CHARS or _holds_the_article(element, prose):
            break
        box, element = element, element.getparent()
    if box is not None:
        drop(box)


def drop_boilerplate(tree: lxml.html.HtmlElement, prose: ProseMap, named: Named | None = None) -> None:
    """Remove page parts that are never article text: chrome by tag, class or id — unless the part holds the
    article (see :func:`_holds_the_article`) — and sign-up boxes around an e-mail field. A ``<noscript>`` holding the
    post (blogs that render with scripts put it there) is kept as a plain block."""
    doomed = _CHROME_TAGS(tree)
    doomed += [
        e for e in marked(tree, BOILERPLATE_MARKERS, named) if e.tag not in ("script", "style", "noscript")
    ]
    for element in doomed:
        if element.tag in ("script", "style"):
            drop(element)
        elif element.tag == "noscript":
            if prose.holds_the_article(element):
                element.tag = "div"
            else:
                drop(element)
        elif not _holds_the_article(element, prose):
            drop(element)
    for field in tree.xpath("//input[@type='email' or contains(@name, 'mail')]"):
        _drop_widget(field, prose)  # a sign-up box: newsletter, alerts, subscription


def drop_link_boxes(tree: lxml.html.HtmlElement) -> None:
    """Remove boxes that begin with a link-box heading ("Zobacz także", "Czytaj też", "Polecamy", "Najnowsze"):
    a heading line on its own, or a short box of links under it. Run after :func:`drop_teasers`, which needs the
    heading to recognise the card under it."""
    boxes: list[lxml.html.HtmlElement] = []
    headings = [e for e in _TEXT_HOLDERS(tree) if e.text and _BOX_HEADING_START.match(e.text)]
    for owner in headings:
        for _ in range(4):
            if owner is None:
                break
            if owner.tag in _BOX_TAGS and owner not in boxes and _BOX_HEADINGS.match(_leading_text(owner)):
                boxes.append(owner)
            owner = owner.getparent()
    for element in boxes:
        text = norm(element.text_content())
        if not text or len(text) >= 600:
            continue
        if element.tag in ("p", "span") or link_density(element, text) >= 0.4 or len(text) < 40:
            drop(element)


CARD_CHARS = 500  # a teaser card (a link to another article, its picture, a line or two) is at most this long
CARDS_AT_MOST = 0.5  # share of the body's prose teaser cards may hold; more, and they are the page's items
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg)(?:[?#].*)?$", re.IGNORECASE)
_NOT_A_PAGE = ("#", "javascript:", "mailto:", "tel:", "data:")
_CARD_BITS = "img | picture | .//h2 | .//h3 | .//h4 | .//h5 | .//h6"


def _target(base: str, href: str | None) -> str | None:
    """Where a link leads, without its fragment; None for links that lead nowhere (fragments, scripts, mail) or to
    a picture file."""
    href = (href or "").strip()
    if not href or href.lower().startswith(_NOT_A_PAGE) or _IMAGE_FILE.search(href):
        return None  # nowhere, or a picture opened large: not another page
    return urljoin(base, href).split("#", 1)[0].rstrip("/")


def _one_of_a_row(card: lxml.html.HtmlElement) -> bool:
    """The box is one of a row of boxes alike (same tag and class, two or more): a list of teasers. Paragraphs are
    never such boxes: a row of them is the article, and a link in one is part of its sentence."""
    parent = card.getparent()
    if (
        parent is None
        or not card.get("class")
        or card.tag not in ("div", "li", "article", "section", "aside")
    ):
        return False
    alike = [c for c in parent if c.tag == card.tag and c.get("class") == card.get("class")]
    return len(alike) >= 2


def drop_teasers(tree: lxml.html.HtmlElement, urls: tuple[str, ...], prose: ProseMap) -> None:
    """Remove teaser cards of other articles, wherever they sit (inside the body too): the largest box around a
    headline link to another page that holds no other headline link, is at most ``CARD_CHARS`` long, and looks
    like a card — a picture or a heading in it, the same link twice, a box heading ("Czytaj też"), nothing but
    the link, or one of a row of boxes alike. Judged by structure, not by class names."""
    base = urls[0]
    own = {u.split("#", 1)[0].rstrip("/") for u in urls}
    sizes: dict[lxml.html.HtmlElement, int] = {}
    links: dict[
        lxml.html.HtmlElement, tuple[str | None, int]
    ] = {}  # where each link leads, its words or 9 (picture)

    def size(element: lxml.html.HtmlElement) -> int:
        if element not in sizes:
            sizes[element] = len(norm(element.text_content()))
        return sizes[element]

    def link(a: lxml.html.HtmlElement) -> tuple[str | None, int]:
        if a not in links:
            words = len(a.text_content().split())
            if words < 4 and a.find(".//img") is not None:
                words = 9
            links[a] = (_target(base, a.get("href")) if words >= 3 else None, words)
        return links[a]

    cards: list[lxml.html.HtmlElement] = []
    for anchor in tree.iter("a"):
        target, words = link(anchor)
        if target is None or target in own:
            continue  # a label, a name, a fragment: not a headline of another page
        card: lxml.html.HtmlElement | None = None
        element = anchor.getparent()
        while element is not None and element.tag not in ("body", "html"):
            if element.tag == "h1" or size(element) > CARD_CHARS or prose.holds_the_article(element):
                break
            # another headline (a label or a section name, "Produkty i usługi", is none) ends the card
            if (
                any((other := link(a))[1] >= 4 and other[0] not in (None, target) for a in element.iter("a"))
                or element.find(".//h1") is not None
            ):
                break
            card = element
            element = element.getparent()
        if card is None or card in cards:
            continue
        bare_link = size(anchor) >= size(card) - 3  # nothing but the headline link
        twice = sum(1 for a in card.iter("a") if _target(base, a.get("href")) == target) > 1
        if (
            bare_link
            or twice
            or card.xpath(_CARD_BITS)
            or _BOX_HEADINGS.match(_leading_text(card))
            or _one_of_a_row(card)
        ):
            cards.append(card)
    # When the page's largest run of prose sits mostly in such boxes, the page is a list of items (a listicle, a
    # product round-up): its items are its content, so only the cards without prose go.
    run = main_run(prose, tree)
    in_cards = {id(e) for card in cards for e in card.iter()}
    carded = sum(block.words for block in run if id(block.element) in in_cards)
    if carded > CARDS_AT_MOST * run_words(run):
        cards = [card for card in cards if not prose.words_in(card)]
    for card in cards:
        drop(card)


def read_layout_tables(tree: lxml.html.HtmlElement) -> None:
    """A table that lays the page out (it holds the headline or paragraphs of prose) becomes plain blocks, so its
    text is read as paragraphs and not as the cells of one data table."""
    for table in tree.xpath("//table[.//h1 or .//article or .//p[string-length(normalize-space()) > 150]]"):
        for element in table.iter("tbody", "thead", "tfoot", "tr", "td", "th"):
            if next(element.iterancestors("table"), None) is table:
                element.tag = "div"
        table.tag = "div"
