"""`monitor ingest`: saved pages and WARC files through the crawl's own extraction, rules and storage."""

from __future__ import annotations

import gzip
import sqlite3
from io import BytesIO
from pathlib import Path

import pytest
from _archive_helpers import MONITOR, ROOT, run
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.archive import Storage
from monitor.archive.ingest import Page, Problem, ingest, outlet_for, page_url, pages
from monitor.discovery.sources import load_sources
from monitor.extract import extract_article
from monitor.rules import classify, load_rules

WIRE = ROOT / "fixtures" / "archive" / "wire"
INTERIA = ROOT / "fixtures" / "articles" / "interia"


def write_warc(path: Path, records: list[tuple[str, str, bytes, str]], gz: bool = True) -> Path:
    """A WARC file of HTTP responses: (url, status, body, content type)."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gz)
        for url, status, body, content_type in records:
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=headers)
            writer.write_record(record)
    return path


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_page_url_is_the_pages_own_canonical_link():
    body = (WIRE / "rp-pap-rijad.html").read_bytes()
    assert page_url(body, "file:///x").startswith("https://www.rp.pl/konflikty-zbrojne/art44012345")
    assert (
        page_url(b"<html><head><link rel=canonical href='/relative'></head></html>", "file:///x")
        == "file:///x"
    )
    assert page_url(b"\x00\x01 not html", "file:///y") == "file:///y"


def test_outlets_are_recognised_by_domain():
    known = load_sources()
    assert outlet_for("https://wiadomosci.wp.pl/x", known) == "wp"
    assert outlet_for("https://www.rp.pl/a", known) == "rp"
    assert outlet_for("https://www.example.com/a", known) == "example.com"
    assert outlet_for("https://www.example.com/a", known, default="mine") == "mine"


def test_ingested_pages_are_stored_exactly_as_the_crawl_would_store_them(tmp_path):
    ruleset = load_rules()
    storage = Storage(tmp_path / "i.db")
    summary = ingest(storage, ruleset, pages([WIRE]), sources=load_sources())
    storage.close()
    assert (summary.pages, summary.stored, summary.failed) == (3, 3, 0)
    for name in ("rp-pap-rijad", "wp-pap-rijad", "onet-own-rijad"):
        body = (WIRE / f"{name}.html").read_bytes()
        expected = extract_article(page_url(body, ""), body)
        verdict = classify(ruleset, expected.title, expected.lead, expected.text)
        (row,) = rows(tmp_path / "i.db", f"SELECT * FROM articles WHERE url = '{expected.canonical_url}'")
        assert (row["title"], row["text"], row["published"]) == (
            expected.title,
            expected.text,
            expected.published,
        )
        assert (row["relevance"], row["score"], row["ruleset"]) == (
            verdict.relevance,
            verdict.score,
            verdict.ruleset,
        )
        assert len(rows(tmp_path / "i.db", f"SELECT * FROM matches WHERE article_id = {row['id']}")) == len(
            verdict.matches
        )
    outlets = {
        r["source"]: r["story_id"] for r in rows(tmp_path / "i.db", "SELECT source, story_id FROM articles")
    }
    assert (
        outlets["rp"] == outlets["wp"] != outlets["onet"]
    )  # one PAP dispatch, two outlets; onet's own report
    (run_row,) = rows(tmp_path / "i.db", "SELECT * FROM crawl_runs")
    assert (run_row["spider"], run_row["status"], run_row["stored"]) == ("ingest", "finished", 3)


def test_warc_files_are_ingested_with_their_dates_and_non_pages_skipped(tmp_path):
    article = (WIRE / "rp-pap-rijad.html").read_bytes()
    warc = write_warc(
        tmp_path / "crawl.warc.gz",
        [
            (
                "https://www.rp.pl/konflikty-zbrojne/art44012345-x",
                "200 OK",
                article,
                "text/html; charset=utf-8",
            ),
            ("https://www.rp.pl/missing", "404 Not Found", b"<html>gone</html>", "text/html"),
            ("https://www.rp.pl/logo.png", "200 OK", b"\x89PNG....", "image/png"),
            ("https://www.rp.pl/menu", "200 OK", b"<html><body><p>Menu</p></body></html>", "text/html"),
        ],
    )
    found = list(pages([warc]))
    assert [type(item).__name__ for item in found] == ["Page", "Problem", "Page"]
    assert isinstance(found[0], Page) and found[0].fetched_at is not None and "utf-8" in found[0].content_type
    assert isinstance(found[1], Problem) and found[1].skipped and "HTTP 404" in found[1].reason
    db = tmp_path / "w.db"
    result = run([*MONITOR, "ingest", str(warc), "--db", str(db)])
    assert result.returncode == 0, result.stderr
    assert "2 pages: 1 stored (1 new, 0 changed), 1 flagged, 2 skipped, 0 inputs failed" in result.stdout
    (row,) = rows(db, "SELECT source, url, relevance FROM articles")
    assert (row["source"], row["relevance"]) == ("rp", "primary")


def test_a_damaged_warc_keeps_what_came_before_the_damage(tmp_path):
    good = write_warc(
        tmp_path / "a.warc",
        [("https://www.rp.pl/a", "200 OK", (WIRE / "rp-pap-rijad.html").read_bytes(), "text/html")],
        gz=False,
    )
    damaged = tmp_path / "damaged.warc"
    damaged.write_bytes(
        good.read_bytes() + b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\ntrunc"
    )
    found = list(pages([damaged]))
    assert isinstance(found[0], Page)
    assert isinstance(found[-1], Problem) and "damaged or unreadable WARC" in found[-1].reason
    not_warc = tmp_path / "noise.warc.gz"
    not_warc.write_bytes(b"this is not a warc file at all")
    (problem,) = list(pages([not_warc]))
    assert isinstance(problem, Problem) and problem.origin == str(not_warc)


def test_re_ingesting_updates_rows_and_records_revisions(tmp_path):
    db = tmp_path / "r.db"
    page = tmp_path / "page.html"
    original = (WIRE / "onet-own-rijad.html").read_text(encoding="utf-8")
    page.write_text(original, encoding="utf-8")
    assert run([*MONITOR, "ingest", str(page), "--db", str(db)]).returncode == 0
    page.write_text(
        original.replace("Napięta atmosfera i nowe mapy", "Napięta atmosfera, nowe mapy i termin"),
        encoding="utf-8",
    )
    again = run([*MONITOR, "ingest", str(page), "--db", str(db)])
    assert again.returncode == 0 and "1 stored (0 new, 1 changed)" in again.stdout
    assert len(rows(db, "SELECT * FROM articles")) == 1
    (revision,) = rows(db, "SELECT * FROM article_revisions")
    assert revision["fields"] == "title" and revision["title_after"].endswith("nowe mapy i termin")


def test_ingest_reads_directories_gzip_files_and_a_given_url(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "a.html").write_bytes((INTERIA / "rozmowy-w-genewie-w-skrocie.html").read_bytes())
    (folder / "notes.txt").write_text("not a page")
    single = tmp_path / "page.htm"
    single.write_bytes(gzip.compress((WIRE / "wp-pap-rijad.html").read_bytes()))
    db = tmp_path / "d.db"
    result = run([*MONITOR, "ingest", str(folder), "--db", str(db)])
    assert result.returncode == 0, result.stderr
    given = run(
        [*MONITOR, "ingest", str(single), "--db", str(db), "--url", "https://example.org/w", "--source", "wp"]
    )
    assert given.returncode == 0, given.stderr
    stored = {(r["source"], r["url"]) for r in rows(db, "SELECT source, url FROM articles")}
    assert (
        "interia",
        "https://wydarzenia.interia.pl/zagranica/news-rozmowy-w-genewie-umierow-i-witkoff-o-mapie-i-gwarancjach,nId,8291544",
    ) in stored
    assert ("wp", "https://example.org/w") in stored


def test_ingest_bad_inputs_each_get_one_line_and_a_status(tmp_path):
    db = tmp_path / "b.db"
    missing = run([*MONITOR, "ingest", str(tmp_path / "nope.html"), "--db", str(db)])
    assert missing.returncode == 2 and "nope.html: no such file or directory" in missing.stderr
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    some = run([*MONITOR, "ingest", str(empty_dir), str(WIRE / "rp-pap-rijad.html"), "--db", str(db)])
    assert some.returncode == 1 and "no HTML or WARC files" in some.stderr
    not_article = tmp_path / "gallery.html"
    not_article.write_text("<html><body><p>Zdjęcie 1</p></body></html>")
    skipped = run([*MONITOR, "ingest", str(not_article), "--db", str(db)])
    assert skipped.returncode == 0 and "not an article" in skipped.stderr
    two = run(
        [*MONITOR, "ingest", str(not_article), str(not_article), "--url", "https://x.pl/a", "--db", str(db)]
    )
    assert two.returncode == 2 and "--url names one page" in two.stderr
    bad_rules = tmp_path / "rules.toml"
    bad_rules.write_text("[ruleset\n")
    rules = run([*MONITOR, "ingest", str(not_article), "--rules", str(bad_rules), "--db", str(db)])
    assert rules.returncode == 2 and rules.stderr.startswith("error: ") and "rules.toml" in rules.stderr


@pytest.mark.parametrize("problem", ["not sqlite", "locked"])
def test_ingest_into_an_unusable_database_writes_nothing(tmp_path, problem):
    db = tmp_path / "x.db"
    holder = None
    if problem == "not sqlite":
        db.write_bytes(b"plain text, not a database\n" * 50)
    else:
        Storage(db).close()
        holder = sqlite3.connect(db)
        holder.execute("BEGIN EXCLUSIVE")
    before = db.read_bytes()
    result = run(
        [*MONITOR, "ingest", str(WIRE / "rp-pap-rijad.html"), "--db", str(db), "--busy-timeout", "0.2"]
    )
    if holder is not None:
        holder.rollback()
        holder.close()
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert (
        "not an SQLite database" if problem == "not sqlite" else "locked by another writer"
    ) in result.stderr
    assert db.read_bytes() == before
