"""The story evaluation's wrong pairs (issue #17), for ``python -m monitor.devtools.eval_stories --errors``: the
dev part's pairs kept apart and put together, grouped by story, with each article's time, headline and entities
and the tokens each pair shares, to study what the clustering misses. The held-out part's are never listed: it
is not looked at while changing the clustering.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import Any


def vectors(db: Path, ids: Mapping[str, int]) -> dict[str, dict[str, float]]:
    """{article id: its clustering vector} of the articles that are in a story (``story_vectors``)."""
    conn = sqlite3.connect(db)
    try:
        stored = {
            row[0]: json.loads(row[1]) for row in conn.execute("SELECT article_id, vector FROM story_vectors")
        }
    finally:
        conn.close()
    return {name: stored[article_id] for name, article_id in ids.items() if article_id in stored}


@dataclass(frozen=True)
class Wrong:
    """A wrongly clustered pair: ``apart`` (same story, kept apart) or ``together`` (different stories put
    together); ``a`` is the earlier article, ``hours`` the time between them, ``shared`` the tokens of both their
    vectors, heaviest product first."""

    kind: str
    a: str
    b: str
    group: str  # the story (apart) or "story a | story b" (together)
    hours: float
    shared: tuple[str, ...]


def wrong_pairs(
    articles: Sequence[dict[str, Any]],
    predicted: Mapping[str, int],
    vectors: Mapping[str, Mapping[str, float]],
) -> list[Wrong]:
    """The wrongly clustered pairs among ``articles`` (those in ``predicted``), largest group first, then by group
    name and time."""
    by_id = {a["id"]: a for a in articles if a["id"] in predicted}

    def at(name: str) -> datetime:
        return datetime.fromisoformat(str(by_id[name]["published"]))

    found = []
    for x, y in combinations(sorted(by_id), 2):
        same, together = by_id[x]["story"] == by_id[y]["story"], predicted[x] == predicted[y]
        if same == together:
            continue
        a, b = (x, y) if (at(x), x) <= (at(y), y) else (y, x)
        va, vb = vectors.get(a, {}), vectors.get(b, {})
        shared = tuple(sorted(set(va) & set(vb), key=lambda t: (-va[t] * vb[t], t)))
        group = by_id[a]["story"] if same else f"{by_id[a]['story']} | {by_id[b]['story']}"
        hours = (at(b) - at(a)).total_seconds() / 3600
        found.append(Wrong("apart" if same else "together", a, b, group, hours, shared))
    size = Counter((w.kind, w.group) for w in found)
    return sorted(found, key=lambda w: (-size[w.kind, w.group], w.kind, w.group, w.a, w.b))


def wrong_report(
    found: Sequence[Wrong],
    articles: Sequence[dict[str, Any]],
    predicted: Mapping[str, int],
    vectors: Mapping[str, Mapping[str, float]],
) -> list[str]:
    """:func:`wrong_pairs` as text: per group, its articles (time, cluster, story, headline or the start of the
    text, entities) and its pairs (hours apart, shared tokens)."""
    by_id = {a["id"]: a for a in articles}
    groups: dict[tuple[str, str], list[Wrong]] = {}
    for wrong in found:
        groups.setdefault((wrong.kind, wrong.group), []).append(wrong)
    lines = []
    for (kind, group), pairs in groups.items():
        lines.append(f"  {kind}: {group} ({len(pairs)} pairs)")
        names = sorted({n for w in pairs for n in (w.a, w.b)}, key=lambda n: (str(by_id[n]["published"]), n))
        for name in names:
            item = by_id[name]
            headline = " ".join(str(item.get("title") or item.get("text") or "").split())[:80]
            entities = sorted(t[1:] for t in vectors.get(name, {}) if t.startswith("@"))
            lines.append(
                f"    {name}  {str(item['published'])[:16]}  cluster {predicted[name]}  {item['story']}: {headline}"
            )
            lines.append(f"      entities: {', '.join(entities) or '-'}")
        lines.extend(
            f"    {w.a} ~ {w.b}: {w.hours:.0f} h apart, shares {', '.join(w.shared[:10]) or 'nothing'}"
            for w in pairs
        )
    return lines
