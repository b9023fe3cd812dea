"""Quality of the peace-talk rules on the labelled corpus (``make eval``).

For each split (``dev`` and ``dev2``: the rules are tuned on them; ``holdout`` and ``holdout2``: kept aside as
checks, the second written in one go before the rules were scored on it; ``real``: pages nobody on the team
wrote, read from ``../shared`` when it is there) prints precision, recall and F1 for primary stories with
mentions left out and with mentions counted as negatives, the three-way accuracy (primary / mention / none),
and the errors grouped by the kind of text. Every corpus split is evaluated twice: as written, and as
``body-only`` (title and lead removed, as when a page loses its ``<h1>`` or a feed item has no lead).

    python -m monitor.devtools.eval_rules [--rules FILE] [--corpus DIR] [--split S] [--variant V] [--errors] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.devtools import ROOT, SHARED
from monitor.devtools.metrics import Counts
from monitor.rules import RulesError, Ruleset, classify, load_rules

SPLITS = ("dev", "dev2", "holdout", "holdout2", "real")
VARIANTS = ("full", "body-only")  # every text as written; the same texts without title and lead
LABELS = ("primary", "mention", "none")


def default_corpus_dir() -> Path:
    return ROOT / "fixtures" / "corpus"


def load_corpus(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Every labelled text of ``*.jsonl`` in the corpus directory and its subdirectories (a held-aside part such
    as ``holdout2/``), in file order."""
    root = Path(directory) if directory else default_corpus_dir()
    rows = []
    for path in sorted(root.glob("*.jsonl")) + sorted(root.glob("*/*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
            if row.get("label") not in LABELS:
                raise ValueError(f"{path}:{number}: label must be one of {LABELS}")
            rows.append(row)
    return rows


def real_rows(shared: Path = SHARED) -> list[dict[str, Any]]:
    """The ``real`` split: texts real Polish outlets published, none of them written or seen while tuning.

    Every article page of ``realpages/`` (extracted as a crawl would) is labelled ``none``: their topics, listed in
    its manifest, are economy, culture, local news, sport, technology and history, none Ukraine–Russia talks.
    The seed story (Witkoff and Kushner to meet Putin, 2026-01-14) is ``primary``. Empty when ``shared`` is absent.
    """
    from monitor.extract import NotAnArticle, extract_article  # only this split needs the extractor

    rows: list[dict[str, Any]] = []
    gold = shared / "realpages" / "gold.jsonl"
    if gold.exists():
        for line in gold.read_text(encoding="utf-8").splitlines():
            page = json.loads(line)
            try:
                article = extract_article(page["url"], (gold.parent / page["file"]).read_bytes())
            except NotAnArticle:
                continue  # front pages, a 404 page: a crawl would not classify them either
            rows.append(
                {
                    "id": page["id"],
                    "split": "real",
                    "kind": "real page",
                    "label": "none",
                    "title": article.title,
                    "lead": article.lead,
                    "text": article.text,
                }
            )
    for seed in sorted((shared / "seed").glob("*.txt")):
        paragraphs = [p.strip() for p in seed.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        if not paragraphs:
            continue
        lead = paragraphs[0].split("W skrócie", 1)[-1].strip()  # the file opens with its date and "W skrócie"
        rows.append(
            {
                "id": f"seed/{seed.stem}",
                "split": "real",
                "kind": "real story",
                "label": "primary",
                "title": "",
                "lead": lead,
                "text": "\n\n".join(paragraphs[1:]),
            }
        )
    return rows


@dataclass
class Scores(Counts):
    """Precision, recall and F1 of one binary question."""

    def as_dict(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class Report:
    split: str
    variant: str = "full"
    count: int = 0
    correct: int = 0
    excluded: Scores = field(default_factory=Scores)  # primary vs none, mentions left out
    strict: Scores = field(default_factory=Scores)  # primary vs everything else, mentions are negatives
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 1.0

    @property
    def name(self) -> str:
        return self.split if self.variant == "full" else f"{self.split} {self.variant}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "variant": self.variant,
            "count": self.count,
            "accuracy": round(self.accuracy, 4),
            "primary_mentions_excluded": self.excluded.as_dict(),
            "primary_mentions_negative": self.strict.as_dict(),
            "confusion": {f"{g}->{p}": n for (g, p), n in sorted(self.confusion.items())},
            "errors": self.errors,
        }


def evaluate(ruleset: Ruleset, rows: Iterable[dict[str, Any]], split: str, variant: str = "full") -> Report:
    """Classify every row of one split and count how the verdicts compare with the labels; ``variant``
    ``body-only`` classifies each text without its title and lead."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    report = Report(split, variant)
    for row in rows:
        if row.get("split") != split:
            continue
        title, lead = (row.get("title"), row.get("lead")) if variant == "full" else ("", "")
        verdict = classify(ruleset, title, lead, row.get("text"))
        gold, got = row["label"], verdict.relevance
        kind = row.get("kind") or gold
        report.count += 1
        report.kinds[kind] += 1
        report.confusion[(gold, got)] += 1
        report.correct += gold == got
        if gold != "mention":
            tally(report.excluded, gold == "primary", got == "primary")
        tally(report.strict, gold == "primary", got == "primary")
        if gold != got:
            report.errors.setdefault(kind, []).append(
                {
                    "id": row.get("id"),
                    "label": gold,
                    "got": got,
                    "score": verdict.score,
                    "title": row.get("title"),
                }
            )
    return report


def tally(scores: Scores, gold: bool, got: bool) -> None:
    if gold and got:
        scores.tp += 1
    elif got:
        scores.fp += 1
    elif gold:
        scores.fn += 1


def format_report(report: Report, show_errors: bool = False) -> str:
    ex, st = report.excluded, report.strict
    lines = [
        f"== {report.name}: {report.count} texts",
        f"  primary, mentions excluded:   precision {ex.precision:.3f}  recall {ex.recall:.3f}  F1 {ex.f1:.3f}",
        f"  primary, mentions negative:   precision {st.precision:.3f}  recall {st.recall:.3f}  F1 {st.f1:.3f}",
        f"  three-way accuracy:           {report.accuracy:.3f}  ({report.correct}/{report.count})",
        "  confusion (label → verdict):  "
        + ", ".join(f"{g}→{p} {n}" for (g, p), n in sorted(report.confusion.items())),
        "  errors by kind:",
    ]
    for kind in sorted(report.kinds):
        errors = report.errors.get(kind, [])
        lines.append(f"    {kind:<24} {len(errors):>3} of {report.kinds[kind]:>3}")
        if show_errors:
            for e in errors:
                lines.append(f"      {e['id']}: {e['label']} → {e['got']} ({e['score']:g})  {e['title']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.devtools.eval_rules", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rules", help="rules file (default: the packaged one)")
    parser.add_argument("--corpus", help="directory of labelled *.jsonl (default: fixtures/corpus)")
    parser.add_argument("--split", choices=SPLITS, action="append", help="only this split (repeatable)")
    parser.add_argument(
        "--variant", choices=VARIANTS, action="append", help="only this variant of the corpus (repeatable)"
    )
    parser.add_argument("--errors", action="store_true", help="list every misclassified text")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    try:
        ruleset = load_rules(args.rules)
        rows = load_corpus(args.corpus)
    except (RulesError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows += real_rows()
    splits = [split for split in args.split or SPLITS if any(row.get("split") == split for row in rows)]
    variants = args.variant or list(VARIANTS)
    # the corpus splits as written, then body-only; the real pages last, only as a crawl extracts them
    reports = [evaluate(ruleset, rows, s, v) for v in variants for s in splits if s != "real"]
    if "real" in splits and "full" in variants:
        reports.append(evaluate(ruleset, rows, "real"))
    if args.json:
        print(
            json.dumps(
                {"ruleset": ruleset.version, "splits": [r.as_dict() for r in reports]}, ensure_ascii=False
            )
        )
        return 0
    print(f"Rules {ruleset.name} {ruleset.version} on {len(rows)} labelled texts (tuned on dev only)")
    if "real" not in splits:
        print("(../shared not found: the real split is skipped)")
    for report in reports:
        print(format_report(report, args.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
