"""Full-text search (monitor.archive.search): safe queries from user input, folded like the index, ranked by bm25."""

from __future__ import annotations

import json
import sqlite3

import pytest
from _archive_helpers import MONITOR, article, demo_db, run, verdict

from monitor.archive import Storage
from monitor.archive.search import QueryError, fts_query, search


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("Zełenski", '"zelenski"'),
        ("BIAŁEGO domu", '"bialego" "domu"'),
        ('"rozmowy pokojowe" Witkoff', '"rozmowy pokojowe" "witkoff"'),
        ("putin*", '"putin"*'),
        ("witkoff OR kushner", '"witkoff" OR "kushner"'),
        ("witkoff OR kushner putin", '("witkoff" OR "kushner") "putin"'),
        ("rozejm -gaza", '("rozejm") NOT "gaza"'),
        ("OR rozejm OR", '"rozejm"'),
        ("title:putin", '"title:putin"'),
        ("NEAR(putin witkoff)", '"near(putin" "witkoff)"'),
        ('ab"cd', '"ab""cd"'),
        ('"niezamknięty cudzysłów', '"niezamkniety cudzyslow"'),
        ("putin AND NOT", '"putin" "and" "not"'),
        ("— putin …", '"putin"'),
    ],
)
def test_user_input_becomes_a_safe_folded_fts5_query(typed, query):
    assert fts_query(typed) == query


@pytest.mark.parametrize("typed", ["", "   ", "-gaza", "***", '""', "— …", "OR"])
def test_a_query_with_nothing_to_find_is_refused(typed):
    with pytest.raises(QueryError, match="nothing to search for"):
        fts_query(typed)


def test_every_generated_query_is_valid_fts5():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    hostile = [
        '"',
        '""',
        "a:b",
        "(",
        ")",
        "NEAR(",
        "a AND",
        "^a",
        "a + b",
        "{x y}: z",
        "-",
        "*a",
        "a OR OR b",
        "x'y",
    ]
    for typed in hostile:
        try:
            query = fts_query(typed)
        except QueryError:
            continue
        conn.execute("SELECT * FROM t WHERE t MATCH ?", [query]).fetchall()


@pytest.fixture
def archive(tmp_path):
    storage = Storage(tmp_path / "s.db")
    storage.store_batch(
        [
            (
                "rp",
                article(
                    url="https://rp.pl/1",
                    title="Pogoda na weekend",
                    text="Mróz i śnieg w całym kraju. " * 10 + "Witkoff wspomniany raz.",
                ),
                verdict("none"),
            ),
            (
                "tvn24",
                article(
                    url="https://tvn24.pl/2",
                    title="Witkoff w Moskwie",
                    text="Wysłannik Białego Domu rozmawiał z Putinem. " * 10,
                ),
                verdict(),
            ),
            (
                "onet",
                article(
                    url="https://onet.pl/3",
                    title="Zełenski o rozmowach",
                    text="Prezydent Zełenski skomentował rozmowy. " * 10,
                ),
                verdict("mention"),
            ),
        ]
    )
    yield storage
    storage.close()


def test_search_ranks_by_bm25_with_the_title_weighted_up(archive):
    results = search(archive.conn, "witkoff")
    assert [r["outlet"] for r in results] == ["tvn24", "rp"]
    assert results[0]["rank"] < results[1]["rank"]
    assert "[Witkoff]" in results[0]["snippet"] or "[Witkoff]" in (results[1]["snippet"] or "")


def test_search_finds_words_written_without_polish_letters_and_filters(archive):
    assert [r["outlet"] for r in search(archive.conn, "zelenski")] == ["onet"]
    assert [r["outlet"] for r in search(archive.conn, "bialego domu")] == ["tvn24"]
    assert [r["outlet"] for r in search(archive.conn, "Białego")] == ["tvn24"]
    assert search(archive.conn, "witkoff", outlet="rp")[0]["outlet"] == "rp"
    assert [r["outlet"] for r in search(archive.conn, "witkoff", relevance="primary")] == ["tvn24"]
    assert search(archive.conn, "witkoff", limit=1)[0]["outlet"] == "tvn24"


def test_monitor_search_command(tmp_path_factory):
    db = demo_db(tmp_path_factory)
    result = run([*MONITOR, "search", "Zełenski gwarancje", "--db", str(db)])
    assert result.returncode == 0, result.stderr
    assert "Zełenski: Gwarancje bezpieczeństwa" in result.stdout.splitlines()[0]
    as_json = run([*MONITOR, "search", "bialego", "--db", str(db), "--json", "--limit", "1"])
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["snippet"].count("[Białego]") == 1
    nothing = run([*MONITOR, "search", "xyzzy", "--db", str(db)])
    assert nothing.returncode == 0 and nothing.stdout.strip() == "No articles match."
    empty = run([*MONITOR, "search", "--db", str(db), "--", "-gaza"])
    assert empty.returncode == 2 and empty.stderr.startswith("error: nothing to search for")
    assert len(empty.stderr.strip().splitlines()) == 1


def test_unfiltered_search_ranks_exactly_like_the_bm25_function(archive):
    """The unfiltered path sorts inside FTS5 (``rank MATCH``); its order and ranks are those of bm25()."""
    for typed in ("witkoff", "zelenski OR witkoff", "putin*"):
        expected = archive.conn.execute(
            "SELECT rowid, bm25(articles_fts, 10.0, 5.0, 1.0) AS r FROM articles_fts "
            "WHERE articles_fts MATCH ? ORDER BY r",
            [fts_query(typed)],
        ).fetchall()
        found = search(archive.conn, typed)
        assert [(r["id"], r["rank"]) for r in found] == [tuple(row) for row in expected]
        assert [r["id"] for r in search(archive.conn, typed, outlet=found[0]["outlet"])] == [found[0]["id"]]


def test_an_article_new_and_changed_in_one_batch_is_indexed_once_with_its_last_text(tmp_path):
    """New articles' index entries and matches are written at the end of the batch, or before a later change."""
    with Storage(tmp_path / "s.db") as storage:
        first = article(url="https://rp.pl/9", title="Pierwsza wersja", text="Ławrow mówił o rozejmie. " * 10)
        second = article(url="https://rp.pl/9", title="Druga wersja", text="Pieskow mówił o rozejmie. " * 10)
        results = storage.store_batch([("rp", first, verdict()), ("rp", second, verdict())])
        assert [(r.created, r.changed) for r in results] == [(True, False), (False, True)]
        storage.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        assert [r["title"] for r in search(storage.conn, "pieskow")] == ["Druga wersja"]
        assert search(storage.conn, "lawrow") == []
        assert storage.conn.execute("SELECT count(*) FROM matches").fetchone()[0] == 1
