"""Which code runs: the modules mypyc compiled (see ``setup.py``) when they were built from the sources beside
them, else the sources.

Python imports an extension module before the source file of the same name, so without this check an edited
``engine.py`` would be silently shadowed by the extension built from its previous version.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
from pathlib import Path

PACKAGE = "monitor.rules"
COMPILED = ("text", "engine")  # as in setup.py; in import order (the engine imports text)
HERE = Path(__file__).parent


def built_from() -> dict[str, str]:
    """The SHA-256 of each compiled module's source as ``setup.py`` recorded it (empty when not compiled)."""
    try:
        from monitor.rules._built import SOURCES
    except ImportError:
        return {}
    return dict(SOURCES)


def use_compiled() -> bool:
    """Import the compiled modules if all are current, else the sources of all; True when compiled code runs.

    ``MONITOR_PURE_PYTHON=1`` asks for the sources (to step through them in a debugger, or to compare).
    """
    names = [f"{PACKAGE}.{name}" for name in COMPILED]
    if any(name in sys.modules for name in names):
        return all(_compiled(sys.modules[name].__spec__) for name in names if name in sys.modules)
    if not all(_compiled(importlib.util.find_spec(name)) for name in names):
        return False
    if not os.environ.get("MONITOR_PURE_PYTHON"):
        recorded = built_from()
        stale = [
            name
            for name in COMPILED
            if recorded.get(name) != hashlib.sha256((HERE / f"{name}.py").read_bytes()).hexdigest()
        ]
        if not stale:
            return True
        logging.getLogger(__name__).warning(
            "%s changed since compiled: running the rules engine as Python (slower) until `make` or "
            "`pip install -e .` compiles it again",
            ", ".join(str(HERE / f"{name}.py") for name in stale),
        )
    for name, module_name in zip(COMPILED, names, strict=True):
        spec = importlib.util.spec_from_file_location(module_name, HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return False


def _compiled(spec: importlib.machinery.ModuleSpec | None) -> bool:
    return spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


COMPILED = use_compiled()  # on import, before the package imports the engine
