"""Peace-talk rules (the public entry point kept for the pipeline, the CLI and the tests).

The engine lives in :mod:`monitor.rules`: rules are data (``monitor/data/rules/*.toml``), validated on load and
compiled once; :func:`classify` is pure — title, lead and body in, a :class:`Verdict` with its matches out.
"""

from monitor.rules import (
    FIELDS,
    RELEVANCE,
    Match,
    RulesError,
    Ruleset,
    Verdict,
    check_examples,
    classify,
    default_rules_path,
    explain,
    fold,
    load_rules,
    parse_rules,
)

__all__ = [
    "FIELDS",
    "RELEVANCE",
    "Match",
    "Ruleset",
    "RulesError",
    "Verdict",
    "check_examples",
    "classify",
    "default_rules_path",
    "explain",
    "fold",
    "load_rules",
    "parse_rules",
]
