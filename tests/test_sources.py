import re

import pytest

from monitor.discovery.sources import SourcesError, load_sources, parse_sources, select

GOOD = """
[[outlet]]
name = "rp"
title = "Rzeczpospolita"
domains = ["rp.pl"]
feeds = ["https://www.rp.pl/rss_main"]
sections = ["https://www.rp.pl/konflikty-zbrojne"]
article_pattern = '/art\\d+-'
"""


def test_parses_a_good_file():
    (source,) = parse_sources(GOOD, "s.toml")
    assert source.name == "rp"
    assert source.feeds == ("https://www.rp.pl/rss_main",)
    assert source.article_pattern.search("/swiat/art123-x")
    assert source.owns("https://www.rp.pl/a") and not source.owns("https://onet.pl/a")


def test_packaged_sources_declare_at_least_15_valid_outlets():
    sources = load_sources()
    assert len(sources) >= 15
    for source in sources:
        assert source.feeds or source.sitemaps or source.sections
        for url in (*source.feeds, *source.sitemaps, *source.sections):
            assert url.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("title", 'title = "Rzeczpospolita"\ncolour = "red"'),
            r"s\.toml: outlet 'rp' \(entry 1\), field 'colour': unknown key",
        ),
        (
            ('feeds = ["https://www.rp.pl/rss_main"]', 'feeds = ["htp:/rss"]'),
            r"field 'feeds': 'htp:/rss' is not an absolute",
        ),
        (
            ("article_pattern = '/art\\d+-'", "article_pattern = '/art(\\d+'"),
            r"field 'article_pattern': invalid regular expression",
        ),
        (('domains = ["rp.pl"]', 'domains = ["rp .pl"]'), r"field 'domains': 'rp \.pl' is not a host name"),
        (('domains = ["rp.pl"]', "domains = []"), r"field 'domains': must be a non-empty list"),
        (('name = "rp"', 'name = "Rzepa!"'), r"field 'name'"),
        (
            ('sections = ["https://www.rp.pl/konflikty-zbrojne"]', 'sections = ["https://onet.pl/x"]'),
            r"not on the outlet's domains",
        ),
    ],
)
def test_bad_entries_name_file_outlet_and_field(change, message):
    old, new = change
    text = GOOD.replace(old, new) if old != "title" else GOOD.replace('title = "Rzeczpospolita"', new)
    with pytest.raises(SourcesError, match=message) as info:
        parse_sources(text, "s.toml")
    assert "\n" not in str(info.value)


def test_duplicate_names_are_rejected():
    with pytest.raises(
        SourcesError, match=r"outlet 'rp' \(entry 2\), field 'name': duplicate name \(also entry 1\)"
    ):
        parse_sources(GOOD + GOOD, "s.toml")


def test_missing_field_and_no_discovery():
    with pytest.raises(SourcesError, match="field 'article_pattern': missing"):
        parse_sources(GOOD.replace("article_pattern = '/art\\d+-'", ""), "s.toml")
    no_urls = re.sub(r"(feeds|sections) = .*\n", "", GOOD)
    with pytest.raises(SourcesError, match="at least one feed, sitemap or section"):
        parse_sources(no_urls, "s.toml")


def test_corrupt_toml_and_missing_file(tmp_path):
    with pytest.raises(SourcesError, match=r"s\.toml: not valid TOML: .*line 2"):
        parse_sources("[[outlet]]\nname = = 'x'\ntitle = 1\n", "s.toml")
    with pytest.raises(SourcesError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(bad)


def test_select_limits_and_rejects_unknown_names():
    second = GOOD.replace('"rp"', '"rp2"').replace("rp.pl", "rp2.pl")
    sources = parse_sources(GOOD + second, "s.toml")
    assert [s.name for s in select(sources, "rp2")] == ["rp2"]
    assert len(select(sources, None)) == 2
    with pytest.raises(SourcesError, match="unknown source"):
        select(sources, "rp,tvn")


def test_extract_hints_are_validated():
    hinted = GOOD + "[outlet.extract]\ndrop = ['div.promo-box', '#fb-root']\ndate_selector = 'span.kiedy'\n"
    (source,) = parse_sources(hinted, "s.toml")
    assert source.extract.drop == ("div.promo-box", "#fb-root")
    assert source.extract.date_selector == "span.kiedy"
    with pytest.raises(SourcesError, match=r"field 'extract.drop': invalid CSS selector 'div\[\['"):
        parse_sources(GOOD + "[outlet.extract]\ndrop = ['div[[']\n", "s.toml")
    with pytest.raises(SourcesError, match=r"field 'extract.selector': unknown key"):
        parse_sources(GOOD + "[outlet.extract]\nselector = 'x'\n", "s.toml")


def test_addresses_carry_grade_and_where_they_were_seen():
    text = GOOD.replace(
        'feeds = ["https://www.rp.pl/rss_main"]',
        'group = "national"\nfeeds = [{ url = "https://www.rp.pl/rss_main", grade = "A", seen = "feeds.md" }]',
    )
    (source,) = parse_sources(text, "s.toml")
    assert source.group == "national"
    assert source.feeds == ("https://www.rp.pl/rss_main",)
    feed = source.addresses[0]
    assert (feed.url, feed.kind, feed.grade, feed.seen) == (
        "https://www.rp.pl/rss_main",
        "feeds",
        "A",
        "feeds.md",
    )
    assert source.addresses[1].kind == "sections" and source.addresses[1].grade is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'feeds = ["https://www.rp.pl/rss_main"]',
            'feeds = [{ url = "https://www.rp.pl/rss_main", grade = "Z" }]',
            r"outlet 'rp' \(entry 1\), field 'feeds': grade 'Z' of 'https://www.rp.pl/rss_main' must be one of",
        ),
        (
            'feeds = ["https://www.rp.pl/rss_main"]',
            'feeds = [{ href = "https://www.rp.pl/rss_main" }]',
            r"field 'feeds': unknown key 'href' in an address",
        ),
        (
            'feeds = ["https://www.rp.pl/rss_main"]',
            'feeds = [{ grade = "A" }]',
            r"field 'feeds': an address table needs a url",
        ),
        (
            'title = "Rzeczpospolita"',
            'title = "R"\ngroup = "tabloid"',
            r"field 'group': 'tabloid' must be one of",
        ),
        (
            'feeds = ["https://www.rp.pl/rss_main"]',
            'feeds = ["https://feeds.example.com/rp.xml"]',
            r"field 'feeds': 'https://feeds.example.com/rp.xml' is not on the outlet's domains \['rp.pl'\]",
        ),
        (
            'feeds = ["https://www.rp.pl/rss_main"]',
            'sitemaps = ["https://www.rp.pl/art1-sitemap.xml"]',
            r"field 'article_pattern': matches the outlet's own sitemap 'https://www.rp.pl/art1-sitemap.xml'",
        ),
        (
            'sections = ["https://www.rp.pl/konflikty-zbrojne"]',
            'sections = ["https://www.rp.pl/art1-spis"]',
            r"field 'article_pattern': matches the outlet's own section 'https://www.rp.pl/art1-spis'",
        ),
    ],
)
def test_bad_addresses_groups_and_patterns(old, new, message):
    assert old in GOOD
    with pytest.raises(SourcesError, match=message) as info:
        parse_sources(GOOD.replace(old, new), "s.toml")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("domain", ["rp.pl", "www.rp.pl", "pl"])
def test_overlapping_domains_of_two_outlets_are_rejected(domain):
    other = GOOD.replace('"rp"', '"rp2"').replace('domains = ["rp.pl"]', f'domains = ["{domain}"]')
    with pytest.raises(
        SourcesError,
        match=rf"outlet 'rp2' \(entry 2\), field 'domains': '{domain}' overlaps 'rp.pl' of outlet 'rp' \(entry 1\)",
    ):
        parse_sources(GOOD + other, "s.toml")


def test_neighbouring_domains_do_not_overlap():
    other = (
        GOOD.replace('"rp"', '"prp"')
        .replace('domains = ["rp.pl"]', 'domains = ["prp.pl"]')
        .replace("www.rp.pl", "www.prp.pl")
    )
    assert [s.name for s in parse_sources(GOOD + other, "s.toml")] == ["rp", "prp"]
