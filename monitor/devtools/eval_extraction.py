"""Extraction quality: the project's golden pages (fixtures/articles) and the real pages in ../shared/realpages,
scored for this extractor and, in the same run, for plain ``trafilatura.bare_extraction``.

Run with ``make eval`` or ``python -m monitor.devtools.eval_extraction [--json] [--pages]``. Metrics:

- body snippets: a "with" snippet found in the text is a true positive, one missing a false negative, a "without"
  snippet found a false positive; precision, recall and F1 over all snippets of a set;
- publication day: right day (Europe/Warsaw) on pages whose truth has a date;
- publication minute: right instant to the minute, expressed with Warsaw's offset, on pages whose truth has a time;
- title, authors: exact after whitespace normalisation.

The real pages are also scored the way ``../shared/tools/eval_extract.py`` scores them (the scorer used outside the
project): the body alone (no headline), "with" snippets plus the first words plus every expected body paragraph,
text compared after folding case, quotes, dashes and spaces; the day is the first ten characters of
``published``; the minute is the instant within 60 s. ``make eval`` also runs that tool itself.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.settings import Document

from monitor.devtools import ROOT, SHARED
from monitor.devtools.metrics import Counts
from monitor.extract import MIN_WORDS, NotAnArticle, extract_article
from monitor.extract.dates import WARSAW

GOLDEN = ROOT / "fixtures" / "articles"
MECHANISMS = ROOT / "fixtures" / "extraction"  # one page per extraction mechanism, several languages
REALPAGES = SHARED / "realpages"


@dataclass
class Case:
    """One page and its truth."""

    name: str
    url: str
    body: bytes
    content_type: str | None
    fetched_at: datetime | None
    title: str | None
    published: str | None  # ISO instant when the time is known, or a bare YYYY-MM-DD day
    with_: list[str]
    without: list[str]
    authors: list[str] | None = None
    credits: list[str] = field(default_factory=list)  # sign-offs and sources that end the body
    paragraphs: list[str] = field(default_factory=list)  # the whole expected body, where known
    first_words: str | None = None
    day: str | None = None  # the publication day as the truth writes it (YYYY-MM-DD)
    instant: str | None = None  # the publication instant as the truth writes it


@dataclass
class Output:
    text: str
    title: str | None
    published: str | None
    authors: list[str] | None = None
    credits: list[str] = field(default_factory=list)


@dataclass
class Score(Counts):
    """Snippet counts (``tp``/``fp``/``fn``) plus the date, title and author tallies of one extractor."""

    day_right: int = 0
    day_total: int = 0
    minute_right: int = 0
    minute_total: int = 0
    title_right: int = 0
    title_total: int = 0
    authors_right: int = 0
    authors_total: int = 0
    pages: int = 0
    per_page: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 1.0

        return {
            "pages": self.pages,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "day_accuracy": ratio(self.day_right, self.day_total),
            "minute_accuracy": ratio(self.minute_right, self.minute_total),
            "title_accuracy": ratio(self.title_right, self.title_total),
            "authors_accuracy": ratio(self.authors_right, self.authors_total),
            "dated_pages": self.day_total,
            "timed_pages": self.minute_total,
        }


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _to_warsaw(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=WARSAW) if parsed.tzinfo is None else parsed


def score_page(case: Case, out: Output, score: Score) -> dict[str, Any]:
    """Add one page's result to ``score``; return the page's own figures."""
    text = _norm(f"{out.title or ''}\n{out.text}")  # some truths start the body with the headline
    found = [s for s in case.with_ if _norm(s) in text]
    leaked = [s for s in case.without if _norm(s) in text]
    score.tp += len(found)
    score.fn += len(case.with_) - len(found)
    score.fp += len(leaked)
    score.pages += 1
    page: dict[str, Any] = {"missing": [s for s in case.with_ if s not in found], "leaked": leaked}
    if case.published:
        score.day_total += 1
        truth_day = (
            case.published[:10]
            if len(case.published) == 10
            else _to_warsaw(case.published).astimezone(WARSAW).date().isoformat()
        )
        got_day = _to_warsaw(out.published).astimezone(WARSAW).date().isoformat() if out.published else None
        score.day_right += got_day == truth_day
        page["day"] = (got_day, truth_day)
        if len(case.published) > 10:
            score.minute_total += 1
            truth = _to_warsaw(case.published)
            right = False
            if out.published and len(out.published) > 10:
                got = _to_warsaw(out.published)
                same_minute = got.replace(second=0, microsecond=0) == truth.replace(second=0, microsecond=0)
                warsaw_offset = got.utcoffset() == got.astimezone(WARSAW).utcoffset()
                right = same_minute and warsaw_offset
            score.minute_right += right
            page["minute"] = (out.published, case.published, right)
    if case.title:
        score.title_total += 1
        score.title_right += _norm(out.title) == _norm(case.title)
    if case.authors is not None:
        score.authors_total += 1
        score.authors_right += [_norm(a) for a in out.authors or []] == [_norm(a) for a in case.authors]
    page["recall"] = len(found) / len(case.with_) if case.with_ else 1.0
    page["leaks"] = len(leaked)
    score.per_page[case.name] = page
    return page


def run_ours(case: Case, min_words: int = 0) -> Output:
    """This extractor on one page; ``min_words`` as ``monitor extract`` uses it refuses short pages (empty output)."""
    try:
        article = extract_article(
            case.url,
            case.body,
            content_type=case.content_type,
            fetched_at=case.fetched_at,
            min_words=min_words,
        )
    except NotAnArticle:
        return Output("", None, None)
    return Output(article.text, article.title, article.published, article.authors, article.credits)


def run_trafilatura(case: Case) -> Output:
    document = trafilatura.bare_extraction(case.body, url=case.url, with_metadata=True)
    if not isinstance(document, Document):
        return Output("", None, None)
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return Output(document.text or "", document.title, document.date, authors)


def golden_cases(root: Path = GOLDEN) -> list[Case]:
    cases = []
    for spec in sorted(root.glob("*/*.json")):
        truth = json.loads(spec.read_text(encoding="utf-8"))
        fetched = truth.get("fetched_at")
        cases.append(
            Case(
                name=f"{spec.parent.name}/{spec.stem}",
                url=truth["url"],
                body=spec.with_suffix(".html").read_bytes(),
                content_type=truth.get("content_type"),
                fetched_at=datetime.fromisoformat(fetched) if fetched else None,
                title=truth.get("title"),
                published=truth.get("published"),
                with_=truth.get("with", []),
                without=truth.get("without", []),
                authors=truth.get("authors"),
                credits=truth.get("credits", []),
            )
        )
    return cases


def realpage_cases(root: Path = REALPAGES) -> list[Case]:
    gold = root / "gold.jsonl"
    if not gold.exists():
        return []
    cases = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        truth = json.loads(line)
        with_ = list(truth.get("with", []))
        if truth.get("first_words"):
            with_.append(truth["first_words"])
        cases.append(
            Case(
                name=truth["id"],
                url=truth["url"],
                body=(root / truth["file"]).read_bytes(),
                content_type=None,
                fetched_at=None,
                title=truth.get("title"),
                published=truth.get("datetime") or truth.get("date"),
                with_=with_,
                without=list(truth.get("without", [])),
                authors=truth.get("authors"),
                paragraphs=list(truth.get("body_paragraphs", [])),
                first_words=truth.get("first_words"),
                day=truth.get("date"),
                instant=truth.get("datetime"),
            )
        )
    return cases


def shared_norm(text: str | None) -> str:
    """Text folded the way the shared scorer folds it: NFC, no-break spaces, straight quotes, hyphens, case."""
    text = unicodedata.normalize("NFC", text or "").replace("\u00a0", " ")
    text = re.sub("[„”“]", '"', text)
    text = re.sub("[–—]", "-", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class SharedScore(Counts):
    """Figures of one extractor by the shared scorer's method (body snippets, day, minute)."""

    day_right: int = 0
    day_total: int = 0
    minute_right: int = 0
    minute_total: int = 0
    pages: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case: Case, out: Output) -> None:
        self.pages += 1
        text = shared_norm(out.text)
        for snippet in [*case.with_, *case.paragraphs]:  # "with" holds the first words already
            if shared_norm(snippet) in text:
                self.tp += 1
            else:
                self.fn += 1
                self.misses.append(f"MISSING {case.name}: {snippet[:70]}")
        for snippet in case.without:
            if shared_norm(snippet) in text:
                self.fp += 1
                self.misses.append(f"LEAKED  {case.name}: {snippet[:70]}")
        if case.day:
            self.day_total += 1
            right = bool(out.published) and (out.published or "")[:10] == case.day
            self.day_right += right
            if not right:
                self.misses.append(f"DATE    {case.name}: got {out.published} want {case.day}")
        if case.instant and ("T" in case.instant or ":" in case.instant):
            self.minute_total += 1
            right = False
            if out.published:
                try:
                    got = datetime.fromisoformat(out.published.replace("Z", "+00:00"))
                    truth = datetime.fromisoformat(case.instant.replace("Z", "+00:00"))
                    right = got.tzinfo is not None and abs((got - truth).total_seconds()) < 60
                except (ValueError, TypeError):
                    right = False
            self.minute_right += right
            if not right:
                self.misses.append(f"TIME    {case.name}: got {out.published} want {case.instant}")

    def summary(self) -> dict[str, float | int | str]:
        return {
            "pages": self.pages,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "date": f"{self.day_right}/{self.day_total}",
            "datetime": f"{self.minute_right}/{self.minute_total}",
        }


def evaluate_shared(cases: list[Case]) -> dict[str, SharedScore]:
    """The shared scorer's figures for this extractor and for plain trafilatura."""
    ours, plain = SharedScore(), SharedScore()
    for case in cases:
        ours.add(case, run_ours(case, MIN_WORDS))  # as `monitor extract` runs it
        plain.add(case, run_trafilatura(case))
    return {"monitor": ours, "trafilatura": plain}


def evaluate(cases: list[Case]) -> dict[str, Score]:
    ours, plain = Score(), Score()
    for case in cases:
        score_page(case, run_ours(case), ours)
        score_page(case, run_trafilatura(case), plain)
    return {"monitor": ours, "trafilatura": plain}


def worse_pages(scores: dict[str, Score]) -> list[str]:
    """Pages where this extractor keeps fewer snippets or leaks more boilerplate than plain trafilatura."""
    ours, plain = scores["monitor"].per_page, scores["trafilatura"].per_page
    return [
        name
        for name in ours
        if (ours[name]["recall"], -ours[name]["leaks"]) < (plain[name]["recall"], -plain[name]["leaks"])
    ]


def _print(label: str, scores: dict[str, Score], show_pages: bool) -> None:
    print(f"\n{label}")
    columns = (
        "pages",
        "precision",
        "recall",
        "f1",
        "day_accuracy",
        "minute_accuracy",
        "title_accuracy",
        "authors_accuracy",
    )
    print(f"  {'extractor':<12}" + "".join(f"{c:>17}" for c in columns))
    for name, score in scores.items():
        summary = score.summary()
        print(f"  {name:<12}" + "".join(f"{summary[c]:>17}" for c in columns))
    worse = worse_pages(scores)
    print(f"  pages worse than plain trafilatura: {len(worse)}" + (f" ({', '.join(worse)})" if worse else ""))
    if show_pages:
        for name, page in scores["monitor"].per_page.items():
            problems = {k: v for k, v in page.items() if v and k in ("missing", "leaked")}
            if problems or not page.get("minute", (0, 0, True))[2]:
                print(
                    f"    {name}: {json.dumps({**problems, **{k: page[k] for k in ('day', 'minute') if k in page}}, ensure_ascii=False)}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--pages", action="store_true", help="list every page's misses, leaks and dates")
    args = parser.parse_args(argv)
    sets = {
        "golden pages (fixtures/articles)": golden_cases(),
        "extraction cases (fixtures/extraction)": golden_cases(MECHANISMS),
    }
    real = realpage_cases()
    if real:
        sets["real pages (../shared/realpages)"] = real
    results = {label: evaluate(cases) for label, cases in sets.items()}
    shared = evaluate_shared(real) if real else {}
    if args.json:
        figures: dict[str, Any] = {k: {n: s.summary() for n, s in v.items()} for k, v in results.items()}
        if shared:
            figures["real pages, shared scorer"] = {n: s.summary() for n, s in shared.items()}
        print(json.dumps(figures, indent=2))
        return 0
    print("Extraction quality")
    for label, scores in results.items():
        _print(label, scores, args.pages)
    if shared:
        print("\nreal pages (../shared/realpages), scored the way ../shared/tools/eval_extract.py scores")
        for name, score in shared.items():
            summary = score.summary()
            print(
                f"  {name:<12} pages={summary['pages']} body P={score.precision:.3f} R={score.recall:.3f} "
                f"F1={score.f1:.3f} date={summary['date']} datetime={summary['datetime']}"
            )
        if args.pages:
            for line in shared["monitor"].misses:
                print(f"    {line}")
    else:
        print("\nreal pages: ../shared/realpages not found, skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
