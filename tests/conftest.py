from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SITES = FIXTURES / "sites"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@contextmanager
def running_mirror(sites: Path, sources: Path) -> Iterator[dict[str, str]]:
    """The loopback mirror of ``sites`` in a subprocess; yields host → base URL and writes its sources file."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.devtools.mirror", str(sites), "--sources-out", str(sources)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        yield json.loads(proc.stdout.readline())["hosts"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """The fixture mirror (fixtures/sites) for one test module: (host → base URL, path of its sources file)."""
    sources = tmp_path_factory.mktemp("mirror") / "sources.toml"
    with running_mirror(SITES, sources) as hosts:
        yield hosts, sources


@pytest.fixture(scope="session")
def archive_1200(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic archive of 1,200 articles over 2 days up to 2026-11-30 12:00 (bench/make_archive.py), built once
    per test process: copy it (``archive_1200_copy``) before writing to it."""
    from _archive_helpers import synthetic_archive

    return synthetic_archive(tmp_path_factory.mktemp("archive_1200") / "base.db", 1200, workers=1)


@pytest.fixture
def archive_1200_copy(archive_1200: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "m.db"
    shutil.copy(archive_1200, copy)
    return copy


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow cases run first: the workers take whole files (``--dist loadfile``), and a long file
    handed out last would keep the run waiting for it alone. The order within each file is kept. ``make test``
    passes ``--no-loadscope-reorder``: xdist would otherwise hand files out by their number of tests."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


def pytest_sessionstart(session: pytest.Session) -> None:
    """simplemma's Polish trie is built once per machine (about 9 s of CPU) before any test or crawl subprocess
    needs it: on a fresh machine, the first crawls of every worker would otherwise each build it at once."""
    if not hasattr(session.config, "workerinput"):  # the xdist controller, or a run without workers
        from monitor.archive.story_features import lemma

        lemma("rozmowy")
