"""Page bytes to a parsed page, decoded once.

The decision is made on the bytes, then the page is decoded once with the codec chosen:

1. a byte-order mark;
2. UTF-8 when the bytes are UTF-8 — or nearly: a page whose non-ASCII text is UTF-8 apart from a broken byte or
   two is UTF-8 with those bytes replaced, never a legacy charset from end to end;
3. a declared charset that is not a single-byte Latin one (Shift_JIS, GBK, windows-1251 …), when the bytes
   decode under it; with none declared, the legacy charset of the page's language when it is not written in Latin
   script (windows-1251 for Russian or Ukrainian, Shift_JIS for Japanese …);
4. otherwise the single-byte Latin charset (windows-1250, ISO-8859-2, windows-1252) under which the non-ASCII
   characters are letters most often — a declared one first, then the page's language decides the order. A
   Polish page labelled ISO-8859-1 or ISO-8859-2 that really uses windows-1250 is read as windows-1250; a French
   page labelled ISO-8859-1 keeps its accents.

An ``<?xml … encoding=…?>`` declaration is removed from the decoded text before parsing (lxml refuses a
declaration on text that is already decoded).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import lxml.etree
import lxml.html

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-:.]+)", re.IGNORECASE)
_HTML_LANG = re.compile(rb"""<html[^>]*?\slang\s*=\s*["']?([a-zA-Z]{2,3})""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_NON_ASCII_RUNS = re.compile(rb"[\x80-\xff]+")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")

# Single-byte charsets of Latin script: the bytes alone cannot say which one, the letters they make can.
LATIN_SINGLE_BYTE = ("cp1250", "iso8859_2", "cp1252")
# Languages written in windows-1250 / ISO-8859-2 when not in UTF-8; other pages try windows-1252 first.
CENTRAL_EUROPEAN = frozenset(
    {"pl", "cs", "sk", "hu", "sl", "hr", "bs", "sr", "ro", "sq", "pol", "ces", "slk"}
)
# The legacy charset a page in a language outside Latin script used before UTF-8, when it declares none.
LEGACY_BY_LANGUAGE = {
    "ru": "cp1251", "uk": "cp1251", "be": "cp1251", "bg": "cp1251", "mk": "cp1251", "el": "cp1253",
    "he": "cp1255", "ar": "cp1256", "fa": "cp1256", "th": "cp874", "ja": "shift_jis", "zh": "gb18030",
    "ko": "euc_kr",
}  # fmt: skip
UTF8_TOLERANCE = 0.02  # broken sequences a UTF-8 page may have (at least 2), as a share of its sound ones
_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_HTML_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


def codec_name(label: str | None) -> str | None:
    """Python's name for a charset label, as browsers read labels (latin-1 and ascii mean windows-1252)."""
    if not label:
        return None
    try:
        found = codecs.lookup(label.strip().lower().removeprefix("x-")).name
    except LookupError:
        return None
    return {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-2": "iso8859_2"}.get(
        found, found
    )


def declared_charsets(body: bytes, content_type: str | None = None) -> list[str]:
    """Charsets the server and the page name, in order of authority: HTTP header, XML declaration, ``<meta>``."""
    labels: list[str] = []
    if content_type and (match := _HEADER_CHARSET.search(content_type)):
        labels.append(match.group(1))
    head = body[:4096]
    for found in (_XML_ENCODING.search(head), _META_CHARSET.search(head)):
        if found:
            labels.append(found.group(1).decode("ascii", "ignore"))
    names = [codec_name(label) for label in labels]
    return list(dict.fromkeys(name for name in names if name))


def _nearly_utf8(body: bytes) -> str | None:
    """The page as UTF-8 when it is UTF-8, or UTF-8 with a few broken bytes (replaced); else None."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    sound = len(_UTF8_SEQUENCE.findall(body))
    if sound >= 4 * broken and broken <= max(2, UTF8_TOLERANCE * sound):
        return text
    return None


def _reading(text: str, polish: bool) -> tuple[bool, float, int]:
    """How well decoded text reads: no control characters or holes (the codec has every byte), the share of
    non-ASCII characters that are letters, and — for Polish pages — how many Polish letters there are."""
    letters = others = polish_letters = 0
    whole = True
    for ch in text:
        if ch == "\ufffd" or "\x80" <= ch <= "\x9f":
            whole = False
        elif unicodedata.category(ch).startswith("L"):
            letters += 1
            polish_letters += polish and ch in _POLISH_LETTERS
        else:
            others += 1
    share = letters / (letters + others) if letters + others else 1.0
    return whole, round(share, 2), polish_letters


def _latin(body: bytes, declared: list[str], lang: str | None) -> str:
    """Decode with the single-byte Latin charset under which the page reads as letters."""
    central = lang is None or lang in CENTRAL_EUROPEAN
    preferred = LATIN_SINGLE_BYTE if central else ("cp1252", "cp1250", "iso8859_2")
    order = [c for c in declared if c in LATIN_SINGLE_BYTE] + [c for c in preferred if c not in declared]
    sample = b" ".join(_NON_ASCII_RUNS.findall(body)[:4000])
    polish = lang in (None, "pl", "pol")
    readings = [
        (_reading(sample.decode(codec, errors="replace"), polish), -rank) for rank, codec in enumerate(order)
    ]
    best = max(range(len(order)), key=lambda i: readings[i])
    return body.decode(order[best], errors="replace")


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes to text once, with the codec the bytes and declarations support (see the module)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    declared = declared_charsets(body, content_type)
    wide = [c for c in declared if c.startswith(("utf-16", "utf-32"))]
    if wide:
        return body.decode(wide[0], errors="replace")
    if not _NON_ASCII.search(body):
        return body.decode("ascii")
    text = _nearly_utf8(body)
    if text is not None:
        return text
    for codec in declared:
        if codec in LATIN_SINGLE_BYTE or codec == "utf-8":
            continue
        try:
            return body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    found = _HTML_LANG.search(body[:8192])
    lang = found.group(1).decode("ascii").lower() if found else None
    legacy = LEGACY_BY_LANGUAGE.get(lang or "")
    if legacy and not any(c in LATIN_SINGLE_BYTE for c in declared):
        return body.decode(legacy, errors="replace")
    return _latin(body, declared, lang)


def parse_html(text: str) -> lxml.html.HtmlElement:
    """Parse decoded page text (an XML declaration removed first); raises ValueError when nothing is there."""
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        return lxml.html.document_fromstring(text, parser=_HTML_PARSER)
    except lxml.etree.ParserError as exc:
        raise ValueError(str(exc)) from exc
