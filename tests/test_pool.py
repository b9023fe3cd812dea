"""Extraction and classification in worker processes (monitor.pool): the same rows as in the crawl's own process,
a worker that dies or hangs fails its page alone (with the reason) and the crawl goes on, bad pool settings are
one line and exit 2."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from _fault_helpers import ENV, crawl, outlet, own_lines, run_sources
from conftest import ROOT, SITES, running_mirror

from monitor.archive.derived import derive
from monitor.pool.work import Page, extract, process, ruleset
from monitor.pool.workers import COMMAND, WorkerPool, processes_setting

ARTICLE = SITES / "interia" / "articles" / "kushner-witkoff-putin-moskwa.html"
URL = "https://wydarzenia.interia.pl/zagranica/news-kushner-witkoff-putin-moskwa"
# A worker that sleeps on pages whose URL says so: long enough to be killed, or to run out of time, mid-page.
SLOW = (
    "import sys, time\n"
    "from monitor.pool import work\n"
    "real = work.process\n"
    "def slow(page, rules):\n"
    "    if 'sleep' in page.url:\n"
    "        time.sleep(30)\n"
    "    return real(page, rules)\n"
    "work.process = slow\n"
    "sys.exit(work.main())\n"
)


class Owner:
    """The owner's thread of a pool in a test: outcomes are delivered to a queue and handed over here."""

    def __init__(self) -> None:
        self.calls: list = []
        self.lock = threading.Condition()

    def deliver(self, call) -> None:
        with self.lock:
            self.calls.append(call)
            self.lock.notify_all()

    def outcomes(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        done = 0
        while done < count:
            with self.lock:
                while not self.calls:
                    left = deadline - time.monotonic()
                    assert left > 0, "the pool did not answer"
                    self.lock.wait(left)
                calls, self.calls = self.calls, []
            for call in calls:
                call()
                done += 1


def page(url: str = URL) -> Page:
    return Page(url, ARTICLE.read_bytes(), "text/html; charset=utf-8")


def busy_pid(pool: WorkerPool, timeout: float = 60) -> int:
    """The pid of a worker, once one is alive."""
    deadline = time.monotonic() + timeout
    while not pool.pids:
        assert time.monotonic() < deadline, "no worker started"
        time.sleep(0.05)
    return next(iter(pool.pids))


def test_a_worker_gives_what_extraction_and_the_rules_give_in_process():
    owner, got = Owner(), []
    pool = WorkerPool(2, None, owner.deliver).start()
    try:
        for _ in range(3):
            pool.submit(page(), got.append)
        owner.outcomes(3)
    finally:
        pool.close()
    here = process(page(), ruleset(None))
    assert here.article is not None and here.verdict is not None and here.verdict.flagged
    same = [
        (replace(o.article, fetched_at=""), o.verdict, o.derived, o.failure, o.error)
        for o in got
        if o.article
    ]
    assert same == [(replace(here.article, fetched_at=""), here.verdict, here.derived, None, None)] * 3
    # what the writer needs of the text comes with it: the sketch, and a flagged article's story features
    assert here.derived == derive(here.article, here.verdict) and here.derived.story is not None
    assert extract(page()).verdict is None  # in the crawl's process the pipeline classifies, as before
    assert pool.stats.pages == 3 and pool.stats.failed == 0 and pool.stats.most_in_flight == 3


def test_a_worker_killed_mid_page_fails_that_page_with_the_reason_and_the_next_page_gets_a_new_worker():
    owner, got = Owner(), []
    pool = WorkerPool(1, None, owner.deliver, command=(sys.executable, "-c", SLOW)).start()
    try:
        pool.submit(page(URL + "?sleep"), got.append)
        pid = busy_pid(pool)
        time.sleep(1.5)  # it has the page (it loads the rules first, then sleeps on it)
        os.kill(pid, 9)
        pool.submit(page(), got.append)
        owner.outcomes(2)
    finally:
        pool.close()
    killed, fine = got
    assert killed.failure == "the extraction worker was killed (SIGKILL) while processing this page"
    assert killed.article is None
    assert fine.failure is None and fine.article is not None
    assert pool.stats.failed == 1 and pool.stats.restarts == 1


@pytest.mark.slow
def test_a_page_that_takes_too_long_fails_and_its_worker_is_replaced():
    owner, got = Owner(), []
    pool = WorkerPool(1, None, owner.deliver, timeout=10, command=(sys.executable, "-c", SLOW)).start()
    try:
        pool.submit(page(URL + "?sleep"), got.append)
        pool.submit(page(), got.append)
        owner.outcomes(2)
    finally:
        pool.close()
    assert got[0].failure == "the extraction worker took longer than 10 s on this page and was stopped"
    assert got[1].article is not None and pool.stats.restarts == 1


def test_an_exception_in_a_worker_comes_back_with_its_traceback_and_the_worker_stays():
    owner, got = Owner(), []
    pool = WorkerPool(1, None, owner.deliver).start()
    try:
        pool.submit(Page(URL, ARTICLE.read_bytes(), hints="not hints"), got.append)  # type: ignore[arg-type]
        pool.submit(page(), got.append)
        owner.outcomes(2)
    finally:
        pool.close()
    assert got[0].error is not None and got[0].failure is None
    assert "Traceback" in (got[0].details or "")
    assert got[1].article is not None and pool.stats.restarts == 0


def test_a_worker_whose_rules_do_not_load_fails_each_page_with_the_reason(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("not [valid toml", encoding="utf-8")
    owner, got = Owner(), []
    pool = WorkerPool(1, str(rules), owner.deliver).start()
    try:
        pool.submit(page(), got.append)
        owner.outcomes(1)
    finally:
        pool.close()
    assert got[0].failure and got[0].failure.startswith("the extraction worker could not start: RulesError")


def test_closing_the_pool_fails_what_is_still_queued_and_ends_the_workers():
    owner, got = Owner(), []
    pool = WorkerPool(1, None, owner.deliver, command=(sys.executable, "-c", SLOW), timeout=5).start()
    pool.submit(page(URL + "?sleep"), got.append)
    pid = busy_pid(pool)
    pool.submit(page(), got.append)
    time.sleep(1)
    pool.close()  # the queued page fails at once; the sleeping one runs out of time
    owner.outcomes(1)
    assert got[0].failure == "the crawl stopped before this page was processed"
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, os.cpu_count() or 1), ("", os.cpu_count() or 1), ("0", 0), ("3", 3), (2, 2)],
)
def test_the_number_of_processes_is_read_from_the_setting(value, expected):
    assert processes_setting(value) == expected


@pytest.mark.parametrize("value", ["abc", "-1", "2.5", -3])
def test_a_bad_number_of_processes_names_the_setting(value):
    with pytest.raises(ValueError, match=r"^MONITOR_POOL_PROCESSES=.*: expects a whole number"):
        processes_setting(value)


def test_the_worker_command_runs_the_module_under_its_own_name():
    """Outcomes unpickle in the crawl's process only if the worker's classes are monitor.pool.work's."""
    assert COMMAND[1:] == ("-m", "monitor.pool.work")


# --- whole crawls -----------------------------------------------------------------------------------------


def table(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(sql).fetchall(), key=repr)
    finally:
        conn.close()


ARTICLE_COLUMNS = (
    "url, fetched_url, source, title, lead, text, authors, published, published_source, modified, "
    "date_candidates, language, words, paywalled, relevance, score, ruleset, content_hash, credits"
)
COUNTS = ("discovered", "fetched", "stored", "flagged", "failed", "skipped", "new", "updated", "unchanged")


def snapshot(db: Path) -> dict[str, object]:
    runs = run_sources(db)
    return {
        "articles": table(db, f"SELECT {ARTICLE_COLUMNS} FROM articles"),
        "matches": table(
            db,
            "SELECT a.url, m.rule, m.grp, m.term, m.entity, m.field, m.start, m.end, m.snippet "
            "FROM matches m JOIN articles a ON a.id = m.article_id",
        ),
        "non_articles": table(db, "SELECT url, source, reason FROM non_articles"),
        "announced": table(db, "SELECT url, at FROM announced"),
        "runs": {name: {k: row[k] for k in COUNTS} for name, row in runs.items()},
        # what the writer derives from the texts (in the workers, or in the crawl's process without them), by URL
        "wire copies": table(
            db,
            "SELECT a.url, w.url FROM articles a JOIN articles w ON w.id = a.story_id WHERE a.id != a.story_id",
        ),
        "sketches": table(
            db, "SELECT a.url, s.hash FROM article_sketches s JOIN articles a ON a.id = s.article_id"
        ),
        "story_articles": table(
            db,
            "SELECT a.url, f.url, sa.at, sa.how, sa.score FROM story_articles sa "
            "JOIN articles a ON a.id = sa.article_id JOIN articles f ON f.id = sa.story_id",
        ),
        "story_vectors": table(
            db,
            "SELECT a.url, v.vector, v.dates, v.venues FROM story_vectors v JOIN articles a ON a.id = v.article_id",
        ),
        "stories": table(
            db,
            "SELECT f.url, s.first_seen, s.last_seen, s.headline, s.outlet_names, s.articles, s.flagged, s.entities, "
            "s.peak_day FROM stories s JOIN articles f ON f.id = s.id",
        ),
    }


def stats_of(log: str, key: str) -> int | None:
    import re

    found = re.findall(rf"'{re.escape(key)}': (\d+)", log)
    return int(found[-1]) if found else None


@pytest.fixture(scope="module")
def fixture_mirror(tmp_path_factory):
    sources = tmp_path_factory.mktemp("pool-mirror") / "sources.toml"
    with running_mirror(SITES, sources):
        yield sources


@pytest.mark.slow
def test_a_crawl_with_workers_and_the_writer_thread_stores_the_same_rows_as_one_without(
    fixture_mirror, tmp_path
):
    alone, pooled = tmp_path / "alone.db", tmp_path / "pooled.db"
    # one download at a time: which discovery page names an article first (its hints) is then the same in both
    one = {"CONCURRENT_REQUESTS": "1", "DOWNLOAD_TIMEOUT": "60"}  # and no page lost to a loaded machine
    # the crawl as it was: extraction, rules and writes on the reactor's thread
    first = crawl(
        alone,
        fixture_mirror,
        settings={**one, "MONITOR_POOL_PROCESSES": "1", "MONITOR_WRITER_THREAD": "False"},
    )
    second = crawl(pooled, fixture_mirror, settings={**one, "MONITOR_POOL_PROCESSES": "2"})
    assert first.returncode in (0, 1) and second.returncode == first.returncode, second.stderr[-2000:]
    expected, got = snapshot(alone), snapshot(pooled)
    assert len(expected["articles"]) > 30 and any(row[14] == "primary" for row in expected["articles"])
    assert expected["story_vectors"] and expected["stories"] and expected["sketches"]
    for name in expected:
        assert got[name] == expected[name], name
    log = pooled.with_suffix(".log").read_text(encoding="utf-8")
    assert stats_of(log, "monitor/pool/pages") > 30
    assert stats_of(log, "monitor/pool/processes") == 2 and stats_of(log, "monitor/pool/failed") == 0
    assert stats_of(alone.with_suffix(".log").read_text(encoding="utf-8"), "monitor/pool/pages") is None
    # the reactor's lag is measured in both
    for db in (alone, pooled):
        assert stats_of(db.with_suffix(".log").read_text(encoding="utf-8"), "monitor/reactor_lag_samples")


def worker_pids(parent: int) -> list[int]:
    """The crawl's extraction workers that are running (not waiting for a page) now."""
    found = []
    for task in os.listdir(f"/proc/{parent}/task"):
        try:
            children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                if "monitor.pool.work" not in Path(f"/proc/{child}/cmdline").read_text():
                    continue
                if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                    found.append(int(child))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_a_worker_killed_during_a_crawl_fails_its_page_with_the_reason_and_the_crawl_goes_on(tmp_path):
    from monitor.devtools.bigsite import write_site

    write_site(tmp_path / "site", articles=240, outlets=2)
    sources, db = tmp_path / "sources.toml", tmp_path / "kill.db"
    with running_mirror(tmp_path / "site", sources):
        command = [sys.executable, "-m", "monitor.cli", "crawl", "--db", str(db), "--sources", str(sources)]
        for key, value in {
            "MONITOR_POOL_PROCESSES": "2",
            "AUTOTHROTTLE_ENABLED": "False",
            "DOWNLOAD_DELAY": "0",
            "ROBOTSTXT_OBEY": "False",
            "RETRY_TIMES": "0",
        }.items():
            command += ["-s", f"{key}={value}"]
        proc = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        killed = 0
        deadline = time.monotonic() + 120
        while proc.poll() is None and killed < 3 and time.monotonic() < deadline:
            busy = worker_pids(proc.pid)
            if busy:
                os.kill(busy[0], 9)
                killed += 1
                time.sleep(0.5)
            else:
                time.sleep(0.01)
        out, err = proc.communicate(timeout=300)
    assert killed, "no busy worker was seen"
    assert proc.returncode == 1, err.decode()[-2000:]  # some pages failed; the others were stored
    runs = run_sources(db)
    failed = sum(row["failed"] for row in runs.values())
    stored = sum(row["stored"] for row in runs.values())
    skipped = sum(row["skipped"] for row in runs.values())
    assert 1 <= failed <= killed
    assert stored + failed + skipped == sum(row["discovered"] for row in runs.values()) == 240
    errors = [line for row in runs.values() for line in json.loads(row["errors"] or "[]")]
    assert errors and all("the extraction worker was killed (SIGKILL)" in line for line in errors), errors
    assert "Traceback" not in err.decode()


@pytest.mark.parametrize("value", ["abc", "-2", "1.5"])
def test_a_bad_pool_setting_is_one_line_naming_it_and_exit_2(tmp_path, value):
    sources = tmp_path / "sources.toml"
    sources.write_text(outlet("x", "http://127.0.0.1:9", feeds=["/rss"]), encoding="utf-8")
    result = crawl(tmp_path / "m.db", sources, settings={"MONITOR_POOL_PROCESSES": value})
    assert result.returncode == 2
    (line,) = own_lines(result.stderr)
    assert line == f"error: -s MONITOR_POOL_PROCESSES={value}: expects a whole number, 0 or more"
    assert not (tmp_path / "m.db").exists()
