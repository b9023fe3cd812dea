"""The fault suite (#13): one crawl over a loopback server of misbehaving outlets, one outlet per fault. Each
case checks what is stored, what is reported (run_sources, the summary's lines) and that the rest of the
crawl went on: every outlet also has a plain article, which must be stored whatever its neighbours do.

``python -m monitor.devtools.reliability`` runs this suite and writes docs/reliability.md from what it observed.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

import pytest
from _fault_helpers import adds_up, crawl, fault_server, outlet, query, record, run_sources

from monitor.devtools.faultserver import article_html

POLISH = "Zażółć gęślą jaźń"
GOOD = "/a/good.html"


def feed(*paths: str, doctype: str = "", extra: str = "") -> str:
    items = "".join(
        f"<item><title>{escape(p)}</title><link>{{base}}{escape(p)}</link>"
        "<pubDate>Wed, 14 Jan 2026 10:32:00 +0100</pubDate></item>"
        for p in paths
    )
    return f"<?xml version='1.0' encoding='utf-8'?>{doctype}<rss version='2.0'><channel>{extra}{items}</channel></rss>"


def page(title: str) -> dict[str, Any]:
    return {"body": article_html(title, published="2026-01-14T10:32:00+01:00")}


BILLION_LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)

# outlet → (routes besides the feed and the plain article, the feed's article paths, other feeds / sitemaps)
# The crawl's DOWNLOAD_TIMEOUT, in seconds: well over what a healthy page takes on a loaded 2-core machine (CI
# once saw a page that resets mid-body outlast a 2 s timeout). The slow routes answer after SLOW seconds, far beyond
# all three attempts (3 x 5 s and the back-off), so no late answer can land within the crawl's retries.
TIMEOUT = 5
SLOW = 60
SITES: dict[str, dict[str, Any]] = {
    "burst5xx": {
        "routes": {
            "/a/burst.html": {**page("Po burzy"), "statuses": [503, 503, 200]},
            "/a/down.html": {"status": 500},
        },
        "links": ["/a/burst.html", "/a/down.html"],
    },
    "ratelimit": {
        "routes": {
            "/a/limited.html": {**page("Cierpliwie"), "statuses": [429, 200], "headers": {"Retry-After": "1"}}
        },
        "links": ["/a/limited.html"],
    },
    "timeout": {"routes": {"/a/slow.html": {**page("Powoli"), "delay": SLOW}}, "links": ["/a/slow.html"]},
    "reset": {"routes": {"/a/reset.html": {**page("Zerwane"), "fault": "reset"}}, "links": ["/a/reset.html"]},
    "truncgzip": {
        "routes": {"/a/half.html": {**page("Pół gzipa"), "fault": "truncated-gzip"}},
        "links": ["/a/half.html"],
    },
    "shortbody": {
        "routes": {"/a/short.html": {**page("Krócej niż obiecano"), "fault": "truncate"}},
        "links": ["/a/short.html"],
    },
    "endless": {
        "routes": {"/a/endless.html": {**page("Bez końca"), "fault": "endless"}},
        "links": ["/a/endless.html"],
    },
    "loops": {
        "routes": {
            "/a/self.html": {"status": 302, "headers": {"Location": "{base}/a/self.html"}},
            "/a/ping.html": {"status": 302, "headers": {"Location": "{base}/a/pong.html"}},
            "/a/pong.html": {"status": 301, "headers": {"Location": "{base}/a/ping.html"}},
            "/a/refresh.html": {
                "body": "<html><head><meta http-equiv='refresh' content='0; url={base}/a/refresh.html'></head></html>"
            },
        },
        "links": ["/a/self.html", "/a/ping.html", "/a/refresh.html"],
    },
    "bombs": {
        "routes": {
            "/a/gzip.html": {"fault": "gzip-bomb"},
            "/a/deflate.html": {"fault": "deflate-bomb"},
            "/a/br.html": {"fault": "br-bomb"},
            "/a/zstd.html": {"fault": "zstd-bomb"},
            "/a/huge.html": {"generate": {"kind": "table", "megabytes": 20}},
        },
        "links": ["/a/gzip.html", "/a/deflate.html", "/a/br.html", "/a/zstd.html", "/a/huge.html"],
    },
    "xml": {
        "routes": {
            "/laughs.xml": {
                "body": feed("/a/x1.html", doctype=BILLION_LAUGHS, extra="<title>&lol9;</title>")
            },
            "/entity.xml": {
                "body": feed(
                    "/a/x2.html",
                    doctype='<!DOCTYPE rss [<!ENTITY secret SYSTEM "{base}/secret.txt">]>',
                    extra="<title>&secret;</title>",
                )
            },
            "/dtd.xml": {"body": feed("/a/x3.html", doctype='<!DOCTYPE rss SYSTEM "{base}/evil.dtd">')},
            "/xinclude.xml": {
                "body": feed(
                    "/a/x4.html",
                    extra='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{base}/xi.xml"/>',
                )
            },
            "/sitemap.xml": {
                "body": '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY secret SYSTEM "{base}/secret.txt">]>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                "<url><loc>{base}/a/x5.html</loc><lastmod>&secret;</lastmod></url></urlset>"
            },
            "/secret.txt": {"body": "SEKRET", "content_type": "text/plain"},
            "/evil.dtd": {"body": '<!ENTITY evil "ZŁO">', "content_type": "application/xml-dtd"},
            "/xi.xml": {"body": "<item><title>wstawka</title></item>", "content_type": "application/xml"},
            **{f"/a/x{i}.html": page(f"Bezpieczny {i}") for i in range(1, 6)},
        },
        "links": [],
        "feeds": ["/laughs.xml", "/entity.xml", "/dtd.xml", "/xinclude.xml"],
        "sitemaps": ["/sitemap.xml"],
    },
    "charsets": {
        "routes": {
            "/a/cp1250.html": {
                "body": article_html(POLISH, charset="cp1250"),
                "charset": "cp1250",
                "content_type": "text/html; charset=iso-8859-2",
            },
            "/a/conflict.html": {
                "body": article_html(POLISH, charset="iso-8859-2"),
                "charset": "iso-8859-2",
                "content_type": "text/html; charset=utf-8",
            },
        },
        "links": ["/a/cp1250.html", "/a/conflict.html"],
    },
    "binary": {
        "routes": {
            "/a/doc.pdf": {"body": "%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj", "content_type": "application/pdf"},
            "/a/blob.html": {"body": "\u0000\u0001\u0002" * 2000, "content_type": "application/octet-stream"},
        },
        "links": ["/a/doc.pdf", "/a/blob.html"],
    },
    "robots5xx": {"routes": {"/robots.txt": {"status": 503}}, "links": []},
    "robotstimeout": {
        "routes": {"/robots.txt": {"delay": SLOW, "body": "", "content_type": "text/plain"}},
        "links": [],
    },
    "robots404": {"routes": {}, "links": []},
    "pathological": {
        "routes": {
            "/a/nested.html": {"generate": {"kind": "nested", "depth": 100_000}},
            "/a/attribute.html": {"generate": {"kind": "attribute", "megabytes": 2}},
            "/a/table.html": {"generate": {"kind": "table", "megabytes": 20}},
        },
        "links": ["/a/nested.html", "/a/attribute.html", "/a/table.html"],
    },
    "bigsitemap": {
        "routes": {
            "/big.xml": {"generate": {"kind": "sitemap", "count": 50_000, "pattern": "/a/big/{i}.html"}},
            "/a/big/*": {
                "body": article_html("Jeden z wielu: {path}", published="2026-01-14T10:32:00+01:00")
            },
        },
        "links": [],
        "sitemaps": ["/big.xml"],
        "max_links": 40,  # sources.toml: the 50,000-URL sitemap yields its newest 40
    },
    "selfindex": {
        "routes": {
            "/index.xml": {
                "body": '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                "<sitemap><loc>{base}/index.xml</loc></sitemap><sitemap><loc>{base}/child.xml</loc></sitemap>"
                "</sitemapindex>"
            },
            "/child.xml": {
                "body": '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                "<url><loc>{base}/a/c1.html</loc></url><url><loc>{base}/a/c2.html</loc></url></urlset>"
            },
            "/a/c1.html": page("Z mapy 1"),
            "/a/c2.html": page("Z mapy 2"),
        },
        "links": [],
        "sitemaps": ["/index.xml"],
    },
    "variants": {
        "routes": {
            "/feed2.xml": {"body": feed(*(f"/a/v.html?page={i}" for i in range(25)))},
            "/a/v.html": {
                "body": article_html("Jedna historia").replace(
                    "</title>", "</title><link rel='canonical' href='{base}/a/v.html'>"
                )
            },
        },
        # two feeds of 25 variants each: tracking parameters and fragments (one
        # canonical URL), then ?page= (25 URLs, one page: its rel=canonical makes them one row)
        "links": [f"/a/v.html?utm_source=x{i}&fbclid={i}#akapit{i}" for i in range(25)],
        "feeds": ["/feed2.xml"],
    },
}
MAX_LINKS = SITES["bigsitemap"]["max_links"]


def spec() -> dict[str, Any]:
    sites: dict[str, Any] = {}
    for name, site in SITES.items():
        routes = {GOOD: page(f"Zwykły artykuł {name}"), "/feed.xml": {"body": feed(GOOD, *site["links"])}}
        routes.update(site["routes"])
        if "/a/big/*" in routes:
            routes["/a/big/*"] = {"body": article_html("Jeden z wielu {path}")}
        sites[name] = {"routes": routes}
    return {"sites": sites}


@pytest.fixture(scope="module")
def main_crawl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    with fault_server(spec(), folder / "server") as server:
        sources = folder / "sources.toml"
        sources.write_text(
            "\n".join(
                outlet(
                    name,
                    server.bases[name],
                    feeds=["/feed.xml", *site.get("feeds", [])],
                    sitemaps=site.get("sitemaps", []),
                    **({"max_links": site["max_links"]} if "max_links" in site else {}),
                )
                for name, site in SITES.items()
            )
        )
        db = folder / "faults.db"
        result = crawl(
            db,
            sources,
            settings={
                "RETRY_TIMES": "2",
                "DOWNLOAD_TIMEOUT": str(TIMEOUT),
                "MONITOR_MAX_BACKOFF": "1",
            },
            timeout=300,
        )
        yield server, db, result, run_sources(db)


def titles(db, name: str) -> list[str]:
    return [t for (t,) in query(db, "SELECT title FROM articles WHERE source = ? ORDER BY url", name)]


def errors(row: dict[str, Any]) -> list[str]:
    return json.loads(row["errors"])


def outcome(row: dict[str, Any]) -> str:
    shown = ("discovered", "new", "unchanged", "skipped", "failed", "feeds_failed")
    return ", ".join(f"{c} {row[c]}" for c in shown if row[c])


def check(
    main_crawl,
    name: str,
    *,
    stored: int,
    failed: int = 0,
    skipped: int = 0,
    feeds_failed: int = 0,
    reasons: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The common checks: the outlet's counts and error reasons, its plain article stored, the columns adding
    up, and the crawl as a whole completed with every other outlet's plain article."""
    _server, db, result, rows = main_crawl
    row = rows[name]
    assert (row["stored"], row["failed"], row["skipped"], row["feeds_failed"]) == (
        stored,
        failed,
        skipped,
        feeds_failed,
    ), row
    assert adds_up(row), row
    for reason in reasons:
        assert any(reason in line for line in errors(row)), (reason, errors(row))
    if name not in ("robots5xx", "robotstimeout"):
        assert f"Zwykły artykuł {name}" in titles(db, name)
    assert result.returncode == 1  # some sources failed: the crawl completed and says so
    assert "Traceback" not in result.stderr
    return row


@pytest.mark.slow
def test_the_crawl_went_on_past_every_fault(main_crawl):
    _server, db, result, rows = main_crawl
    assert set(rows) == set(SITES)
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    (status,) = query(db, "SELECT status FROM crawl_runs")
    assert status == ("finished",)
    good = [n for n in SITES if f"Zwykły artykuł {n}" in titles(db, n)]
    assert len(good) == len(SITES) - 2  # all but the two outlets whose robots.txt keeps them out
    record(
        "all of the faults below at once, one outlet each",
        "the crawl completes; every outlet's plain article is stored",
        f"exit {result.returncode}, {len(good)}/{len(SITES) - 2} plain articles stored, integrity ok",
        peak_mb=result.peak_rss_mb,
        stored=query(db, "SELECT count(*) FROM articles")[0][0],
    )


def test_5xx_burst_is_retried_and_a_dead_page_is_one_failure(main_crawl):
    row = check(main_crawl, "burst5xx", stored=2, failed=1, reasons=("/a/down.html: HTTP 500",))
    record(
        "5xx burst (503, 503, then 200) and a page that always answers 500",
        "stored after retries; 500 failed",
        outcome(row),
        stored=row["stored"],
        expected_rows=2,
    )


def test_429_with_retry_after_slows_the_host_and_the_page_is_stored(main_crawl):
    row = check(main_crawl, "ratelimit", stored=2)
    log = main_crawl[1].with_suffix(".log").read_text(encoding="utf-8")
    assert "limited.html: HTTP 429, slowing this host to one request per 1 s" in log
    record(
        "429 with Retry-After: 1",
        "the host is slowed down, the page stored",
        outcome(row),
        stored=row["stored"],
        expected_rows=2,
    )


@pytest.mark.parametrize(
    ("name", "fault", "reason"),
    [
        (
            "timeout",
            f"read timeout (the server answers after {SLOW} s; DOWNLOAD_TIMEOUT {TIMEOUT} s)",
            "TimeoutError",
        ),
        ("reset", "connection reset mid-body", "data loss"),
        ("truncgzip", "gzip body cut in half", "truncated gzip body"),
        ("shortbody", "body shorter than its Content-Length", "data loss"),
        ("endless", "a chunked body that never ends", f"took longer than {TIMEOUT:.1f} seconds"),
    ],
)
def test_a_broken_transfer_is_one_failure_with_its_reason(main_crawl, name, fault, reason):
    row = check(main_crawl, name, stored=1, failed=1, reasons=(reason,))
    record(
        fault,
        "one failure with its reason; nothing half-stored",
        f"{outcome(row)}: {errors(row)[0].split(': ', 1)[1][:120]}",
        stored=row["stored"],
        expected_rows=1,
    )


def test_redirect_loops_are_failures_not_silence(main_crawl):
    row = check(main_crawl, "loops", stored=1, failed=3, reasons=("redirect loop",))
    loops = [line for line in errors(row) if "redirect loop" in line]
    assert len(loops) == 3
    record(
        "redirect loops: to itself, A↔B, meta refresh to itself",
        "3 failures, reason 'redirect loop'",
        f"{outcome(row)}: {loops[1].split(': ', 1)[1][:80]}",
        stored=row["stored"],
        expected_rows=1,
    )


def test_decompression_bombs_and_an_oversized_body_are_refused(main_crawl):
    row = check(main_crawl, "bombs", stored=1, failed=5)
    bombs = [line for line in errors(row) if "decompression bomb" in line]
    assert {line.split("(")[1].split(",")[0] for line in bombs} == {"gzip", "deflate", "br", "zstd"}
    assert any("/a/huge.html" in line for line in errors(row))
    record(
        "decompression bombs, 2 GiB each (gzip, deflate, br, zstd) and a 20 MB page",
        "5 failures; at most 8 MiB decompressed per page",
        f"{outcome(row)}: {bombs[0].split(': ', 1)[1][:80]}",
        peak_mb=main_crawl[2].peak_rss_mb,
        stored=row["stored"],
        expected_rows=1,
    )


def test_xml_attacks_expand_nothing_and_request_nothing(main_crawl):
    server, db, _result, rows = main_crawl
    row = check(main_crawl, "xml", stored=5, feeds_failed=1, reasons=("laughs.xml: malformed XML",))
    asked = {r["path"] for r in server.requests("xml")}
    assert not asked & {"/secret.txt", "/evil.dtd", "/xi.xml"}
    text = " ".join(str(v) for (v,) in query(db, "SELECT title || ' ' || text FROM articles"))
    assert "lollol" not in text and "SEKRET" not in text and "ZŁO" not in text
    record(
        "XML attacks in feeds and sitemaps: billion laughs, external entity, external DTD, XInclude",
        "no request made, nothing expanded; the billion-laughs feed refused, the other documents' articles stored",
        f"{outcome(row)}; requests for the secret, the DTD, the XInclude: 0",
        stored=row["stored"],
        expected_rows=5,
    )


def test_wrong_and_conflicting_charsets_come_out_as_polish(main_crawl):
    _server, db, _result, _rows = main_crawl
    row = check(main_crawl, "charsets", stored=3)
    assert titles(db, "charsets").count(POLISH) == 2
    record(
        "cp1250 page declared ISO-8859-2; ISO-8859-2 page declared UTF-8 by HTTP",
        f"titles read '{POLISH}'",
        f"{outcome(row)}; both titles correct",
        stored=row["stored"],
        expected_rows=3,
    )


def test_binary_and_pdf_at_article_urls_are_skipped(main_crawl):
    row = check(main_crawl, "binary", stored=1, skipped=2)
    record(
        "a PDF and binary bytes at article URLs",
        "skipped as not HTML",
        outcome(row),
        stored=row["stored"],
        expected_rows=1,
    )


@pytest.mark.parametrize(
    ("name", "fault", "reason"),
    [
        ("robots5xx", "robots.txt answers 503", "robots.txt unavailable (HTTP 503)"),
        ("robotstimeout", "robots.txt times out", "robots.txt unavailable"),
    ],
)
def test_a_robots_txt_that_cannot_be_read_keeps_the_host_out(main_crawl, name, fault, reason):
    row = check(main_crawl, name, stored=0, feeds_failed=1, reasons=(reason,))
    server = main_crawl[0]
    assert [r["path"] for r in server.requests(name)] == ["/robots.txt"] * len(server.requests(name))
    record(
        fault, "the host is not crawled in this run; one failed feed", outcome(row), stored=0, expected_rows=0
    )


def test_a_missing_robots_txt_allows_everything(main_crawl):
    row = check(main_crawl, "robots404", stored=1)
    record(
        "robots.txt answers 404", "everything allowed", outcome(row), stored=row["stored"], expected_rows=1
    )


def test_pathological_html_is_bounded(main_crawl):
    _server, db, result, rows = main_crawl
    row = check(
        main_crawl,
        "pathological",
        stored=rows["pathological"]["stored"],
        failed=1,
        skipped=rows["pathological"]["skipped"],
        reasons=("/a/table.html",),
    )
    assert row["stored"] + row["skipped"] == 3  # nested and attribute pages read (or judged not articles)
    record(
        "100,000 nested elements, a 2 MB attribute, a 20 MB table",
        "read or skipped in bounded time; the table refused as too large",
        f"{outcome(row)} in a {result.seconds:.0f} s crawl",
        stored=row["stored"],
        expected_rows=row["stored"],
    )


def test_a_sitemap_of_50000_urls_is_cut_to_the_newest(main_crawl):
    row = check(main_crawl, "bigsitemap", stored=MAX_LINKS + 1)
    assert row["discovered"] == MAX_LINKS + 1
    assert query(main_crawl[1], "SELECT count(*) FROM articles WHERE source = 'bigsitemap'") == [
        (MAX_LINKS + 1,)
    ]
    record(
        "a sitemap of 50,000 URLs",
        f"the newest {MAX_LINKS} followed (max_links in sources.toml)",
        outcome(row),
        stored=row["stored"],
        expected_rows=MAX_LINKS + 1,
    )


def test_a_sitemap_index_that_lists_itself_is_read_once(main_crawl):
    row = check(main_crawl, "selfindex", stored=3, feeds_failed=1, reasons=("sitemap index loop",))
    requests = [r["path"] for r in main_crawl[0].requests("selfindex")]
    assert requests.count("/index.xml") == 1 and requests.count("/child.xml") == 1
    record(
        "a sitemap index that lists itself",
        "read once; the loop reported",
        outcome(row),
        stored=row["stored"],
        expected_rows=3,
    )


def test_50_url_variants_of_one_article_are_one_row(main_crawl):
    _server, db, _result, _rows = main_crawl
    row = check(
        main_crawl, "variants", stored=27
    )  # 26 fetches of the story (1 + 25 ?page=) and the plain one
    assert query(db, "SELECT count(*) FROM articles WHERE source = 'variants'") == [(2,)]  # the story + plain
    assert (row["discovered"], row["new"], row["unchanged"]) == (27, 2, 25)
    record(
        "50 URL variants of one article (tracking parameters, fragments, ?page=)",
        "one row",
        f"{outcome(row)}; rows 1 (+ the plain article)",
        stored=2,
        expected_rows=2,
    )
