"""The rules engine compiled by mypyc (#4): it is the one in use after an install, it gives exactly the verdicts
of its Python source, and an edited source is never shadowed by a stale compiled module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import monitor.rules
import monitor.rules.engine
import monitor.rules.text
from monitor.rules._native import COMPILED, built_from

ROOT = Path(__file__).resolve().parent.parent
PURE = bool(os.environ.get("MONITOR_PURE_PYTHON"))
needs_compiled = pytest.mark.skipif(not COMPILED, reason="the rules engine is not compiled here")

# Every verdict of the corpus in full (scores, matches with offsets and snippets, fired rules, notes), as JSON.
DUMP = """
import json, sys
from monitor.classify import classify, default_rules_path, load_rules
from monitor.eval_rules import load_corpus
import monitor.rules
rules = load_rules(default_rules_path())
rows = []
for row in load_corpus():
    for text in (row["text"], row["text"].upper(), row["text"] * 3):
        v = classify(rules, row["title"], row["lead"], text)
        fired = [(f.rule, f.field, f.points, f.anchor.to_dict(), [m.to_dict() for m in f.partners],
                  [m.to_dict() for m in f.context]) for f in v.fired]
        rows.append([v.to_dict(), fired, v.notes])
json.dump({"compiled": monitor.rules.COMPILED, "rows": rows}, sys.stdout)
"""


def run(code: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "MONITOR_PURE_PYTHON"} | env
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(PURE, reason="MONITOR_PURE_PYTHON asks for the Python sources")
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler: the install keeps the Python sources")
def test_the_install_compiled_the_engine_and_uses_it():
    """Without this, a failed build would silently halve classification speed (the build is optional)."""
    assert COMPILED, "monitor/rules was not compiled: run `make` (pip install -e .) and read its output"
    for module in (monitor.rules.engine, monitor.rules.text):
        assert module.__file__ is not None and module.__file__.endswith(".so")
    assert set(built_from()) == {"engine", "text"}


@needs_compiled
def test_compiled_and_python_engines_give_the_same_verdicts():
    compiled = run(DUMP)
    source = run(DUMP, MONITOR_PURE_PYTHON="1")
    assert compiled.returncode == 0, compiled.stderr
    assert source.returncode == 0, source.stderr
    compiled_rows, source_rows = json.loads(compiled.stdout), json.loads(source.stdout)
    assert compiled_rows["compiled"] is True and source_rows["compiled"] is False
    assert len(compiled_rows["rows"]) >= 600
    for mine, theirs in zip(compiled_rows["rows"], source_rows["rows"], strict=True):
        assert mine == theirs


WHICH = "import monitor.rules, monitor.rules.engine as e; print(monitor.rules.COMPILED, e.__file__)"


@needs_compiled
def test_an_edited_source_runs_as_python_with_a_warning(tmp_path):
    """A copy of the package whose engine.py was edited after the build: the edit runs, not the old build."""
    shutil.copytree(ROOT / "monitor", tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    same = run(WHICH, cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("True ") and same.stdout.strip().endswith(".so")
    assert str(tmp_path) in same.stdout and same.stderr == ""

    engine = tmp_path / "monitor" / "rules" / "engine.py"
    engine.write_text(engine.read_text() + "\nEDITED = True\n")
    edited = run(WHICH + "; print(e.EDITED)", cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.split() == ["False", str(engine), "True"]
    warning = edited.stderr.strip().splitlines()
    assert len(warning) == 1 and "engine.py changed since compiled" in warning[0]
    assert "make" in warning[0]


@needs_compiled
def test_without_a_build_record_the_sources_run(tmp_path):
    """Compiled modules with no record of what they were built from (an interrupted build) are not trusted."""
    shutil.copytree(ROOT / "monitor", tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "monitor" / "rules" / "_built.py").unlink()
    result = run(WHICH, cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False ") and result.stdout.strip().endswith("engine.py")
    assert "changed since compiled" in result.stderr


def test_pure_python_can_be_asked_for(tmp_path):
    result = run(WHICH, MONITOR_PURE_PYTHON="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False ") and result.stdout.strip().endswith("engine.py")
    assert result.stderr == ""
