"""Peace-talk rules: load a rule set from TOML, compile it once, score an article with explanations.

Pure: text in, :class:`Verdict` out. Terms are written in lower case without diacritics (``negocjac*``); the
text is folded the same way (``Zełenski`` → ``zelenski``) one character for one character, so match offsets
point into the original text. ``*`` ends a stem: ``putin*`` matches Putin, Putina, Putinem. A term of several
words matches them in order with up to ``gap`` other words between.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

FIELDS = ("title", "lead", "body")
RELEVANCE = ("primary", "mention", "none")

_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the entry and the field."""


def fold(text: str) -> str:
    """Lower-case and strip Polish diacritics, keeping every character's position."""
    folded = text.translate(_FOLD)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)


@dataclass(frozen=True)
class Match:
    rule: str
    group: str
    term: str
    field: str
    start: int
    end: int
    snippet: str
    entity: str | None = None


@dataclass
class Verdict:
    relevance: str
    score: float
    ruleset: str
    matches: list[Match] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.relevance == "primary"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flagged"] = self.flagged
        return data


@dataclass(frozen=True)
class Group:
    name: str
    terms: tuple[str, ...]
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Rule:
    id: str
    group: str
    weight: float
    cap: int
    requires: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Ruleset:
    name: str
    version: str
    primary: float
    mention: float
    field_weights: dict[str, float]
    groups: dict[str, Group]
    rules: tuple[Rule, ...]
    dominance: tuple[str, tuple[str, ...]] | None = None  # (group, groups it must not outnumber)


def _term_regex(term: str, gap: int) -> str:
    words = term.split()
    parts = []
    for word in words:
        stem = word.rstrip("*")
        piece = re.escape(stem) + (r"\w*" if word.endswith("*") else "")
        parts.append(piece)
    joiner = r"\W+(?:\w+\W+){0," + str(gap) + "}"
    return r"(?<!\w)" + joiner.join(parts) + r"(?!\w)"


def compile_group(name: str, terms: list[str], gap: int = 2) -> Group:
    alternatives = [f"(?P<t{i}>{_term_regex(t, gap)})" for i, t in enumerate(terms)]
    return Group(name, tuple(terms), re.compile("|".join(alternatives)))


def _snippet(text: str, start: int, end: int, width: int = 60) -> str:
    left = max(0, start - width)
    right = min(len(text), end + width)
    core = text[left:start] + "[" + text[start:end] + "]" + text[end:right]
    core = re.sub(r"\s+", " ", core).strip()
    return ("…" if left > 0 else "") + core + ("…" if right < len(text) else "")


def _require(cond: bool, path: str, where: str, fieldname: str, problem: str) -> None:
    if not cond:
        raise RulesError(f"{path}: {where}, field '{fieldname}': {problem}")


def parse_rules(text: str, path: str = "<rules>", version: str | None = None) -> Ruleset:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"ruleset", "fields", "groups", "rule", "dominance"}
    _require(not unknown, path, "top level", sorted(unknown)[0] if unknown else "", "unknown key")
    head = data.get("ruleset", {})
    _require(isinstance(head.get("name"), str), path, "[ruleset]", "name", "missing")
    thresholds = {}
    for key in ("primary", "mention"):
        _require(isinstance(head.get(key), int | float), path, "[ruleset]", key, "must be a number")
        thresholds[key] = float(head[key])
    _require(thresholds["primary"] >= thresholds["mention"], path, "[ruleset]", "primary", "below mention")
    weights = data.get("fields", {"title": 3.0, "lead": 2.0, "body": 1.0})
    for key, value in weights.items():
        _require(key in FIELDS, path, "[fields]", key, f"unknown field; known: {FIELDS}")
        _require(isinstance(value, int | float), path, "[fields]", key, "must be a number")
    groups: dict[str, Group] = {}
    for name, spec in data.get("groups", {}).items():
        where = f"group '{name}'"
        _require(isinstance(spec, dict), path, where, "terms", "expected a table")
        extra = set(spec) - {"terms", "gap", "description"}
        _require(not extra, path, where, sorted(extra)[0] if extra else "", "unknown key")
        terms = spec.get("terms")
        _require(isinstance(terms, list) and bool(terms), path, where, "terms", "empty group")
        for term in terms:
            ok = isinstance(term, str) and bool(re.fullmatch(r"[a-z0-9\-]+\*?( [a-z0-9\-]+\*?)*", term))
            _require(
                ok, path, where, "terms", f"{term!r}: lower-case words without diacritics, '*' ends a stem"
            )
        groups[name] = compile_group(name, terms, int(spec.get("gap", 2)))
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, spec in enumerate(data.get("rule", []), start=1):
        rid = spec.get("id")
        where = f"rule '{rid}' (entry {index})" if isinstance(rid, str) else f"rule #{index}"
        _require(isinstance(rid, str) and bool(rid), path, where, "id", "missing")
        _require(rid not in seen, path, where, "id", "duplicate id")
        seen.add(rid)
        extra = set(spec) - {"id", "group", "weight", "cap", "requires", "description"}
        _require(not extra, path, where, sorted(extra)[0] if extra else "", "unknown key")
        _require(spec.get("group") in groups, path, where, "group", f"unknown group {spec.get('group')!r}")
        _require(isinstance(spec.get("weight"), int | float), path, where, "weight", "must be a number")
        requires = tuple(spec.get("requires", []))
        for name in requires:
            _require(name in groups, path, where, "requires", f"unknown group {name!r}")
        rules.append(
            Rule(
                rid,
                spec["group"],
                float(spec["weight"]),
                int(spec.get("cap", 10)),
                requires,
                spec.get("description", ""),
            )
        )
    _require(bool(rules), path, "top level", "rule", "no rules")
    dominance = None
    if "dominance" in data:
        dom = data["dominance"]
        _require(dom.get("group") in groups, path, "[dominance]", "group", "unknown group")
        over = tuple(dom.get("over", []))
        for name in over:
            _require(name in groups, path, "[dominance]", "over", f"unknown group {name!r}")
        dominance = (dom["group"], over)
    return Ruleset(
        name=head["name"],
        version=version or hashlib.sha256(text.encode()).hexdigest()[:12],
        primary=thresholds["primary"],
        mention=thresholds["mention"],
        field_weights={k: float(v) for k, v in weights.items()},
        groups=groups,
        rules=tuple(rules),
        dominance=dominance,
    )


def default_rules_path() -> Path:
    return Path(str(resources.files("monitor") / "data" / "rules" / "peace_talks.toml"))


def load_rules(path: str | Path | None = None) -> Ruleset:
    file = Path(path) if path else default_rules_path()
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise RulesError(f"{file}: cannot read rules: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(f"{file}: not UTF-8 text") from exc
    return parse_rules(text, str(file), hashlib.sha256(raw).hexdigest()[:12])


def _find(group: Group, text: str, folded: str, fieldname: str) -> list[tuple[str, str, int, int, str]]:
    found = []
    for m in group.regex.finditer(folded):
        index = int(m.lastgroup[1:]) if m.lastgroup else 0
        found.append((group.terms[index], fieldname, m.start(), m.end(), _snippet(text, m.start(), m.end())))
    return found


def classify(ruleset: Ruleset, title: str | None, lead: str | None, body: str | None) -> Verdict:
    """Score an article against the rule set; every contributing match is kept as an explanation."""
    texts = {"title": title or "", "lead": lead or "", "body": body or ""}
    folded = {name: fold(value) for name, value in texts.items()}
    hits: dict[str, list[tuple[str, str, int, int, str]]] = {}
    for gname, group in ruleset.groups.items():
        hits[gname] = [h for f in FIELDS for h in _find(group, texts[f], folded[f], f)]
    blocked = False
    if ruleset.dominance:
        gname, over = ruleset.dominance
        blocked = len(hits[gname]) > sum(len(hits[o]) for o in over)
    score = 0.0
    matches: list[Match] = []
    for rule in ruleset.rules:
        if any(not hits[r] for r in rule.requires):
            continue
        if blocked and rule.weight > 0:
            continue
        ordered = sorted(hits[rule.group], key=lambda h: -ruleset.field_weights.get(h[1], 1.0))
        for term, fieldname, start, end, snippet in ordered[: rule.cap]:
            score += rule.weight * ruleset.field_weights.get(fieldname, 1.0)
            matches.append(Match(rule.id, rule.group, term, fieldname, start, end, snippet))
    score = round(max(score, 0.0), 2)
    if score >= ruleset.primary:
        relevance = "primary"
    elif score >= ruleset.mention:
        relevance = "mention"
    else:
        relevance = "none"
    return Verdict(relevance, score, ruleset.version, matches)
