from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.devtools.mirror import load_sites
from monitor.extract import (
    Hints,
    NotAnArticle,
    decode_html,
    detect_language,
    extract_article,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

BODY = " ".join(
    [
        "<p>Przedstawiciele Ukrainy i Rosji spotkali się w Abu Zabi, by rozmawiać o wymianie jeńców.",
        "Rozmowy trwały kilka godzin, a strony uzgodniły kolejne spotkanie w przyszłym tygodniu.</p>",
        "<p>Według źródeł zbliżonych do delegacji ukraińskiej omawiano także gwarancje bezpieczeństwa.",
        "Kreml nie skomentował jeszcze doniesień, a rzecznik Dmitrij Pieskow odmówił odpowiedzi.</p>",
        "<p>Wcześniej Wołodymyr Zełenski zapowiadał, że Kijów nie zgodzi się na ustępstwa terytorialne.</p>",
    ]
)
PAGE = f"""<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8">
<title>Rozmowy w Abu Zabi | Portal</title>
<meta property="og:title" content="Rozmowy w Abu Zabi">
<meta name="description" content="Delegacje Ukrainy i Rosji rozmawiały o wymianie jeńców.">
<meta property="article:published_time" content="2026-01-15T09:12:00+01:00">
<link rel="canonical" href="https://www.portal.pl/swiat/rozmowy-abu-zabi,nId,1?utm_source=rss">
<script type="application/ld+json">{{"@context":"https://schema.org","@graph":[{{"@type":"NewsArticle",
"headline":"Rozmowy w Abu Zabi","datePublished":"2026-01-15T09:10:00+01:00","dateModified":"2026-01-15T12:00:00+01:00",
"author":{{"@type":"Person","name":"Anna Kowalska"}}}}]}}</script></head>
<body><article><h1>Rozmowy w Abu Zabi</h1>{BODY}</article><footer>© 2026 Portal</footer></body></html>"""
NOW = datetime(2026, 1, 20, tzinfo=UTC)


def test_extracts_fields_dates_and_language():
    article = extract_article(
        "https://portal.pl/swiat/rozmowy-abu-zabi,nId,1",
        PAGE.encode(),
        hints=Hints(published="2026-01-15T09:11:00+01:00", published_source="sitemap"),
        fetched_at=NOW,
    )
    assert article.title == "Rozmowy w Abu Zabi"
    assert article.canonical_url == "https://portal.pl/swiat/rozmowy-abu-zabi,nId,1"
    assert article.published == "2026-01-15T09:10:00+01:00"
    assert article.published_source == "jsonld:datePublished"
    assert article.modified == "2026-01-15T12:00:00+01:00"
    sources = {c["source"] for c in article.date_candidates}
    assert {"jsonld:datePublished", "meta:article:published_time", "sitemap"} <= sources
    assert article.language == "pl"
    assert "wymianie jeńców" in article.text
    assert article.lead == "Delegacje Ukrainy i Rosji rozmawiały o wymianie jeńców."
    assert "Anna Kowalska" in article.authors
    assert article.words > 40


def test_future_dates_and_copyright_years_are_never_chosen():
    future = PAGE.replace(
        '"datePublished":"2026-01-15T09:10:00+01:00"', '"datePublished":"2027-01-01T00:00:00+01:00"'
    )
    future = future.replace('content="2026-01-15T09:12:00+01:00"', 'content="2027-01-01T00:00:00+01:00"')
    hints = Hints(published="2026-01-14T10:32:00+01:00", published_source="feed")
    article = extract_article("https://portal.pl/a", future.encode(), hints=hints, fetched_at=NOW)
    assert (article.published, article.published_source) == ("2026-01-14T10:32:00+01:00", "feed")
    bare = f"<html><body><article><h1>Tytuł</h1>{BODY}</article><footer>© 2026 Portal. Wszelkie prawa zastrzeżone.</footer></body></html>"
    assert extract_article("https://portal.pl/a", bare.encode(), fetched_at=NOW).published is None


def test_windows_1250_page_decodes_to_polish_letters():
    text = "Zażółć gęślą jaźń — ŁÓDŹ"
    body = f'<html><head><meta charset="windows-1250"></head><body><p>{text}</p></body></html>'.encode(
        "cp1250"
    )
    assert text in decode_html(body)
    assert text in decode_html(body, "text/html; charset=windows-1250")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page"),
        (b"<html><body><h1>Wideo</h1><video src='x.mp4'></video></body></html>", "no article text"),
        (b"\x00\x01\x02\xff" * 100, "binary content"),
        (b"x" * (9 * 1024 * 1024), "page too large"),
    ],
)
def test_pages_without_article_text_say_why(body, reason):
    with pytest.raises(NotAnArticle, match=reason):
        extract_article("https://portal.pl/wideo/1", body, fetched_at=NOW)


def test_language_is_deterministic_and_none_without_letters():
    text = "To jest artykuł w języku polskim o rozmowach pokojowych w Genewie."
    assert {detect_language(text) for _ in range(5)} == {"pl"}
    assert detect_language("12345 !!!") is None


def fixture_articles():
    for site in load_sites(FIXTURES / "sites"):
        for page in site.pages:
            if page.file is not None and page.expect.get("article"):
                yield pytest.param(page, id=f"{site.source['name']}/{page.file.name}")


@pytest.mark.parametrize("page", list(fixture_articles()))
def test_fixture_articles_extract_title_text_date(page):
    article = extract_article(page.url, page.file.read_bytes(), fetched_at=NOW)
    assert article.title == page.expect["title"]
    assert article.language == "pl"
    assert article.published and article.published.startswith("2026-01-")
    assert article.words >= 80
