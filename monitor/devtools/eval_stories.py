"""Story clustering against the labelled set in ``fixtures/stories`` (issue #17): pairwise precision, recall and
F1 over pairs of clustered articles, and B-cubed F1 of the clusters.

The articles go through the real rules and :meth:`monitor.archive.Storage.store_batch` (so through the crawl's
own clustering hook), in the order of their publication, into a fresh archive. Run ``python -m
monitor.devtools.eval_stories [FIXTURE.jsonl]``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from monitor.archive.clusters import TERMS_FILE, Terms, counts
from monitor.devtools.metrics import Counts

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "stories" / "articles.jsonl"


CORPUS = ROOT / "fixtures" / "corpus"


def entity_hits(matches: Iterable[Any]) -> Counter[str]:
    """How many distinct passages name each entity among a verdict's matches (as the archive counts them)."""
    return Counter(
        entity for entity, _field, _start in {(m.entity, m.field, m.start) for m in matches if m.entity}
    )


def corpus_terms(folder: Path = CORPUS) -> Terms:
    """Document frequencies of the clustering tokens over the labelled rules corpus (``fixtures/corpus/*.jsonl``,
    the labels unused): each article's stems and matched entities, once per article."""
    from monitor.rules import classify, load_rules

    ruleset = load_rules()
    df: Counter[str] = Counter()
    docs = 0
    for path in sorted(folder.glob("*.jsonl")):
        for item in load(path):
            verdict = classify(ruleset, item.get("title"), item.get("lead"), item.get("text"))
            raw = counts(item.get("title"), item.get("lead"), item.get("text"), entity_hits(verdict.matches))
            df.update(raw.keys())
            docs += 1
    return Terms(docs, dict(df))


def terms_toml(terms: Terms, least: int = 2) -> str:
    """The packaged table (``monitor/data/story_terms.toml``): tokens in at least ``least`` documents."""
    lines = [
        "# Document frequencies of the story-clustering tokens (monitor/archive/clusters.py), counted on the",
        "# labelled rules corpus (fixtures/corpus). Written by `python -m monitor.devtools.eval_stories",
        "# --write-terms`; do not edit by hand. A token missing here weighs as one no document had.",
        f"docs = {terms.docs}",
        "",
        "[df]",
    ]
    for token, n in sorted(terms.df.items()):
        if n >= least:
            lines.append(f"{json.dumps(token) if not token.isalnum() else token} = {n}")
    return "\n".join(lines) + "\n"


def load(path: Path = FIXTURE) -> list[dict[str, Any]]:
    """The labelled articles: id, story (the label), outlet, url, published, title, lead, text."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def store(
    db: Path, articles: list[dict[str, Any]], batch: int = 1, *, arrival: Sequence[str] | None = None
) -> dict[str, int]:
    """Classify and store the articles ``batch`` at a time, in the order of their publication, or in the order of
    the ids in ``arrival`` (a crawl meets them in any order); {fixture id: article id}."""
    from monitor.archive import Storage
    from monitor.extract import Article
    from monitor.rules import classify, load_rules

    ruleset = load_rules()
    if arrival is None:
        ordered = sorted(articles, key=lambda a: (a["published"], a["id"]))
    else:
        by_id = {a["id"]: a for a in articles}
        ordered = [by_id[name] for name in arrival]
    ids: dict[str, int] = {}
    with Storage(db) as storage:
        for start in range(0, len(ordered), batch):
            chunk = ordered[start : start + batch]
            rows = []
            for item in chunk:
                article = Article(
                    url=item["url"],
                    canonical_url=item["url"],
                    title=item["title"],
                    authors=[],
                    published=item["published"],
                    published_source="fixture",
                    modified=None,
                    date_candidates=[],
                    lead=item["lead"],
                    text=item["text"],
                    language="pl",
                    paywalled=False,
                    words=len(item["text"].split()),
                )
                rows.append(
                    (item["outlet"], article, classify(ruleset, item["title"], item["lead"], item["text"]))
                )
            for item, result in zip(chunk, storage.store_batch(rows), strict=True):
                ids[item["id"]] = result.article_id
    return ids


SITES = ROOT / "fixtures" / "sites"


def mirror_articles(root: Path = SITES) -> list[dict[str, Any]]:
    """The demo mirror's article pages as the crawl extracts them (pages that are not articles left out):
    id (``sites/<outlet>/<file>``), outlet, url, published, title, lead, text."""
    import tomllib

    from monitor.extract import NotAnArticle, extract_article

    found = []
    for spec in sorted(root.glob("*/site.toml")):
        data = tomllib.loads(spec.read_text(encoding="utf-8"))
        for page in data.get("page", []):
            file = str(page.get("file", ""))
            if not file.startswith("articles/"):
                continue
            try:
                article = extract_article(
                    page["url"], (spec.parent / file).read_bytes(), content_type=page.get("content_type")
                )
            except NotAnArticle:
                continue
            found.append(
                {
                    "id": f"sites/{spec.parent.name}/{Path(file).stem}",
                    "outlet": data["source"]["name"],
                    "url": page["url"],
                    "published": article.published,
                    "title": article.title,
                    "lead": article.lead,
                    "text": article.text,
                }
            )
    return found


def assignments(db: Path, ids: Mapping[str, int]) -> dict[str, int]:
    """{fixture id: story id} of the articles that are in a story."""
    conn = sqlite3.connect(db)
    try:
        stories = dict(conn.execute("SELECT article_id, story_id FROM story_articles").fetchall())
    finally:
        conn.close()
    return {name: stories[article_id] for name, article_id in ids.items() if article_id in stories}


def pairwise(labels: Mapping[str, str], predicted: Mapping[str, int]) -> Counts:
    """Pairs of articles (among those in ``predicted``) put together rightly (tp), wrongly (fp), or kept apart
    wrongly (fn)."""
    counts = Counts()
    for a, b in combinations(sorted(predicted), 2):
        same, together = labels[a] == labels[b], predicted[a] == predicted[b]
        counts.tp += same and together
        counts.fp += together and not same
        counts.fn += same and not together
    return counts


def bcubed(labels: Mapping[str, str], predicted: Mapping[str, int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1: per article, the share of its cluster that is of its story, and of
    its story that is in its cluster, averaged."""
    names = sorted(predicted)
    if not names:
        return 1.0, 1.0, 1.0
    precision = recall = 0.0
    for name in names:
        cluster = [o for o in names if predicted[o] == predicted[name]]
        story = [o for o in names if labels[o] == labels[name]]
        right = sum(labels[o] == labels[name] for o in cluster)
        precision += right / len(cluster)
        recall += right / len(story)
    p, r = precision / len(names), recall / len(names)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass(frozen=True)
class Evaluation:
    articles: int
    clustered: int
    stories: int
    clusters: int
    pairs: Counts
    bcubed: tuple[float, float, float]
    mixed: list[list[str]]  # clusters holding articles of more than one labelled story


def evaluate(path: Path = FIXTURE, batch: int = 1) -> Evaluation:
    articles = load(path)
    labels = {a["id"]: a["story"] for a in articles}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "stories.db"
        predicted = assignments(db, store(db, articles, batch))
    groups: dict[int, list[str]] = {}
    for name, story in predicted.items():
        groups.setdefault(story, []).append(name)
    mixed = [sorted(m) for m in groups.values() if len({labels[n] for n in m}) > 1]
    return Evaluation(
        articles=len(articles),
        clustered=len(predicted),
        stories=len({labels[n] for n in predicted}),
        clusters=len(groups),
        pairs=pairwise(labels, predicted),
        bcubed=bcubed(labels, predicted),
        mixed=mixed,
    )


def report(found: Evaluation) -> list[str]:
    p = found.pairs
    b = found.bcubed
    lines = [
        f"stories: {found.articles} labelled articles, {found.clustered} clustered (flagged or mention), "
        f"{found.stories} labelled stories, {found.clusters} clusters",
        f"  pairwise: precision {p.precision:.3f}, recall {p.recall:.3f}, F1 {p.f1:.3f} "
        f"(tp {p.tp}, fp {p.fp}, fn {p.fn})",
        f"  B-cubed:  precision {b[0]:.3f}, recall {b[1]:.3f}, F1 {b[2]:.3f}",
    ]
    lines.extend(f"  mixed cluster: {', '.join(m)}" for m in found.mixed)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("fixture", nargs="?", type=Path, default=FIXTURE)
    parser.add_argument("--batch", type=int, default=1, help="articles per stored batch")
    parser.add_argument(
        "--write-terms", action="store_true", help=f"write {TERMS_FILE.name} from the corpus and stop"
    )
    args = parser.parse_args(argv)
    if args.write_terms:
        TERMS_FILE.write_text(terms_toml(corpus_terms()), encoding="utf-8")
        print(f"{TERMS_FILE}: written")
        return
    for line in report(evaluate(args.fixture, args.batch)):
        print(line)


if __name__ == "__main__":
    main()
