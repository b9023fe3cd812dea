"""Every rule carries examples that must and must not fire it, as data in the rules file; all of them hold."""

from __future__ import annotations

import pytest

from monitor.rules import check_examples, load_rules
from monitor.rules.explanation import fired_rules

RULES = load_rules()


def test_every_rule_has_examples_both_ways():
    for rule in RULES.rules:
        assert rule.examples_fire, f"{rule.id}: no example that fires it"
        assert rule.examples_not, f"{rule.id}: no example that must not fire it"


@pytest.mark.parametrize("rule", RULES.rules, ids=[r.id for r in RULES.rules])
def test_rule_examples(rule):
    for example in rule.examples_fire:
        assert rule.id in fired_rules(RULES, example), example
    for example in rule.examples_not:
        assert rule.id not in fired_rules(RULES, example), example


def test_check_examples_reports_a_failing_example():
    from dataclasses import replace

    from monitor.rules.model import Example

    rule = replace(RULES.rules[0], examples_fire=(Example(body="Pogoda na weekend."),))
    broken = replace(RULES, rules=(rule, *RULES.rules[1:]))
    assert check_examples(RULES) == []
    assert check_examples(broken) == [f"rule '{rule.id}' should fire on: Pogoda na weekend."]
