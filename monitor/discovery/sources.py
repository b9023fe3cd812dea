"""Load and validate the outlet declarations (``sources.toml``) into :class:`Source` objects.

A file is data written by people, so every problem is reported as one line that names the file, the outlet
and the field. Nothing here knows about Scrapy.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

from monitor.discovery.urls import on_domains, pattern_target
from monitor.extract import SiteHints

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HOST_RE = re.compile(
    r"^(?=.{1,253}(:\d{1,5})?$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)
REQUIRED = ("name", "domains", "article_pattern")
URL_LISTS = ("feeds", "sitemaps", "sections")
KNOWN = frozenset(
    {
        "name",
        "title",
        "group",
        "domains",
        "article_pattern",
        "enabled",
        "extract",
        "delay",
        "concurrency",
        "max_links",
        "max_sitemaps",
        *URL_LISTS,
    }
)
EXTRACT_KEYS = frozenset({"drop", "date_selector"})
ADDRESS_KEYS = frozenset({"url", "grade", "seen"})
# The kinds of outlet users filter by (stored in sources.outlet_group and carried by the views).
GROUPS = (
    "national",
    "broadcaster",
    "weekly",
    "business",
    "defence",
    "analysis",
    "international",
    "catholic",
    "regional",
    "other",
)
# Where an address was seen (docs/sources.md): A answering recently or kept in a maintained crawler, B used by a
# few public projects or linked by the outlet itself, C historical, U inferred from the platform, never seen.
GRADES = ("A", "B", "C", "U")


class SourcesError(ValueError):
    """A sources file that cannot be used; the message is one line naming file, outlet and field."""


@dataclass(frozen=True)
class Address:
    """One feed, sitemap or section address with where it was seen."""

    url: str
    kind: str  # "feeds", "sitemaps" or "sections"
    grade: str | None = None
    seen: str | None = None


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    domains: tuple[str, ...]
    article_pattern: re.Pattern[str]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    group: str | None = None
    addresses: tuple[Address, ...] = ()
    enabled: bool = True
    extract: SiteHints = SiteHints()
    delay: float | None = None  # seconds between requests to this outlet (its own download slot)
    concurrency: int | None = None  # requests in flight to this outlet at once
    max_links: int | None = None  # links followed per feed or sitemap (None: MONITOR_MAX_LINKS; 0: all)
    max_sitemaps: int | None = (
        None  # feeds and sitemaps read per run (None: MONITOR_MAX_SITEMAPS; 0: no limit)
    )

    def owns(self, url: str) -> bool:
        """True when ``url`` is on one of this outlet's domains."""
        return on_domains(url, self.domains)

    def is_article(self, url: str) -> bool:
        """True when ``url`` has the shape of one of this outlet's article URLs."""
        return self.article_pattern.search(pattern_target(url)) is not None


def default_sources_path() -> Path:
    """The packaged ``sources.toml``."""
    return Path(str(resources.files("monitor") / "data" / "sources.toml"))


def _fail(path: str, where: str, field: str | None, problem: str) -> SourcesError:
    place = f"{where}, field '{field}'" if field else where
    return SourcesError(f"{path}: {place}: {problem}")


def _check_url(path: str, where: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _fail(path, where, field, f"expected a URL string, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(path, where, field, f"{value!r} is not an absolute http(s) URL")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise _fail(path, where, field, f"{value!r} has a malformed port") from exc
    return value


def _address(path: str, where: str, field: str, value: object) -> Address:
    """A URL list entry: a plain URL, or a table ``{ url = "...", grade = "A", seen = "where" }``."""
    if not isinstance(value, dict):
        return Address(_check_url(path, where, field, value), field)
    unknown = sorted(set(value) - ADDRESS_KEYS)
    if unknown:
        raise _fail(path, where, field, f"unknown key {unknown[0]!r} in an address; known: url, grade, seen")
    if "url" not in value:
        raise _fail(path, where, field, f"an address table needs a url: {value!r}")
    url = _check_url(path, where, field, value["url"])
    grade, seen = value.get("grade"), value.get("seen")
    if grade is not None and grade not in GRADES:
        raise _fail(path, where, field, f"grade {grade!r} of {url!r} must be one of {', '.join(GRADES)}")
    if seen is not None and (not isinstance(seen, str) or not seen.strip()):
        raise _fail(path, where, field, f"seen of {url!r} must be a non-empty string")
    return Address(url, field, grade, seen)


def _overlap(a: str, b: str) -> bool:
    """True when one host name is the other or one of its subdomains (so one URL could belong to both)."""
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _check_outlet_addresses(path: str, where: str, source: Source) -> None:
    """Every address is on the outlet's own domains and is not itself taken for an article."""
    for address in source.addresses:
        if not source.owns(address.url):
            raise _fail(
                path,
                where,
                address.kind,
                f"{address.url!r} is not on the outlet's domains {list(source.domains)}",
            )
        if source.is_article(address.url):
            raise _fail(
                path,
                where,
                "article_pattern",
                f"matches the outlet's own {address.kind[:-1]} {address.url!r}; it must match articles only",
            )


def _css(path: str, where: str, field: str, value: object) -> str:
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, field, f"expected a CSS selector, got {value!r}")
    try:
        CSSSelector(value)
    except SelectorError as exc:
        raise _fail(path, where, field, f"invalid CSS selector {value!r}: {exc}") from exc
    return value


def _site_hints(path: str, where: str, table: object) -> SiteHints:
    """The optional ``[outlet.extract]`` table: ``drop`` (CSS selectors) and ``date_selector`` (CSS)."""
    if not isinstance(table, dict):
        raise _fail(path, where, "extract", "must be a table with drop and/or date_selector")
    unknown = sorted(set(table) - EXTRACT_KEYS)
    if unknown:
        raise _fail(
            path, where, f"extract.{unknown[0]}", f"unknown key; known keys are {sorted(EXTRACT_KEYS)}"
        )
    drop = table.get("drop", [])
    if not isinstance(drop, list):
        raise _fail(path, where, "extract.drop", "must be a list of CSS selectors")
    selector = table.get("date_selector")
    return SiteHints(
        drop=tuple(_css(path, where, "extract.drop", d) for d in drop),
        date_selector=_css(path, where, "extract.date_selector", selector) if selector is not None else None,
    )


def parse_sources(text: str, path: str = "<sources>") -> list[Source]:
    """Parse and validate the TOML text of a sources file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML: {exc}") from exc
    unknown_top = set(data) - {"outlet"}
    if unknown_top:
        raise SourcesError(
            f"{path}: unknown top-level key(s) {sorted(unknown_top)}; expected [[outlet]] entries"
        )
    entries = data.get("outlet")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{path}: no [[outlet]] entries")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"outlet #{index}"
        if not isinstance(entry, dict):
            raise _fail(path, where, None, "expected a table")
        name = entry.get("name")
        if isinstance(name, str):
            where = f"outlet '{name}' (entry {index})"
        unknown = sorted(set(entry) - KNOWN)
        if unknown:
            raise _fail(path, where, unknown[0], f"unknown key; known keys are {sorted(KNOWN)}")
        for key in REQUIRED:
            if key not in entry:
                raise _fail(path, where, key, "missing")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise _fail(path, where, "name", f"{name!r} must be lowercase letters, digits, '-' or '_'")
        if name in seen:
            raise _fail(path, where, "name", f"duplicate name (also entry {seen[name]})")
        seen[name] = index
        title = entry.get("title", name)
        if not isinstance(title, str) or not title.strip():
            raise _fail(path, where, "title", "must be a non-empty string")
        domains = entry["domains"]
        if not isinstance(domains, list) or not domains:
            raise _fail(path, where, "domains", "must be a non-empty list of host names")
        for domain in domains:
            if not isinstance(domain, str) or not HOST_RE.match(domain.lower()):
                raise _fail(path, where, "domains", f"{domain!r} is not a host name")
        pattern_text = entry["article_pattern"]
        if not isinstance(pattern_text, str) or not pattern_text:
            raise _fail(path, where, "article_pattern", "must be a non-empty regular expression")
        try:
            pattern = re.compile(pattern_text)
        except re.error as exc:
            raise _fail(path, where, "article_pattern", f"invalid regular expression: {exc}") from exc
        addresses: list[Address] = []
        for key in URL_LISTS:
            values = entry.get(key, [])
            if not isinstance(values, list):
                raise _fail(path, where, key, "must be a list of URLs")
            addresses.extend(_address(path, where, key, v) for v in values)
        if not addresses:
            raise _fail(path, where, "feeds", "an outlet needs at least one feed, sitemap or section")
        lists = {key: tuple(a.url for a in addresses if a.kind == key) for key in URL_LISTS}
        group = entry.get("group")
        if group is not None and group not in GROUPS:
            raise _fail(path, where, "group", f"{group!r} must be one of {', '.join(GROUPS)}")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(path, where, "enabled", "must be true or false")
        site = _site_hints(path, where, entry.get("extract", {}))
        delay = entry.get("delay")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0):
            raise _fail(path, where, "delay", f"{delay!r} must be a number of seconds, 0 or more")
        concurrency = entry.get("concurrency")
        if concurrency is not None and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
        ):
            raise _fail(path, where, "concurrency", f"{concurrency!r} must be a whole number, 1 or more")
        limits = {key: entry.get(key) for key in ("max_links", "max_sitemaps")}
        for key, limit in limits.items():
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
                raise _fail(path, where, key, f"{limit!r} must be a whole number, 0 (no limit) or more")
        source = Source(
            name=name,
            title=title,
            domains=tuple(d.lower() for d in domains),
            article_pattern=pattern,
            enabled=enabled,
            extract=site,
            delay=float(delay) if delay is not None else None,
            concurrency=concurrency,
            max_links=limits["max_links"],
            max_sitemaps=limits["max_sitemaps"],
            group=group,
            addresses=tuple(addresses),
            feeds=lists["feeds"],
            sitemaps=lists["sitemaps"],
            sections=lists["sections"],
        )
        _check_outlet_addresses(path, where, source)
        for other in sources:
            for domain in source.domains:
                clash = next((d for d in other.domains if _overlap(domain, d)), None)
                if clash:
                    raise _fail(
                        path,
                        where,
                        "domains",
                        f"{domain!r} overlaps {clash!r} of outlet '{other.name}' (entry {seen[other.name]}); "
                        "a host belongs to one outlet",
                    )
        sources.append(source)
    return sources


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Read a sources file (the packaged one when ``path`` is empty, read as a resource so that it is found
    in a zipped egg too)."""
    file: Traversable = Path(path) if path else resources.files("monitor").joinpath("data", "sources.toml")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SourcesError(f"{file}: no such sources file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{file}: cannot read: {exc}") from exc
    return parse_sources(text, str(file))


def select(sources: list[Source], names: str | None) -> list[Source]:
    """Sources named in a comma-separated list (all enabled ones when empty); unknown names are an error."""
    if not names:
        return [s for s in sources if s.enabled]
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    by_name = {s.name: s for s in sources}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise SourcesError(f"unknown source(s) {', '.join(missing)}; known: {', '.join(sorted(by_name))}")
    return [by_name[n] for n in wanted]
