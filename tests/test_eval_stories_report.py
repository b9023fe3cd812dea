"""`eval_stories` lists wrong hard pairs and mixed clusters by article for the dev part only: the held-out part
(and "all", which holds it) is reported by its counts, so nobody changing the clustering reads its articles."""

from __future__ import annotations

from monitor.devtools import eval_stories
from monitor.devtools.metrics import Counts


def evaluation() -> eval_stories.Evaluation:
    return eval_stories.Evaluation(
        articles=4,
        clustered=4,
        stories=2,
        clusters=2,
        pairs=Counts(1, 1, 1),
        bcubed=(0.9, 0.8, 0.85),
        mixed=[],
        conflicts=[["corpus/a", "corpus/b"]],
        hard=[
            eval_stories.Hard("corpus/a", "corpus/b", same=False, case="envoy-gaza", together=True),
            eval_stories.Hard("corpus/c", "corpus/d", same=True, case="before-and-after", together=False),
            eval_stories.Hard("corpus/e", "corpus/f", same=True, case="before-and-after", together=True),
        ],
    )


def test_the_dev_part_lists_its_wrong_pairs_and_mixed_clusters():
    text = "\n".join(eval_stories.report(evaluation(), "pairs [dev]"))
    assert "hard pairs: 1 of 3 right" in text
    assert "corpus/c / corpus/d apart" in text and "corpus/a / corpus/b together" in text
    assert "clusters mixing two conflicts: 1\n    corpus/a, corpus/b" in text


def test_a_part_with_held_out_articles_gives_counts_only():
    lines = eval_stories.report(evaluation(), "pairs [heldout]", listed=False)
    text = "\n".join(lines)
    assert "hard pairs: 1 of 3 right" in text and "clusters mixing two conflicts: 1" in text
    assert "corpus/" not in text
