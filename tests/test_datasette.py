"""`monitor serve`: Datasette with the shipped metadata, driven by headless Chromium on loopback.

Needs Debian's `chromium` and `chromium-driver` (installed by .ci/run) and selenium; skipped cleanly without them.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from _archive_helpers import ENV, MONITOR, ROOT, demo_copy

from monitor.cli.archive import datasette_metadata

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_metadata_names_the_database_after_the_file_and_keeps_every_block():
    metadata = datasette_metadata(Path("/somewhere/archive-2026.db"))
    assert list(metadata["databases"]) == ["archive-2026"]
    archive = metadata["databases"]["archive-2026"]
    assert archive["tables"]["articles"]["facets"] == ["source", "relevance", "language"]
    assert archive["tables"]["peace_talks"]["facets"] == ["outlet"]
    assert {"search", "witkoff_and_putin", "wire_copies", "headline_changes", "silent_sources"} <= set(
        archive["queries"]
    )
    assert all(table.get("description") or table.get("hidden") for table in archive["tables"].values())


def test_every_canned_query_runs(tmp_path_factory, tmp_path):
    from monitor.archive.datasette import sql_fold, sql_fts_query

    db = demo_copy(tmp_path_factory, tmp_path / "demo.db")
    conn = sqlite3.connect(db)
    conn.create_function("fts_query", 1, sql_fts_query)
    conn.create_function("fold", 1, sql_fold)
    for name, query in datasette_metadata(db)["databases"]["demo"]["queries"].items():
        conn.execute(query["sql"], {"q": "Białego"}).fetchall()
        if name == "search":
            assert conn.execute(query["sql"], {"q": "Białego"}).fetchall()
            assert conn.execute(query["sql"], {"q": ""}).fetchall() == []  # an empty box matches nothing
    conn.close()


@pytest.fixture
def served(tmp_path_factory, tmp_path):
    db = demo_copy(tmp_path_factory, tmp_path / "demo.db")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*MONITOR, "serve", "--db", str(db), "--port", str(port)], cwd=ROOT, env=ENV, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"monitor serve did not start: {(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.2)
        yield base, db
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_serve_answers_with_metadata_and_folded_search(served):
    base, _db = served
    with urllib.request.urlopen(
        f"{base}/demo/search.json?q=Bia%C5%82ego&_shape=array", timeout=10
    ) as response:
        rows = json.load(response)
    assert rows and all("[Białego]" in row["snippet"] for row in rows)
    with urllib.request.urlopen(f"{base}/-/metadata.json", timeout=10) as response:
        assert "peace_talks" in json.load(response)["databases"]["demo"]["tables"]


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")
def test_the_peace_talks_page_shows_the_demos_flagged_stories_in_chromium(served, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    base, db = served
    conn = sqlite3.connect(db)
    flagged = [title for (title,) in conn.execute("SELECT title FROM peace_talks")]
    conn.close()
    assert len(flagged) == 12

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,2400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.get(f"{base}/demo/peace_talks")
        WebDriverWait(driver, 30).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.rows-and-columns"))
        )
        page = driver.find_element(By.TAG_NAME, "body").text
        assert "Peace-talk stories" in driver.find_element(By.TAG_NAME, "h1").text
        for title in flagged:
            assert title in page, title
        assert "12 rows" in page
        assert "outlet" in driver.find_element(By.CSS_SELECTOR, ".facet-info").text  # the outlet facet
        driver.save_screenshot(str(tmp_path / "peace_talks.png"))

        driver.get(f"{base}/demo/search?q=zelenski+gwarancje")
        WebDriverWait(driver, 30).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.rows-and-columns"))
        )
        assert "Zełenski: Gwarancje bezpieczeństwa" in driver.find_element(By.TAG_NAME, "body").text
    finally:
        driver.quit()


# --- stories across outlets (issue #17) -------------------------------------------------------------------


def recent_stories_db(path: Path) -> Path:
    """An archive whose stories have coverage in the last 48 hours: two stories of the labelled set, stored at
    their own publication times (so that "w czwartek" means the day it meant when written, whatever today is),
    then moved to the last day for the views (in their order, four hours apart)."""
    from datetime import UTC, datetime, timedelta

    from _archive_helpers import article, move_in_time

    from monitor.archive import Storage
    from monitor.devtools.eval_stories import load
    from monitor.rules import classify, load_rules

    ruleset = load_rules()
    items = sorted(
        (a for a in load() if a["story"] in ("abu-zabi-wojskowi", "erdogan-stambul")),
        key=lambda a: a["published"],
    )
    with Storage(path) as storage:
        for item in items:
            verdict = classify(ruleset, item["title"], item["lead"], item["text"])
            page = article(
                url=item["url"],
                title=item["title"],
                lead=item["lead"],
                text=item["text"],
                published=item["published"],
            )
            storage.store_batch([(item["outlet"], page, verdict)])
    now = datetime.now(UTC).replace(microsecond=0)
    move_in_time(
        path,
        {
            item["url"]: (now - timedelta(hours=3 + 4 * (len(items) - 1 - number))).isoformat()
            for number, item in enumerate(items)
        },
    )
    return path


def test_the_story_canned_queries_answer(tmp_path):
    from monitor.archive.datasette import sql_fold

    db = recent_stories_db(tmp_path / "stories.db")
    queries = datasette_metadata(db)["databases"]["stories"]["queries"]
    tables = datasette_metadata(db)["databases"]["stories"]["tables"]
    assert {"stories", "story_articles", "story_timeline", "active_stories"} <= set(tables)
    conn = sqlite3.connect(db)
    conn.create_function("fold", 1, sql_fold)
    active = conn.execute(queries["active_stories_48h"]["sql"]).fetchall()
    assert [row[2] for row in active] == [4, 2]  # outlets in the last 48 hours, most first
    assert "Abu Zabi" in active[0][1]
    timeline = conn.execute(queries["timeline_of_story"]["sql"], {"q": "abu zabi"}).fetchall()
    assert [row[3] for row in timeline] == ["wp", "polskieradio24", "rmf24", "onet"]
    assert conn.execute(queries["timeline_of_story"]["sql"], {"q": ""}).fetchall() == []
    conn.close()


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")
def test_the_story_pages_show_active_stories_and_a_timeline_in_chromium(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    db = recent_stories_db(tmp_path / "stories.db")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*MONITOR, "serve", "--db", str(db), "--port", str(port)], cwd=ROOT, env=ENV, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,2400",
    ):
        options.add_argument(flag)
    driver = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"monitor serve did not start: {(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.2)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        driver.get(f"{base}/stories/active_stories_48h")
        WebDriverWait(driver, 30).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.rows-and-columns"))
        )
        assert "Active stories (last 48 hours)" in driver.find_element(By.TAG_NAME, "h1").text
        page = driver.find_element(By.TAG_NAME, "body").text
        assert "Umierow i Driscoll polecą do Abu Zabi" in page and "Erdogan" in page
        driver.save_screenshot(str(tmp_path / "active_stories.png"))

        driver.get(f"{base}/stories/timeline_of_story?q=abu+zabi")
        WebDriverWait(driver, 30).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.rows-and-columns"))
        )
        page = driver.find_element(By.TAG_NAME, "body").text
        assert "Budanow: w Abu Zabi rozmawiamy o linii demarkacyjnej" in page
        assert "budanow" in page  # what the RMF24 article added
        assert "4 rows" in page
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
