"""What happens to one fetched page, wherever it runs: extraction (:func:`monitor.extract.extract_article`), then
the rules (:func:`monitor.rules.classify`). Pure functions of the page's bytes and the rule set, plus the loop a
worker process runs (``python -m monitor.pool.work``: frames on stdin, frames on stdout; see :func:`serve`).

A worker loads the rules once, when it starts. It ignores SIGINT and SIGTERM (the crawl decides when its pages are
done: Ctrl-C or a service stop lets the crawl finish what it has) and leaves when its stdin closes, which happens
when the crawl closes the pool or dies.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from monitor.extract import Article, Hints, NotAnArticle, SiteHints
from monitor.rules import Ruleset, Verdict, classify, load_rules

if TYPE_CHECKING:
    from monitor.archive.derived import Derived

HEADER = struct.Struct("!I")  # the length of the pickle that follows


@dataclass(frozen=True)
class Page:
    """A fetched page and what extraction needs besides its bytes."""

    url: str
    body: bytes
    content_type: str | None = None
    hints: Hints | None = None
    site: SiteHints = field(default_factory=SiteHints)
    min_words: int = 40


@dataclass
class Outcome:
    """What became of a page: an article with its verdict, or the reason it is not an article, or ``error`` (an
    exception raised while processing it, or a worker that died or ran out of time on it)."""

    article: Article | None = None
    verdict: Verdict | None = None
    derived: Derived | None = None  # what the writer needs of the article's text (monitor.archive.derived)
    not_article: str | None = None
    error: BaseException | None = None  # raised by extraction or the rules
    details: str | None = None  # the traceback of ``error`` in its worker
    failure: str | None = None  # the page's worker died or ran out of time: why, in one line
    logs: list[tuple[int, str, str]] = field(default_factory=list)  # (level, logger, message) in a worker


_RULES: dict[str | None, Ruleset] = {}


def ruleset(path: str | None) -> Ruleset:
    """The rule set of ``path`` (None: the packaged one), loaded once per process."""
    if path not in _RULES:
        _RULES[path] = load_rules(path)
    return _RULES[path]


def extract(page: Page) -> Outcome:
    """Extract one page (no verdict). :class:`NotAnArticle` is an outcome; any other exception is raised."""
    # imported here: a crawl whose workers extract never loads trafilatura in its own process
    from monitor.extract.core import extract_article

    try:
        article = extract_article(
            page.url,
            page.body,
            content_type=page.content_type,
            hints=page.hints,
            min_words=page.min_words,
            site=page.site,
        )
    except NotAnArticle as exc:
        return Outcome(not_article=str(exc))
    return Outcome(article)


def process(page: Page, rules: Ruleset) -> Outcome:
    """Extract and classify one page, and derive from the article what the writer needs of its text (its wire
    sketch and story features, :func:`monitor.archive.derived.derive`): computed here, the single writer only
    places and writes. :class:`NotAnArticle` is an outcome; any other exception is raised."""
    from monitor.archive.derived import derive

    outcome = extract(page)
    if outcome.article is not None:
        article = outcome.article
        outcome.verdict = classify(rules, article.title, article.lead, article.text)
        outcome.derived = derive(article, outcome.verdict)
    return outcome


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (raised as the cause of its copy)."""

    def __str__(self) -> str:
        return f'\n"""\n{self.args[0]}"""' if self.args else ""


def failed(exc: BaseException) -> Outcome:
    """The outcome of a page whose processing raised ``exc``: the exception as it can cross to the crawl's
    process (itself when it pickles, else a RuntimeError that says the same) and its traceback."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any exception may fail to pickle, in any way
        copy = RuntimeError(f"{type(exc).__name__}: {exc}")
    return Outcome(error=copy, details="".join(traceback.format_exception(exc)))


class _Kept(logging.Handler):
    """Log records of the page being processed, sent back with its outcome."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[int, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.name, record.getMessage()))


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame (None at the end of the stream)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def serve(inp: BinaryIO, out: BinaryIO) -> int:
    """A worker: the first frame names the rules file (a pickled ``str | None``); it answers with the rule set's
    version, then with one pickled :class:`Outcome` for each pickled :class:`Page`, until its input ends."""
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    kept = _Kept()
    logging.getLogger().addHandler(kept)
    logging.captureWarnings(True)
    first = read_frame(inp)
    if first is None:
        return 0
    try:
        rules = ruleset(pickle.loads(first))
        import monitor.archive.derived  # noqa: F401 - loaded before the first page, whose time limit it would use
        import monitor.extract.core  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - reported to the crawl
        write_frame(out, pickle.dumps(failed(exc)))
        return 1
    write_frame(out, pickle.dumps(rules.version))
    while (frame := read_frame(inp)) is not None:
        kept.records = []
        try:
            outcome = process(pickle.loads(frame), rules)
        except Exception as exc:  # noqa: BLE001 - one failed page, with its exception
            outcome = failed(exc)
        outcome.logs = kept.records
        write_frame(out, pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


def main() -> int:
    # the frames are the only thing on stdout: anything printed goes to stderr
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    # run as monitor.pool.work, not as __main__: the outcomes it pickles name their classes by that module
    from monitor.pool import work

    sys.exit(work.main())
