"""Checks that keep the house as docs/architecture.md draws it: cores free of Scrapy and SQLite, no import
circles, no module over 500 lines, and ruff and mypy clean (what `make lint` runs)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "monitor"
CORES = (
    "monitor.discovery",
    "monitor.extract",
    "monitor.rules",
    "monitor.lazy",
)  # monitor.lazy: the cores' lazy exports
FORBIDDEN_IN_CORES = ("scrapy", "twisted", "sqlite3", "sqlite_utils", "datasette")
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "data" not in p.parts}


def imports_of(name: str) -> set[str]:
    """Every module a module imports, at any depth of its code (imports inside functions count too)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def internal(imported: set[str]) -> set[str]:
    return {m for m in imported if m in MODULES}


def test_cores_import_neither_scrapy_nor_sqlite_at_any_depth():
    for name in MODULES:
        if not name.startswith(CORES):
            continue
        imported = imports_of(name)
        assert not {m for m in imported if m.split(".")[0] in FORBIDDEN_IN_CORES}, name
        assert all(m.startswith(CORES) for m in internal(imported)), (name, internal(imported))
    # and at run time, through the libraries they use
    probe = (
        "import sys; import "
        + ", ".join(m for m in MODULES if m.startswith(CORES))
        + "; print(sorted(sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert not [m for m in FORBIDDEN_IN_CORES if f"'{m}'" in loaded.stdout]


def test_no_import_circles():
    graph = {name: internal(imports_of(name)) - {name} for name in MODULES}
    # a package's face (__init__) imports its own modules by design; circles through it do not count
    faces = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if nxt in faces:
                continue
            if state.get(nxt) == 1:
                pytest.fail(f"import circle: {' -> '.join([*trail[trail.index(nxt) :], nxt])}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in graph:
        if name not in state and name not in faces:
            visit(name, [name])


def test_no_module_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in [*PACKAGE.rglob("*.py"), *(ROOT / "spiders").rglob("*.py")]
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


# Modules that read the source checkout on purpose: development tools and the offline contracts of `scrapy check`.
CHECKOUT_ONLY = ("monitor.devtools", "monitor.contracts")


def test_installed_code_reads_its_data_through_the_package_not_the_file_system():
    """``Path(__file__)`` next to a data file breaks inside a zipped Scrapyd egg; importlib.resources does not."""
    readers = sorted(
        name
        for name, path in MODULES.items()
        if not name.startswith(CHECKOUT_ONLY) and "__file__" in path.read_text(encoding="utf-8")
    )
    assert not readers, readers


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_lint_is_clean(command):
    tool = Path(sys.executable).parent / command[0]
    if not tool.exists():
        tool = Path(shutil.which(command[0]) or command[0])
    result = subprocess.run([str(tool), *command[1:]], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_a_lazy_export_may_not_share_its_name_with_a_module():
    """Importing ``pkg.explain`` binds ``pkg.explain`` to the module, hiding a lazily exported ``explain``."""
    from monitor.lazy import exports

    with pytest.raises(ValueError, match=r"\['explain'\] name both a module and an exported name"):
        exports("pkg", {"explain": ["explain"], "model": ["Verdict"]})
