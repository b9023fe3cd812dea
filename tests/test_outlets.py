"""Pure parts of keeping the source list healthy: feed and sitemap discovery, pattern proposal, verdicts."""

import re
from datetime import UTC, datetime, timedelta

from monitor.discovery import outlets

HOME = """<html><head>
<link rel="alternate" type="application/rss+xml" href="/rss/najnowsze.xml">
<link rel="alternate" type="application/atom+xml" href="https://example.pl/atom.xml">
</head><body><a href="/swiat">Świat</a> <a href="/swiat/abc,1234567.html#komentarze">x</a>
<a href="mailto:redakcja@example.pl">mail</a> <a href="/swiat">again</a></body></html>"""

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>https://example.pl/swiat/a-b-c,1234567.html</link><pubDate>Wed, 14 Jan 2026 09:12:00 +0100</pubDate></item>
<item><title>b</title><link>https://example.pl/polska/d-e-f,1234500.html</link><pubDate>Tue, 13 Jan 2026 09:12:00 +0100</pubDate></item>
</channel></rss>"""


def test_feed_links_and_page_links():
    assert outlets.feed_links(HOME, "https://example.pl/") == [
        "https://example.pl/rss/najnowsze.xml",
        "https://example.pl/atom.xml",
    ]
    assert outlets.page_links(HOME, "https://example.pl/") == [
        "https://example.pl/swiat",
        "https://example.pl/swiat/abc,1234567.html",
    ]
    assert outlets.page_links(b"", "https://example.pl/") == []


def test_robots_sitemaps_reads_large_files():
    rules = "User-agent: *\n" + "".join(f"Disallow: /private-{i}/\n" for i in range(2000))
    text = rules + "Sitemap: https://example.pl/news.xml\nSitemap: https://example.pl/news.xml\n"
    assert len(text) > 10_000
    assert outlets.robots_sitemaps(text) == ["https://example.pl/news.xml"]


def test_read_discovery_and_newest():
    found = outlets.read_discovery(RSS, "https://example.pl/rss")
    assert found is not None and len(found.links) == 2
    assert outlets.newest(found) == "2026-01-14T09:12:00+01:00"
    assert outlets.read_discovery(b"<html><body>hi</body></html>", "https://example.pl/") is None
    assert outlets.read_discovery(b"\x00\xff garbage", "https://example.pl/") is None


ARTICLES = [
    "https://www.rmf24.pl/fakty/swiat/news-rozmowy-w-genewie,nId,7888850",
    "https://www.rmf24.pl/fakty/polska/news-sejm-przyjal-ustawe,nId,7889012",
    "https://www.rmf24.pl/ekonomia/news-ceny-energii,nId,7890001?utm_source=rss",
]
OTHERS = [
    "https://www.rmf24.pl/fakty/swiat",
    "https://www.rmf24.pl/tagi/wojna-w-ukrainie",
    "https://www.rmf24.pl/autor/jan-nowak",
    "https://www.rmf24.pl/fakty/feed",
]


def test_proposed_pattern_separates_articles_from_the_rest():
    proposal = outlets.propose_pattern(ARTICLES, OTHERS)
    assert proposal is not None
    assert (proposal.articles_matched, proposal.articles, proposal.others_matched) == (3, 3, 0)
    pattern = re.compile(proposal.pattern)
    assert pattern.search("/fakty/swiat/news-nowy-tekst,nId,12345678")  # ids grow
    assert not pattern.search("/fakty/swiat")


def test_proposed_pattern_for_dated_paths_and_no_samples():
    dated = [
        "https://wiesci.pl/2026/01/14/przejscie-graniczne-otwarte/",
        "https://wiesci.pl/2025/12/30/radni-o-komunikacji/",
        "https://wiesci.pl/2024/02/01/nowy-most/",
    ]
    others = ["https://wiesci.pl/kategoria/region/", "https://wiesci.pl/o-nas/", "https://wiesci.pl/2024/"]
    proposal = outlets.propose_pattern(dated, others)
    assert proposal is not None and proposal.articles_matched == 3 and proposal.others_matched == 0
    assert outlets.propose_pattern([], others) is None


def test_shape_guesses():
    assert outlets.looks_like_article("https://x.pl/swiat/rozmowy-w-genewie-trwaja-dalej")
    assert outlets.looks_like_article("https://x.pl/a/1234567")
    assert not outlets.looks_like_article("https://x.pl/galeria/powodz-nad-wisla-zdjecia,88123.html")
    assert not outlets.looks_like_article("https://x.pl/swiat")
    assert outlets.looks_like_section("https://x.pl/wiadomosci/swiat")
    assert not outlets.looks_like_section("https://x.pl/swiat?strona=2")


NOW = datetime(2026, 1, 15, tzinfo=UTC)
PATTERN = re.compile(r",\d{7}\.html$")


def judged(body, kind="feeds", url="https://example.pl/rss", **fields):
    check = outlets.AddressCheck("x", kind, url, final_url=fields.pop("final_url", url), **fields)
    return outlets.judge(
        check, body, domains=("example.pl",), pattern=PATTERN, now=NOW, stale_after=timedelta(days=3)
    )


def test_verdicts_for_each_state():
    ok = judged(RSS)
    assert (ok.verdict, ok.items, ok.articles, ok.share) == ("ok", 2, 2, 1.0)
    assert judged(RSS.replace(b"2026", b"2019")).verdict == "stale"
    moved = judged(
        RSS, final_url="https://example.pl/nowy/rss", redirects=[(301, "https://example.pl/nowy/rss")]
    )
    assert (moved.verdict, moved.reason) == ("moved", "redirects (301) to https://example.pl/nowy/rss")
    empty = judged(b'<rss version="2.0"><channel><title>t</title></channel></rss>')
    assert (empty.verdict, empty.reason) == ("empty", "no items")
    off_pattern = judged(RSS.replace(b".html", b""))
    assert off_pattern.verdict == "empty" and "none of its 2 links match" in off_pattern.reason
    assert judged(b"<html>not a feed</html>").verdict == "broken"
    assert judged(None).verdict == "broken"
    section = judged(HOME.encode(), kind="sections", url="https://example.pl/")
    assert (section.verdict, section.items, section.articles) == ("ok", 2, 1)


def test_worst_verdict_wins():
    assert outlets.worst(["ok", "moved", "stale"]) == "stale"
    assert outlets.worst(["ok", "broken", "empty"]) == "broken"
    assert outlets.worst([]) == "broken"
