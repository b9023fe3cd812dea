"""Values given on the command line (``-s NAME=VALUE``) checked against the type of each setting's default.

Scrapy reads a setting with ``getfloat``/``getint``/``getbool``/``getdict`` only when a component starts, deep
inside the engine, so a bad value would otherwise surface as a traceback from the middle of a crawl that never
started. Pure functions: a mapping of names to text in, one line per bad value out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scrapy.settings import default_settings

from monitor import settings as monitor_settings


def defaults() -> dict[str, Any]:
    """Scrapy's defaults with the project's settings over them (``monitor.settings``)."""
    merged = {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}
    merged.update({name: getattr(monitor_settings, name) for name in dir(monitor_settings) if name.isupper()})
    return merged


# Settings whose number has a narrower range than their type says.
WHOLE_NOT_NEGATIVE = ("MONITOR_POOL_PROCESSES",)
POSITIVE = ("MONITOR_POOL_TIMEOUT",)
NOT_NEGATIVE = ("MONITOR_LAG_INTERVAL",)


def _range_problem(name: str, text: str) -> str | None:
    """Why a number is out of its setting's range; None when it is not, or the setting has none."""
    if name in WHOLE_NOT_NEGATIVE and not text.isdigit():
        return "expects a whole number, 0 or more"
    try:
        number = float(text)
    except ValueError:
        return None
    if name in POSITIVE and not number > 0:
        return "expects a number above 0"
    if name in NOT_NEGATIVE and not number >= 0:
        return "expects a number, 0 or more"
    return None


def _problem(value: str, default: Any) -> str | None:
    """Why ``value`` cannot stand for a setting whose default is ``default``; None when it can."""
    text = value.strip()
    if isinstance(default, bool):
        if text.lower() in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            return None
        return "expects True or False"
    if isinstance(default, int | float):
        try:
            float(text)
        except ValueError:
            return "expects a number"
        return None  # some whole-number defaults are read as floats (DOWNLOAD_TIMEOUT): any number passes
    if isinstance(default, dict):
        if not text:
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            return "expects a JSON object"
        return None if isinstance(parsed, dict) else "expects a JSON object"
    return None


def check_values(values: Mapping[str, str], known: Mapping[str, Any] | None = None) -> list[str]:
    """One line per value that cannot be read as its setting's type, e.g.
    ``-s DOWNLOAD_DELAY=abc: expects a number``. Unknown names and text settings are not checked."""
    table = defaults() if known is None else known
    lines = []
    for name, value in values.items():
        if name not in table:
            continue
        problem = _range_problem(name, value.strip()) or _problem(value, table[name])
        if problem:
            lines.append(f"-s {name}={value}: {problem}")
    return lines


def culprit(error: BaseException, values: Mapping[str, str]) -> str | None:
    """The setting a start-up error most likely came from: the one whose value the error quotes, or whose
    dotted path names the module that could not be imported."""
    message = str(error)
    module = getattr(error, "name", None) if isinstance(error, ImportError) else None
    for name, value in values.items():
        if not value:
            continue
        if repr(value) in message or f'"{value}"' in message:
            return name
        if module and (value == module or value.startswith(f"{module}.")):
            return name
    return None
