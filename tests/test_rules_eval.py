"""Quality floors of the packaged rules on the labelled corpus. A change may raise a floor, never lower it.

The rules are tuned on split "dev" only; "holdout" is the check on texts the rules were not tuned on.
The floors are the numbers issue #4 asked for, raised to the figures the rules reach after issue #12 on the
corpus as written and on its body-only variant (every text without title and lead).
"""

from __future__ import annotations

import json

import pytest

from monitor.devtools.eval_rules import SHARED, evaluate, load_corpus, main, real_rows
from monitor.rules import load_rules

FLOORS = {
    # (split, variant): precision, recall with mentions excluded; F1 with mentions as negatives; accuracy
    ("dev", "full"): {"precision": 1.0, "recall": 1.0, "f1_strict": 1.0, "accuracy": 0.98},
    ("holdout", "full"): {"precision": 0.97, "recall": 0.98, "f1_strict": 0.97, "accuracy": 0.93},
    ("dev", "body-only"): {"precision": 1.0, "recall": 0.95, "f1_strict": 0.97, "accuracy": 0.97},
    ("holdout", "body-only"): {"precision": 1.0, "recall": 0.90, "f1_strict": 0.93, "accuracy": 0.91},
    # dev2: 42 texts written for #12's second round, tuned on after they were scored once as they were
    ("dev2", "full"): {"precision": 0.94, "recall": 0.90, "f1_strict": 0.92, "accuracy": 0.88},
    ("dev2", "body-only"): {"precision": 0.94, "recall": 0.90, "f1_strict": 0.92, "accuracy": 0.88},
    # holdout2: 68 texts written in one go and labelled before the rules were ever scored on them (#12)
    ("holdout2", "full"): {"precision": 1.0, "recall": 1.0, "f1_strict": 0.98, "accuracy": 0.92},
    ("holdout2", "body-only"): {"precision": 1.0, "recall": 0.96, "f1_strict": 0.96, "accuracy": 0.91},
}


@pytest.fixture(scope="module")
def reports():
    rules, rows = load_rules(), load_corpus()
    return {key: evaluate(rules, rows, *key) for key in FLOORS}


def test_corpus_is_large_and_labelled_both_ways():
    rows = load_corpus()
    assert len(rows) >= 541  # 253 texts of #4; for #12 178, then 68 (holdout2) and 42 (dev2)
    assert {r["label"] for r in rows} == {"primary", "mention", "none"}
    assert {r["split"] for r in rows} == {"dev", "dev2", "holdout", "holdout2"}
    for split in ("holdout", "holdout2"):
        assert {r["label"] for r in rows if r["split"] == split} == {"primary", "mention", "none"}
    assert len({r["id"] for r in rows}) == len(rows)


@pytest.mark.parametrize("key", FLOORS, ids=[" ".join(key) for key in FLOORS])
def test_quality_floors(reports, key):
    report, floor = reports[key], FLOORS[key]
    assert report.excluded.precision >= floor["precision"]
    assert report.excluded.recall >= floor["recall"]
    assert report.strict.f1 >= floor["f1_strict"]
    assert report.accuracy >= floor["accuracy"]


def test_eval_prints_both_splits_and_errors_by_kind(capsys):
    assert main(["--errors"]) == 0
    out = capsys.readouterr().out
    assert "== dev:" in out and "== holdout:" in out
    assert "mentions excluded" in out and "mentions negative" in out and "three-way accuracy" in out
    for kind in ("war-no-talks", "other-conflict-talks", "sport", "historical"):
        assert kind in out
    assert "== dev body-only:" in out and "== holdout body-only:" in out
    assert "== holdout2:" in out and "== holdout2 body-only:" in out
    assert "== dev2:" in out and "== dev2 body-only:" in out
    assert main(["--json", "--split", "holdout"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["split"], s["variant"]) for s in data["splits"]] == [
        ("holdout", "full"),
        ("holdout", "body-only"),
    ]
    assert main(["--json", "--split", "dev", "--variant", "body-only"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["split"], s["variant"]) for s in data["splits"]] == [("dev", "body-only")]


def test_body_only_variant_drops_title_and_lead():
    rows = [
        {
            "id": "a",
            "split": "dev",
            "label": "primary",
            "title": "Rozmowy pokojowe w Genewie. Kijów czeka na Moskwę",
            "lead": "",
            "text": "Pogoda.",
        },
    ]
    rules = load_rules()
    assert evaluate(rules, rows, "dev").correct == 1
    report = evaluate(rules, rows, "dev", "body-only")
    assert report.name == "dev body-only" and report.correct == 0 and report.errors
    with pytest.raises(ValueError, match="variant must be one of"):
        evaluate(rules, rows, "dev", "title-only")


def test_new_kinds_of_stories_are_in_both_splits():
    """The kinds issue #12 found missed outside the project are in the corpus, and each has held-out texts."""
    rows = load_corpus()
    for kind in (
        "summit",
        "third-country-plan",
        "mission-mediation",
        "guarantees",
        "envoy-channel",
        "conditions",
        "plan-reaction",
        "plain-body",
    ):
        splits = {r["split"] for r in rows if r["kind"] == kind and r["label"] == "primary"}
        assert {"dev", "holdout"} <= splits, kind
    no_title = [r for r in rows if not r["title"]]
    assert {r["label"] for r in no_title} == {"primary", "mention", "none"} and len(no_title) >= 50


@pytest.mark.skipif(not (SHARED / "realpages").exists(), reason="../shared/realpages is not here")
def test_real_pages_nobody_on_the_team_wrote():
    """Real outlets' pages: every article page of ../shared/realpages is about something else and must not be
    flagged (not even as a mention); the seed story (Witkoff and Kushner to meet Putin) must be primary."""
    rows = real_rows()
    report = evaluate(load_rules(), rows, "real")
    pages = [r for r in rows if r["kind"] == "real page"]
    assert len(pages) >= 15  # the extractor takes every article page of the folder
    assert report.errors == {}, report.errors
    assert report.confusion[("primary", "primary")] == (1 if (SHARED / "seed").exists() else 0)


def test_real_split_is_skipped_in_one_line_without_shared(tmp_path, capsys, monkeypatch):
    assert real_rows(tmp_path) == []
    monkeypatch.setattr("monitor.devtools.eval_rules.real_rows", lambda: [])
    assert main(["--split", "holdout"]) == 0
    assert "../shared not found: the real split is skipped" in capsys.readouterr().out


def test_held_aside_parts_in_subfolders_are_read_and_checked(tmp_path):
    """A part written later lives in its own folder (holdout2/, dev2/): load_corpus reads it after the top-level
    files, and a bad line there is named by its file and line like any other."""
    row = {
        "id": "a",
        "label": "none",
        "kind": "sport",
        "split": "dev",
        "title": "",
        "lead": "",
        "text": "Mecz.",
    }
    (tmp_path / "negatives.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    (tmp_path / "part2").mkdir()
    later = dict(row, id="b", split="part2")
    (tmp_path / "part2" / "part2.jsonl").write_text(json.dumps(later) + "\n\n", encoding="utf-8")
    assert [r["id"] for r in load_corpus(tmp_path)] == ["a", "b"]
    (tmp_path / "part2" / "bad.jsonl").write_text(
        json.dumps(dict(row, label="maybe")) + "\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"part2/bad\.jsonl:1: label must be one of"):
        load_corpus(tmp_path)
