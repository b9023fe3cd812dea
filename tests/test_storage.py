import sqlite3
from pathlib import Path

import pytest

from monitor.archive import Storage, StorageError, open_database
from monitor.extract import Article
from monitor.rules import Match, Verdict


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


def test_a_new_archive_has_16k_pages_and_an_old_one_keeps_its_own(tmp_path):
    """Article rows are ~3 kB: 16 kB pages pack them without leaving a fifth of each page empty."""
    db = open_database(tmp_path / "new.db")
    assert db.execute("PRAGMA page_size").fetchone()[0] == 16_384
    db.conn.close()
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE t (x)")  # an archive of a former release: created on 4 kB pages
    conn.commit()
    conn.close()
    assert open_database(old).execute("PRAGMA page_size").fetchone()[0] == 4096


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


# --- the archive (issue #5) --------------------------------------------------------------------------------

import json  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import sqlite_utils  # noqa: E402
from _fault_helpers import unprivileged  # noqa: E402
from conftest import ROOT  # noqa: E402

from monitor.archive import FTS_AUTOMERGE, FTS_HASHSIZE, known_migrations, migrations, open_for_reading  # noqa: E402


def m001_database(path):
    """A database as the first release wrote it: only m001 applied, rows written the old way."""
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m002_archive")
    db["articles"].insert_all(
        [
            {
                "url": "https://rp.pl/swiat/art1",
                "source": "rp",
                "title": "Zełenski w Białym Domu",
                "lead": "Rozmowy o gwarancjach",
                "text": "Prezydent Zełenski spotkał się w Białym Domu z wysłannikiem Witkoffem. " * 5,
                "relevance": "primary",
                "score": 12.0,
                "published": "2026-01-14T10:32:00+01:00",
                "first_seen": "2026-01-14T10:40:00+00:00",
            },
            {
                "url": "https://tvn24.pl/sport/skoki",
                "source": "tvn24",
                "title": "Skoki w Zakopanem",
                "text": "Konkurs Pucharu Świata w Zakopanem. " * 10,
                "relevance": "none",
                "score": 0.0,
                "published": "2026-01-13T18:00:00+01:00",
                "first_seen": "2026-01-13T18:10:00+00:00",
            },
        ]
    )
    db["matches"].insert({"article_id": 1, "rule": "talks", "term": "witkoff", "field": "body"})
    db["crawl_runs"].insert({"started": "2026-01-14T10:00:00+00:00", "finished": "2026-01-14T10:05:00+00:00"})
    db["run_sources"].insert(
        {"run_id": 1, "source": "rp", "fetched": 3, "stored": 1, "failed": 0, "errors": "[]"}
    )
    db.conn.close()


def test_a_first_release_database_upgrades_in_place_without_losing_rows(tmp_path):
    path = tmp_path / "old.db"
    m001_database(path)
    db = open_database(path)
    assert [m["name"] for m in db["_sqlite_migrations"].rows] == known_migrations()
    rows = list(db.query("SELECT id, url, content_hash, story_id, revisions FROM articles ORDER BY id"))
    assert [r["url"] for r in rows] == ["https://rp.pl/swiat/art1", "https://tvn24.pl/sport/skoki"]
    assert all(r["content_hash"] and r["story_id"] == r["id"] and r["revisions"] == 0 for r in rows)
    assert db["matches"].count == 1
    # the old rows are searchable, folded; the views and the sources exist
    found = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'zelenski bialym'").fetchall()
    assert found == [(1,)]
    assert [r["title"] for r in db.query("SELECT title FROM peace_talks")] == ["Zełenski w Białym Domu"]
    assert {r["name"] for r in db.query("SELECT name FROM sources")} == {"rp", "tvn24"}
    assert db.execute("SELECT started FROM run_sources").fetchone()[0] == "2026-01-14T10:00:00+00:00"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(known_migrations())
    assert fts_config(db.conn) == {
        "automerge": FTS_AUTOMERGE,
        "hashsize": FTS_HASHSIZE,
    }  # m004 reached it too
    db.conn.close()
    # and the upgraded file takes new writes through the current code
    storage = Storage(path)
    storage.store_batch(
        [("rp", article(url="https://rp.pl/swiat/art1", title="Zełenski w Białym Domu (wideo)"), verdict())]
    )
    assert storage.db["articles"].count == 2
    assert storage.db["article_revisions"].count == 1
    storage.close()


def fts_config(conn):
    return dict(conn.execute("SELECT k, v FROM articles_fts_config WHERE k IN ('automerge', 'hashsize')"))


def test_a_new_archive_writes_its_full_text_index_in_fewer_larger_segments(tmp_path):
    db = open_database(tmp_path / "a.db")
    # FTS5's defaults are 4 and 1 MiB (see FTS_AUTOMERGE and bench/bench_archive.py)
    assert fts_config(db.conn) == {"automerge": FTS_AUTOMERGE, "hashsize": FTS_HASHSIZE}
    assert FTS_AUTOMERGE > 4 and FTS_HASHSIZE > 1024 * 1024
    db.conn.close()
    # the settings live in the index's own configuration: a plain sqlite3 writer uses them too
    conn = sqlite3.connect(tmp_path / "a.db")
    assert fts_config(conn) == {"automerge": FTS_AUTOMERGE, "hashsize": FTS_HASHSIZE}
    conn.close()


def test_every_view_and_table_of_the_archive_exists(tmp_path):
    db = open_database(tmp_path / "a.db")
    names = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert {
        "sources",
        "articles",
        "article_revisions",
        "matches",
        "crawl_runs",
        "run_sources",
        "articles_fts",
        "peace_talks",
        "peace_talk_mentions",
        "daily_counts",
        "source_health",
        "wire_stories",
    } <= names
    columns = [c.name for c in db["peace_talks"].columns]
    assert columns[:6] == ["published", "outlet", "title", "url", "score", "top_terms"]
    indexes = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"idx_articles_story", "idx_articles_first_seen", "idx_matches_rule"} <= indexes
    plan = " ".join(
        r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM articles WHERE url = 'x'").fetchall()
    )
    assert "USING INDEX" in plan
    db.conn.close()


def test_a_changed_title_or_body_leaves_a_revision(tmp_path):
    storage = Storage(tmp_path / "a.db")
    storage.store_batch([("rp", article(title="Rozmowy w Genewie"), verdict())])
    storage.store_batch([("rp", article(title="Rozmowy w Genewie"), verdict())])  # unchanged: nothing
    assert storage.db["article_revisions"].count == 0
    (changed,) = storage.store_batch([("rp", article(title="Rozmowy w Genewie zakończone"), verdict())])
    assert changed.changed
    storage.store_batch(
        [("rp", article(title="Rozmowy w Genewie zakończone", text="Nowa wersja depeszy " * 40), verdict())]
    )
    revisions = list(storage.db.query("SELECT * FROM article_revisions ORDER BY id"))
    assert [r["fields"] for r in revisions] == ["title", "text"]
    assert (revisions[0]["title_before"], revisions[0]["title_after"]) == (
        "Rozmowy w Genewie",
        "Rozmowy w Genewie zakończone",
    )
    assert revisions[0]["text_before"] is None and revisions[1]["text_before"] == "Treść " * 50
    row = storage.db.execute("SELECT revisions, changed_at FROM articles").fetchone()
    assert row[0] == 2 and row[1]
    # the index follows the new text, and the old words are gone from it
    assert (
        storage.db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'nowa'").fetchone()[0]
        == 1
    )
    assert (
        storage.db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'tresc'").fetchone()[0]
        == 0
    )
    storage.close()


def test_full_text_index_folds_every_polish_letter_including_l_stroke(tmp_path):
    storage = Storage(tmp_path / "a.db")
    storage.store_batch(
        [
            (
                "rp",
                article(title="Zełenski i wysłannik Białego Domu", text="Żółć gęślą jaźń. " * 30),
                verdict(),
            ),
            (
                "rp",
                article(url="https://rp.pl/b", title="Inny temat", text="Pogoda w Łodzi. " * 30),
                verdict("none"),
            ),
        ]
    )

    def hits(query):
        return [
            r[0]
            for r in storage.db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", [query])
        ]

    assert hits("zelenski") == [1] and hits("bialego") == [1] and hits("zolc gesla jazn") == [1]
    assert hits("lodzi") == [2] and hits("wyslannik") == [1]
    snippet = storage.db.execute(
        "SELECT highlight(articles_fts, 0, '[', ']') FROM articles_fts WHERE articles_fts MATCH 'zelenski'"
    ).fetchone()[0]
    assert snippet == "[Zełenski] i wysłannik Białego Domu"  # the original text, not the folded one
    storage.close()


def test_deleting_an_article_by_hand_keeps_the_index_and_links_consistent(tmp_path):
    path = tmp_path / "a.db"
    storage = Storage(path)
    storage.store_batch([("rp", article(), verdict()), ("rp", article(url="https://rp.pl/b"), verdict())])
    storage.close()
    conn = sqlite3.connect(path)  # an analyst with the sqlite3 shell
    conn.execute("DELETE FROM articles WHERE id = 1")
    conn.commit()
    assert conn.execute("SELECT count(*) FROM matches WHERE article_id = 1").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM article_sketches WHERE article_id = 1").fetchone()[0] == 0
    assert conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'genewie'").fetchall() == [
        (2,)
    ]
    conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 0)")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_sources_are_registered_from_runs_and_batches(tmp_path):
    from monitor.discovery.sources import Source

    storage = Storage(tmp_path / "a.db")
    outlet = Source("rp", "Rzeczpospolita", ("rp.pl",), __import__("re").compile("art"))
    run = storage.start_run("news", [outlet, "tvn24"])
    storage.store_batch([("pap", article(), verdict())])
    storage.finish_run(run, "finished", {"rp": {"fetched": 1, "stored": 1}})
    rows = {r["name"]: r for r in storage.db.query("SELECT * FROM sources")}
    assert set(rows) == {"rp", "tvn24", "pap"}
    assert rows["rp"]["title"] == "Rzeczpospolita" and json.loads(rows["rp"]["domains"]) == ["rp.pl"]
    assert rows["rp"]["last_run_id"] == run
    (health,) = storage.db.query("SELECT * FROM source_health WHERE outlet = 'rp'")
    assert health["runs"] == 1 and health["last_success"] and health["stored_per_run"] == 1.0
    storage.close()


def test_a_newer_schema_is_refused_without_writing(tmp_path):
    path = tmp_path / "future.db"
    Storage(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('monitor', 'm099_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(
        StorageError, match=r"future.db: written by a newer version of the monitor \(schema m099"
    ):
        Storage(path)
    with pytest.raises(StorageError, match="newer version"):
        open_for_reading(path)
    assert path.read_bytes() == before


def test_a_read_only_file_is_one_clear_error_and_stays_untouched(tmp_path):
    path = tmp_path / "ro.db"
    storage = Storage(path)
    storage.store_batch([("rp", article(), verdict())])
    storage.close()
    before = path.read_bytes()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        with pytest.raises(StorageError, match="ro.db: cannot use this database: the file is read-only"):
            Storage(path)
        reader = open_for_reading(path)  # queries still work, without writing
        assert reader.execute("SELECT count(*) FROM peace_talks").fetchone()[0] == 1
        reader.conn.close()
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert path.read_bytes() == before


def test_a_database_locked_by_another_writer_is_one_clear_error(tmp_path):
    path = tmp_path / "busy.db"
    storage = Storage(path, busy_timeout_ms=200)
    other = sqlite3.connect(path)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO crawl_runs (status) VALUES ('other writer')")
    try:
        with pytest.raises(
            StorageError, match=r"busy.db: the database is locked by another writer \(waited 0.2 s\)"
        ):
            storage.store_batch([("rp", article(), verdict())])
    finally:
        other.rollback()
        other.close()
    assert storage.store_batch([("rp", article(), verdict())])[0].created  # and works once the lock is gone
    storage.close()


def test_readers_read_while_a_batch_is_being_written(tmp_path):
    path = tmp_path / "wal.db"
    storage = Storage(path)
    storage.store_batch([("rp", article(), verdict())])
    reader = sqlite3.connect(path, timeout=0.1)
    with storage._write("test") as conn:
        conn.execute("UPDATE articles SET score = 99")
        assert reader.execute("SELECT score FROM articles").fetchone()[0] == 9.0  # no wait, the last commit
    assert reader.execute("SELECT score FROM articles").fetchone()[0] == 99
    reader.close()
    storage.close()


def test_a_directory_or_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(StorageError, match="is a directory"):
        Storage(tmp_path)
    with pytest.raises(StorageError, match="missing.db: no such database"):
        open_for_reading(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_a_read_only_directory_is_refused_before_writing(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "a.db"
    Storage(path).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    opening = f"from monitor.archive import Storage; Storage({str(path)!r})"
    try:
        result = subprocess.run(
            [*unprivileged(), sys.executable, "-c", opening], capture_output=True, text=True, cwd=ROOT
        )
    finally:
        folder.chmod(stat.S_IRWXU)
    assert result.returncode != 0 and "directory is read-only" in result.stderr, result.stderr[-1000:]


def test_copies_of_one_wire_story_share_a_story_id(tmp_path):
    dispatch = (
        "Delegacje Ukrainy i Stanów Zjednoczonych zakończyły w sobotę w Rijadzie kolejną rundę rozmów o planie "
        "zakończenia wojny. Szef ukraińskiej delegacji Rustem Umierow powiedział, że rozmowy były trudne, ale "
        "rzeczowe. Specjalny wysłannik prezydenta USA Steve Witkoff przekazał, że amerykańska strona przedstawiła "
        "zaktualizowany projekt porozumienia ramowego ze strefą zdemilitaryzowaną wzdłuż linii frontu. Rzecznik "
        "Kremla Dmitrij Pieskow oświadczył, że Moskwa zapozna się z wynikami spotkania za pośrednictwem Amerykanów."
    )
    storage = Storage(tmp_path / "a.db")
    first, copy, other = storage.store_batch(
        [
            (
                "rp",
                article(url="https://rp.pl/a", title="Rozmowy w Rijadzie", text=dispatch + " (PAP)"),
                verdict(),
            ),
            (
                "wp",
                article(
                    url="https://wp.pl/b",
                    title="Przełom w Rijadzie?",
                    text="Relacja na żywo w naszym serwisie. " + dispatch + " Źródło: PAP",
                ),
                verdict(),
            ),
            (
                "onet",
                article(url="https://onet.pl/c", title="Pogoda", text="Śnieg i mróz w całym kraju. " * 20),
                verdict("none"),
            ),
        ]
    )
    assert copy.story_id == first.story_id == first.article_id
    assert other.story_id == other.article_id != first.story_id
    (wire,) = storage.db.query("SELECT * FROM wire_stories")
    assert (wire["story_id"], wire["outlets"], wire["outlet_names"].split(",")) == (
        first.article_id,
        2,
        ["rp", "wp"],
    )
    assert storage.db.execute("SELECT story_outlets FROM peace_talks WHERE outlet = 'wp'").fetchone()[0] == 2
    storage.close()


def test_integrity_check_reports_ok_on_a_healthy_archive(tmp_path):
    storage = Storage(tmp_path / "a.db")
    storage.store_batch([("rp", article(), verdict())])
    assert storage.integrity() == "ok"
    storage.close()


def test_a_killed_run_is_counted_up_to_its_last_batch_and_marked_interrupted_by_the_next(tmp_path):
    storage = Storage(tmp_path / "a.db")
    killed = storage.start_run("news", ["rp", "onet"])
    ingest = storage.start_run("ingest", ["rp"])  # an ingest in progress is not a crawl: left alone
    assert [
        tuple(r)
        for r in storage.conn.execute("SELECT source, stored FROM run_sources WHERE run_id = ?", [killed])
    ] == [
        ("onet", 0),
        ("rp", 0),
    ]

    def progress(results):
        return killed, {"rp": {"discovered": 5, "fetched": 1, "stored": len(results), "new": 1}, "onet": {}}

    storage.store_batch([("rp", article(), verdict())], progress)
    storage.close()  # the process dies here: no finish_run
    again = Storage(tmp_path / "a.db")
    current = again.start_run("news", ["rp"])
    assert again.mark_interrupted(current) == [killed]
    row = again.conn.execute(
        "SELECT status, finished, discovered, stored FROM crawl_runs WHERE id = ?", [killed]
    )
    status, finished, discovered, stored = row.fetchone()
    assert (status, discovered, stored) == ("interrupted", 5, 1) and finished
    statuses = dict(again.conn.execute("SELECT id, status FROM crawl_runs"))
    assert statuses == {killed: "interrupted", ingest: "running", current: "running"}
    assert again.mark_interrupted(current) == []
    again.close()


def test_the_writers_page_cache_is_small_whatever_the_other_writing_connections_use(tmp_path: Path) -> None:
    """The crawl's writer keeps WRITER_CACHE_KIB of pages (a 64 MiB cache filled up on a large archive and made a
    crawl's memory grow with it, #15); other writing connections keep database.CACHE_KIB."""
    from monitor.archive.database import CACHE_KIB
    from monitor.archive.store import WRITER_CACHE_KIB

    assert WRITER_CACHE_KIB < CACHE_KIB
    with Storage(tmp_path / "cache.db") as storage:
        assert storage.conn.execute("PRAGMA cache_size").fetchone()[0] == -WRITER_CACHE_KIB
    other = open_database(tmp_path / "cache.db")
    assert other.conn.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB
    other.conn.close()


def test_opening_the_archive_does_not_load_numpy_and_the_story_scores_still_do(tmp_path):
    """sqlite-utils would import numpy (0.12 s of CPU, 40% of a short command) only to know numpy values' column
    types; the archive loads it without (monitor/archive/sqlitelib.py). numpy loads when the story scores need it,
    and sqlite-utils loaded after numpy is the same sqlite-utils."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom monitor.archive import Storage\n"
        f"Storage({str(tmp_path / 'm.db')!r}).close()\n"
        "print('numpy' in sys.modules)\n"
        "from monitor.archive.story_scores import np\n"
        "print(np.arange(3).sum())\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "3"]
    after = "import numpy, sys\nfrom monitor.archive.sqlitelib import sqlite_utils\nprint(sqlite_utils.db.np is numpy)\n"
    result = subprocess.run([sys.executable, "-c", after], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]
