"""Readable explanations of verdicts, and the rules' own examples checked against the engine."""

from __future__ import annotations

from monitor.rules.engine import classify
from monitor.rules.model import Example, Match, Ruleset, Verdict


def _fmt(value: float) -> str:
    return f"{value:+.1f}" if value != int(value) else f"{value:+.0f}"


def explain(ruleset: Ruleset, verdict: Verdict, title: str | None = None) -> str:
    """A few lines a person can read: the verdict against the thresholds, then each rule that fired."""
    lines = []
    if title:
        lines.append(title)
    lines.append(
        f"relevance: {verdict.relevance}  score {verdict.score:g}  "
        f"(primary ≥ {ruleset.primary:g}, mention ≥ {ruleset.mention:g})  rules {ruleset.name} {verdict.ruleset}"
    )
    for note in verdict.notes:
        lines.append(f"note: {note}")
    if not verdict.fired:
        lines.append("no rule fired")
        return "\n".join(lines)
    descriptions = {r.id: r.description for r in ruleset.rules}
    totals: dict[str, float] = {}
    for hit in verdict.fired:
        totals[hit.rule] = totals.get(hit.rule, 0.0) + hit.points
    lines.append("rules fired:")
    for rule_id, total in totals.items():
        hits = [h for h in verdict.fired if h.rule == rule_id]
        lines.append(
            f"  {_fmt(total):>6}  {rule_id} ({len(hits)} hit{'s' if len(hits) > 1 else ''}) — {descriptions[rule_id]}"
        )
        for m in hits[0].context:
            lines.append(
                f"          because the article has {m.group}: '{m.term}'{_who(ruleset, m)} in {m.field}"
            )
        for hit in hits:
            m = hit.anchor
            lines.append(
                f"          {_fmt(hit.points):>5} = {hit.weight:g} × {hit.field} {hit.field_weight:g}: "
                f"'{m.term}'{_who(ruleset, m)}  {m.snippet}"
            )
            for p in hit.partners:
                lines.append(f"                 near {p.group}: '{p.term}'{_who(ruleset, p)}  {p.snippet}")
    if verdict.adjustments:
        lines.append("passages of the body:")
        for adjustment in verdict.adjustments:
            lines.append(f"  {_fmt(adjustment.points):>6}  {adjustment.kind}: {adjustment.description}")
    return "\n".join(lines)


def _who(ruleset: Ruleset, match: Match) -> str:
    return f" = {ruleset.entities[match.entity].name}" if match.entity else ""


def fired_rules(ruleset: Ruleset, example: Example) -> set[str]:
    """The rules an example fires, its fields read as written (the engine's, without an opening standing in)."""
    verdict = classify(ruleset, example.title, example.lead, example.body)
    return {hit.rule for hit in verdict.fired}


def check_examples(ruleset: Ruleset) -> list[str]:
    """One line per rule example that does not behave as the rules file says (empty when all do)."""
    problems = []
    for rule in ruleset.rules:
        for example in rule.examples_fire:
            if rule.id not in fired_rules(ruleset, example):
                problems.append(f"rule '{rule.id}' should fire on: {_short(example)}")
        for example in rule.examples_not:
            if rule.id in fired_rules(ruleset, example):
                problems.append(f"rule '{rule.id}' should not fire on: {_short(example)}")
    return problems


def _short(example: Example) -> str:
    text = " | ".join(x for x in (example.title, example.lead, example.body) if x)
    return text if len(text) <= 120 else text[:119] + "…"
