"""Build script: everything else is in pyproject.toml. It compiles the rules engine to C with mypyc (#4).

``monitor/rules/engine.py`` and ``text.py`` stay plain Python and are the source of truth; mypyc turns each into
an extension module beside it, which is what lets classification reach 2,000 articles per second on one core.
Without a C compiler, or with ``MONITOR_PURE_PYTHON=1``, nothing is compiled and the same code runs as Python.
``monitor/rules/_built.py`` records the hash of each source as compiled, so that an edited source is never
shadowed by a stale extension (see ``monitor/rules/_native.py``).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from setuptools import setup

COMPILED = ("engine", "text")  # modules of monitor/rules/


def ext_modules() -> list:
    if os.environ.get("MONITOR_PURE_PYTHON"):
        return []
    from mypyc.build import mypycify

    here = Path("monitor/rules")
    digests = {name: hashlib.sha256((here / f"{name}.py").read_bytes()).hexdigest() for name in COMPILED}
    (here / "_built.py").write_text(
        '"""Written by setup.py: the SHA-256 of each module\'s source as mypyc compiled it."""\n\n'
        f"SOURCES = {digests!r}\n"
    )
    paths = [str(here / f"{name}.py") for name in COMPILED]
    # --follow-imports=silent: the rest of the package is read for types but not checked; separate: each
    # module gets its own support library beside it instead of one at the top of the tree
    try:
        modules = mypycify(
            ["--ignore-missing-imports", "--follow-imports=silent", *paths], opt_level="3", separate=True
        )
    except (Exception, SystemExit) as error:  # mypy exits on a type error: install the sources instead
        print(f"setup.py: not compiling the rules engine ({error!r}); it will run as Python", file=sys.stderr)
        return []
    for module in modules:
        module.optional = True  # no compiler: install anyway, the code runs as Python
    return modules


setup(ext_modules=ext_modules())
