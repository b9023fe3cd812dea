import sqlite3

import pytest

from monitor.classify import Match, Verdict
from monitor.extract import Article
from monitor.storage import Storage, StorageError, open_database


def article(url="https://rp.pl/swiat/art1-rozmowy", title="Rozmowy w Genewie", text="Treść " * 50):
    return Article(
        url=url + "?utm_source=x",
        canonical_url=url,
        title=title,
        authors=["Anna Nowak"],
        published="2026-01-14T10:32:00+01:00",
        published_source="jsonld:datePublished",
        modified=None,
        date_candidates=[{"value": "2026-01-14T10:32:00+01:00", "source": "jsonld:datePublished"}],
        lead="Lead",
        text=text,
        language="pl",
        paywalled=False,
        words=50,
    )


def verdict(relevance="primary"):
    match = Match("talks", "talks", "rozmow*", "title", 0, 7, "[Rozmowy] w Genewie")
    return Verdict(relevance, 9.0, "abc123", [match] if relevance != "none" else [])


def test_upsert_updates_instead_of_duplicating(tmp_path):
    storage = Storage(tmp_path / "a.db")
    (first,) = storage.store_batch([("rp", article(), verdict())])
    (second,) = storage.store_batch([("rp", article(title="Rozmowy w Genewie (aktualizacja)"), verdict())])
    assert first.created and not second.created and first.article_id == second.article_id
    rows = list(storage.db.query("SELECT url, title, first_seen, last_seen FROM articles"))
    assert len(rows) == 1 and rows[0]["title"].endswith("(aktualizacja)")
    assert storage.db["matches"].count == 1
    assert [r["title"] for r in storage.db.query("SELECT title FROM peace_talks")] == [rows[0]["title"]]
    storage.close()


def test_wal_and_migrations_recorded(tmp_path):
    db = open_database(tmp_path / "a.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db["_sqlite_migrations"].count >= 1
    db.conn.close()
    again = open_database(tmp_path / "a.db")  # reopening applies nothing twice
    assert again["_sqlite_migrations"].count == db_count(tmp_path / "a.db")


def db_count(path):
    return sqlite3.connect(path).execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]


def test_failed_batch_keeps_what_was_stored(tmp_path):
    storage = Storage(tmp_path / "a.db")
    storage.store_batch([("rp", article(), verdict())])
    broken = article(url="https://rp.pl/swiat/art2")
    broken.canonical_url = None  # violates NOT NULL: the whole batch must roll back
    with pytest.raises(StorageError, match="write failed"):
        storage.store_batch(
            [("rp", article(url="https://rp.pl/swiat/art3"), verdict()), ("rp", broken, verdict())]
        )
    assert [r["url"] for r in storage.db.query("SELECT url FROM articles")] == [
        "https://rp.pl/swiat/art1-rozmowy"
    ]


def test_not_a_database_is_one_clear_error(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match="notes.db: cannot use this database"):
        Storage(bogus)
    assert bogus.read_bytes().startswith(b"this is not sqlite")


def test_runs_are_recorded_per_source(tmp_path):
    storage = Storage(tmp_path / "a.db")
    run = storage.start_run("news", ["rp", "tvn24"])
    storage.finish_run(
        run,
        "finished",
        {
            "rp": {
                "discovered": 3,
                "fetched": 3,
                "stored": 2,
                "flagged": 1,
                "failed": 1,
                "errors": ["x: HTTP 500"],
            },
            "tvn24": {"discovered": 0, "failed": 1, "errors": ["y: DNSLookupError"]},
        },
    )
    (row,) = storage.db.query("SELECT * FROM crawl_runs")
    assert (row["status"], row["discovered"], row["failed"]) == ("finished", 3, 2)
    assert [r["source"] for r in storage.run_summary(run)] == ["rp", "tvn24"]
