"""Peace-talk rules: entities and keyword groups in TOML, Polish inflection, weighted rules, explained verdicts.

Pure: text in, :class:`Verdict` out. See ``docs/rules.md`` for the file format. :func:`classify` (``score.py``)
reads the engine's hits as a person reads an article: the opening stands in for a missing title or lead, and the
body counts by paragraph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import exports

if TYPE_CHECKING:
    from monitor.rules.explanation import check_examples, explain
    from monitor.rules.lexicon import Lexicon
    from monitor.rules.load import default_rules_path, inflect, load_rules, parse_rules
    from monitor.rules.model import (
        FIELDS,
        RELEVANCE,
        Adjustment,
        Dominance,
        Entity,
        Example,
        Fired,
        Group,
        Match,
        Opening,
        Paradigm,
        Passages,
        Rule,
        RulesError,
        Ruleset,
        Verdict,
    )
    from monitor.rules.score import classify, stand_ins
    from monitor.rules.text import fold, snippet, word_bytes

# Imported when first used (monitor.lazy): the archive and the reading commands need only fold() and the model.
__getattr__ = exports(
    __name__,
    {
        "explanation": ["check_examples", "explain"],
        "lexicon": ["Lexicon"],
        "load": ["default_rules_path", "inflect", "load_rules", "parse_rules"],
        "model": [
            "FIELDS",
            "RELEVANCE",
            "Adjustment",
            "Dominance",
            "Entity",
            "Example",
            "Fired",
            "Group",
            "Match",
            "Opening",
            "Paradigm",
            "Passages",
            "Rule",
            "RulesError",
            "Ruleset",
            "Verdict",
        ],
        "score": ["classify", "stand_ins"],
        "text": ["fold", "snippet", "word_bytes"],
    },
)

__all__ = [
    "FIELDS",
    "RELEVANCE",
    "Adjustment",
    "Dominance",
    "Entity",
    "Example",
    "Fired",
    "Group",
    "Lexicon",
    "Match",
    "Opening",
    "Paradigm",
    "Passages",
    "Rule",
    "Ruleset",
    "RulesError",
    "Verdict",
    "check_examples",
    "classify",
    "default_rules_path",
    "explain",
    "fold",
    "inflect",
    "load_rules",
    "parse_rules",
    "snippet",
    "stand_ins",
    "word_bytes",
]
