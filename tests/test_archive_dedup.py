"""Near-duplicate detection of wire stories (monitor.archive.stories): pure functions on text."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from monitor.archive.stories import (
    SKETCH_WORDS,
    anchored_shingles,
    content_hash,
    resemblance,
    shingles,
    sketch,
    words,
)
from monitor.extract import extract_article

WIRE = Path(__file__).resolve().parent.parent / "fixtures" / "archive" / "wire"


def body(name: str) -> str:
    return extract_article(f"https://example.pl/{name}", (WIRE / f"{name}.html").read_bytes()).text


def test_words_are_folded_and_stripped_of_punctuation():
    assert words("„Zełenski”, Putin… (PAP) – ŁÓDŹ!") == ["zelenski", "putin", "pap", "lodz"]
    assert words(None) == [] and words("") == [] and words("— – …") == []
    assert words("Źdźbło ŻÓŁW") == ["zdzblo", "zolw"]


def test_shingles_do_not_depend_on_case_diacritics_or_spacing():
    a = shingles("Rozmowy w Genewie zakończyły się bez porozumienia w sprawie rozejmu.")
    b = shingles("rozmowy  w genewie zakonczyly sie\nbez porozumienia w sprawie rozejmu")
    assert a == b and len(a) == 6
    assert len(shingles("za krótko")) == 1 and shingles("") == frozenset()


def test_shingle_hashes_are_stable_across_processes():
    # CRC-32 of the folded words, never Python's salted hash(): sketches stored today match tomorrow's
    assert shingles("A b c d E f") == {zlib.crc32(b"a b c d e"), zlib.crc32(b"b c d e f")}
    assert sorted(shingles("a b c d e f")) == [1674648355, 3602959311]


def test_two_outlets_carrying_one_pap_dispatch_are_the_same_story():
    rp, wp, onet = body("rp-pap-rijad"), body("wp-pap-rijad"), body("onet-own-rijad")
    same = resemblance(shingles(rp), shingles(wp))
    assert same.same_story and same.overlap > 0.8
    # the sketches agree enough for the index lookup to find the copy
    assert len(set(sketch(anchored_shingles(rp))) & set(sketch(anchored_shingles(wp)))) >= 3
    # the outlet's own report of the same event, quoting the same words, is another story
    for copy in (rp, wp):
        other = resemblance(shingles(copy), shingles(onet))
        assert not other.same_story and other.overlap < 0.1


def test_a_shortened_copy_is_still_the_same_story_but_a_fragment_is_not():
    full = body("rp-pap-rijad")
    half = " ".join(full.split()[: len(full.split()) // 2])
    assert resemblance(shingles(full), shingles(half)).same_story
    tiny = " ".join(full.split()[:30])
    assert not resemblance(shingles(full), shingles(tiny)).same_story


def test_short_texts_are_never_linked():
    text = "Pieskow: rozmowy były konstruktywne."
    assert not resemblance(shingles(text), shingles(text)).same_story


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("T", "L", "body"), ("T", "L", "body"), True),
        (("T", "L", "body\n"), (" T", "L", "body"), True),
        (("T", None, "body"), ("T", "", "body"), True),
        (("T", "L", "body"), ("T2", "L", "body"), False),
        (("T", "L", "body"), ("T", "L", "body!"), False),
        (("Tb", "", "x"), ("T", "b", "x"), False),
    ],
)
def test_content_hash_changes_with_what_readers_see(a, b, same):
    assert (content_hash(*a) == content_hash(*b)) is same


def test_anchored_shingles_are_the_runs_that_start_on_a_long_word():
    text = "Prezydent Zełenski rozmawiał wczoraj z Witkoffem o gwarancjach bezpieczeństwa dla Ukrainy. " * 3
    tokens = words(text, SKETCH_WORDS)
    expected = {
        zlib.crc32(" ".join(tokens[i : i + 5]).encode())
        for i in range(len(tokens) - 4)
        if len(tokens[i].encode()) >= 7
    }
    assert anchored_shingles(text) == expected


def test_candidate_lookup_in_python_answers_like_the_sql_query():
    """stories.candidates reads postings and counts in Python; the answer is the _CANDIDATES query's."""
    import random
    import sqlite3

    from monitor.archive import stories

    rng = random.Random(7)
    for _trial in range(60):
        conn = sqlite3.connect(":memory:")
        conn.execute(
            "CREATE TABLE article_sketches (hash INTEGER NOT NULL, article_id INTEGER NOT NULL, "
            "PRIMARY KEY (hash, article_id)) WITHOUT ROWID"
        )
        pool = rng.randint(12, 300)  # a small pool makes common values (and the SQL fallback) likely
        count = rng.randint(1, 200)
        conn.executemany(
            "INSERT OR IGNORE INTO article_sketches VALUES (?, ?)",
            [(value, a) for a in range(1, count + 1) for value in rng.sample(range(pool), 12)],
        )
        me = rng.randint(1, count + 1)
        values = sorted(rng.sample(range(pool), rng.randint(6, 12)))
        conn.executemany("INSERT OR IGNORE INTO article_sketches VALUES (?, ?)", [(v, me) for v in values])
        params = {f"v{i}": value for i, value in enumerate(values)}
        params.update(common=stories.COMMON_SKETCH_VALUE, me=me, shared=stories.MIN_SHARED)
        sql = stories._CANDIDATES.format(values=", ".join(f"(:v{i})" for i in range(len(values))))
        expected = [tuple(row) for row in conn.execute(sql, params)]
        assert [tuple(row) for row in stories.candidates(conn, me, values)] == expected
        conn.close()
