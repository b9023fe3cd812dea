"""Text folding for rules: lower case without diacritics, one character for one, so offsets stay valid.

Two views of the same folding:

- :func:`fold` returns a ``str`` of the same length as its input (for people and for terms);
- :func:`word_bytes` returns ``bytes`` of the same length where every letter or digit is folded to ``a-z0-9``
  and everything else (punctuation, quotes, dashes, HTML brackets, letters of other scripts) is a space. The
  matcher splits that on spaces, which is what makes one pass per field cheap.

Both rely on Windows-1250, the code page that holds every Polish letter and the typographic quotes and dashes
Polish portals use: ``str.encode("cp1250", "replace")`` turns each character into exactly one byte (``?`` when
it has none), so byte offsets are character offsets.
"""

from __future__ import annotations

import unicodedata

_SPECIAL = {"ł": "l", "ß": "s", "đ": "d"}


def _ascii_letter(char: str) -> str | None:
    """The a-z/0-9 letter a character folds to, or None when it is not a letter or digit."""
    lower = char.lower()
    if len(lower) != 1:
        return None
    if lower in _SPECIAL:
        return _SPECIAL[lower]
    base = unicodedata.normalize("NFKD", lower)[:1]
    if base.isascii() and base.isalnum():
        return base
    return None


def _byte_table() -> bytes:
    table = bytearray(b" " * 256)
    for code in range(256):
        try:
            char = bytes([code]).decode("cp1250")
        except UnicodeDecodeError:
            continue
        letter = _ascii_letter(char)
        if letter is not None:
            table[code] = ord(letter)
    return bytes(table)


_BYTES = _byte_table()
_FOLD: dict[int, str] = {
    ord(c): letter
    for c in bytes(range(128, 256)).decode("cp1250", errors="ignore")
    if (letter := _ascii_letter(c)) is not None
}


# _FOLD as a byte table over Windows-1250: every character _FOLD changes is in that code page, so a text that
# encodes to it folds the same through bytes.translate, 10-15 times faster than str.translate with a dict.
_FOLD_BYTES = bytes(
    ord(_FOLD[ord(char)]) if char and ord(char) in _FOLD else code
    for code, char in ((code, bytes([code]).decode("cp1250", errors="ignore")) for code in range(256))
)


def _strip_marks(text: str) -> str:
    try:
        encoded = text.encode("cp1250")
    except UnicodeEncodeError:  # a character outside Windows-1250 (Cyrillic, emoji): character by character
        return text.translate(_FOLD)
    return encoded.translate(_FOLD_BYTES).decode("cp1250")


def fold(text: str) -> str:
    """Lower-case and strip diacritics (Polish and the rest of Windows-1250), keeping every character's position."""
    folded = _strip_marks(text)
    lowered = folded.lower()
    # str.lower() keeps the length unless a character lowers to two ("İ"), and reads a capital sigma by its
    # context; then, and only then, each character is lowered on its own.
    if len(lowered) == len(folded) and "Σ" not in folded:
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)


def word_bytes(text: str) -> bytes:
    """``text`` as folded bytes of the same length: letters and digits as a-z0-9, everything else a space."""
    return text.encode("cp1250", "replace").translate(_BYTES)


def fold_word(word: str) -> str:
    """Fold one word of a term (``jeńców`` → ``jencow``); the result may contain spaces for non-letters."""
    return word_bytes(word).decode("ascii")


def snippet(text: str, start: int, end: int, width: int = 60) -> str:
    """A short passage around ``text[start:end]``, the matched words in [brackets], whitespace collapsed."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    core = f"{text[left:start]}[{text[start:end]}]{text[end:right]}"
    # Split and join only when they change more than the ends: every whitespace character but the space is
    # unprintable, so a printable passage without two spaces in a row has nothing else to collapse. A line
    # break, the usual case, is told first without reading the passage for printability.
    if "\n" not in core and core.isprintable() and "  " not in core:
        core = core.strip(" ")
    else:
        core = " ".join(core.split())
    return f"{'…' if left > 0 else ''}{core}{'…' if right < len(text) else ''}"
