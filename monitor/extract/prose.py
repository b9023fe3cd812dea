"""Where the page's prose is: its paragraph-level blocks, how many words of running prose each holds, and the
largest run of prose blocks that follow one another — the article body as the page's structure shows it.

The map is read once from the parsed page. It tells the other steps what holds the article (a box is not
boilerplate when it holds most of the page's prose, whatever its class says), where the article starts (the lead
is taken from the block before it), and how much body text there is to find (when trafilatura returns much less
than the largest run, the run is read again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

from monitor.extract.language import prose_words
from monitor.extract.tree import norm

# Paragraph-level blocks: paragraphs, headings, list items and cells without paragraphs inside, and divisions
# that hold text straight (pages that write text into a <div> with <br> between lines).
# A heading or a division inside a list item, a quotation or a cell is part of that block, not one of its own.
_INSIDE = "[not(ancestor::li or ancestor::blockquote or ancestor::dd or ancestor::td)]"
_BLOCKS = lxml.etree.XPath(
    f"//p | //h1{_INSIDE} | //h2{_INSIDE} | //h3{_INSIDE} | //h4{_INSIDE} | //h5{_INSIDE} | //h6{_INSIDE}"
    f" | //pre{_INSIDE} | //li[not(.//p or .//li)][not(ancestor::td or ancestor::blockquote)]"
    " | //blockquote[not(.//p or .//li)] | //dd[not(.//p or .//li)] | //td[not(.//p or .//td or .//li)]"
    f" | //div[not(.//p)][text()[string-length(normalize-space()) > 40]]{_INSIDE}"
)
TEASER_LINK_SHARE = 0.5  # a block whose text is mostly link text is a link, not prose
RUN_GAP = 400  # characters of non-prose blocks that end a run of prose (a menu, a list of links, a footer)
HOLDS_THE_ARTICLE = 0.5  # share of the page's prose a box must hold to be the article


@dataclass(slots=True)
class Block:
    """One paragraph-level element and its text."""

    element: lxml.html.HtmlElement
    text: str
    words: int  # words of running prose (0: a heading, a label, a caption, a link)


@dataclass
class ProseMap:
    """The page's blocks in document order and the prose words each element holds."""

    blocks: list[Block]
    total: int  # prose words on the page
    held: dict[lxml.html.HtmlElement, int] = field(default_factory=dict)  # prose words inside each element

    def words_in(self, element: lxml.html.HtmlElement) -> int:
        """Prose words inside ``element`` (as the page was when the map was read)."""
        return self.held.get(element, 0)

    def holds_the_article(self, element: lxml.html.HtmlElement) -> bool:
        """True when ``element`` holds most of the page's prose."""
        held = self.held.get(element, 0)
        return held > 0 and held >= HOLDS_THE_ARTICLE * self.total


def _own_text(element: lxml.html.HtmlElement) -> str:
    """Text written straight into a division (its tails included), not the text of the blocks inside it."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag in ("a", "b", "strong", "em", "i", "span", "u", "font"):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return norm(" ".join(parts))


def _link_text(element: lxml.html.HtmlElement) -> int:
    return sum(len(norm(a.text_content())) for a in element.iter("a"))


def read_prose(tree: lxml.html.HtmlElement) -> ProseMap:
    """The prose map of the page as it is now."""
    blocks: list[Block] = []
    held: dict[lxml.html.HtmlElement, int] = {}
    total = 0
    for element in _BLOCKS(tree):
        text = _own_text(element) if element.tag == "div" else norm(element.text_content())
        if not text:
            continue
        words = prose_words(text)
        if words and _link_text(element) > TEASER_LINK_SHARE * len(text):
            words = 0
        blocks.append(Block(element, text, words))
        if words:
            total += words
            for ancestor in element.iterancestors():
                held[ancestor] = held.get(ancestor, 0) + words
            held[element] = held.get(element, 0) + words
    return ProseMap(blocks, total, held)


def _attached(element: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    """Still in the page (no ancestor of it was removed)."""
    parent = element.getparent()
    while parent is not None:
        element, parent = parent, parent.getparent()
    return element is root


def main_run(prose: ProseMap, root: lxml.html.HtmlElement) -> list[Block]:
    """The largest run of prose blocks still in the page, with the headings and short blocks between them."""
    best: list[Block] = []
    best_words = 0
    run: list[Block] = []
    words = gap = 0
    for block in prose.blocks:
        if not _attached(block.element, root):
            continue
        if block.words:
            run.append(block)
            words += block.words
            gap = 0
            if words > best_words:
                best, best_words = list(run), words
        elif run:
            gap += len(block.text)
            if gap > RUN_GAP:
                run, words, gap = [], 0, 0
            else:
                run.append(block)
    while best and not best[-1].words:
        best.pop()
    return best


def run_text(run: list[Block]) -> str:
    """The run as body text, one block a line."""
    return "\n".join(block.text for block in run)


def run_words(run: list[Block]) -> int:
    return sum(block.words for block in run)


def first_block_of(text: str, prose: ProseMap, root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The first prose block of the page (in document order) that the body text holds: where the body begins."""
    flat = norm(text)
    for block in prose.blocks:
        if block.words and block.text in flat and _attached(block.element, root):
            return block.element
    return None


def _kind(block: Block) -> tuple[str, frozenset[str]]:
    """A block's tag and the class words of the block and of its box: blocks of one body share them."""
    parent = block.element.getparent()
    words = (block.element.get("class") or "").split()
    if parent is not None:
        words += (parent.get("class") or "").split() or [f"<{parent.tag}>"]
    return block.element.tag, frozenset(words)


def continuation(run: list[Block], returned: list[int]) -> list[Block]:
    """The blocks of ``run`` after the last of those returned (indices) that are of the kind most of the returned
    ones are — the rest of a body split over several boxes, not the author's note, the comments or the teasers that may
    follow it in the same run — with the headings between them."""
    kinds = Counter(_kind(run[i]) for i in returned)
    (tag, words), _count = kinds.most_common(1)[0]  # the body's own blocks, not a teaser that slipped in
    tags = {tag}
    found: list[Block] = []
    headings: list[Block] = []
    for block in run[returned[-1] + 1 :]:
        tag, own = _kind(block)
        if block.words and tag in tags and own & words:
            found += headings + [block]
            headings = []
        elif block.element.tag in ("h2", "h3", "h4", "h5", "h6"):
            headings.append(block)
    return found
