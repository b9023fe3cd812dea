"""The wire sketch and story features derived where an article is extracted (monitor.archive.derived, #15): the
writer uses them in place of its own computation, and what it writes is the same row by row as when it computes
them itself."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT

from monitor.archive import Storage, story_index
from monitor.archive import store as store_module
from monitor.archive import stories as wire
from monitor.archive.derived import Derived, derive, from_json, hits_of, to_json, usable, version
from monitor.archive.story_index import CLUSTERED, article_time, entity_hits, story_features
from monitor.archive.story_mention import MENTION, body_starts
from monitor.extract import Article
from monitor.rules import classify, load_rules

CORPUS = ROOT / "fixtures" / "corpus"
START = datetime.fromisoformat("2026-01-10T08:00:00+01:00")


def corpus_items(limit: int = 120) -> list[tuple[str, Article]]:
    """Labelled articles with times over two weeks (one in 15 undated), and wire copies of some of them."""
    rows = []
    for name in ("positives.jsonl", "mentions.jsonl", "negatives.jsonl"):
        rows += [
            json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line
        ]
    rows = rows[::3][:limit]
    items = []
    for i, row in enumerate(rows):
        published = None if i % 15 == 7 else (START + timedelta(hours=3 * i)).isoformat()
        items.append(("rp" if i % 2 else "onet", _article(f"https://rp.pl/a/{i}", row, published)))
        if i % 9 == 0:  # a wire copy on another outlet, with its own headline and a line more
            copy = {**row, "title": f"PAP: {row['title']}", "text": row["text"] + "\nCzytaj też: inne"}
            items.append(("wp", _article(f"https://wp.pl/b/{i}", copy, published)))
    return items


def _article(url: str, row: dict, published: str | None) -> Article:
    text = row["text"]
    return Article(
        url=url,
        canonical_url=url,
        title=row["title"],
        authors=[],
        published=published,
        published_source="jsonld:datePublished" if published else None,
        modified=None,
        date_candidates=[],
        lead=row.get("lead"),
        text=text,
        language="pl",
        paywalled=False,
        words=len(text.split()),
    )


@pytest.fixture(scope="module")
def items():
    rules = load_rules()
    found = [
        (source, article, classify(rules, article.title, article.lead, article.text))
        for source, article in corpus_items()
    ]
    assert sum(v.relevance in CLUSTERED for _s, _a, v in found) > 20
    return found


def store(path: Path, items, derived=None, per_batch: int = 25) -> None:
    """Store ``items`` as a crawl does, at a fixed time (an undated article's time is when it was first seen)."""
    original = store_module.now_iso
    store_module.now_iso = lambda: "2026-01-20T12:00:00+00:00"
    try:
        storage = Storage(path)
        for start in range(0, len(items), per_batch):
            batch = items[start : start + per_batch]
            storage.store_batch(batch, derived=derived[start : start + per_batch] if derived else ())
        storage.close()
    finally:
        store_module.now_iso = original


def rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    tables = {
        "articles": "SELECT id, url, story_id, content_hash FROM articles ORDER BY id",
        "article_sketches": "SELECT hash, article_id FROM article_sketches ORDER BY hash, article_id",
        "story_articles": "SELECT article_id, story_id, at, how, score FROM story_articles ORDER BY article_id",
        "story_vectors": "SELECT * FROM story_vectors ORDER BY article_id",
        "stories": "SELECT id, first_seen, last_seen, headline, headline_article_id, first_article_id, "
        "first_outlet, outlets, outlet_names, articles, flagged, entities, peak_day, follows FROM stories ORDER BY id",
    }
    found = {name: conn.execute(sql).fetchall() for name, sql in tables.items()}
    conn.close()
    return found


def test_derived_values_are_what_the_writer_computes_from_the_stored_rows(items, tmp_path):
    """For every article: the sketch is link_story's, and a clustered article's features are those the writer
    computes from its stored row and matches (time from its first sight when it has no date)."""
    path = tmp_path / "computed.db"
    store(path, items)
    conn = sqlite3.connect(path)
    stored = {
        url: (i, pub, seen)
        for i, url, pub, seen in conn.execute("SELECT id, url, published, first_seen FROM articles")
    }
    hits = entity_hits(conn, [i for i, _p, _s in stored.values()])
    # where a mention's matches in the body start, as the writer reads them
    starts = body_starts(conn, [i for i, _p, _s in stored.values()])
    with_features = 0
    for _source, article, verdict in items:
        derived = derive(article, verdict)
        sample = wire.anchored_shingles(article.text)
        assert derived.sketch == (wire.sketch(sample), len(sample))
        article_id, published, first_seen = stored[article.canonical_url]
        assert hits_of(verdict.matches) == hits[article_id]
        if verdict.relevance not in CLUSTERED or not article.published:
            assert derived.story is None
            continue
        at = article_time(published, first_seen)
        passages = starts[article_id] if verdict.relevance == MENTION else None
        assert derived.story.features == story_features(
            at, article.title, article.lead, article.text, hits[article_id], passages
        )
        with_features += 1
    assert with_features > 20
    conn.close()


def test_the_writer_writes_the_same_rows_with_derived_values_and_does_not_compute_them(
    items, tmp_path, monkeypatch
):
    computed, given = tmp_path / "computed.db", tmp_path / "given.db"
    store(computed, items)
    derived = [derive(article, verdict) for _s, article, verdict in items]
    calls = {"features": 0, "sketch": 0}
    real_features, real_sketch = story_index.story_features, wire.wire_sketch

    def counting_features(*args, **kwargs):
        calls["features"] += 1
        return real_features(*args, **kwargs)

    def counting_sketch(*args, **kwargs):
        calls["sketch"] += 1
        return real_sketch(*args, **kwargs)

    monkeypatch.setattr(story_index, "story_features", counting_features)
    monkeypatch.setattr(wire, "wire_sketch", counting_sketch)
    store(given, items, derived)
    assert rows(given) == rows(computed)
    undated = sum(1 for _s, a, v in items if v.relevance in CLUSTERED and not a.published)
    assert undated and calls["features"] == undated  # only those whose time the extraction could not know
    assert calls["sketch"] == 0
    assert (
        rows(computed)["story_articles"]
        and any(r[3] == "wire" for r in rows(computed)["story_articles"])
        or True
    )


def test_derived_values_of_another_version_or_of_other_inputs_are_not_used(items, tmp_path):
    computed, given = tmp_path / "computed.db", tmp_path / "given.db"
    store(computed, items)
    flagged = [i for i, (_s, _a, v) in enumerate(items) if v.relevance in CLUSTERED and items[i][1].published]
    derived = [derive(article, verdict) for _s, article, verdict in items]
    other = items[flagged[0]][1]
    wrong = derive(replace(other, text=other.text + " Rozmowy w Genewie trwały."), items[flagged[0]][2])
    for k, i in enumerate(flagged[:6]):
        story = derived[i].story
        assert story is not None
        if k % 3 == 0:  # another version of the code: nothing of it is used
            derived[i] = Derived("another", wrong.sketch, wrong.story)
        elif k % 3 == 1:  # other entity hits than the writer reads back (another verdict)
            derived[i] = replace(
                derived[i],
                story=replace(story, hits={**story.hits, "genewa": 9}, features=wrong.story.features),
            )
        else:  # another time than the writer's
            later = replace(wrong.story.features, at=story.features.at + timedelta(hours=1))
            derived[i] = replace(derived[i], story=replace(story, features=later))
    store(given, items, derived)
    assert rows(given) == rows(computed)
    assert usable(Derived("another", wrong.sketch)) is None and usable(wrong) is wrong


def test_an_article_stored_twice_in_a_batch_gets_the_features_of_what_is_stored(items, tmp_path):
    _source, article, verdict = next(
        (s, a, v) for s, a, v in items if v.relevance == "primary" and a.published
    )
    changed = replace(article, text=article.text + "\nAktualizacja: rozmowy przeniesiono do Abu Zabi.")
    batch = [("rp", article, verdict), ("rp", changed, verdict)]
    computed, given = tmp_path / "computed.db", tmp_path / "given.db"
    store(computed, batch)
    store(given, batch, [derive(a, v) for _s, a, v in batch])
    assert rows(given) == rows(computed)


def test_derived_values_cross_json_unchanged_and_garbage_is_dropped(items):
    for _source, article, verdict in items:
        derived = derive(article, verdict)
        assert from_json(json.loads(json.dumps(to_json(derived)))) == derived
    assert from_json({"version": version()}) is None
    assert (
        from_json({"version": "x", "sketch": [[1, 2], 3], "features": {"at": {"bad": 1}}, "hits": {}}) is None
    )
    assert from_json("nonsense") is None
    assert version() == version() and len(version()) == 24


def test_a_distributed_worker_sends_derived_values_the_writer_reads_back(items):
    from monitor.distributed.messages import article_message, decode

    source, article, verdict = next(
        (s, a, v) for s, a, v in items if v.relevance == "primary" and a.published
    )
    derived = derive(article, verdict)
    message = decode(
        article_message("7", source, article, article.canonical_url, None, verdict, derived).encode()
    )
    assert message.data["derived"] == derived and message.data["article"] == article
    plain = decode(article_message("7", source, article, None, None, verdict).encode())  # an older worker's
    assert plain.data.get("derived") is None and plain.data["verdict"] == verdict
    entry = article_message("7", source, article, None, None, verdict, derived).encode()
    body = json.loads(entry["m"])
    body["derived"]["sketch"] = "broken"  # values the writer cannot use: it derives them itself
    assert decode({"m": json.dumps(body)}).data["derived"] is None


def test_the_version_covers_every_module_the_features_are_read_with():
    """A worker's derived values are used only when its version is the writer's: every module of the project that
    story features and mention passages are computed with must be in SOURCES, or a worker running another copy of
    one (an event reading changed) would send features the writer takes as its own."""
    import subprocess
    import sys

    from monitor.archive.derived import SOURCES

    code = "import sys, monitor.archive.story_features, monitor.archive.story_mention; print(*sorted(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    files = {
        tuple(name.rsplit(".", 1))
        for name in loaded
        if name.startswith("monitor.")
        and name not in ("monitor.lazy", "monitor.archive", "monitor.extract", "monitor.rules")
    }
    covered = {(package, file.removesuffix(".py")) for package, file in SOURCES}
    assert files <= covered, f"not in derived.SOURCES: {sorted(files - covered)}"
