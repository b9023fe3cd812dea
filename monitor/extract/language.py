"""Language of the text and how much of it is running prose, in any script."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0  # langdetect is random unless seeded
LANGUAGE_PREFIX = 400  # characters given to langdetect: enough for a few sentences of prose, bounded in time
PROSE_SENTENCE_WORDS = 5  # a sentence of at least this many words is prose, not a caption or a label
SHORT_SENTENCE_WORDS = 3  # … or of this many words when they are long (SHORT_SENTENCE_LETTERS letters in all)
SHORT_SENTENCE_LETTERS = 30
UNTERMINATED_WORDS = 15  # a line this long is prose even when it does not end in a sentence mark
UNSPACED_LINE_WORDS = (
    10  # a line of a script without sentence punctuation (Thai …) of this many words is prose
)

# Sentence ends in the scripts news is written in: Latin, Cyrillic and Greek . ! ? …, the full-width ones of
# Chinese and Japanese, Arabic and Urdu, Devanagari, Armenian, Ethiopic, Myanmar.
_TERMINATORS = ".!?…。！？｡؟۔।॥։።፧။"
_CLOSERS = "\"”'’»)）」』】〕"
_FULL_WIDTH_END = "。！？｡"
_SENTENCE_SPLIT = re.compile(
    rf"(?<=[{_TERMINATORS}])[{_CLOSERS}]*\s+|(?<=[{_FULL_WIDTH_END}])[{_CLOSERS}]*|\n+"
)
SENTENCE_END = re.compile(rf"[{_TERMINATORS}][{_CLOSERS}]*\s*$")
# Scripts written without spaces between words, and about how many characters make a word in each.
_HAN_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SOUTHEAST_ASIAN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")  # Thai, Lao, Myanmar, Khmer
_LETTER = re.compile(r"[^\W\d_]")
HAN_KANA_CHARS_PER_WORD = 2
SOUTHEAST_ASIAN_CHARS_PER_WORD = 4


# Polish written as Polish: its own letters, hardly any other, and its own short words. langdetect loads the
# n-gram profiles of 55 languages on its first call (61 MB and 0.3-0.5 s of CPU in every crawl and extraction
# worker); a Polish monitor's pages are nearly all Polish, so it is asked only about the others.
_POLISH_ONLY_LETTERS = frozenset("ąćęłńśźżĄĆĘŁŃŚŹŻ")
_POLISH_LETTERS = _POLISH_ONLY_LETTERS | frozenset("óÓ")
# Polish's short words, but not "a", "i", "do", "to", "on": English words too.
_POLISH_WORD_TEXT = (
    "się nie że na w we z ze o od po za pod nad przed przy przez dla jak jako oraz czy ale bo gdy więc jednak już"
    " tylko także też co który która które jest są był była było został została jego jej ich oni ona tym tego tej"
    " można może"
)
_POLISH_WORDS = frozenset(_POLISH_WORD_TEXT.split())
POLISH_LETTER_SHARE = 0.01  # at least this share of the letters is ą ć ę ł ń ś ź ż (Polish prose: 3-7 %)
FOREIGN_LETTER_SHARE = 0.02  # at most this share is a letter Polish does not write (a name: Erdoğan, Støre)
POLISH_WORD_SHARE = 0.06  # at least this share of the words is one of Polish's short words (prose: 10-20 %)
_WORD_EDGES = ".,;:!?\"'„”«»()[]–-…"


def clearly_polish(sample: str) -> bool:
    """Whether ``sample`` is Polish beyond doubt: Polish's own letters and short words, and next to no letter of
    another alphabet. Text that is not (other languages, Polish typed without its letters) is left to langdetect."""
    letters = _LETTER.findall(sample)
    if not letters:
        return False
    polish = sum(1 for c in letters if c in _POLISH_ONLY_LETTERS)
    foreign = sum(1 for c in letters if not c.isascii() and c not in _POLISH_LETTERS)
    words = sample.lower().split()
    ours = sum(1 for word in words if word.strip(_WORD_EDGES) in _POLISH_WORDS)
    return (
        polish >= POLISH_LETTER_SHARE * len(letters)
        and foreign <= FOREIGN_LETTER_SHARE * len(letters)
        and ours >= POLISH_WORD_SHARE * len(words)
    )


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, deterministic; None for text without letters. Text that is clearly
    Polish (:func:`clearly_polish`) is ``pl`` without asking langdetect."""
    sample = text[:LANGUAGE_PREFIX]
    if not _LETTER.search(sample):
        return None
    if clearly_polish(sample):
        return "pl"
    try:
        return detect(sample)
    except LangDetectException:
        return None


def count_words(text: str) -> int:
    """Words in any script: space-separated words, and characters of unspaced scripts (Chinese, Japanese,
    Thai …) counted a word for every few characters."""
    han = len(_HAN_KANA.findall(text))
    southeast = len(_SOUTHEAST_ASIAN.findall(text))
    if not han and not southeast:
        return len(text.split())
    spaced = sum(
        1 for token in text.split() if not _HAN_KANA.search(token) and not _SOUTHEAST_ASIAN.search(token)
    )
    return spaced + round(han / HAN_KANA_CHARS_PER_WORD) + round(southeast / SOUTHEAST_ASIAN_CHARS_PER_WORD)


def unspaced_share(text: str) -> float:
    """Share of the letters of ``text`` that belong to scripts written without spaces (Chinese, Japanese, Thai …):
    the same number of words takes two to four times fewer characters there."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return 0.0
    return (len(_HAN_KANA.findall(text)) + len(_SOUTHEAST_ASIAN.findall(text))) / letters


def prose_words(text: str) -> int:
    """Words in running prose, in any script:

    - sentences ending in a sentence mark of any script (. ! ? … 。 ؟ । …) of at least ``PROSE_SENTENCE_WORDS``
      words — or of ``SHORT_SENTENCE_WORDS`` long words (Finnish, Hungarian, German compounds);
    - lines of at least ``UNTERMINATED_WORDS`` words without a mark (paragraphs that do not end in one), and in
      scripts that do not mark sentences (Thai, Lao, Khmer) lines of ``UNSPACED_LINE_WORDS`` words.

    Captions, menus, labels and photo credits are neither, so a gallery or video page has almost none.
    """
    total = 0
    for sentence in _SENTENCE_SPLIT.split(text):
        words = count_words(sentence)
        if words < SHORT_SENTENCE_WORDS:
            continue
        if SENTENCE_END.search(sentence):
            if words >= PROSE_SENTENCE_WORDS or len(_LETTER.findall(sentence)) >= SHORT_SENTENCE_LETTERS:
                total += words
        elif words >= UNTERMINATED_WORDS or (
            words >= UNSPACED_LINE_WORDS and _SOUTHEAST_ASIAN.search(sentence)
        ):
            total += words
    return total
