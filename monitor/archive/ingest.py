"""Ingest saved pages (HTML files, WARC archives) through the crawl's own extraction, rules and storage.

``monitor ingest PATH...`` processes an archive without crawling: each page goes through
:func:`monitor.extract.extract_article`, :func:`monitor.rules.classify` and :meth:`Storage.store_batch`, the
functions the spider and its pipeline use, so an ingested page is stored exactly as a crawled one would be.
WARC files (``.warc``, ``.warc.gz``) are read with warcio; their ``response`` records of HTML pages with status
200 are ingested, everything else in them is skipped.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import lxml.html
from warcio.archiveiterator import ArchiveIterator

from monitor.archive import Storage
from monitor.discovery.sources import Source
from monitor.discovery.urls import host_of
from monitor.extract import MIN_WORDS, Article, NotAnArticle, extract_article
from monitor.rules import Ruleset, Verdict, classify

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
BATCH_SIZE = 100


@dataclass(frozen=True)
class Page:
    """One saved page: its URL, its bytes and where it came from (a file, or a WARC file and record offset)."""

    url: str
    body: bytes
    origin: str
    content_type: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class Problem:
    """An input that could not be read (a missing file, a damaged WARC), in one line."""

    origin: str
    reason: str
    skipped: bool = False  # not a failure: a page that is not an article or not a 200 response


@dataclass
class Summary:
    pages: int = 0
    stored: int = 0
    new: int = 0
    changed: int = 0
    flagged: int = 0
    skipped: int = 0
    failed: int = 0
    per_source: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def count(self, source: str, counter: str) -> None:
        counts = self.per_source.setdefault(source, {"errors": []})
        counts[counter] = counts.get(counter, 0) + 1


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def is_html(path: Path) -> bool:
    return path.name.lower().endswith(HTML_SUFFIXES)


def expand(paths: Iterable[str | Path]) -> Iterator[Path | Problem]:
    """Files to ingest: files as given, directories searched recursively for HTML and WARC files."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and (is_html(p) or is_warc(p)))
            if not found:
                yield Problem(str(path), "no HTML or WARC files in this directory")
            yield from found
        elif path.is_file():
            yield path
        else:
            yield Problem(str(path), "no such file or directory")


def page_url(body: bytes, fallback: str) -> str:
    """The URL a saved page names for itself (``<link rel=canonical>``, then ``og:url``), else ``fallback``."""
    try:
        tree = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return fallback
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        for value in tree.xpath(xpath):
            value = str(value).strip()
            if value.startswith(("http://", "https://")):
                return value
    return fallback


def html_page(path: Path, url: str | None = None) -> Page:
    """A saved HTML file as a page (``.gz`` files are decompressed)."""
    body = path.read_bytes()
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return Page(url or page_url(body, path.resolve().as_uri()), body, str(path))


def _looks_like_warc(path: Path) -> bool:
    """A WARC (or ARC) file, plain or gzipped, begins with its first record's header line."""
    with path.open("rb") as stream:
        head = stream.read(64)
        if head[:2] == b"\x1f\x8b":
            stream.seek(0)
            try:
                head = gzip.GzipFile(fileobj=stream).read(64)
            except (OSError, EOFError):
                return False
    return head.lstrip().startswith((b"WARC/", b"filedesc://"))


def warc_pages(path: Path) -> Iterator[Page | Problem]:
    """The HTML responses of a WARC file; a damaged file yields what came before the damage, then a Problem."""
    try:
        if not _looks_like_warc(path):
            yield Problem(str(path), "not a WARC file (no WARC record header at its start)")
            return
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream, arc2warc=True)
            records = 0
            for record in iterator:
                records += 1
                if record.rec_type not in ("response", "resource"):
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                origin = f"{path}: {url}"
                if record.http_headers is not None:
                    status = record.http_headers.get_statuscode()
                    content_type = record.http_headers.get_header("Content-Type")
                    if status != "200":
                        yield Problem(origin, f"{url}: HTTP {status}, not ingested", skipped=True)
                        continue
                else:
                    content_type = record.rec_headers.get_header("Content-Type")
                if not url or "html" not in (content_type or "").lower():
                    continue
                body = record.content_stream().read()
                date = record.rec_headers.get_header("WARC-Date")
                fetched = datetime.fromisoformat(date.replace("Z", "+00:00")) if date else None
                yield Page(url, body, origin, content_type, fetched)
            if not records:
                yield Problem(str(path), "no WARC records in this file (is it a WARC file?)")
    except Exception as exc:  # a damaged file can fail anywhere inside warcio: report it, keep what was read
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")
        yield Problem(str(path), f"damaged or unreadable WARC file: {reason}")


def pages(paths: Iterable[str | Path], url: str | None = None) -> Iterator[Page | Problem]:
    """Every page in the given files and directories, in order; unreadable inputs as Problems."""
    for item in expand(paths):
        if isinstance(item, Problem):
            yield item
        elif is_warc(item):
            yield from warc_pages(item)
        else:
            try:
                yield html_page(item, url)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                yield Problem(str(item), f"cannot read: {getattr(exc, 'strerror', None) or exc}")


def outlet_for(url: str, sources: Iterable[Source], default: str | None = None) -> str:
    """The outlet that owns a URL (by its domains in sources.toml); else ``default``; else the host name."""
    for source in sources:
        if source.owns(url):
            return source.name
    if default:
        return default
    host = host_of(url).removeprefix("www.")
    return host or "file"


def ingest(
    storage: Storage,
    ruleset: Ruleset,
    items: Iterable[Page | Problem],
    *,
    sources: Iterable[Source] = (),
    source: str | None = None,
    min_words: int = MIN_WORDS,
    batch_size: int = BATCH_SIZE,
) -> Summary:
    """Extract, classify and store pages in batches (one transaction each); record the run as spider ``ingest``."""
    known = list(sources)
    summary = Summary()
    run_id = storage.start_run("ingest", [source] if source else [])
    batch: list[tuple[str, Article, Verdict]] = []

    def flush() -> None:
        results = storage.store_batch(batch)
        for (outlet, _article, verdict), result in zip(batch, results, strict=True):
            summary.stored += 1
            summary.count(outlet, "stored")
            summary.new += int(result.created)
            summary.changed += int(result.changed)
            if verdict.flagged:
                summary.flagged += 1
                summary.count(outlet, "flagged")
        batch.clear()

    status = "finished"
    try:
        for item in items:
            if isinstance(item, Problem):
                if item.skipped:
                    summary.skipped += 1
                else:
                    summary.failed += 1
                summary.problems.append(f"{item.origin}: {item.reason}")
                continue
            summary.pages += 1
            outlet = source or outlet_for(item.url, known)
            summary.count(outlet, "discovered")
            summary.count(outlet, "fetched")
            try:
                article = extract_article(
                    item.url,
                    item.body,
                    content_type=item.content_type,
                    fetched_at=item.fetched_at,
                    min_words=min_words,
                )
            except NotAnArticle as exc:
                summary.skipped += 1
                summary.count(outlet, "skipped")
                summary.problems.append(f"{item.origin}: not an article: {exc}")
                continue
            verdict = classify(ruleset, article.title, article.lead, article.text)
            batch.append((outlet, article, verdict))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    except BaseException:
        status = "failed"
        raise
    finally:
        try:
            storage.finish_run(run_id, status, summary.per_source)
        except Exception:  # the error that stopped the ingest is the one to report
            if status == "finished":
                raise
    return summary
