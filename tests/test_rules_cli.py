"""The rules' commands as a user runs them (subprocesses): classify, classify --explain, rescore, rules."""

from __future__ import annotations

import functools
import http.server
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from _env import ENV

from monitor.archive import Storage
from monitor.extract import extract_article
from monitor.rules import Match, RulesError, Verdict, parse_rules

ROOT = Path(__file__).resolve().parent.parent
MONITOR = [sys.executable, "-m", "monitor.cli"]
PEACE = ROOT / "fixtures/sites/interia/articles/pieskow-wizyta-amerykanow.html"
WEATHER = ROOT / "fixtures/sites/interia/articles/siarczysty-mroz-ostrzezenia-imgw.html"


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120, **kwargs)


def test_classify_json_lines_have_the_documented_shape():
    line = json.dumps(
        {"id": 7, "title": "Kreml o planie pokojowym", "lead": "", "text": "Pieskow: rozejm.", "url": "x"}
    )
    result = run([*MONITOR, "classify"], input=line + "\n")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["id", "flagged", "relevance", "score", "ruleset", "matches"]
    assert out["id"] == 7 and out["matches"]
    assert list(out["matches"][0]) == ["rule", "term", "entity", "field", "start", "end", "snippet"]


def test_explain_a_saved_page():
    result = run([*MONITOR, "classify", "--explain", str(PEACE)])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Pieskow o wizycie Amerykanów")
    assert "relevance: primary" in out and "(primary ≥ 7, mention ≥ 2)" in out
    assert "talks_in_title" in out and "× title 3" in out and "[projekt porozumienia]" in out


def test_explain_a_url_on_loopback():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(PEACE.parent))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{WEATHER.name}"
        result = run([*MONITOR, "classify", "--explain", url])
        missing = run([*MONITOR, "classify", "--explain", f"http://127.0.0.1:{server.server_port}/nope.html"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert url in result.stdout and "relevance: none" in result.stdout
    assert missing.returncode == 2 and "cannot fetch" in missing.stderr and "404" in missing.stderr


def test_explain_reports_a_missing_file_in_one_line(tmp_path):
    result = run([*MONITOR, "classify", "--explain", str(tmp_path / "nope.html")])
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "cannot read" in result.stderr


def stored(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT title, relevance, ruleset FROM articles ORDER BY id").fetchall()
    finally:
        conn.close()


def test_rescore_rewrites_verdicts_and_reports_what_changed(tmp_path):
    db = tmp_path / "m.db"
    peace = extract_article("https://wydarzenia.interia.pl/a,nId,1", PEACE.read_bytes())
    weather = extract_article("https://wydarzenia.interia.pl/b,nId,2", WEATHER.read_bytes())
    stale = Match("old", "old", "old", "title", 0, 3, "[old]")
    with Storage(db) as storage:
        storage.store_batch(
            [
                ("interia", peace, Verdict("none", 0.0, "old")),
                ("interia", weather, Verdict("primary", 9, "old", [stale])),
            ]
        )
    dry = run([*MONITOR, "rescore", "--db", str(db), "--dry-run"])
    assert dry.returncode == 0, dry.stderr
    assert "Would re-score 2 article(s)" in dry.stdout
    assert [r[1] for r in stored(db)] == ["none", "primary"]

    result = run([*MONITOR, "rescore", "--db", str(db)])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Re-scored 2 article(s)" in out and "2 changed relevance" in out
    assert "newly flagged: 1" in out and "unflagged: 1" in out and "tier changed: 0" in out
    assert "Pieskow o wizycie" in out and "primary→none 1" in out
    rows = stored(db)
    assert [r[1] for r in rows] == ["primary", "none"] and rows[0][2] != "old"
    conn = sqlite3.connect(db)
    rules = {r[0] for r in conn.execute("SELECT rule FROM matches")}
    entities = {r[0] for r in conn.execute("SELECT entity FROM matches WHERE entity IS NOT NULL")}
    conn.close()
    assert "old" not in rules and "talks_in_title" in rules and "pieskow" in entities

    again = run([*MONITOR, "rescore", "--db", str(db)])  # a finished rescore is not done again (#15)
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    restarted = run([*MONITOR, "rescore", "--db", str(db), "--restart"])
    assert "0 changed relevance, 2 kept it" in restarted.stdout


def test_rescore_without_a_database(tmp_path):
    result = run([*MONITOR, "rescore", "--db", str(tmp_path / "none.db")])
    assert result.returncode == 2 and "no such database" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_rules_check_and_forms():
    check = run([*MONITOR, "rules", "check"])
    assert check.returncode == 0, check.stderr
    assert "0 failing" in check.stdout
    forms = run([*MONITOR, "rules", "forms", "pieskow", "szczyt:masculine", "nonsense"])
    assert forms.returncode == 1
    assert "pieskowem" in forms.stdout and "pieskowowi" in forms.stdout and "szczycie" in forms.stdout
    assert "nonsense" in forms.stderr


HEAD = "[ruleset]\nname='x'\nprimary=2\nmention=1\n"
GROUP = "[groups.talks]\nterms=['rozmow*']\n"
RULE = "[[rule]]\nid='r'\nall=['talks']\nweight=1\n"
ENTITY = "[[entity]]\nid='{id}'\nname='X'\ntype='person'\nside='{side}'\nforms=['x']\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEAD + GROUP + "[[rule]]\nid='r'\nall=['talks']\nwieght=1\n",
            "rule 'r' (entry 1), field 'wieght': unknown key (did you mean 'weight'?)",
        ),
        (HEAD + GROUP + RULE + "[rulez]\n", "top level, field 'rulez': unknown key (did you mean 'rule'?)"),
        (HEAD + "[groups.talks]\nterms=[]\n" + RULE, "group 'talks', field 'terms': empty group"),
        (
            HEAD + "[groups.talks]\nterms=['rozmowy-pokojowe']\n" + RULE,
            "group 'talks', field 'terms': 'rozmowy-pokojowe': a hyphen",
        ),
        (
            HEAD + "[groups.talks]\nterms=['Rozmowy']\n" + RULE,
            "group 'talks', field 'terms': 'Rozmowy': write terms in lower case",
        ),
        (HEAD + "[groups.talks]\nterms=['ro*']\n" + RULE, "'ro*': a stem needs 3+ letters"),
        (HEAD + "[groups.talks]\nterms=['szczyt:masculin']\n" + RULE, "unknown paradigm 'masculin'"),
        (HEAD + GROUP + RULE + RULE, "rule 'r' (entry 2), field 'id': duplicate id"),
        (
            HEAD + GROUP + ENTITY.format(id="a", side="russia") * 2 + RULE,
            "entity 'a' (entry 2), field 'id': duplicate id",
        ),
        (
            HEAD + GROUP + ENTITY.format(id="talks", side="russia") + RULE,
            "entity 'talks' (entry 1), field 'id': duplicate id (already a group)",
        ),
        (
            HEAD + GROUP + ENTITY.format(id="a", side="rusia") + RULE,
            "entity 'a' (entry 1), field 'side': unknown side 'rusia'",
        ),
        (
            HEAD + GROUP + "[[rule]]\nid='r'\nall=['talk']\nweight=1\n",
            "rule 'r' (entry 1), field 'all': unknown group, entity or selector 'talk' (did you mean 'talks'?)",
        ),
        (
            HEAD + GROUP + "[[rule]]\nid='r'\nall=['talks']\nweight=1\nfields=['headline']\n",
            "field 'fields': unknown field 'headline'",
        ),
        (
            HEAD + GROUP + "[[rule]]\nid='r'\nall=['talks']\nweight='1'\n",
            "rule 'r' (entry 1), field 'weight': must be a number",
        ),
        (
            HEAD + GROUP + "[[rule]]\nid='r'\nall=['talks']\nweight=1\nexamples_fire=[{tytul='x'}]\n",
            "field 'tytul': unknown key (did you mean 'title'?)",
        ),
        (HEAD + GROUP + RULE + "[paradigms.m]\nendings=['a!']\n", "paradigm 'm', field 'endings': 'a!'"),
    ],
)
def test_bad_rules_files_say_file_entry_and_field(text, message):
    with pytest.raises(RulesError) as info:
        parse_rules(text, "bad.toml")
    assert str(info.value).startswith("bad.toml: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_crawl_refuses_to_start_with_a_bad_rules_file(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(HEAD + GROUP + "[[rule]]\nid='r'\nall=['talks']\nwieght=1\n", encoding="utf-8")
    db = tmp_path / "m.db"
    result = run([*MONITOR, "crawl", "--db", str(db), "--rules", str(rules)])
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert f"{rules}: rule 'r' (entry 1), field 'wieght': unknown key" in result.stderr
    assert not db.exists()
    classify = run([*MONITOR, "classify", "--rules", str(rules)], input="")
    assert classify.returncode == 2 and "field 'wieght'" in classify.stderr
