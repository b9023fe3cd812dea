"""``monitor sources list | check | discover``: keep the outlet list healthy (docs/sources.md).

Thin over :mod:`monitor.discovery.outlets` (what a page or feed says, verdicts) and :mod:`monitor.cli.fetch` (one polite GET).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import click

from monitor.cli.common import EXIT_NOTHING_RAN, EXIT_OK, EXIT_SOME_FAILED, fail
from monitor.cli.fetch import FetchError, Page, fetch_page
from monitor.cli.schedule import parse_interval
from monitor.discovery import outlets
from monitor.discovery.sources import GROUPS, Source, SourcesError, load_sources, select
from monitor.discovery.urls import host_of, on_domains, pattern_target


def _load(sources_file: str | None, names: str | None) -> list[Source]:
    try:
        return select(load_sources(sources_file), names)
    except SourcesError as exc:
        fail(str(exc))
        raise  # unreachable: _fail exits


@click.group(name="sources")
def sources_group() -> None:
    """List, check and discover the outlets of sources.toml."""


@sources_group.command(name="list")
@click.option("--sources", "sources_file", help="Your own sources.toml (default: the packaged one).")
@click.option("--group", type=click.Choice(GROUPS), help="Only outlets of this group.")
def list_command(sources_file: str | None, group: str | None) -> None:
    """One line per outlet: name, group, feeds/sitemaps/sections and the title."""
    chosen = [s for s in _load(sources_file, None) if group is None or s.group == group]
    width = max([4, *(len(s.name) for s in chosen)])
    click.echo(f"{'name':<{width}}  {'group':<13}  feeds  sitemaps  sections  title")
    for s in chosen:
        click.echo(
            f"{s.name:<{width}}  {s.group or '-':<13}  {len(s.feeds):>5}  {len(s.sitemaps):>8}  "
            f"{len(s.sections):>8}  {s.title}"
        )
    groups = ", ".join(f"{g} {n}" for g, n in sorted(_count(s.group or "-" for s in chosen).items()))
    click.echo(f"{len(chosen)} outlets ({groups})")


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return counts


# --- check --------------------------------------------------------------------------------------------------


class Hosts:
    """One request at a time per host, ``delay`` seconds apart, and robots.txt asked once per host."""

    def __init__(self, fetch: Callable[[str], Page], delay: float, agent: str):
        self.fetch = fetch
        self.delay = delay
        self.agent = agent
        self.locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self.last: dict[str, float] = {}
        self.robots: dict[str, Any] = {}
        self.guard = threading.Lock()

    def _lock(self, host: str) -> threading.Lock:
        with self.guard:
            return self.locks[host]

    def _get(self, host: str, url: str) -> Page:
        wait = self.last.get(host, 0.0) + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self.fetch(url)
        finally:
            self.last[host] = time.monotonic()

    def _rules(self, host: str, url: str) -> Any:
        """Protego rules for the host, or a string saying why robots.txt could not be read (RFC 9309: a 4xx
        answer allows everything, a 5xx answer or no answer keeps the host out)."""
        if host not in self.robots:
            from protego import Protego

            robots_url = urljoin(url, "/robots.txt")
            try:
                page = self._get(host, robots_url)
                self.robots[host] = Protego.parse(page.body.decode("utf-8", "replace"))
            except FetchError as exc:
                if exc.status is not None and 400 <= exc.status < 500:
                    self.robots[host] = Protego.parse("")
                else:
                    self.robots[host] = f"robots.txt unavailable ({str(exc).split(': ', 1)[-1]})"
        return self.robots[host]

    def get(self, url: str) -> Page:
        """GET ``url`` politely; FetchError when robots.txt refuses it or the fetch fails."""
        host = host_of(url)
        with self._lock(host):
            rules = self._rules(host, url)
            if isinstance(rules, str):
                raise FetchError(f"{url}: {rules}")
            if not rules.can_fetch(url, self.agent):
                raise FetchError(f"{url}: refused by robots.txt")
            return self._get(host, url)


def check_address(
    hosts: Hosts, source: Source, address: Any, now: datetime, stale_after: timedelta
) -> outlets.AddressCheck:
    check = outlets.AddressCheck(source.name, address.kind, address.url)
    try:
        page = hosts.get(address.url)
    except FetchError as exc:
        check.status = exc.status
        check.verdict = "broken"
        check.reason = str(exc).removeprefix(f"{address.url}: ")
        return check
    check.status = 200
    check.final_url = page.url
    check.redirects = list(page.redirects)
    return outlets.judge(
        check,
        page.body,
        domains=source.domains,
        pattern=source.article_pattern,
        now=now,
        stale_after=stale_after,
    )


@dataclass
class OutletCheck:
    outlet: str
    group: str | None
    verdict: str
    addresses: list[outlets.AddressCheck] = field(default_factory=list)


def run_checks(
    chosen: Sequence[Source], hosts: Hosts, now: datetime, stale_after: timedelta, workers: int = 8
) -> list[OutletCheck]:
    """Check every address of the outlets, hosts in parallel, each host one request at a time."""
    jobs = [(s, a) for s in chosen for a in s.addresses]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda job: check_address(hosts, job[0], job[1], now, stale_after), jobs))
    by_outlet: dict[str, list[outlets.AddressCheck]] = defaultdict(list)
    for result in results:
        by_outlet[result.outlet].append(result)
    return [
        OutletCheck(s.name, s.group, outlets.worst(c.verdict for c in by_outlet[s.name]), by_outlet[s.name])
        for s in chosen
    ]


def _status(check: outlets.AddressCheck) -> str:
    if not check.status:
        return "-"
    return "→".join([*(str(code) for code, _ in check.redirects), str(check.status)])


def _summary_row(outlet: OutletCheck) -> dict[str, Any]:
    checks = outlet.addresses
    items = sum(c.items for c in checks)
    articles = sum(c.articles for c in checks)
    dates = [c.newest for c in checks if c.newest]
    return {
        "status": ",".join(_status(c) for c in checks),
        "items": items,
        "share": f"{100 * articles / items:.0f}%" if items else "-",
        "newest": max(dates, key=datetime.fromisoformat)[:16].replace("T", " ") if dates else "-",
    }


@sources_group.command()
@click.option("--source", "names", help="Only these outlets (comma-separated names).")
@click.option("--sources", "sources_file", help="Your own sources.toml (default: the packaged one).")
@click.option(
    "--stale-after", default="3d", show_default=True, help="A feed whose newest item is older is stale."
)
@click.option("--delay", default=1.0, show_default=True, help="Seconds between two requests to one host.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for one answer.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document with every address, for machines.")
def check(
    names: str | None, sources_file: str | None, stale_after: str, delay: float, timeout: float, as_json: bool
) -> None:
    """Fetch each feed, sitemap and section once and judge each outlet: ok, moved, stale, empty or broken.

    Polite: robots.txt is obeyed, one request per host at a time. Needs the internet for the real outlets.
    Exit status: 0 every outlet ok, 1 some outlets need attention, 2 nothing could be checked (a configuration
    error, or every outlet broken).
    """
    from monitor import settings

    try:
        window = timedelta(seconds=parse_interval(stale_after))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--stale-after") from None
    chosen = _load(sources_file, names)
    hosts = Hosts(lambda url: fetch_page(url, timeout=timeout), delay, settings.user_agent())
    results = run_checks(chosen, hosts, datetime.now(UTC), window)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1))
    else:
        _print_checks(results)
    if results and all(r.verdict == "broken" for r in results):
        sys.exit(EXIT_NOTHING_RAN)
    sys.exit(EXIT_OK if all(r.verdict == "ok" for r in results) else EXIT_SOME_FAILED)


def _print_checks(results: list[OutletCheck]) -> None:
    width = max([6, *(len(r.outlet) for r in results)])
    click.echo(f"{'outlet':<{width}}  {'verdict':<7}  {'status':<12}  {'items':>5}  {'articles':>8}  newest")
    for result in results:
        row = _summary_row(result)
        click.echo(
            f"{result.outlet:<{width}}  {result.verdict:<7}  {row['status']:<12}  {row['items']:>5}  "
            f"{row['share']:>8}  {row['newest']}"
        )
    problems = [(r.outlet, c) for r in results for c in r.addresses if c.verdict != "ok"]
    if problems:
        click.echo("")
    for outlet, c in problems:
        click.echo(f"{outlet}: {c.kind[:-1]} {c.url}: {c.verdict} — {c.reason}")
    counts = _count(r.verdict for r in results)
    click.echo(
        f"\n{len(results)} outlets: "
        + ", ".join(f"{counts[v]} {v}" for v in outlets.VERDICTS if counts.get(v))
    )


# --- discover -----------------------------------------------------------------------------------------------


@dataclass
class Seen:
    """What discovery saw of one outlet."""

    base: str = ""
    title: str | None = None
    feeds: dict[str, str] = field(default_factory=dict)  # url → how it was found
    sitemaps: dict[str, str] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)  # links on the pages
    items: list[str] = field(default_factory=list)  # article URLs from feeds and sitemaps
    notes: list[str] = field(default_factory=list)


def _title(html: str) -> str | None:
    found = re.search(r'<meta[^>]+property=["\']og:site_name["\'][^>]+content=["\']([^"\']+)', html, re.I)
    found = found or re.search(r"<title[^>]*>([^<]+)</title>", html, re.I)
    return " ".join(found.group(1).split()) if found else None


def _canonical(html: str) -> str | None:
    found = re.search(r'<link[^>]+rel=["\']canonical["\'][^>]+href=["\']([^"\']+)', html, re.I)
    found = found or re.search(r'<meta[^>]+property=["\']og:url["\'][^>]+content=["\']([^"\']+)', html, re.I)
    return found.group(1) if found else None


def _read_items(seen: Seen, body: bytes, url: str, label: str | None = None) -> bool:
    found = outlets.read_discovery(body, url)
    if found is None:
        return False
    seen.items.extend(link.url for link in found.links if not link.is_sitemap)
    newest = outlets.newest(found) or "-"
    seen.notes.append(f"{label or url}: {found.kind}, {len(found.links)} items, newest {newest}")
    return True


def _read_html(seen: Seen, html: str, url: str, how: str) -> None:
    seen.title = seen.title or _title(html)
    seen.links.extend(outlets.page_links(html, url))
    for feed in outlets.feed_links(html, url):
        seen.feeds.setdefault(feed, how)


def discover_files(paths: Sequence[Path], url: str | None) -> Seen:
    """Saved pages of one outlet: HTML pages, feeds, sitemaps, robots.txt. Nothing is fetched."""
    seen = Seen()
    for path in paths:
        body = path.read_bytes()
        text = body.decode("utf-8", "replace")
        if path.name == "robots.txt" or re.match(r"\s*(user-agent|sitemap)\s*:", text, re.I):
            for sitemap in outlets.robots_sitemaps(text):
                seen.sitemaps.setdefault(sitemap, f"robots.txt ({path.name})")
            continue
        base = url or _canonical(text) or seen.base or path.resolve().as_uri()
        if _read_items(seen, body, base, path.name):
            continue
        seen.base = seen.base or base
        _read_html(seen, text, base, f'<link rel="alternate"> on {path.name}')
    return seen


def discover_url(url: str, hosts: Hosts, max_reads: int = 3) -> Seen:
    """Fetch a home page, its robots.txt and the feeds and sitemaps it names (or common addresses)."""
    seen = Seen()
    try:
        page = hosts.get(url)
    except FetchError as exc:
        fail(str(exc))
        raise
    seen.base = page.url
    _read_html(seen, page.body.decode("utf-8", "replace"), page.url, f'<link rel="alternate"> on {page.url}')
    rules = hosts.robots.get(host_of(page.url))
    if rules is not None and not isinstance(rules, str):
        for sitemap in rules.sitemaps:
            seen.sitemaps.setdefault(sitemap, "robots.txt")
    probes = [] if seen.feeds else [("feeds", p) for p in outlets.COMMON_FEED_PATHS]
    probes += [] if seen.sitemaps else [("sitemaps", p) for p in outlets.COMMON_SITEMAP_PATHS]
    for kind, path in probes:
        candidate = urljoin(page.url, path)
        try:
            answer = hosts.get(candidate)
        except FetchError:
            continue
        if outlets.read_discovery(answer.body, answer.url) is not None:
            getattr(seen, kind).setdefault(answer.url, f"answered at {path}")
            if kind == "feeds":
                break
    reads = [*seen.feeds, *sorted(seen.sitemaps, key=lambda u: "news" not in u)][:max_reads]
    for address in reads:
        try:
            answer = hosts.get(address)
        except FetchError as exc:
            seen.notes.append(f"{address}: {exc}")
            continue
        _read_items(seen, answer.body, answer.url)
    return seen


def _domain(base: str) -> str:
    parts = urlsplit(base)
    host = (parts.hostname or "").lower()
    if parts.port or re.fullmatch(r"[\d.]+", host):
        return host_of(base)
    from courlan import extract_domain

    return extract_domain(base) or host.removeprefix("www.")


def _examples(label: str, urls: Sequence[str], limit: int = 5) -> list[str]:
    return [f"#   {label}: {u}" for u in urls[:limit]]


def outlet_block(seen: Seen, name: str | None, today: str) -> str:
    """A ready ``[[outlet]]`` block with what discovery saw, in comments.

    The pattern is learned from the feed and sitemap items when there are at least three (they are articles
    by definition), else from the links that look like articles; links that look like neither teach what must
    not match.
    """
    domain = _domain(seen.base or next(iter(seen.feeds), "") or next(iter(seen.items), ""))
    ours = [u for u in dict.fromkeys([*seen.items, *seen.links]) if on_domains(u, (domain,))]
    items = [u for u in dict.fromkeys(seen.items) if on_domains(u, (domain,))]
    shaped = [u for u in ours if outlets.looks_like_article(u)]
    positives = items if len(items) >= 3 else list(dict.fromkeys([*items, *shaped]))
    negatives = [u for u in ours if u not in set(positives) and u not in set(shaped)]
    proposal = outlets.propose_pattern(positives, negatives)
    compiled = re.compile(proposal.pattern) if proposal else None
    matched = [u for u in ours if compiled and compiled.search(pattern_target(u))]
    unmatched = [u for u in ours if u not in set(matched)]
    sections = [u for u in unmatched if outlets.looks_like_section(u)]
    host = urlsplit(domain if "//" in domain else f"//{domain}").hostname or ""
    slug = "outlet" if re.fullmatch(r"[\d.]+", host) else re.sub(r"[^a-z0-9_]", "_", host.split(".")[0])
    lines = [
        f"# Found by `monitor sources discover` on {today} from {seen.base or 'saved feeds'}.",
        f"#   links on the outlet's domain: {len(ours)}, {len(items)} of them from feeds and sitemaps",
    ]
    lines += [f"#   read {note}" for note in seen.notes]
    if proposal:
        learned = "feed and sitemap items" if positives is items else "links shaped like articles"
        lines.append(
            f"#   article_pattern, learned from {len(positives)} {learned}, matches "
            f"{proposal.articles_matched} of them and {proposal.others_matched} of {proposal.others} other "
            f"links; of all {len(ours)} links it takes {len(matched)}"
        )
    lines += _examples("taken", matched)
    lines += _examples(
        "shaped like an article but not taken (gallery? video?)", [u for u in unmatched if u in shaped]
    )
    lines += _examples("not taken", [u for u in unmatched if u not in shaped])
    lines += _examples("possible section", sections)
    lines += [
        "[[outlet]]",
        f'name = "{name or slug}"',
        f"title = {json.dumps(seen.title or domain, ensure_ascii=False)}",
        f'group = "other"  # one of: {", ".join(GROUPS)}',
        f'domains = ["{domain}"]',
    ]
    for key, found in (("feeds", seen.feeds), ("sitemaps", seen.sitemaps)):
        mine = {u: how for u, how in found.items() if on_domains(u, (domain,))}
        lines.append(f"{key} = [")
        lines += [
            f'  {{ url = "{u}", grade = "B", seen = {json.dumps(how + ", " + today, ensure_ascii=False)} }},'
            for u, how in mine.items()
        ]
        lines.append("]")
    if seen.feeds or seen.sitemaps or not sections:
        lines.append("sections = []")
    else:
        lines.append("sections = [")
        lines += [
            f'  {{ url = "{u}", grade = "B", seen = "linked from {seen.base}, {today}" }},'
            for u in sections[:3]
        ]
        lines.append("]")
    pattern = proposal.pattern if proposal else r"CHANGE ME: no article links seen"
    lines.append(f"article_pattern = '{pattern}'")
    return "\n".join(lines)


@sources_group.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--url", help="The address saved pages were fetched from (default: their canonical link).")
@click.option("--name", help="The outlet's name in the block (default: from its domain).")
@click.option("--delay", default=1.0, show_default=True, help="Seconds between two requests to the host.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for one answer.")
def discover(
    targets: tuple[str, ...], url: str | None, name: str | None, delay: float, timeout: float
) -> None:
    """Find an outlet's feeds, sitemaps and article URL shape, and print a ready [[outlet]] block.

    TARGETS are one home page URL (fetched politely, with its robots.txt and the feeds and sitemaps it names),
    or saved files of one outlet: HTML pages, feeds, sitemaps, robots.txt (nothing fetched).
    """
    from monitor import settings

    urls = [t for t in targets if t.startswith(("http://", "https://"))]
    files = [Path(t) for t in targets if t not in urls]
    if urls and files or len(urls) > 1:
        fail("give one home page URL, or saved files of one outlet")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"{missing[0]}: no such file")
    if urls:
        seen = discover_url(
            urls[0], Hosts(lambda u: fetch_page(u, timeout=timeout), delay, settings.user_agent())
        )
    else:
        seen = discover_files(files, url)
    if not seen.links and not seen.items:
        fail(f"no links found in {', '.join(targets)}")
    click.echo(outlet_block(seen, name, datetime.now(UTC).date().isoformat()))


def register(main: click.Group) -> None:
    main.add_command(sources_group)
