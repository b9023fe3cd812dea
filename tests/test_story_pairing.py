"""The story evaluation's list of wrong pairs (issue #17): what ``eval_stories --errors`` prints to study the
pairs the clustering gets wrong, grouped by story, on the dev part only."""

from __future__ import annotations

import pytest

from monitor.devtools import eval_stories, story_errors


def _article(name: str, story: str, published: str, title: str = "", part: str = "dev") -> dict[str, str]:
    return {"id": name, "story": story, "published": published, "title": title, "text": "", "part": part}


ARTICLES = [
    _article("a", "plan", "2025-11-20T13:00:00+01:00", "Plan na stole"),
    _article("b", "plan", "2025-11-20T18:00:00+01:00", "Kreml o planie"),
    _article("c", "plan", "2025-11-21T09:30:00+01:00", "Deputowani o planie"),
    _article("d", "msz", "2025-11-20T19:00:00+01:00", "MSZ o planie"),
    _article("e", "genewa", "2025-11-23T21:00:00+01:00", "Rozmowy w Genewie"),
]
VECTORS = {
    "a": {"plan": 0.5, "@usa": 0.3, "stol": 0.8},
    "b": {"plan": 0.4, "@pieskow": 0.9},
    "c": {"plan": 0.2, "@usa": 0.9, "deputo": 0.4},
    "d": {"plan": 0.6, "polska": 0.8},
    "e": {"genewa": 1.0},
}


def test_wrong_pairs_are_the_pairs_kept_apart_and_put_together() -> None:
    predicted = {"a": 1, "b": 1, "c": 3, "d": 1, "e": 5}
    found = story_errors.wrong_pairs(ARTICLES, predicted, VECTORS)
    kinds = {(w.kind, w.a, w.b) for w in found}
    assert kinds == {
        ("apart", "a", "c"),
        ("apart", "b", "c"),
        ("together", "a", "d"),
        ("together", "b", "d"),
    }
    # the pairs agree with the pairwise counts
    labels = {a["id"]: a["story"] for a in ARTICLES}
    counts = eval_stories.pairwise(labels, predicted)
    assert (counts.fn, counts.fp) == (2, 2)


def test_a_pair_is_in_time_order_with_its_shared_tokens_heaviest_first() -> None:
    found = story_errors.wrong_pairs(ARTICLES, {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, VECTORS)
    by_pair = {(w.a, w.b): w for w in found}
    assert set(by_pair) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert by_pair["a", "c"].shared == ("@usa", "plan")  # 0.27 before 0.10
    assert by_pair["a", "c"].hours == pytest.approx(20.5)
    assert by_pair["a", "b"].group == "plan"


def test_groups_come_largest_first_and_a_story_pair_names_both_stories() -> None:
    predicted = {"a": 1, "b": 2, "c": 3, "d": 2, "e": 5}
    found = story_errors.wrong_pairs(ARTICLES, predicted, VECTORS)
    assert [w.group for w in found] == ["plan", "plan", "plan", "plan | msz"]
    assert found[-1].kind == "together"


def test_articles_outside_the_clustering_and_missing_vectors_are_handled() -> None:
    # "c" was not clustered (the rules did not send it), "b" has no vector stored
    vectors = {k: v for k, v in VECTORS.items() if k != "b"}
    found = story_errors.wrong_pairs(ARTICLES, {"a": 1, "b": 2, "d": 4, "e": 5}, vectors)
    assert [(w.a, w.b, w.shared) for w in found] == [("a", "b", ())]
    assert story_errors.wrong_pairs(ARTICLES, {}, VECTORS) == []


def test_the_report_shows_each_article_once_and_each_pair() -> None:
    predicted = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
    found = story_errors.wrong_pairs(ARTICLES, predicted, VECTORS)
    lines = story_errors.wrong_report(found, ARTICLES, predicted, VECTORS)
    assert lines[0] == "  apart: plan (3 pairs)"
    assert sum("Kreml o planie" in line for line in lines) == 1
    assert "    a ~ c: 20 h apart, shares @usa, plan" in lines
    assert "      entities: usa" in lines
    assert "    b ~ c: 16 h apart, shares plan" in lines


def test_errors_lists_the_dev_part_only(capsys: pytest.CaptureFixture[str]) -> None:
    eval_stories.main(["--errors"])
    out = capsys.readouterr().out
    heldout = [a["id"] for a in eval_stories.labelled() if a["part"] == "heldout"]
    assert out.startswith("dev: ")
    assert "  apart: " in out
    assert not [name for name in heldout if f"{name} " in out or f"{name}\n" in out]
