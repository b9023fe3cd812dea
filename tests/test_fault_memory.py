"""Memory with decompression bombs (#13, item 7): 16 bombs of 2 GiB each, fetched at once, raise the crawl's peak
resident memory by at most 100 MB over a crawl of 16 plain pages, and each is one failure with its reason."""

from __future__ import annotations

import json

import pytest
from _fault_helpers import adds_up, crawl, fault_server, outlet, record, run_sources

from monitor.devtools.faultserver import article_html

KINDS = ("gzip", "deflate", "br", "zstd")
COUNT = 16
BUDGET_MB = 100


def spec() -> dict:
    bombs = {f"/a/{KINDS[i % 4]}-{i}.html": {"fault": f"{KINDS[i % 4]}-bomb"} for i in range(COUNT)}
    plain = {f"/a/plain-{i}.html": {"body": article_html(f"Zwykły {i}") * 20} for i in range(COUNT)}
    sites = {}
    for name, routes in (("bombs", bombs), ("plain", plain)):
        items = "".join(f"<item><title>{p}</title><link>{{base}}{p}</link></item>" for p in routes)
        routes["/feed.xml"] = {"body": f"<rss version='2.0'><channel>{items}</channel></rss>"}
        sites[name] = {"routes": routes}
    return {"sites": sites}


@pytest.mark.slow
def test_sixteen_concurrent_bombs_cost_at_most_100_mb_over_plain_pages(tmp_path):
    settings = {"CONCURRENT_REQUESTS": str(COUNT), "CONCURRENT_REQUESTS_PER_DOMAIN": str(COUNT)}
    with fault_server(spec(), tmp_path / "server") as server:
        peaks = {}
        for name in ("plain", "bombs"):
            sources = tmp_path / f"{name}.toml"
            sources.write_text(outlet(name, server.bases[name], feeds=["/feed.xml"], concurrency=COUNT))
            db = tmp_path / f"{name}.db"
            result = crawl(db, sources, settings=settings)
            assert "Traceback" not in result.stderr
            peaks[name] = result.peak_rss_mb
            row = run_sources(db)[name]
            assert adds_up(row)
            if name == "plain":
                assert result.returncode == 0 and row["new"] == COUNT
            else:
                assert result.returncode == 2  # every article of the only outlet failed
                assert row["failed"] == COUNT and row["stored"] == 0
                reasons = [line.split(": ", 1)[1] for line in json.loads(row["errors"])]
                assert all("refused as a decompression bomb" in r for r in reasons), reasons
        bombs_sent = sum(1 for r in server.requests("bombs") if r["path"].startswith("/a/"))
    assert bombs_sent == COUNT
    extra = peaks["bombs"] - peaks["plain"]
    assert extra <= BUDGET_MB, peaks
    record(
        f"{COUNT} decompression bombs at once (2 GiB each: 4 gzip, 4 deflate, 4 br, 4 zstd)",
        f"{COUNT} failures; peak memory at most {BUDGET_MB} MB above {COUNT} plain pages",
        f"{COUNT} failed, 0 stored; peak {peaks['bombs']:.0f} MB vs {peaks['plain']:.0f} MB for plain pages "
        f"({extra:+.0f} MB)",
        peak_mb=peaks["bombs"],
        stored=0,
        expected_rows=0,
    )
