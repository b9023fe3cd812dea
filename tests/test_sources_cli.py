"""`monitor sources list | check | discover` against the loopback mirror of fixtures/outlets."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, running_mirror

from monitor.discovery.sources import parse_sources

OUTLETS = FIXTURES / "outlets"


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture(scope="module")
def outlets_mirror(tmp_path_factory: pytest.TempPathFactory):
    sources = tmp_path_factory.mktemp("outlets") / "sources.toml"
    with running_mirror(OUTLETS, sources) as hosts:
        yield hosts, sources


def _window() -> str:
    """Wide enough that the fixtures' January 2026 items are fresh, narrow enough that 2019 is stale."""
    return f"{(datetime.now(UTC) - datetime(2025, 6, 1, tzinfo=UTC)).days}d"


def test_check_judges_every_kind_of_source(outlets_mirror):
    _hosts, sources = outlets_mirror
    result = monitor(
        "sources", "check", "--sources", str(sources), "--delay", "0", "--stale-after", _window()
    )
    assert result.returncode == 1, result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:6]}
    assert rows == {
        "gazetawieczorem": "stale",
        "kurier": "ok",
        "radioawaria": "broken",
        "tygodnikmiejski": "empty",
        "wiesci": "moved",
    }
    out = result.stdout
    assert "radioawaria: feed http://127.0.0.1:" in out and "broken — HTTP 500" in out
    assert "broken — robots.txt unavailable (HTTP 503)" in out
    assert "moved — redirects (301) to http://127.0.0.1:" in out and "/wiadomosci/feed/" in out
    assert "stale — newest item 2019-09-30" in out
    assert "empty — none of its 3 links match the article_pattern" in out
    assert "5 outlets: 1 ok, 1 moved, 1 stale, 1 empty, 1 broken" in out


def test_check_json_and_exit_codes(outlets_mirror):
    _hosts, sources = outlets_mirror
    result = monitor(
        "sources",
        "check",
        "--sources",
        str(sources),
        "--source",
        "kurier",
        "--json",
        "--delay",
        "0",
        "--stale-after",
        _window(),
    )
    assert result.returncode == 0, result.stderr
    (kurier,) = json.loads(result.stdout)
    assert kurier["verdict"] == "ok" and kurier["group"] == "regional"
    by_kind = {a["kind"]: a for a in kurier["addresses"]}
    assert by_kind["feeds"]["items"] == 4 and by_kind["feeds"]["articles"] == 4
    assert by_kind["sitemaps"]["newest"] == "2026-01-14T09:12:00+01:00"
    assert by_kind["sections"]["articles"] == 3
    broken = monitor("sources", "check", "--sources", str(sources), "--source", "radioawaria", "--delay", "0")
    assert broken.returncode == 2  # nothing could be checked


def test_check_refuses_bad_input_in_one_line(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text(
        '[[outlet]]\nname = "x"\ndomains = ["x.pl"]\nfeeds = ["https://y.pl/rss"]\narticle_pattern = "a"\n'
    )
    result = monitor("sources", "check", "--sources", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "field 'feeds': 'https://y.pl/rss' is not on the outlet's domains" in result.stderr
    unknown = monitor("sources", "check", "--source", "no-such-outlet")
    assert unknown.returncode == 2 and "unknown source(s) no-such-outlet" in unknown.stderr
    assert monitor("sources", "check", "--stale-after", "soon").returncode == 2


def _block(stdout: str) -> dict:
    data = tomllib.loads(stdout)
    (outlet,) = data["outlet"]
    return outlet


def test_discover_a_home_page_on_the_mirror(outlets_mirror):
    hosts, _sources = outlets_mirror
    base = hosts["kuriernadwislanski.pl"]
    result = monitor("sources", "discover", f"{base}/", "--delay", "0", "--name", "kurier")
    assert result.returncode == 0, result.stderr
    outlet = _block(result.stdout)
    assert [f["url"] for f in outlet["feeds"]] == [f"{base}/rss/najnowsze.xml"]
    assert [s["url"] for s in outlet["sitemaps"]] == [f"{base}/sitemap-news.xml"]
    assert outlet["sitemaps"][0]["seen"].startswith("robots.txt")
    assert "learned from 5 feed and sitemap items" in result.stdout
    # the block loads as it is, and its pattern takes the articles, not the sections, galleries or videos
    (source,) = parse_sources(result.stdout, "discovered.toml")
    assert source.is_article(f"{base}/swiat/wybory-w-niemczech-wyniki-sondazu,1204390.html")
    for other in (
        "/swiat",
        "/tagi/wojna-w-ukrainie",
        "/galeria/powodz-nad-wisla-zdjecia,88123.html",
        "/wideo/sesja-rady-miasta,77120.html",
        "/autor/anna-kowalczyk",
    ):
        assert not source.is_article(base + other), other


def test_discover_saved_files_fetches_nothing():
    files = [OUTLETS / "kurier" / name for name in ("home.html", "robots.txt", "najnowsze.xml")]
    result = monitor("sources", "discover", *map(str, files))
    assert result.returncode == 0, result.stderr
    outlet = _block(result.stdout)
    assert outlet["name"] == "kuriernadwislanski" and outlet["domains"] == ["kuriernadwislanski.pl"]
    assert outlet["title"] == "Kurier Nadwiślański"
    assert "najnowsze.xml: rss, 4 items" in result.stdout
    (source,) = parse_sources(result.stdout, "discovered.toml")
    assert source.is_article("https://kuriernadwislanski.pl/polska/x-y-z,1300000.html")
    assert not source.is_article("https://kuriernadwislanski.pl/galeria/powodz-nad-wisla-zdjecia,88123.html")


def test_discover_bad_input(tmp_path: Path):
    assert "no such file" in monitor("sources", "discover", str(tmp_path / "none.html")).stderr
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body>nothing here</body></html>")
    result = monitor("sources", "discover", str(empty), "--url", "https://x.pl/")
    assert result.returncode == 2 and "no links found" in result.stderr
    unreachable = monitor("sources", "discover", "http://127.0.0.1:9/", "--timeout", "2")
    assert unreachable.returncode == 2 and unreachable.stderr.startswith("error: http://127.0.0.1:9/")


def test_list_shows_groups():
    result = monitor("sources", "list")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split()[:2] == ["name", "group"]
    assert "outlets (" in result.stdout.splitlines()[-1]
