"""Story clustering against the labelled sets in ``fixtures/stories`` (issue #17): pairwise precision, recall and
F1 over pairs of clustered articles, B-cubed F1 of the clusters, clusters mixing two conflicts, hard pairs.

Two sets:

- the **original set** (``articles.jsonl``): 33 articles written for the clustering, in 10 stories; its
  thresholds were set on it;
- the **labelled pairs** (``labels.jsonl``): the articles of the rules' labelled corpus (``fixtures/corpus``),
  the demo mirror's pages (``fixtures/sites``) and articles written for the pairs (``written.jsonl``: meetings
  announced and reported, and their hard negatives), each with the story it reports and, for the corpus, the
  time of that story's event; ``part`` sets a held-out part aside (whole stories, two periods), not tuned on.
  ``hard_pairs.jsonl`` lists the hard cases with the reason for each label.

The articles go through the real rules and :meth:`monitor.archive.Storage.store_batch` (the crawl's own
clustering hook) into a fresh archive, in the order of their times (or the order given). Pairs count among the
articles the rules send to clustering (flagged or mention); the **stress** run sends every labelled article,
whatever the rules say, so that a story of another conflict (Gaza, Iran, Armenia) meets the peace talks.
Run ``python -m monitor.devtools.eval_stories [--parts dev] [--errors]``; ``--errors`` lists the dev part's wrong
pairs (kept apart, put together) grouped by story, with each article's time, headline and entities and the tokens
the pair shares. The held-out part's are never listed: it is not looked at while changing the clustering.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from monitor.archive.clusters import Terms, counts
from monitor.devtools.metrics import Counts
from monitor.devtools.story_errors import vectors, wrong_pairs, wrong_report

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "stories" / "articles.jsonl"
LABELS = ROOT / "fixtures" / "stories" / "labels.jsonl"
HARD = ROOT / "fixtures" / "stories" / "hard_pairs.jsonl"
WRITTEN = ROOT / "fixtures" / "stories" / "written.jsonl"  # articles written for the labelled pairs
CORPUS = ROOT / "fixtures" / "corpus"
SITES = ROOT / "fixtures" / "sites"
TERMS_FILE = ROOT / "monitor" / "data" / "story_terms.toml"  # the packaged table, written by --write-terms
PARTS = ("dev", "heldout")
REAL = ("corpus/", "sites/")  # the ids of the corpus's and the mirror's articles (not written for the pairs)
_BARE = re.compile(r"[A-Za-z0-9_-]+")  # a TOML key that needs no quotes


def load(path: Path = FIXTURE) -> list[dict[str, Any]]:
    """The lines of a JSON-lines file (the original set by default: id, story, outlet, url, published, title,
    lead, text)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def entity_hits(matches: Iterable[Any]) -> Counter[str]:
    """How many distinct passages name each entity among a verdict's matches (as the archive counts them)."""
    return Counter(
        entity for entity, _field, _start in {(m.entity, m.field, m.start) for m in matches if m.entity}
    )


# --- the packaged document frequencies ----------------------------------------------------------------


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
            lines.append(f"{token if _BARE.fullmatch(token) else json.dumps(token)} = {n}")
    return "\n".join(lines) + "\n"


# --- the labelled articles ------------------------------------------------------------------------------


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


def labelled(path: Path = LABELS) -> list[dict[str, Any]]:
    """The articles of the labelled pairs with their texts: corpus articles at the time their label gives (outlet
    ``korpus``), mirror pages as the crawl extracts them, the articles written for the pairs
    (``written.jsonl``, ids ``stories/<id>``) as written; id, story, conflict, part, outlet, url, published,
    title, lead, text."""
    corpus = {f"corpus/{item['id']}": item for name in sorted(CORPUS.glob("*.jsonl")) for item in load(name)}
    mirror = {item["id"]: item for item in mirror_articles()}
    mirror.update((f"stories/{item['id']}", item) for item in load(WRITTEN))
    found = []
    for label in load(path):
        if label["id"] in corpus:
            item = corpus[label["id"]]
            name = label["id"].split("/", 1)[1]
            article = {
                "outlet": "korpus",
                "url": f"https://korpus.example.pl/{name}",
                "published": label["published"],
                "title": item.get("title") or "",
                "lead": item.get("lead") or "",
                "text": item["text"],
            }
        elif label["id"] in mirror:
            article = dict(mirror[label["id"]])
        else:
            raise ValueError(f"{path}: {label['id']}: no such corpus article, mirror page or written article")
        found.append({**article, **label})
    return found


# --- storing and reading back -----------------------------------------------------------------------------


def store(
    db: Path,
    articles: list[dict[str, Any]],
    batch: int = 1,
    *,
    arrival: Sequence[str] | None = None,
    every: bool = False,
) -> dict[str, int]:
    """Classify and store the articles ``batch`` at a time, in the order of their publication, or in the order of
    the ids in ``arrival`` (a crawl meets them in any order); ``every`` makes the articles the rules do not
    flag passing mentions, so that every article is clustered. {article id: archive id}."""
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
                verdict = classify(ruleset, item["title"], item["lead"], item["text"])
                if every and verdict.relevance == "none":
                    verdict = dataclasses.replace(verdict, relevance="mention")
                rows.append((item["outlet"], article, verdict))
            for item, result in zip(chunk, storage.store_batch(rows), strict=True):
                ids[item["id"]] = result.article_id
    return ids


def assignments(db: Path, ids: Mapping[str, int]) -> dict[str, int]:
    """{article id: story id} of the articles that are in a story."""
    conn = sqlite3.connect(db)
    try:
        stories = dict(conn.execute("SELECT article_id, story_id FROM story_articles").fetchall())
    finally:
        conn.close()
    return {name: stories[article_id] for name, article_id in ids.items() if article_id in stories}


def clusters(predicted: Mapping[str, int]) -> list[list[str]]:
    """The clusters of a clustering, each sorted, in order."""
    groups: dict[int, list[str]] = {}
    for name, story in predicted.items():
        groups.setdefault(story, []).append(name)
    return sorted(sorted(group) for group in groups.values())


def cluster(
    articles: list[dict[str, Any]],
    batch: int = 1,
    *,
    arrival: Sequence[str] | None = None,
    every: bool = False,
) -> dict[str, int]:
    """Store the articles in a fresh archive and return {article id: story id} of those in a story."""
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "stories.db"
        return assignments(db, store(db, articles, batch, arrival=arrival, every=every))


def cluster_detail(
    articles: list[dict[str, Any]], batch: int = 1, *, every: bool = False
) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """:func:`cluster`, with the vector of each clustered article (for :func:`wrong_pairs`)."""
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "stories.db"
        ids = store(db, articles, batch, every=every)
        return assignments(db, ids), vectors(db, ids)


# --- scores ---------------------------------------------------------------------------------------------


def pairwise(labels: Mapping[str, str], predicted: Mapping[str, int]) -> Counts:
    """Pairs of articles (among those in ``predicted``) put together rightly (tp), wrongly (fp), or kept apart
    wrongly (fn)."""
    found = Counts()
    for a, b in combinations(sorted(predicted), 2):
        same, together = labels[a] == labels[b], predicted[a] == predicted[b]
        found.tp += same and together
        found.fp += together and not same
        found.fn += same and not together
    return found


def bcubed(labels: Mapping[str, str], predicted: Mapping[str, int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1: per article, the share of its cluster that is of its story, and of
    its story that is in its cluster, averaged."""
    names = sorted(predicted)
    if not names:
        return 1.0, 1.0, 1.0
    by_cluster: dict[int, list[str]] = {}
    by_story: dict[str, list[str]] = {}
    for name in names:
        by_cluster.setdefault(predicted[name], []).append(name)
        by_story.setdefault(labels[name], []).append(name)
    precision = recall = 0.0
    for name in names:
        cluster_of = by_cluster[predicted[name]]
        right = sum(labels[o] == labels[name] for o in cluster_of)
        precision += right / len(cluster_of)
        recall += right / len(by_story[labels[name]])
    p, r = precision / len(names), recall / len(names)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass(frozen=True)
class Hard:
    """A hard pair as the clustering left it: ``together`` None when one of them is in no story."""

    a: str
    b: str
    same: bool
    case: str
    together: bool | None

    @property
    def right(self) -> bool:
        return self.together is not None and self.together == self.same


@dataclass(frozen=True)
class Evaluation:
    articles: int
    clustered: int
    stories: int
    clusters: int
    pairs: Counts
    bcubed: tuple[float, float, float]
    mixed: list[list[str]]  # clusters holding articles of more than one labelled story
    conflicts: list[list[str]] = field(default_factory=list)  # clusters holding two conflicts
    hard: list[Hard] = field(default_factory=list)


def score(
    articles: Sequence[dict[str, Any]], predicted: Mapping[str, int], hard: Sequence[dict[str, Any]] = ()
) -> Evaluation:
    """The figures of a clustering of ``articles`` (the pairs within them)."""
    names = {a["id"] for a in articles}
    labels = {a["id"]: a["story"] for a in articles}
    conflict = {a["id"]: a.get("conflict", "ukraine") for a in articles}
    mine = {name: story for name, story in predicted.items() if name in names}
    groups = clusters(mine)
    mixed = [group for group in groups if len({labels[n] for n in group}) > 1]
    two = [group for group in groups if len({conflict[n] for n in group} - {"none"}) > 1]
    hard_pairs = [
        Hard(
            pair["a"],
            pair["b"],
            pair["same"],
            pair["case"],
            mine[pair["a"]] == mine[pair["b"]] if pair["a"] in mine and pair["b"] in mine else None,
        )
        for pair in hard
        if pair["a"] in names and pair["b"] in names
    ]
    return Evaluation(
        articles=len(articles),
        clustered=len(mine),
        stories=len({labels[n] for n in mine}),
        clusters=len(groups),
        pairs=pairwise(labels, mine),
        bcubed=bcubed(labels, mine),
        mixed=mixed,
        conflicts=two,
        hard=hard_pairs,
    )


def evaluate(path: Path = FIXTURE, batch: int = 1) -> Evaluation:
    """The original set, stored in the order of publication."""
    articles = load(path)
    return score(articles, cluster(articles, batch))


def evaluate_labelled(
    *, every: bool = False, batch: int = 1, parts: Sequence[str] = PARTS
) -> dict[str, Evaluation]:
    """The labelled pairs, clustered together in one archive: the figures of every article, and of each part
    in ``parts`` (the pairs within it)."""
    articles = labelled()
    hard = load(HARD)
    predicted = cluster(articles, batch, every=every)
    found = {"all": score(articles, predicted, hard)} if set(parts) == set(PARTS) else {}
    for part in parts:
        found[part] = score([a for a in articles if a["part"] == part], predicted, hard)
        # the real-style text of dev apart from the articles written for it (never the held-out part's)
        if part == "dev":
            real = [a for a in articles if a["part"] == part and a["id"].startswith(REAL)]
            found[f"{part}: corpus+mirror"] = score(real, predicted, hard)
    return found


def report(found: Evaluation, name: str = "stories", *, listed: bool = True) -> list[str]:
    """The figures of an evaluation; with ``listed``, the wrong hard pairs and the mixed clusters by article
    (never for a part that holds held-out articles: only their counts)."""
    p = found.pairs
    b = found.bcubed
    lines = [
        f"{name}: {found.articles} labelled articles, {found.clustered} clustered, {found.stories} labelled "
        f"stories, {found.clusters} clusters",
        f"  pairwise: precision {p.precision:.3f}, recall {p.recall:.3f}, F1 {p.f1:.3f} "
        f"(tp {p.tp}, fp {p.fp}, fn {p.fn})",
        f"  B-cubed:  precision {b[0]:.3f}, recall {b[1]:.3f}, F1 {b[2]:.3f}",
    ]
    if found.hard:
        judged = [h for h in found.hard if h.together is not None]
        lines.append(
            f"  hard pairs: {sum(h.right for h in judged)} of {len(judged)} right "
            f"({len(found.hard) - len(judged)} with an article in no story)"
        )
        lines.extend(
            f"    wrong ({h.case}): {h.a} / {h.b} {'apart' if h.same else 'together'}"
            for h in judged
            if listed and not h.right
        )
    lines.append(f"  clusters mixing two conflicts: {len(found.conflicts)}")
    lines.extend(f"    {', '.join(group)}" for group in found.conflicts if listed)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batch", type=int, default=1, help="articles per stored batch")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="parts of the labelled pairs to report (dev, heldout; default both and all)",
    )
    parser.add_argument(
        "--write-terms", action="store_true", help=f"write {TERMS_FILE.name} from the corpus and stop"
    )
    parser.add_argument(
        "--errors",
        action="store_true",
        help="list the dev part's wrong pairs grouped by story (never the held-out part's) and stop",
    )
    args = parser.parse_args(argv)
    if args.errors:
        articles = labelled()
        predicted, found_vectors = cluster_detail(articles, args.batch)
        dev = [a for a in articles if a["part"] == "dev"]
        wrong = wrong_pairs(dev, predicted, found_vectors)
        print(
            f"dev: {sum(w.kind == 'apart' for w in wrong)} pairs kept apart, "
            f"{sum(w.kind == 'together' for w in wrong)} put together"
        )
        for line in wrong_report(wrong, dev, predicted, found_vectors):
            print(line)
        return
    if args.write_terms:
        TERMS_FILE.write_text(terms_toml(corpus_terms()), encoding="utf-8")
        print(f"{TERMS_FILE}: written")
        return
    parts = [part for part in args.parts.split(",") if part]
    if unknown := set(parts) - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
    original = evaluate(FIXTURE, args.batch)
    for line in report(original, "original set"):
        print(line)
    print(f"  mixed clusters: {len(original.mixed)}")
    for every, name in ((False, "labelled pairs"), (True, "labelled pairs, every article clustered")):
        for part, found in evaluate_labelled(every=every, batch=args.batch, parts=parts).items():
            for line in report(found, f"{name} [{part}]", listed=part.startswith("dev")):
                print(line)


if __name__ == "__main__":
    main()
