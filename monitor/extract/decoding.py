"""Page bytes to text: a BOM, the declared charsets checked against the bytes, then detection."""

from __future__ import annotations

import codecs
import re

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
