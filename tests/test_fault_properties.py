"""Property tests (#13, Hypothesis) on arbitrary Unicode: URL canonicalisation, date parsing and rule matching
never raise; canonicalisation is idempotent; no parsed or chosen date lies in the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.discovery.urls import canonical_url
from monitor.extract import NotAnArticle, extract_article
from monitor.extract.dates import parse_date, parse_polish_text_date, text_dates
from monitor.rules import classify, load_rules

RULES = load_rules(None)
LATEST = timedelta(days=1)  # the extractor's slack for a clock a little ahead of ours

hosts = st.sampled_from(["rp.pl", "www.onet.pl", "m.wp.pl", "amp.tvn24.pl", "127.0.0.1:8080", "xn--d-vfa.pl"])
segments = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#\\"), max_size=12
)
# Characters canonical_url removes or rewrites (control characters, backslashes): the result must still be stable.
controls = st.text(st.sampled_from(["\x1b", "\x00", "\t", "\\", "\x7f"]), min_size=1, max_size=3)
params = st.lists(
    st.tuples(st.sampled_from(["utm_source", "fbclid", "id", "page", "q", "from", "ŁÓDŹ"]), segments),
    max_size=4,
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    path = "/".join(draw(st.lists(segments, max_size=4)))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    fragment = draw(st.one_of(st.just(""), segments))
    return (
        f"{scheme}://{draw(hosts)}/{path}"
        + (f"?{query}" if query else "")
        + (f"#{fragment}" if fragment else "")
    )


@given(urls())
@example("http://rp.pl/0/;/")  # found by this test: an empty path parameter before the last slash
@settings(max_examples=300, deadline=None)
def test_canonical_url_is_idempotent_on_urls_with_any_characters(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
    parts = urlsplit(once)
    assert not parts.fragment
    assert not {k for k, _v in parse_qsl(parts.query, keep_blank_values=True)} & {
        "utm_source",
        "fbclid",
        "from",
    }


@given(urls(), controls)
@settings(max_examples=100, deadline=None)
def test_canonical_url_is_idempotent_with_control_characters(url, junk):
    once = canonical_url(url.split("?")[0].split("#")[0] + junk)
    assert canonical_url(once) == once


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_canonical_url_of_any_text_is_a_string_or_a_value_error(text):
    try:
        once = canonical_url(text)
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 host): callers count the link as bad
        return
    assert isinstance(once, str)  # (idempotence is for http(s) URLs, the only ones discovery hands on)


@given(st.text(max_size=60))
@settings(max_examples=400, deadline=None)
def test_date_parsing_never_raises_on_any_text(text):
    parse_date(text)
    parse_polish_text_date(text)
    text_dates(text, datetime.now(UTC))


day = st.integers(1, 31)
month_names = st.sampled_from(["stycznia", "lutego", "marca", "kwietnia", "grudnia", "maja", "Mar", "13"])
years = st.integers(1, 9999)


@given(day, month_names, years, st.integers(0, 30), st.integers(0, 70), st.text(max_size=20))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_chosen_publication_date_lies_in_the_future(d, month, year, hour, minute, noise):
    """Whatever dates a page claims (JSON-LD, meta, <time>, Polish text, the URL), the date chosen is never
    more than a day ahead of the fetch."""
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    written = f"{d} {month} {year}, {hour}:{minute:02d}"
    iso_like = f"{year:04d}-{(d % 12) + 1:02d}-{d:02d}T{hour % 24:02d}:{minute % 60:02d}:00+01:00"
    page = (
        f"<html><head><title>Rozmowy {noise}</title>"
        f"<meta property='article:published_time' content='{iso_like}'>"
        f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{iso_like}"}}</script>'
        f"</head><body><article><h1>Rozmowy</h1><time datetime='{iso_like}'>{written}</time>"
        + "".join(
            f"<p>Akapit {n}: delegacje rozmawiały o rozejmie {written} w Genewie.</p>" for n in range(8)
        )
        + "</article></body></html>"
    )
    try:
        article = extract_article(
            f"https://rp.pl/{year}/{d}/a.html", page.encode(), fetched_at=now, min_words=5
        )
    except NotAnArticle:
        return
    if article.published:
        assert datetime.fromisoformat(article.published) <= now + LATEST


@given(st.text(max_size=200), st.text(max_size=200), st.text(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_rule_matching_never_raises_and_explains_itself_on_any_unicode(title, lead, text):
    verdict = classify(RULES, title, lead, text)
    assert verdict.relevance in ("primary", "mention", "none")
    fields = {"title": title, "lead": lead, "text": text}
    for match in verdict.matches:
        assert 0 <= match.start <= match.end <= len(fields[match.field])


@given(
    st.text(
        alphabet=st.sampled_from(list("putinzełenskiwitkoffrozmowypokojowe ąćęłńóśźżPUTIN.,\n")), max_size=400
    )
)
@settings(max_examples=200, deadline=None)
def test_rule_matching_on_near_miss_polish_text(text):
    verdict = classify(RULES, text, None, text)
    assert verdict.relevance in ("primary", "mention", "none")
