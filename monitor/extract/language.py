"""Language of the text and how much of it is running prose."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0  # langdetect is random unless seeded
LANGUAGE_PREFIX = 1000  # characters given to langdetect: enough for news prose, bounded in time
PROSE_SENTENCE_WORDS = 5  # a sentence of at least this many words is prose, not a caption or a label
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"”'»)]*\s+|\n+")
SENTENCE_END = re.compile(r"[.!?…][\"”'»)]*\s*$")


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
        if words >= PROSE_SENTENCE_WORDS and SENTENCE_END.search(sentence):
            total += words
    return total
