"""The debugging workflow users follow: scrapy shell helpers, scrapy inspect, scrapy check, scrapy parse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _env import ENV

ROOT = Path(__file__).resolve().parent.parent
SEED = "fixtures/sites/interia/articles/kushner-witkoff-putin-moskwa.html"


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shell_helpers_print_extraction_dates_and_verdict():
    shell = "__import__('monitor.shell').shell"
    expression = f"({shell}.extract(response), {shell}.explain(response)) and None"
    result = scrapy("shell", f"./{SEED}", "-c", expression, "-L", "ERROR")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Media: Kushner i Witkoff mają spotkać się z Putinem w Moskwie" in out
    assert "2026-01-14T07:42:00+01:00  jsonld:datePublished" in out
    assert "relevance: primary" in out and "rules fired:" in out


def test_inspect_prints_the_same_without_the_shell():
    result = scrapy("inspect", SEED, "fixtures/sites/onet/articles/wymiana-jencow-nagranie.html")
    assert result.returncode == 1  # the second page is a video page
    assert "date candidates:" in result.stdout and "jsonld:datePublished" in result.stdout
    assert "primary" in result.stdout
    assert "wymiana-jencow-nagranie.html: not an article: a video page" in result.stdout


def test_contracts_run_offline():
    result = scrapy("check", "news")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stderr


def test_parse_yields_the_item_of_a_saved_page():
    page = (ROOT / "fixtures/sites/rmf24/articles/witkoff-kushner-na-kremlu.html").as_uri()
    result = scrapy("parse", "--spider", "news", "-c", "parse_article", page, "-L", "ERROR")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'source': 'rmf24'" in result.stdout
    assert "Witkoff i Kushner na Kremlu" in result.stdout
