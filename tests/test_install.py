"""Every way of installing works: a wheel in a fresh virtual environment, run from an empty folder outside the
tree, and a Scrapyd egg that Scrapyd's own runner loads. Built offline (setuptools comes with the test extra)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

# What a build reads; the copy keeps build/ and *.egg-info out of the working tree.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "scrapy.cfg", "monitor", "spiders")


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, check: bool = True):
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def source_copy(tmp: Path) -> Path:
    tree = tmp / "src"
    tree.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, tree / name)
    return tree


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SCRAPY_", "VIRTUAL_ENV"))}
    return {**env, **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A wheel built from a copy of the tree, installed without dependencies into a fresh venv whose
    dependencies come from the test environment's site-packages (read through a .pth line, so the project's
    own editable install there is not seen). Returns (venv bin folder, an empty work folder)."""
    tmp = tmp_path_factory.mktemp("install")
    tree = source_copy(tmp)
    dist = tmp / "dist"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        dist,
        tree,
        cwd=tmp,
        env=clean_env(),
    )
    (wheel,) = dist.glob("pl_peace_monitor-*.whl")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    bin_dir = venv / "bin"
    site = Path(
        run(
            bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp
        ).stdout.strip()
    )
    (site / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        bin_dir / "python",
        "install",
        "--no-deps",
        "-q",
        wheel,
        cwd=tmp,
        env=clean_env(),
    )
    work = tmp / "empty"
    work.mkdir()
    return bin_dir, work


@pytest.mark.slow  # its fixture builds a wheel and a virtual environment
def test_the_wheel_runs_outside_the_tree(installed):
    bin_dir, work = installed
    env = clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    where = run(
        bin_dir / "python", "-c", "import monitor, spiders; print(monitor.__file__)", cwd=work, env=env
    )
    assert str(bin_dir.parent) in where.stdout, where.stdout
    assert "Monitor Polish news" in run(bin_dir / "monitor", "--help", cwd=work, env=env).stdout
    page = FIXTURES / "sites" / "interia" / "articles"
    first = sorted(page.glob("*.html"))[0]
    extracted = run(bin_dir / "monitor", "extract", first, cwd=work, env=env)
    assert json.loads(extracted.stdout.splitlines()[0])["text"]
    line = json.dumps(
        {"id": "1", "title": "Rozmowy pokojowe w Genewie", "text": "Delegacje Rosji i Ukrainy."}
    )
    classified = subprocess.run(
        [bin_dir / "monitor", "classify"],
        input=line + "\n",
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert classified.returncode == 0, classified.stderr
    assert json.loads(classified.stdout)["id"] == "1"
    scrapy_env = {**env, "SCRAPY_SETTINGS_MODULE": "monitor.settings"}
    listed = run(bin_dir / "python", "-m", "scrapy", "list", cwd=work, env=scrapy_env)
    assert listed.stdout.split() == ["news"]
    assert (
        "outlets (" in run(bin_dir / "monitor", "sources", "list", cwd=work, env=env).stdout.splitlines()[-1]
    )


def test_demo_from_the_wheel_says_where_the_mirror_is(installed):
    bin_dir, work = installed
    demo = run(bin_dir / "monitor", "demo", "--db", work / "demo.db", cwd=work, env=clean_env(), check=False)
    assert demo.returncode == 2
    assert demo.stderr.count("\n") == 1 and "make demo" in demo.stderr, demo.stderr
    sites = run(
        bin_dir / "monitor",
        "demo",
        "--db",
        work / "demo.db",
        "--sites",
        FIXTURES / "sites",
        cwd=work,
        env=clean_env(),
        check=False,
    )
    assert sites.returncode == 0, sites.stderr[-2000:]
    assert "Flagged peace-talk stories" in sites.stdout


def test_a_scrapyd_egg_loads_and_lists_the_spider(tmp_path):
    """The route of docs/operations.md: an egg built from setup.py (as scrapyd-deploy builds it) stored where
    Scrapyd keeps eggs, and Scrapyd's runner asked for the project's spiders, from an empty folder."""
    pytest.importorskip("scrapyd")
    tree = source_copy(tmp_path)
    run(
        sys.executable,
        "setup.py",
        "-q",
        "bdist_egg",
        "-d",
        tmp_path / "eggs-built",
        cwd=tree,
        env=clean_env(),
    )
    (egg,) = (tmp_path / "eggs-built").glob("*.egg")
    work = tmp_path / "scrapyd"
    (work / "eggs" / "monitor").mkdir(parents=True)
    shutil.copy(egg, work / "eggs" / "monitor" / "1.egg")
    (work / "scrapyd.conf").write_text(f"[scrapyd]\neggs_dir = {work / 'eggs'}\n")
    env = clean_env(SCRAPY_PROJECT="monitor")
    listed = run(sys.executable, "-m", "scrapyd.runner", "list", cwd=work, env=env)
    assert listed.stdout.split() == ["news"]


def test_a_crawl_runs_from_the_egg(tmp_path, mirror):
    """The packaged rules and settings are read from inside the zipped egg during a real crawl of the mirror."""
    pytest.importorskip("scrapyd")
    _hosts, sources = mirror
    tree = source_copy(tmp_path)
    run(sys.executable, "setup.py", "-q", "bdist_egg", "-d", tmp_path / "built", cwd=tree, env=clean_env())
    (egg,) = (tmp_path / "built").glob("*.egg")
    work = tmp_path / "scrapyd"
    (work / "eggs" / "monitor").mkdir(parents=True)
    shutil.copy(egg, work / "eggs" / "monitor" / "1.egg")
    (work / "scrapyd.conf").write_text(f"[scrapyd]\neggs_dir = {work / 'eggs'}\n")
    db = tmp_path / "egg.db"
    crawl = run(
        sys.executable,
        "-m",
        "scrapyd.runner",
        "crawl",
        "news",
        "-s",
        f"MONITOR_SOURCES={sources}",
        "-s",
        f"MONITOR_DB={db}",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_START_DELAY=0",
        "-s",
        "RETRY_TIMES=0",
        cwd=work,
        env=clean_env(SCRAPY_PROJECT="monitor"),
    )
    import sqlite3

    conn = sqlite3.connect(db)
    flagged = conn.execute("SELECT count(*) FROM articles WHERE relevance = 'primary'").fetchone()[0]
    conn.close()
    assert flagged >= 6, crawl.stderr[-2000:]
