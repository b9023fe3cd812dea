"""The packaged rules on the fixture mirror's pages: peace stories flagged, the others not (fast twin of the
end-to-end crawl's assertion), and on the golden article fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.devtools.mirror import default_sites_dir, load_sites
from monitor.extract import NotAnArticle, extract_article
from monitor.rules import classify, load_rules

PAGES = [
    pytest.param(page, id=f"{site.folder.name}/{page.file.name}")
    for site in load_sites(default_sites_dir())
    for page in site.pages
    if page.file is not None and page.expect.get("article") and "flagged" in page.expect
]


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize("page", PAGES)
def test_mirror_page_verdict(rules, page):
    try:
        article = extract_article(page.url, page.file.read_bytes())
    except NotAnArticle:  # pragma: no cover - the expectations say these are articles
        pytest.fail(f"{page.file} is not an article")
    verdict = classify(rules, article.title, article.lead, article.text)
    assert verdict.flagged == page.expect["flagged"], (page.expect.get("kind"), verdict.score, article.title)
    if page.expect.get("kind") == "peace":
        assert any(m.field in ("title", "lead") for m in verdict.matches)


def test_mirror_has_peace_and_other_pages():
    kinds = {p.values[0].expect.get("kind") for p in PAGES}
    assert {"peace", "war", "other-peace", "unrelated"} <= kinds


GOLDEN = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "articles").glob("*/*.html"))


@pytest.mark.parametrize("path", GOLDEN, ids=[f"{p.parent.name}/{p.stem}" for p in GOLDEN])
def test_golden_articles_never_crash(rules, path):
    try:
        article = extract_article(path.resolve().as_uri(), path.read_bytes())
    except NotAnArticle:
        return
    verdict = classify(rules, article.title, article.lead, article.text)
    assert verdict.relevance in ("primary", "mention", "none")
