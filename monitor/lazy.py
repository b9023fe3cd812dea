"""A package's names imported from their modules when first used (PEP 562 ``__getattr__``).

A command that reads the archive, or a crawl whose extraction runs in worker processes, then starts without
importing what it never calls (trafilatura, simplemma, the clustering): a quarter to a half of a short command's
time goes to imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def exports(package: str, homes: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package`` for the names each of its modules exports (module → names): a name
    is imported from its module when first asked for, then kept in the package like an ordinary import.

    No name may be the name of one of the modules: importing that module binds its name in the package to the
    module itself, and ``__getattr__`` is not asked again."""
    home = {name: module for module, names in homes.items() for name in names}
    clashes = sorted(set(home) & set(homes))
    if clashes:
        raise ValueError(f"{package}: {clashes} name both a module and an exported name")

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
