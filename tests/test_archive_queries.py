"""Every SQL query documented in docs/queries.md runs against the demo database; the README's too."""

from __future__ import annotations

import re
import sqlite3

import pytest
from _archive_helpers import ROOT, demo_db

QUERIES = ROOT / "docs" / "queries.md"
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def documented(path) -> list[str]:
    return [block.strip() for block in SQL_BLOCK.findall(path.read_text(encoding="utf-8"))]


def test_queries_md_has_at_least_twelve_queries():
    assert len(documented(QUERIES)) >= 12


@pytest.mark.parametrize("sql", documented(QUERIES), ids=lambda sql: sql.splitlines()[0][:60])
def test_every_documented_query_runs_on_the_demo_database(sql, tmp_path_factory):
    conn = sqlite3.connect(f"file:{demo_db(tmp_path_factory)}?mode=ro", uri=True)
    try:
        conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_readme_queries_run_too(tmp_path_factory):
    conn = sqlite3.connect(f"file:{demo_db(tmp_path_factory)}?mode=ro", uri=True)
    for block in documented(ROOT / "README.md"):
        for statement in filter(None, (s.split("--")[0].strip() for s in block.splitlines())):
            conn.execute(statement).fetchall()
    conn.close()


def test_the_key_questions_have_answers_in_the_demo(tmp_path_factory):
    conn = sqlite3.connect(f"file:{demo_db(tmp_path_factory)}?mode=ro", uri=True)
    blocks = {sql.split("\n")[0]: sql for sql in documented(QUERIES)}
    both = next(sql for sql in blocks.values() if "witkoff* AND putin*" in sql)
    assert conn.execute(both).fetchall(), "the demo has stories naming both Witkoff and Putin"
    why = next(sql for sql in blocks.values() if "%kushner%witkoff%" in sql)
    assert conn.execute(why).fetchall()
    assert conn.execute(
        next(s for s in blocks.values() if "per outlet per week" in s or "%Y-W%W" in s)
    ).fetchall()
    conn.close()
