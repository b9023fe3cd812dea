"""`monitor brief`, `monitor stories`, `monitor export atom --stories` and the views story_timeline and
active_stories (issue #17), on the labelled set of fixtures/stories and on bad input."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _archive_helpers import MONITOR, article, move_in_time, run
from lxml import etree

from monitor.archive import Storage
from monitor.archive.brief import brief_stories, entity_names, render_html, render_markdown
from monitor.devtools import eval_stories
from monitor.rules import classify, load_rules

DAY = ["--since", "2026-01-22", "--until", "2026-01-23"]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    db = tmp_path_factory.mktemp("brief") / "labelled.db"
    ids = eval_stories.store(db, eval_stories.load())
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db, ids


def monitor(*args: str | Path):
    return run([*MONITOR, *(str(a) for a in args)], timeout=120)


# --- the brief --------------------------------------------------------------------------------------------


def test_the_brief_ranks_the_days_stories_by_outlets(labelled):
    db, _ids = labelled
    result = monitor("brief", "--db", db, *DAY)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("Peace-talk stories, 2026-01-22 00:00 – 2026-01-23 00:00 (Warsaw time): 2")
    first, second = text.index("\n1. "), text.index("\n2. ")
    moscow, abu_dhabi = text[first:second], text[second:]
    assert "first: interia, 2026-01-20 07:42 · 9 outlets · 9 articles (3 in this window)" in moscow
    assert "Steve Witkoff" in moscow and "Władimir Putin" in moscow and "Moskwa" in moscow
    assert "https://tvn24.example.pl/swiat/a4-tvn24" in moscow
    assert "first: wp, 2026-01-21 16:00 · 4 outlets" in abu_dhabi and "Abu Zabi" in abu_dhabi
    assert "Gaza" not in text and "Hamas" not in text  # the envoy's other war is in no story


def test_a_brief_shows_what_follows_and_mentions_only_on_request(labelled):
    db, _ids = labelled
    week = monitor("brief", "--db", db, "--since", "2026-01-27", "--until", "2026-01-31")
    assert week.returncode == 0
    assert "follows: Pięć godzin rozmów na Kremlu" in week.stdout
    mentions = monitor("brief", "--db", db, "--since", "2026-01-20", "--until", "2026-01-21", "--mentions")
    plain = monitor("brief", "--db", db, "--since", "2026-01-20", "--until", "2026-01-21")
    assert "Ceny gazu w Europie" in mentions.stdout and "Ceny gazu" not in plain.stdout


def test_the_brief_as_json_and_markdown(labelled):
    db, _ids = labelled
    document = json.loads(monitor("brief", "--db", db, *DAY, "--format", "json").stdout)
    assert document["since"] == "2026-01-21T23:00:00+00:00"
    top = document["stories"][0]
    assert top["window_outlets"] == 3 and top["outlets"] == 9 and top["first_outlet"] == "interia"
    assert "Steve Witkoff" in top["people"] and len(top["links"]) == 9
    markdown = monitor("brief", "--db", db, *DAY, "--format", "markdown").stdout
    assert markdown.startswith("# Peace-talk stories")
    assert (
        "- 2026-01-22 21:30 tvn24: [Pięć godzin rozmów na Kremlu. Putin przyjął Witkoffa i Kushnera]"
        in markdown
    )


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("href", "src") and v]

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_brief_is_a_self_contained_page_fit_to_email(labelled, tmp_path):
    db, _ids = labelled
    out = tmp_path / "brief.html"
    result = monitor("brief", "--db", db, *DAY, "--format", "html", "-o", out)
    assert result.returncode == 0 and result.stderr.strip() == f"{out}: 2 stories"
    page = out.read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    assert not {"script", "link", "img", "style", "iframe"} & set(parser.tags)  # inline styles only
    assert parser.links and all(link.startswith("https://") for link in parser.links)
    assert "Pięć godzin rozmów na Kremlu" in "".join(parser.text)
    assert "<h2" in page and 'style="' in page and '<meta charset="utf-8">' in page


def test_html_and_markdown_escape_what_the_archive_holds():
    story = {
        "id": 1,
        "headline": '<script>alert("x")</script> & Putin',
        "first_outlet": "rp<b>",
        "first_seen": "2026-01-22T10:00:00+00:00",
        "outlets": 1,
        "articles": 1,
        "window_articles": 1,
        "people": ["<i>Putin</i>"],
        "places": [],
        "url": "javascript:alert(1)",
        "links": [
            {
                "at": "2026-01-22T10:00:00+00:00",
                "outlet": "rp",
                "title": "[x](javascript:y) *a*",
                "url": "javascript:z",
            }
        ],
    }
    since = datetime(2026, 1, 22, tzinfo=UTC)
    page = render_html([story], since)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<i>" not in page
    assert 'href="javascript' not in page and "href='javascript" not in page  # only http(s) links
    markdown = render_markdown([story], since)
    assert "\\[x\\]" in markdown and "\\*a\\*" in markdown and "<script>" not in markdown


def test_an_empty_window_an_empty_archive_and_a_bad_time(labelled, tmp_path):
    db, _ids = labelled
    quiet = monitor("brief", "--db", db, "--since", "2025-06-01", "--until", "2025-06-02")
    assert quiet.returncode == 0 and "No stories in this window." in quiet.stdout
    empty = tmp_path / "empty.db"
    Storage(empty).close()
    for fmt in ("text", "markdown", "html", "json"):
        result = monitor("brief", "--db", empty, "--format", fmt)
        assert result.returncode == 0, result.stderr
    assert json.loads(monitor("brief", "--db", empty, "--format", "json").stdout)["stories"] == []
    bad = monitor("brief", "--db", db, "--since", "yesterday-ish")
    assert bad.returncode == 2 and "is not a time" in bad.stderr
    backwards = monitor("brief", "--db", db, "--since", "2026-01-23", "--until", "2026-01-22")
    assert backwards.returncode == 2 and "is not after" in backwards.stderr


def test_the_brief_reads_a_read_only_archive_and_refuses_a_damaged_one(labelled, tmp_path):
    db, _ids = labelled
    copy = tmp_path / "ro.db"
    shutil.copy(db, copy)
    before = copy.read_bytes()
    copy.chmod(stat.S_IRUSR | stat.S_IRGRP)
    try:
        result = monitor("brief", "--db", copy, *DAY)
        show = monitor("stories", "show", "1", "--db", copy)
    finally:
        copy.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert result.returncode == 0 and "1. Pięć godzin rozmów" in result.stdout
    assert show.returncode == 0
    assert copy.read_bytes() == before
    damaged = tmp_path / "damaged.db"
    shutil.copy(db, damaged)
    size = damaged.stat().st_size
    with damaged.open("r+b") as handle:  # pages in the middle overwritten
        handle.seek(size // 3 // 4096 * 4096)
        handle.write(b"\x5a" * (size // 3))
    for args in (["brief", "--db", damaged, *DAY], ["stories", "rebuild", "--db", damaged]):
        broken = monitor(*args)
        assert broken.returncode == 2, broken.stdout
        lines = broken.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {damaged}: "), broken.stderr
    missing = monitor("brief", "--db", tmp_path / "nope.db")
    assert missing.returncode == 2 and "no such database" in missing.stderr
    assert not (tmp_path / "nope.db").exists()


# --- stories rebuild and show -----------------------------------------------------------------------------


def test_stories_rebuild_and_show(labelled, tmp_path):
    db, ids = labelled
    copy = tmp_path / "rebuild.db"
    shutil.copy(db, copy)
    result = monitor("stories", "rebuild", "--db", copy)
    assert result.returncode == 0, result.stderr
    assert re.match(r"31 articles in 10 stories \(\d+\.\d s\)", result.stdout)
    show = monitor("stories", "show", str(ids["a1-interia"]), "--db", copy)
    assert show.returncode == 0
    lines = show.stdout.splitlines()
    assert lines[0].startswith("Pięć godzin rozmów na Kremlu") and "(9 outlets, 9 articles)" in lines[0]
    assert "2026-01-20 07:42  interia  Media: Witkoff i Kushner polecą do Moskwy" in lines[1]
    assert "new: " in lines[2] and "putin" in lines[2]
    unknown = monitor("stories", "show", "999", "--db", copy)
    assert (
        unknown.returncode == 1 and unknown.stderr.startswith("error: ") and "no story 999" in unknown.stderr
    )
    read_only = tmp_path / "ro.db"
    shutil.copy(db, read_only)
    read_only.chmod(stat.S_IRUSR)
    try:
        refused = monitor("stories", "rebuild", "--db", read_only)
    finally:
        read_only.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert refused.returncode == 2 and "read-only" in refused.stderr


# --- the views --------------------------------------------------------------------------------------------


def test_story_timeline_says_what_each_article_added(labelled):
    db, ids = labelled
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM story_timeline WHERE story_id = ?", [ids["b1-pap-wp"]]).fetchall()
    conn.close()
    assert [r["outlet"] for r in rows] == ["wp", "polskieradio24", "rmf24", "onet"]
    assert rows[0]["how"] == "new" and rows[1]["how"] == "similar" and rows[1]["score"] > 0
    first = set(rows[0]["new_entities"].split(", "))
    assert {"abu_zabi", "driscoll", "umierow"} <= first
    assert "budanow" in rows[2]["new_entities"]  # Budanow first speaks on RMF24
    assert not any(e in (rows[2]["new_entities"] or "") for e in ("abu_zabi", "driscoll"))  # not new any more
    assert rows[0]["new_terms"]


def test_active_stories_ranks_recent_coverage_by_outlets_and_growth(tmp_path):
    ruleset = load_rules()
    now = datetime.now(UTC)
    items = [
        a
        for a in eval_stories.load()
        if a["story"] in ("abu-zabi-wojskowi", "erdogan-stambul", "paryz-koalicja")
    ]
    offsets = {  # hours ago: Abu Dhabi growing over the last day, Istanbul yesterday, Paris a week ago
        "b1-pap-wp": 30, "b2-polskieradio24": 20, "b3-rmf24": 10, "b4-onet": 2,
        "i1-polskieradio24": 40, "i2-dziennik": 36,
        "e1-rp": 200, "e2-polsatnews": 199, "e3-tvn24": 190,
    }  # fmt: skip
    db = tmp_path / "active.db"
    with Storage(db) as storage:  # clustered at their own times, then moved (move_in_time)
        for item in sorted(items, key=lambda a: a["published"]):
            storage.store_batch(
                [
                    (
                        item["outlet"],
                        article(
                            url=item["url"],
                            title=item["title"],
                            lead=item["lead"],
                            text=item["text"],
                            published=item["published"],
                        ),
                        classify(ruleset, item["title"], item["lead"], item["text"]),
                    )
                ]
            )
    move_in_time(
        db,
        {
            item["url"]: (now - timedelta(hours=offsets[item["id"]])).isoformat(timespec="seconds")
            for item in items
        },
    )
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM active_stories").fetchall()
    conn.close()
    assert len(rows) == 2  # Paris, a week old, is not active
    top, second = rows
    assert "Abu Zabi" in top["headline"] and top["outlets_48h"] == 4 and top["articles_48h"] == 4
    assert (top["last_24h"], top["previous_24h"], top["growth"]) == (3, 1, 2)
    assert "Stambuł" in second["headline"] or "negocjacji" in second["headline"]
    assert (second["last_24h"], second["previous_24h"], second["growth"]) == (0, 2, -2)


# --- Atom, one entry per story ----------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def test_export_atom_stories_has_one_entry_per_story_updated_as_it_grows(labelled, tmp_path):
    db, ids = labelled
    out = tmp_path / "stories.atom"
    result = monitor("export", "atom", "--stories", "--db", db, "-o", out)
    assert result.returncode == 0, result.stderr
    feed = etree.parse(str(out)).getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 8  # the ten stories less the two made only of passing mentions
    by_id = {e.findtext(f"{ATOM}id"): e for e in entries}
    moscow = by_id[f"tag:pl-peace-monitor,2026:story:{ids['a1-interia']}"]
    assert moscow.findtext(f"{ATOM}published") == "2026-01-20T06:42:00+00:00"
    assert "9 outlets, 9 articles" in moscow.findtext(f"{ATOM}summary")
    assert len(moscow.findall(f"{ATOM}link[@rel='related']")) == 8
    assert {c.get("term") for c in moscow.findall(f"{ATOM}category")} >= {"interia", "tvn24", "gazeta"}
    # a new article joins: the same entry id, a later `updated`, one more article. `updated` is when an article
    # last joined, to the second: the copy's stories are made a day older first, so that a join in the same second
    # as the fixture's own cannot look like no change
    grown = tmp_path / "grown.db"
    shutil.copy(db, grown)
    with sqlite3.connect(grown) as conn:
        conn.execute("UPDATE story_articles SET joined = '2026-01-01T00:00:00+00:00'")
        conn.execute("UPDATE stories SET updated = '2026-01-01T00:00:00+00:00'")
    conn.close()
    before_feed = etree.fromstring(monitor("export", "atom", "--stories", "--db", grown).stdout.encode())
    before = next(
        e
        for e in before_feed.findall(f"{ATOM}entry")
        if e.findtext(f"{ATOM}id").endswith(f":{ids['a1-interia']}")
    ).findtext(f"{ATOM}updated")
    assert before == "2026-01-01T00:00:00+00:00"
    with Storage(grown) as storage:
        item = next(a for a in eval_stories.load() if a["id"] == "a6-rp")
        storage.store_batch(
            [
                (
                    "dziennik",
                    article(
                        url="https://dziennik.example.pl/swiat/kreml-po-rozmowach",
                        title="Kreml po rozmowach z Witkoffem i Kushnerem",
                        lead=item["lead"],
                        text=item["text"]
                        + "\n\nDziennik przypomina, że rozmowy na Kremlu trwały ponad pięć godzin.",
                        published="2026-01-23T10:00:00+01:00",
                    ),
                    classify(load_rules(), item["title"], item["lead"], item["text"]),
                )
            ]
        )
    again = etree.fromstring(monitor("export", "atom", "--stories", "--db", grown).stdout.encode())
    entry = next(
        e for e in again.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith(f":{ids['a1-interia']}")
    )
    assert entry.findtext(f"{ATOM}updated") > before
    assert "10 outlets, 10 articles" in entry.findtext(f"{ATOM}summary")
    plain = etree.fromstring(monitor("export", "atom", "--db", db).stdout.encode())
    assert len(plain.findall(f"{ATOM}entry")) == 29  # the per-article feed is unchanged beside it


def test_brief_stories_names_entities_the_rules_do_not_know_by_id(labelled):
    db, _ids = labelled
    conn = sqlite3.connect(db)
    found = brief_stories(conn, datetime(2026, 1, 22, tzinfo=UTC), entities={})
    conn.close()
    assert found and all(story["people"] == [] for story in found)
    assert "putin" in entity_names() and entity_names()["putin"].kind == "person"


def test_every_story_command_and_option_is_documented():
    import click

    from monitor.cli.archive import export
    from monitor.cli.stories import brief, stories

    docs = (Path(__file__).resolve().parent.parent / "docs" / "stories.md").read_text(encoding="utf-8")
    commands = {
        "brief": brief,
        "stories rebuild": stories.commands["rebuild"],
        "stories show": stories.commands["show"],
        "export atom --stories": export.commands["atom"],
    }
    for name, command in commands.items():
        assert f"`monitor {name}" in docs, name
        if name.startswith("export"):
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in docs for opt in param.opts), f"monitor {name} {param.opts}"
