import re

import pytest

from monitor.discovery.feeds import FeedError, parse_discovery, parse_section

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fakty</title>
<item><title>Rozmowy w Genewie</title><link>https://www.rmf24.pl/fakty/news-rozmowy,nId,1</link>
<pubDate>Wed, 14 Jan 2026 10:32:00 +0100</pubDate></item>
<item><title>Bez linku</title><guid isPermaLink="true">https://www.rmf24.pl/fakty/news-guid,nId,2</guid></item>
<item><title>Pusty</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Onet</title>
<entry><title>Kreml o planie</title><link rel="alternate" href="https://wiadomosci.onet.pl/swiat/kreml/abc123"/>
<published>2026-01-15T08:00:00+01:00</published><updated>2026-01-15T09:30:00+01:00</updated></entry>
</feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://tvn24.pl/swiat/rozmowy-ra1</loc>
<news:news><news:publication><news:name>TVN24</news:name><news:language>pl</news:language></news:publication>
<news:publication_date>2026-01-15T09:12:00+01:00</news:publication_date><news:title>Rozmowy w Abu Zabi</news:title></news:news></url>
<url><loc>https://tvn24.pl/swiat/bez-news-ra2</loc><lastmod>2026-01-16</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.polsatnews.pl/sitemap_news.xml</loc></sitemap></sitemapindex>"""


def test_rss_items_with_dates_and_guid_fallback():
    d = parse_discovery(RSS, "https://www.rmf24.pl/fakty/feed")
    assert d.kind == "rss" and d.problem is None
    assert [link.url for link in d.links] == [
        "https://www.rmf24.pl/fakty/news-rozmowy,nId,1",
        "https://www.rmf24.pl/fakty/news-guid,nId,2",
    ]
    first = d.links[0]
    assert (first.title, first.published, first.published_source) == (
        "Rozmowy w Genewie",
        "2026-01-14T10:32:00+01:00",
        "feed",
    )


def test_atom_keeps_published_and_updated_apart():
    (link,) = parse_discovery(ATOM, "https://wiadomosci.onet.pl/.feed").links
    assert link.published == "2026-01-15T08:00:00+01:00"
    assert link.modified == "2026-01-15T09:30:00+01:00"
    assert link.title == "Kreml o planie"


def test_news_sitemap_carries_publication_date_and_title():
    d = parse_discovery(NEWS_SITEMAP, "https://tvn24.pl/sitemap_news.xml")
    assert d.kind == "urlset"
    news, plain = d.links
    assert (news.title, news.published, news.published_source) == (
        "Rozmowy w Abu Zabi",
        "2026-01-15T09:12:00+01:00",
        "sitemap",
    )
    assert plain.published is None and plain.modified == "2026-01-16T00:00:00+01:00"


def test_sitemap_index_yields_child_sitemaps():
    d = parse_discovery(INDEX, "https://www.polsatnews.pl/sitemap.xml")
    assert d.kind == "sitemapindex"
    assert d.links[0].is_sitemap


def test_truncated_feed_keeps_items_before_the_damage():
    truncated = RSS[: RSS.index(b"<item><title>Bez")] + b"<item><title>Uci"
    d = parse_discovery(truncated, "https://x.pl/feed")
    assert d.problem and re.search(r"line \d+", d.problem)
    assert len(d.links) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"   \n", "empty document"),
        (b"<html><body>Nie ma</body></html>", "HTML page, not a feed"),
        (b"<?xml version='1.0'?><opml/>", "unknown document type <opml>"),
        (b"\x00\x01binary", "malformed XML at line"),
    ],
)
def test_bad_documents_raise_one_line_with_url(body, message):
    with pytest.raises(FeedError, match=message) as info:
        parse_discovery(body, "https://x.pl/feed")
    assert str(info.value).startswith("https://x.pl/feed: ")


def test_empty_feed_is_not_an_error():
    d = parse_discovery(b"<rss version='2.0'><channel><title>x</title></channel></rss>", "https://x.pl/f")
    assert d.links == []


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TAJNE")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss><channel><item><title>&x;</title><link>https://x.pl/a</link></item></channel></rss>"
    ).encode()
    d = parse_discovery(body, "https://x.pl/f")
    assert all("TAJNE" not in (link.title or "") for link in d.links)


def test_section_links_match_pattern_once_in_order():
    html = """<html><body><nav><a href="/swiat">Świat</a><a href="/tag/ukraina">Ukraina</a></nav>
    <a href="/swiat/news-a,nId,1"> Rozmowy
      w Genewie </a><a href="/swiat/news-a,nId,1#komentarze">(3)</a>
    <a href="https://wydarzenia.interia.pl/swiat/news-b,nId,2?utm_source=x">B</a>
    <a href="mailto:redakcja@interia.pl">mail</a></body></html>"""
    links = parse_section(html, "https://wydarzenia.interia.pl/swiat", re.compile(r",nId,\d+"))
    assert [(link.url, link.title) for link in links] == [
        ("https://wydarzenia.interia.pl/swiat/news-a,nId,1", "Rozmowy w Genewie"),
        ("https://wydarzenia.interia.pl/swiat/news-b,nId,2?utm_source=x", "B"),
    ]
    with pytest.raises(FeedError, match="empty section page"):
        parse_section("", "https://x.pl/s", re.compile("x"))
