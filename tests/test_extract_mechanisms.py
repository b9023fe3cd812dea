"""Extraction mechanisms, one project-written page each (fixtures/extraction/<mechanism>/<case>.html + .json).

Each page reproduces a markup pattern the extractor once got wrong — decoding, parsing, prose in other scripts,
boilerplate judged by structure, the lead, the date fallback, bodies split over several blocks, credits and
widgets. The JSON holds what a correct extraction gives: exact fields where it names them (title, published,
published_source, authors, credits, language, lead), snippets the body must and must not contain, or the reason a
page is refused.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from monitor.extract import NotAnArticle, extract_article

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "extraction"
SPECS = sorted(CASES.glob("*/*.json"))
EXACT = ("title", "published", "published_source", "authors", "credits", "language", "lead", "paywalled")


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_mechanism_has_pages():
    mechanisms = {spec.parent.name for spec in SPECS}
    assert len(SPECS) >= 3 and mechanisms


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s.parent.name}/{s.stem}" for s in SPECS])
def test_extraction_case(spec: Path):
    truth = json.loads(spec.read_text(encoding="utf-8"))
    fetched = truth.get("fetched_at")
    run = {
        "content_type": truth.get("content_type"),
        "fetched_at": datetime.fromisoformat(fetched) if fetched else None,
    }
    body = spec.with_suffix(".html").read_bytes()
    if "not_article" in truth:
        with pytest.raises(NotAnArticle, match=truth["not_article"]):
            extract_article(truth["url"], body, **run)
        return
    article = extract_article(truth["url"], body, **run)
    for key in EXACT:
        if key in truth:
            assert getattr(article, key) == truth[key], key
    text = _flat(article.text)
    for snippet in truth.get("with", []):
        assert _flat(snippet) in text, f"missing: {snippet}"
    for snippet in truth.get("without", []):
        assert _flat(snippet) not in text, f"kept: {snippet}"
