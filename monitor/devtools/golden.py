"""Regenerate the truth files of golden pages for a person to review (``git diff`` shows what changed).

``python -m monitor.devtools.golden fixtures/articles/<outlet>/<slug>.html [...]`` runs the extractor on each page and
rewrites the extracted fields of its ``<slug>.json`` (title, published, modified, authors, paywalled, lead),
keeping the hand-written parts (url, fetched_at, content_type, with, without, cases). Snippets the new output
no longer satisfies are listed, so a reviewer sees at once whether the page or the extractor is wrong.
A page without a JSON file gets a new one with empty snippet lists to fill in.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from monitor.extract import NotAnArticle, extract_article

EXTRACTED = ("title", "published", "modified", "authors", "paywalled", "lead", "credits")


def regenerate(page: Path) -> list[str]:
    """Rewrite ``page``'s JSON; return one line per snippet that no longer holds."""
    spec = page.with_suffix(".json")
    truth = json.loads(spec.read_text(encoding="utf-8")) if spec.exists() else {}
    truth.setdefault("url", f"https://example.invalid/{page.stem}")
    fetched = truth.get("fetched_at")
    article = extract_article(
        truth["url"],
        page.read_bytes(),
        content_type=truth.get("content_type"),
        fetched_at=datetime.fromisoformat(fetched) if fetched else None,
        min_words=0,
    )
    for key in EXTRACTED:
        truth[key] = getattr(article, key)
    truth.setdefault("with", [])
    truth.setdefault("without", [])
    truth.setdefault("cases", [])
    spec.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    text = " ".join(article.text.split())
    problems = [f"{page}: missing {s!r}" for s in truth["with"] if " ".join(s.split()) not in text]
    problems += [f"{page}: kept boilerplate {s!r}" for s in truth["without"] if " ".join(s.split()) in text]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for page in args.pages:
        try:
            problems = regenerate(page)
        except (OSError, ValueError, NotAnArticle) as exc:
            print(f"{page}: {exc}", file=sys.stderr)
            status = 1
            continue
        for line in problems:
            print(line)
        status = status or (1 if problems else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
