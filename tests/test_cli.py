"""The `monitor` command and Scrapy's own commands, run as a user would, in subprocesses."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from _archive_helpers import demo_run
from _env import ENV
from _fault_helpers import own_lines

ROOT = Path(__file__).resolve().parent.parent
MONITOR = [sys.executable, "-m", "monitor.cli"]


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=kwargs.pop("cwd", ROOT), env=ENV, capture_output=True, text=True, timeout=300, **kwargs
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_prints_summary_and_flags_the_seed_story(tmp_path_factory):
    db, out, err = demo_run(tmp_path_factory)  # the session's demo crawl (exit status 0 checked there)
    assert "outlet" in out and "discovered" in out and "flagged" in out
    assert "Kushner i Witkoff" in out
    assert "Traceback" not in out + err
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert conn.execute("SELECT count(*) FROM peace_talks").fetchone()[0] >= 6


def dead_sources(tmp_path: Path, *names: str) -> Path:
    """A sources file whose outlets each live on their own closed loopback port (a host belongs to one outlet)."""
    sources = tmp_path / "sources.toml"
    blocks = []
    for name in names:
        port = closed_port()
        blocks.append(
            f'[[outlet]]\nname = "{name}"\ndomains = ["127.0.0.1:{port}"]\n'
            f'feeds = ["http://127.0.0.1:{port}/{name}.xml"]\narticle_pattern = ",nId,"\n'
        )
    sources.write_text("\n".join(blocks))
    return sources


def test_crawl_reports_each_unreachable_source_in_one_line(tmp_path):
    sources = dead_sources(tmp_path, "alpha", "beta")
    port = int(sources.read_text().split("127.0.0.1:")[1].split('"')[0])
    db = tmp_path / "m.db"
    result = run([*MONITOR, "crawl", "--db", str(db), "--sources", str(sources), "-s", "RETRY_TIMES=0"])
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2
    assert lines[0].startswith("alpha: unreachable") and f"127.0.0.1:{port}/alpha.xml" in lines[0]
    assert lines[1].startswith("beta: unreachable")
    assert "Traceback" not in result.stdout + result.stderr


def test_crawl_refuses_a_broken_sources_file_without_touching_the_database(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[outlet]]\nname = "x"\ndomains = ["x.pl"]\nfeeds = ["https://x.pl/f"]\narticle_pattern = "("\n'
    )
    db = tmp_path / "m.db"
    result = run([*MONITOR, "crawl", "--db", str(db), "--sources", str(sources)])
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert (
        "sources.toml: outlet 'x' (entry 1), field 'article_pattern': invalid regular expression"
        in result.stderr
    )
    assert not db.exists()


def test_crawl_rejects_an_unknown_source_name(tmp_path):
    result = run([*MONITOR, "crawl", "--db", str(tmp_path / "m.db"), "--source", "nosuchoutlet"])
    assert result.returncode == 2
    assert "unknown source(s) nosuchoutlet" in result.stderr


def test_classify_reads_json_lines(tmp_path):
    lines = [
        {
            "id": "a",
            "title": "Witkoff i Kushner na Kremlu. Rozmowy o planie pokojowym",
            "text": "Putin i Zełenski, negocjacje w sprawie Ukrainy i Rosji, rozejm.",
        },
        {"id": "b", "title": "Pogoda na weekend", "text": "Będzie mroźno."},
    ]
    result = run([*MONITOR, "classify"], input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["flagged"], o["relevance"]) for o in out] == [
        ("a", True, "primary"),
        ("b", False, "none"),
    ]
    assert out[0]["matches"] and {"rule", "term", "field", "start", "end", "snippet"} <= set(
        out[0]["matches"][0]
    )
    bad = run([*MONITOR, "classify"], input='{"id": 1}\nnot json\n')
    assert bad.returncode == 1 and "<stdin>:2:" in bad.stderr and len(bad.stdout.splitlines()) == 1


def test_extract_prints_json_and_reports_non_articles(tmp_path):
    page = next((ROOT / "fixtures" / "sites").glob("*/articles/*.html"))
    empty = tmp_path / "empty.html"
    empty.write_text("")
    result = run([*MONITOR, "extract", str(page), str(empty)])
    assert result.returncode == 1
    record = json.loads(result.stdout.splitlines()[0])
    assert record["title"] and record["language"] == "pl" and record["date_candidates"]
    assert "empty.html: not an article: empty page" in result.stderr


def test_scrapy_list_and_shell_on_a_saved_page():
    listed = run([sys.executable, "-m", "scrapy", "list"])
    assert listed.stdout.split() == ["news"]
    page = next((ROOT / "fixtures" / "sites").glob("*/articles/*.html")).relative_to(ROOT)
    shell = run(
        [sys.executable, "-m", "scrapy", "shell", f"./{page}", "-c", "response.css('h1::text').get()"]
    )
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stdout.strip()


def test_extract_fetches_a_url_and_reports_unreachable_ones(tmp_path):
    import http.server
    import threading
    from functools import partial

    page = next((ROOT / "fixtures" / "sites" / "rmf24" / "articles").glob("*.html"))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(page.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
        dead = f"http://127.0.0.1:{closed_port()}/x.html"
        result = run([*MONITOR, "extract", url, dead])
    finally:
        server.shutdown()
    assert result.returncode == 1
    record = json.loads(result.stdout.splitlines()[0])
    assert record["url"] == url and record["language"] == "pl" and record["published"]
    assert set(record) >= {
        "canonical_url",
        "title",
        "authors",
        "published_source",
        "modified",
        "date_candidates",
        "lead",
        "text",
        "paywalled",
        "words",
    }
    (line,) = own_lines(result.stderr)
    assert line.startswith(dead) and "refused" in line.lower()


def healthy_archive(db: Path) -> None:
    """An archive whose last run went well (exit status 0 if it were reported again)."""
    from monitor.archive import Storage

    storage = Storage(db)
    run_id = storage.start_run("news", ["alpha"])
    storage.finish_run(run_id, "finished", {"alpha": {"discovered": 3, "fetched": 3, "stored": 3, "new": 3}})
    storage.close()


def test_a_bad_setting_value_is_one_line_naming_it_with_no_summary_of_an_earlier_run(tmp_path):
    db = tmp_path / "m.db"
    healthy_archive(db)
    sources = dead_sources(tmp_path, "alpha")
    for setting in ("DOWNLOAD_DELAY=abc", "MONITOR_BATCH_SIZE=many", "ROBOTSTXT_OBEY=perhaps"):
        result = run([*MONITOR, "crawl", "--db", str(db), "--sources", str(sources), "-s", setting])
        assert result.returncode == 2, (setting, result.stdout, result.stderr)
        assert result.stdout == "", setting  # no summary, least of all the previous run's
        (line,) = own_lines(result.stderr)
        assert line.startswith("error: ") and setting.split("=")[0] in line
    runs = sqlite3.connect(db).execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
    assert runs == 1


def test_a_crawl_that_cannot_start_says_so_in_one_line_and_reports_no_earlier_run(tmp_path):
    """A value of the right type that still breaks start-up (here: an unknown scheduler class)."""
    db = tmp_path / "m.db"
    healthy_archive(db)
    sources = dead_sources(tmp_path, "alpha")
    result = run(
        [*MONITOR, "crawl", "--db", str(db), "--sources", str(sources), "-s", "SCHEDULER=no.such.Scheduler"]
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = own_lines(result.stderr)
    assert line.startswith("error: the crawl could not start") and "SCHEDULER" in line
    assert "Traceback" not in result.stderr


def test_setting_values_are_checked_against_the_type_of_their_default():
    from monitor.cli.settings_check import check_values, culprit

    given = {
        "DOWNLOAD_DELAY": "0.5",
        "DOWNLOAD_TIMEOUT": "2.5",
        "RETRY_TIMES": "x",
        "ROBOTSTXT_OBEY": "False",
        "COOKIES_ENABLED": "maybe",
        "DOWNLOAD_SLOTS": "[1]",
        "MONITOR_DB": "anything",
        "SOMETHING_ELSE": "whatever",
    }
    assert check_values(given) == [
        "-s RETRY_TIMES=x: expects a number",
        "-s COOKIES_ENABLED=maybe: expects True or False",
        "-s DOWNLOAD_SLOTS=[1]: expects a JSON object",
    ]
    assert culprit(ValueError("invalid literal for int() with base 10: '2.5'"), {"A": "1", "B": "2.5"}) == "B"
    assert culprit(ModuleNotFoundError("No module named 'no'", name="no"), {"S": "no.such.Thing"}) == "S"
    assert culprit(ValueError("something else"), {"A": "1"}) is None


def test_classify_writes_every_valid_line_and_names_each_bad_one(tmp_path):
    good = {
        "id": "a",
        "title": "Witkoff i Kushner na Kremlu. Rozmowy o planie pokojowym",
        "text": "Putin, rozejm.",
    }
    lines = [
        json.dumps(good, ensure_ascii=False).encode(),
        b'{"id": "b", "title": 5}',
        b'{"id": "c", "title": "Zle\xff\xfe bajty"}',
        b"",
        json.dumps({**good, "id": "d"}).encode(),
        b"not json",
        b"[1, 2]",
        b'{"id": "e", "text": ["lista"]}',
        b'{"id": {"x": 1}, "lead": null, "text": "Pogoda"}',
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = subprocess.run(
        [*MONITOR, "classify", str(path)], cwd=ROOT, env=ENV, capture_output=True, timeout=300
    )
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [o["id"] for o in out] == ["a", "d", {"x": 1}]
    errors = own_lines(result.stderr.decode())
    assert [e.removeprefix(f"error: {path}:").split(":")[0] for e in errors] == ["2", "3", "6", "7", "8"]
    assert all(e.startswith(f"error: {path}:") for e in errors)
    assert "'title'" in errors[0] and "UTF-8" in errors[1] and "'text'" in errors[4]
    assert "Traceback" not in result.stderr.decode()
    nothing = run([*MONITOR, "classify"], input="nope\n")
    assert nothing.returncode == 2 and nothing.stdout == "" and "<stdin>:1:" in nothing.stderr


def _archive(db: Path) -> None:
    from monitor.archive import Storage

    Storage(db).close()


def test_serve_leaves_no_temporary_folder_behind_and_answers(tmp_path):
    import re
    import signal
    import time
    import urllib.request

    db = tmp_path / "m.db"
    _archive(db)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**ENV, "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        [*MONITOR, "serve", "--db", str(db), "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        address = None
        while address is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            address = found.group(1) if found else None
        assert address, "the server did not start"
        with urllib.request.urlopen(f"{address}/m/sources.json") as response:
            assert response.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert list(scratch.iterdir()) == []  # nothing left behind (a monitor-serve-* folder was, every run)


def test_serve_warns_when_it_listens_beyond_loopback(tmp_path, monkeypatch):
    import uvicorn
    from click.testing import CliRunner

    from monitor.cli import main
    from monitor.cli.archive import is_loopback

    db = tmp_path / "m.db"
    _archive(db)
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(kwargs))
    runner = CliRunner()
    public = runner.invoke(main, ["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8123"])
    assert public.exit_code == 0, public.output
    assert (
        "warning: listening on 0.0.0.0:8123: anyone who can reach it can read the whole archive"
        in public.stderr
    )
    assert "reverse proxy with authentication" in public.stderr
    local = runner.invoke(main, ["serve", "--db", str(db)])
    assert local.exit_code == 0 and "warning" not in local.stderr
    assert [s["host"] for s in served] == ["0.0.0.0", "127.0.0.1"]
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert (
        not is_loopback("0.0.0.0")
        and not is_loopback("192.168.1.5")
        and not is_loopback("monitor.example.pl")
    )


def test_each_command_is_found_in_the_module_that_registers_it_and_a_reading_command_loads_no_extraction():
    import importlib

    import click

    from monitor.cli.main import COMMANDS

    registered = {}
    for module in set(COMMANDS.values()):
        group = click.Group()
        importlib.import_module(f"monitor.cli.{module}").register(group)
        registered.update(dict.fromkeys(group.commands, module))
    assert registered == COMMANDS
    # A reading command imports neither the extraction (trafilatura) nor the clustering (simplemma) nor Scrapy,
    # nor the rules engine.
    probe = (
        "import sys\nfrom monitor.cli.main import main\n"
        "try:\n    main(['report', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('trafilatura', 'simplemma', 'scrapy', 'monitor.archive.clusters', "
        "'monitor.rules.engine') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
