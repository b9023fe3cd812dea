"""Near-duplicate articles (wire stories republished by several outlets): pure functions over body text.

A text becomes a set of *shingles*: every run of ``SHINGLE`` consecutive words of the folded text (lower case,
Polish diacritics removed, punctuation dropped), each hashed to 32 bits with CRC-32 (stable across processes and
Python versions, unlike ``hash()``). Two copies of the same PAP dispatch share most of their shingles even when
each outlet adds its own headline, lead, "Czytaj też" lines or signature.

Finding candidates: each article keeps a *bottom-k sketch* (the ``SKETCH_SIZE`` smallest hashes of the shingles
of its first ``SKETCH_WORDS`` words, a MinHash variant with one hash function). Copies of one story share several
of these values, unrelated stories almost never do, so an index on the sketch values finds candidates with one
lookup. Candidates are then checked exactly with :func:`resemblance` on their shingle sets.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from monitor.rules.text import fold

SHINGLE = 5  # words per shingle
SKETCH_SIZE = 12  # smallest shingle hashes kept per article
MIN_SHARED = 3  # sketch values two articles must share to be compared exactly
MIN_SHINGLES = 20  # texts with fewer shingles (about 25 words) are never linked
MIN_ANCHORED = 6  # nor texts with fewer sketched (anchored) shingles
MAX_WORDS = 5000  # longer texts are compared on their first MAX_WORDS words
SKETCH_WORDS = 300  # the sketch is taken from the first SKETCH_WORDS words (copies share their beginning)
ANCHOR_LETTERS = 7  # sketched shingles start on a word at least this long (about a third of all words)
SAME_STORY_OVERLAP = 0.6  # shared shingles / shingles of the shorter text
SAME_STORY_RATIO = 0.3  # the shorter text has at least this share of the longer one's shingles

# Punctuation becomes a space: typographic marks by str.replace, ASCII ones by one bytes.translate (fast in C).
_WIDE_PUNCTUATION = "„”“«»‚‘’…–—•·"
_ASCII_PUNCTUATION = bytes.maketrans(
    b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b" " * len(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
)
_CHARS_PER_WORD = 16  # generous: texts are cut to limit * this many characters before being split


def _tokens(text: str | None, limit: int) -> list[bytes]:
    """The folded words of a text as UTF-8 bytes, punctuation removed, at most ``limit`` of them."""
    if not text:
        return []
    folded = fold(text[: limit * _CHARS_PER_WORD])
    for mark in _WIDE_PUNCTUATION:
        if mark in folded:
            folded = folded.replace(mark, " ")
    return folded.encode().translate(_ASCII_PUNCTUATION).split()[:limit]


def words(text: str | None, limit: int = MAX_WORDS) -> list[str]:
    """The folded words of a text, punctuation removed, at most ``limit`` of them."""
    return [token.decode() for token in _tokens(text, limit)]


def _hash_runs(tokens: list[bytes], size: int, anchored: bool) -> frozenset[int]:
    if len(tokens) < size:
        return frozenset({zlib.crc32(b" ".join(tokens))}) if tokens else frozenset()
    if anchored:  # only the anchored starts are joined and hashed (about a third of them)
        crc, join = zlib.crc32, b" ".join
        return frozenset(
            [
                crc(join(tokens[i : i + size]))
                for i in range(len(tokens) - size + 1)
                if len(tokens[i]) >= ANCHOR_LETTERS
            ]
        )
    runs = zip(*(tokens[i:] for i in range(size)), strict=False)
    return frozenset(map(zlib.crc32, map(b" ".join, runs)))


def shingles(text: str | None, size: int = SHINGLE, limit: int = MAX_WORDS) -> frozenset[int]:
    """CRC-32 hashes of every run of ``size`` consecutive words (a text shorter than that has one shingle)."""
    return _hash_runs(_tokens(text, limit), size, anchored=False)


def anchored_shingles(text: str | None, size: int = SHINGLE, limit: int = SKETCH_WORDS) -> frozenset[int]:
    """The shingles that start on a word of at least ``ANCHOR_LETTERS`` bytes: a content-defined sample.

    Copies of a text sample the same positions, so their samples overlap as much as their full shingle sets do,
    for about a third of the hashing work. Sketches are taken from this sample.
    """
    return _hash_runs(_tokens(text, limit), size, anchored=True)


def sketch(hashes: Iterable[int], size: int = SKETCH_SIZE) -> list[int]:
    """The ``size`` smallest shingle hashes, ascending: the article's bottom-k MinHash sketch."""
    return sorted(hashes)[:size]


@dataclass(frozen=True)
class Resemblance:
    shared: int
    overlap: float  # shared / shingles of the shorter text
    ratio: float  # shingles of the shorter text / shingles of the longer one

    @property
    def same_story(self) -> bool:
        return self.overlap >= SAME_STORY_OVERLAP and self.ratio >= SAME_STORY_RATIO


def resemblance(a: frozenset[int], b: frozenset[int]) -> Resemblance:
    """How much two shingle sets overlap; ``.same_story`` says whether they are copies of one story."""
    small, large = sorted((len(a), len(b)))
    if small < MIN_SHINGLES:
        return Resemblance(0, 0.0, 0.0)
    shared = len(a & b)
    return Resemblance(shared, shared / small, small / large)


def content_hash(title: str | None, lead: str | None, text: str | None) -> str:
    """A fingerprint of what a reader sees (title, lead, body): when it changes, the article has a revision."""
    digest = hashlib.blake2b(digest_size=16)
    for value in (title, lead, text):
        digest.update((value or "").strip().encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


# --- linking a stored article to its story ------------------------------------------------------------

# Articles sharing at least MIN_SHARED sketch values with a new one. A value that many articles share comes from
# boilerplate, not from one story, so values with COMMON_SKETCH_VALUE postings or more are left out (and counting
# them stops there, so the lookup stays cheap however large the archive grows).
COMMON_SKETCH_VALUE = 64


_CANDIDATES = """
WITH sketch (hash) AS (VALUES {values}),
rare AS (SELECT hash FROM sketch
         WHERE (SELECT count(*) FROM (SELECT 1 FROM article_sketches s WHERE s.hash = sketch.hash LIMIT :common))
               < :common)
SELECT article_id, count(*) AS shared FROM article_sketches
WHERE hash IN (SELECT hash FROM rare) AND article_id != :me
GROUP BY article_id HAVING shared >= :shared
ORDER BY shared DESC, article_id LIMIT 5
"""


# The same question answered in Python from the postings of the sketch values, which is one index probe per
# value: a sketch of n values has at most n * COMMON_SKETCH_VALUE postings to read before some value is
# common for sure, and when the lookup hits that limit the SQL above answers instead.
CANDIDATES = 5


@functools.cache
def _postings_sql(count: int) -> str:
    return f"SELECT hash, article_id FROM article_sketches WHERE hash IN ({', '.join('?' * count)}) LIMIT ?"


@functools.cache
def _insert_sketch_sql(count: int) -> str:
    return f"INSERT OR IGNORE INTO article_sketches (hash, article_id) VALUES {', '.join(['(?, ?)'] * count)}"


def candidates(conn: sqlite3.Connection, article_id: int, values: list[int]) -> list[tuple[int, int]]:
    """Articles sharing at least MIN_SHARED rare sketch values with ``values``: (article_id, shared), best first."""
    limit = len(values) * COMMON_SKETCH_VALUE
    postings = conn.execute(_postings_sql(len(values)), [*values, limit]).fetchall()
    if len(postings) >= limit:
        params: dict[str, int] = {f"v{i}": value for i, value in enumerate(values)}
        params.update(common=COMMON_SKETCH_VALUE, me=article_id, shared=MIN_SHARED)
        marks = ", ".join(f"(:v{i})" for i in range(len(values)))
        return conn.execute(_CANDIDATES.format(values=marks), params).fetchall()
    per_value = Counter(value for value, _article in postings)
    shared = Counter(
        other for value, other in postings if other != article_id and per_value[value] < COMMON_SKETCH_VALUE
    )
    found = sorted(((-n, other) for other, n in shared.items() if n >= MIN_SHARED))[:CANDIDATES]
    return [(other, -n) for n, other in found]


class Sketched(NamedTuple):
    """What linking needs of an article's own text: its sketch and how many anchored shingles it was taken from."""

    values: list[int]
    anchored: int


def wire_sketch(text: str | None) -> Sketched:
    """The sketch of a text (:func:`sketch` of its :func:`anchored_shingles`) and the size of that sample: a pure
    function of the text, computed where the text is extracted when it can be (``monitor.archive.derived``)."""
    sample = anchored_shingles(text)
    return Sketched(sketch(sample), len(sample))


def link_story(
    conn: sqlite3.Connection,
    article_id: int,
    text: str | None,
    *,
    new: bool = False,
    sketched: Sketched | None = None,
) -> int:
    """Store the article's sketch and return the story it belongs to: an earlier copy's, else its own id.
    ``sketched``: :func:`wire_sketch` of ``text``, when the caller has it already."""
    values, anchored = sketched if sketched is not None else wire_sketch(text)
    if not new:
        conn.execute("DELETE FROM article_sketches WHERE article_id = ?", [article_id])
    if values:
        conn.execute(_insert_sketch_sql(len(values)), [v for value in values for v in (value, article_id)])
    if anchored < MIN_ANCHORED:
        return article_id
    found_ids = candidates(conn, article_id, values)
    if not found_ids:
        return article_id
    own = shingles(text)
    best: tuple[float, int] | None = None
    for candidate_id, _shared in found_ids:
        row = conn.execute("SELECT text, story_id FROM articles WHERE id = ?", [candidate_id]).fetchone()
        if row is None or row[1] is None:
            continue
        found = resemblance(own, shingles(row[0]))
        if found.same_story and (best is None or found.overlap > best[0]):
            best = (found.overlap, row[1])
    return best[1] if best else article_id
