"""Load a rule set from TOML: validate every entry, inflect names, compile the lexicon once.

A file that cannot be used raises :class:`RulesError` with one line naming the file, the entry and the field:
``rules.toml: rule 'r' (entry 2), field 'id': duplicate id``.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

from monitor.rules.lexicon import Lexicon
from monitor.rules.model import (
    ENTITY_TYPES,
    FIELDS,
    SIDES,
    Dominance,
    Entity,
    Example,
    Group,
    Opening,
    Paradigm,
    Passages,
    Rule,
    RulesError,
    Ruleset,
    Term,
    WordPattern,
)
from monitor.rules.text import fold_word

_LETTERS = "a-ząćęłńóśźż0-9"
_WORD = re.compile(rf"[{_LETTERS}]+")
_ENDING = re.compile(rf"~?[{_LETTERS}]*")
_ID = re.compile(r"[a-z][a-z0-9_]*")
SELECTOR_KINDS = ("side", "type", "role")
MIN_STEM = 3

TOP_KEYS = (
    "ruleset",
    "fields",
    "opening",
    "passages",
    "softening",
    "paradigms",
    "entity",
    "groups",
    "rule",
    "dominance",
)
RULESET_KEYS = ("name", "description", "primary", "mention", "gap", "max_chars")
GROUP_KEYS = ("terms", "gap", "description")
ENTITY_KEYS = ("id", "name", "type", "side", "role", "forms", "paradigm", "aliases", "gap", "description")
PARADIGM_KEYS = ("strip", "endings", "description")
RULE_KEYS = (
    "id",
    "description",
    "weight",
    "group",
    "all",
    "any",
    "none",
    "requires",
    "unless",
    "within",
    "fields",
    "field_weights",
    "cap",
    "examples_fire",
    "examples_not",
)
DOMINANCE_KEYS = ("group", "over", "description")
OPENING_KEYS = ("title", "lead", "title_chars", "lead_chars", "description")
PASSAGES_KEYS = ("cap", "spread", "spread_min", "chars", "description")
EXAMPLE_KEYS = ("title", "lead", "body")


class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, where: str, fieldname: str, problem: str) -> NoReturn:
        raise RulesError(f"{self.path}: {where}, field '{fieldname}': {problem}")

    def require(self, cond: bool, where: str, fieldname: str, problem: str) -> None:
        if not cond:
            self.fail(where, fieldname, problem)

    def keys(self, spec: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
        self.require(isinstance(spec, dict), where, "", "expected a table")
        for key in spec:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(allowed)}"
                self.fail(where, key, "unknown key" + hint)
        return spec

    def entries(
        self, data: dict[str, Any], kind: str, allowed: tuple[str, ...]
    ) -> Iterator[tuple[dict[str, Any], Any, str]]:
        """The ``[[kind]]`` entries of a rules file: each with its id as written and where it is, for errors."""
        raw = data.get(kind, [])
        self.require(isinstance(raw, list), "top level", kind, f"expected [[{kind}]] entries")
        for index, spec in enumerate(raw, start=1):
            ident = spec.get("id") if isinstance(spec, dict) else None
            where = f"{kind} '{ident}' (entry {index})" if isinstance(ident, str) else f"{kind} #{index}"
            yield self.keys(spec, allowed, where), ident, where

    def strings(self, spec: dict[str, Any], key: str, where: str, empty_ok: bool = True) -> tuple[str, ...]:
        value = spec.get(key, [])
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        self.require(ok, where, key, "expected a list of strings")
        self.require(empty_ok or bool(value), where, key, "empty list")
        return tuple(value)

    def number(self, spec: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, key, "must be a number")
        return float(value)

    def integer(self, spec: dict[str, Any], key: str, where: str, default: int, low: int = 0) -> int:
        value = spec.get(key, default)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        self.require(ok, where, key, f"must be a whole number ≥ {low}")
        return int(value)

    def flag(self, spec: dict[str, Any], key: str, where: str) -> bool:
        value = spec.get(key, False)
        self.require(isinstance(value, bool), where, key, "must be true or false")
        return bool(value)

    def text(self, spec: dict[str, Any], key: str, where: str, required: bool = False) -> str:
        value = spec.get(key, None if required else "")
        self.require(isinstance(value, str) and (bool(value) or not required), where, key, "missing text")
        return str(value)


def soften(stem: str, softening: dict[str, str]) -> str:
    """Replace the stem's longest final consonant group found in ``softening`` (``r`` → ``rz``)."""
    for size in (3, 2, 1):
        if len(stem) > size and stem[-size:] in softening:
            return stem[:-size] + softening[stem[-size:]]
    return stem


def inflect(base: str, paradigm: Paradigm, softening: dict[str, str]) -> frozenset[str]:
    """Every form of a folded base by a paradigm: ``pieskow`` → pieskowa, pieskowem, pieskowowi, pieskowie…"""
    stem = base[: -len(paradigm.strip)] if paradigm.strip and base.endswith(paradigm.strip) else base
    forms = {base}
    for ending in paradigm.endings:
        if ending.startswith("~"):
            forms.add(soften(stem, softening) + ending[1:])
        else:
            forms.add(stem + ending)
    return frozenset(forms)


class _Parser:
    def __init__(self, data: dict[str, Any], check: _Checker):
        self.data = data
        self.check = check
        self.softening: dict[str, str] = {}
        self.paradigms: dict[str, Paradigm] = {}

    def word(self, raw: str, where: str, fieldname: str, term: str) -> WordPattern:
        c = self.check
        if raw.endswith("*"):
            stem = raw[:-1]
            c.require(bool(_WORD.fullmatch(stem)), where, fieldname, f"{term!r}: {self._bad(stem)}")
            folded = fold_word(stem)
            c.require(
                len(folded) >= MIN_STEM, where, fieldname, f"{term!r}: a stem needs {MIN_STEM}+ letters"
            )
            return WordPattern(stem=folded)
        if ":" in raw:
            base, name = raw.split(":", 1)
            c.require(bool(_WORD.fullmatch(base)), where, fieldname, f"{term!r}: {self._bad(base)}")
            c.require(
                name in self.paradigms,
                where,
                fieldname,
                f"{term!r}: unknown paradigm {name!r}{self._hint(name, self.paradigms)}",
            )
            return WordPattern(exact=inflect(fold_word(base), self.paradigms[name], self.softening))
        c.require(bool(_WORD.fullmatch(raw)), where, fieldname, f"{term!r}: {self._bad(raw)}")
        return WordPattern(exact=frozenset({fold_word(raw)}))

    @staticmethod
    def _bad(word: str) -> str:
        if "-" in word:
            return "a hyphen splits words in the text: write the parts as separate words"
        if word != word.lower():
            return "write terms in lower case"
        return "lower-case letters and digits only; '*' ends a stem, ':name' inflects by a paradigm"

    @staticmethod
    def _hint(name: str, known: Any) -> str:
        close = difflib.get_close_matches(name, list(known), n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""

    def term(self, text: Any, where: str, fieldname: str, label: str, gap: int) -> Term:
        self.check.require(
            isinstance(text, str) and bool(text.strip()), where, fieldname, f"{text!r}: empty term"
        )
        words = tuple(self.word(w, where, fieldname, text) for w in text.split())
        return Term(text, words, gap, label)

    def parse_softening(self) -> None:
        c = self.check
        table = self.data.get("softening", {})
        c.require(isinstance(table, dict), "[softening]", "", "expected a table")
        for key, value in table.items():
            ok = bool(_WORD.fullmatch(key)) and isinstance(value, str) and bool(_WORD.fullmatch(value))
            c.require(ok, "[softening]", key, "expected lower-case letters on both sides")
            self.softening[fold_word(key)] = fold_word(value)

    def parse_paradigms(self) -> None:
        c = self.check
        table = self.data.get("paradigms", {})
        c.require(isinstance(table, dict), "[paradigms]", "", "expected a table of paradigms")
        for name, spec in table.items():
            where = f"paradigm '{name}'"
            c.keys(spec, PARADIGM_KEYS, where)
            endings = c.strings(spec, "endings", where, empty_ok=False)
            for ending in endings:
                c.require(
                    bool(_ENDING.fullmatch(ending)), where, "endings", f"{ending!r}: letters, '~' first"
                )
            strip = c.text(spec, "strip", where)
            c.require(not strip or bool(_WORD.fullmatch(strip)), where, "strip", "lower-case letters only")
            folded = tuple(("~" if e.startswith("~") else "") + fold_word(e.lstrip("~")) for e in endings)
            self.paradigms[name] = Paradigm(
                name, fold_word(strip), folded, c.text(spec, "description", where)
            )


# Parsed once per process (25-60 ms): a crawl's command, its pipeline and its story index all ask.
@functools.lru_cache(maxsize=8)
def parse_rules(text: str, path: str = "<rules>", version: str | None = None) -> Ruleset:
    """Validate and compile a rule set from TOML text; ``version`` defaults to a hash of the text."""
    c = _Checker(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc
    c.keys(data, TOP_KEYS, "top level")
    head = c.keys(data.get("ruleset", {}), RULESET_KEYS, "[ruleset]")
    name = c.text(head, "name", "[ruleset]", required=True)
    primary = c.number(head, "primary", "[ruleset]")
    mention = c.number(head, "mention", "[ruleset]")
    c.require(primary >= mention, "[ruleset]", "primary", "below mention")
    default_gap = c.integer(head, "gap", "[ruleset]", 2)
    max_chars = c.integer(head, "max_chars", "[ruleset]", 200_000, low=1000)
    weights = c.keys(data.get("fields", {"title": 3.0, "lead": 2.0, "body": 1.0}), FIELDS, "[fields]")
    field_weights = {key: c.number(weights, key, "[fields]") for key in weights}

    opening, passages = parse_opening(data, c), parse_passages(data, c)

    parser = _Parser(data, c)
    parser.parse_softening()
    parser.parse_paradigms()

    terms: list[Term] = []
    labels: dict[str, str] = {}  # name -> "group" | "entity"
    groups: dict[str, Group] = {}
    raw_groups = data.get("groups", {})
    c.require(isinstance(raw_groups, dict), "[groups]", "", "expected a table of groups")
    for gname, spec in raw_groups.items():
        where = f"group '{gname}'"
        c.keys(spec, GROUP_KEYS, where)
        c.require(bool(_ID.fullmatch(gname)), where, "", "a name is lower-case letters, digits and _")
        texts = c.strings(spec, "terms", where)
        c.require(bool(texts), where, "terms", "empty group")
        gap = c.integer(spec, "gap", where, default_gap)
        seen_terms: set[str] = set()
        for t in texts:
            c.require(t not in seen_terms, where, "terms", f"{t!r}: listed twice")
            seen_terms.add(t)
            terms.append(parser.term(t, where, "terms", gname, gap))
        groups[gname] = Group(gname, texts, c.text(spec, "description", where), gap)
        labels[gname] = "group"

    entities: dict[str, Entity] = {}
    for spec, eid, where in c.entries(data, "entity", ENTITY_KEYS):
        c.require(isinstance(eid, str) and bool(_ID.fullmatch(eid)), where, "id", "missing or not a-z0-9_")
        c.require(eid not in labels, where, "id", f"duplicate id (already a {labels.get(eid)})")
        etype = c.text(spec, "type", where, required=True)
        c.require(
            etype in ENTITY_TYPES, where, "type", f"unknown type {etype!r}; known: {', '.join(ENTITY_TYPES)}"
        )
        side = c.text(spec, "side", where, required=True)
        c.require(side in SIDES, where, "side", f"unknown side {side!r}; known: {', '.join(SIDES)}")
        role = spec.get("role")
        c.require(
            role is None or (isinstance(role, str) and bool(_ID.fullmatch(role))), where, "role", "a-z0-9_"
        )
        forms = c.strings(spec, "forms", where)
        aliases = c.strings(spec, "aliases", where)
        c.require(bool(forms or aliases), where, "forms", "an entity needs forms or aliases")
        paradigm = spec.get("paradigm")
        if paradigm is not None:
            c.require(
                paradigm in parser.paradigms,
                where,
                "paradigm",
                f"unknown paradigm {paradigm!r}{parser._hint(str(paradigm), parser.paradigms)}",
            )
        gap = c.integer(spec, "gap", where, 0)
        for form in forms:
            words = form.split()
            c.require(bool(words), where, "forms", "empty form")
            for w in words:
                c.require(bool(_WORD.fullmatch(w)), where, "forms", f"{form!r}: {parser._bad(w)}")
            if paradigm:  # the paradigm inflects the last word of a form
                words[-1] = f"{words[-1]}:{paradigm}"
            terms.append(Term(form, tuple(parser.word(w, where, "forms", form) for w in words), gap, eid))
        for alias in aliases:
            terms.append(parser.term(alias, where, "aliases", eid, gap))
        entities[eid] = Entity(
            eid,
            c.text(spec, "name", where, required=True),
            etype,
            side,
            role,
            forms,
            aliases,
            paradigm,
            c.text(spec, "description", where),
        )
        labels[eid] = "entity"

    selectors: dict[str, frozenset[str]] = {name: frozenset({name}) for name in labels}
    for kind in SELECTOR_KINDS:
        for entity in entities.values():
            value = getattr(entity, kind)
            if value:
                key = f"{kind}:{value}"
                selectors[key] = selectors.get(key, frozenset()) | {entity.id}
    selectors["entities"] = frozenset(entities)

    def selector(value: str, where: str, key: str) -> str:
        """A group, an entity, ``side:``/``type:``/``role:`` selector, or several joined by ``|``."""
        union: frozenset[str] = frozenset()
        for part in value.split("|"):
            if part not in selectors:
                hint = parser._hint(part, selectors)
                c.fail(where, key, f"unknown group, entity or selector {part!r}{hint}")
            union |= selectors[part]
        selectors.setdefault(value, union)
        return value

    def selector_list(spec: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        return tuple(selector(value, where, key) for value in c.strings(spec, key, where))

    rules: list[Rule] = []
    seen: set[str] = set()
    for spec, rid, where in c.entries(data, "rule", RULE_KEYS):
        c.require(isinstance(rid, str) and bool(rid), where, "id", "missing")
        c.require(rid not in seen, where, "id", "duplicate id")
        seen.add(rid)
        weight = c.number(spec, "weight", where)
        anchor: tuple[str, ...] = ()
        if "group" in spec:
            g = spec["group"]
            c.require(g in selectors, where, "group", f"unknown group {g!r}{parser._hint(str(g), selectors)}")
            anchor = (g,)
        all_of = anchor + selector_list(spec, "all", where)
        any_of = selector_list(spec, "any", where)
        c.require(bool(all_of or any_of), where, "all", "a rule needs 'all' (or 'group') or 'any'")
        fields = c.strings(spec, "fields", where) or FIELDS
        for f in fields:
            c.require(f in FIELDS, where, "fields", f"unknown field {f!r}; known: {', '.join(FIELDS)}")
        own_weights = None
        if "field_weights" in spec:
            table = c.keys(spec["field_weights"], FIELDS, f"{where} field_weights")
            own_weights = {**field_weights, **{k: c.number(table, k, where) for k in table}}
        examples = {}
        for key in ("examples_fire", "examples_not"):
            value = spec.get(key, [])
            c.require(isinstance(value, list), where, key, "expected a list of texts or {title, lead, body}")
            parsed = []
            for ex in value:
                if isinstance(ex, str):
                    parsed.append(Example(body=ex))
                    continue
                c.keys(ex, EXAMPLE_KEYS, f"{where} {key}")
                ok = all(isinstance(v, str) for v in ex.values()) and any(ex.values())
                c.require(ok, where, key, "an example needs title, lead or body text")
                parsed.append(Example(ex.get("title", ""), ex.get("lead", ""), ex.get("body", "")))
            examples[key] = tuple(parsed)
        rules.append(
            Rule(
                id=rid,
                weight=weight,
                all=all_of,
                any=any_of,
                none=selector_list(spec, "none", where),
                requires=selector_list(spec, "requires", where),
                unless=selector_list(spec, "unless", where),
                within=c.integer(spec, "within", where, 0),
                fields=tuple(fields),
                field_weights=own_weights,
                cap=c.integer(spec, "cap", where, 10, low=1),
                description=c.text(spec, "description", where),
                examples_fire=examples["examples_fire"],
                examples_not=examples["examples_not"],
            )
        )
    c.require(bool(rules), "top level", "rule", "no rules")

    raw_dom = data.get("dominance", [])
    raw_dom = [raw_dom] if isinstance(raw_dom, dict) else raw_dom
    c.require(isinstance(raw_dom, list), "top level", "dominance", "expected a table or [[dominance]]")
    dominance = []
    for index, spec in enumerate(raw_dom, start=1):
        where = "[dominance]" if len(raw_dom) == 1 else f"dominance #{index}"
        c.keys(spec, DOMINANCE_KEYS, where)
        g = spec.get("group")
        c.require(isinstance(g, str), where, "group", "missing")
        selector(g, where, "group")
        over = selector_list(spec, "over", where)
        c.require(bool(over), where, "over", "empty list")
        dominance.append(Dominance(g, over, c.text(spec, "description", where)))

    return Ruleset(
        name=name,
        version=version or hashlib.sha256(text.encode()).hexdigest()[:12],
        primary=primary,
        mention=mention,
        field_weights=field_weights,
        groups=groups,
        rules=tuple(rules),
        dominance=tuple(dominance),
        entities=entities,
        paradigms=dict(parser.paradigms),
        softening=dict(parser.softening),
        selectors=selectors,
        lexicon=Lexicon(terms, groups),
        path=path,
        max_chars=max_chars,
        opening=opening,
        passages=passages,
    )


def parse_opening(data: dict[str, Any], c: _Checker) -> Opening:
    """``[opening]``: which missing fields the opening of the text stands in for (default: none)."""
    spec = c.keys(data.get("opening", {}), OPENING_KEYS, "[opening]")
    c.text(spec, "description", "[opening]")
    return Opening(
        title=c.flag(spec, "title", "[opening]"),
        lead=c.flag(spec, "lead", "[opening]"),
        title_chars=c.integer(spec, "title_chars", "[opening]", Opening.title_chars, low=20),
        lead_chars=c.integer(spec, "lead_chars", "[opening]", Opening.lead_chars, low=20),
    )


def parse_passages(data: dict[str, Any], c: _Checker) -> Passages:
    """``[passages]``: how the body's points add up by paragraph (default: a plain sum)."""
    where = "[passages]"
    spec = c.keys(data.get("passages", {}), PASSAGES_KEYS, where)
    c.text(spec, "description", where)
    cap = c.number(spec, "cap", where) if "cap" in spec else None
    c.require(cap is None or cap > 0, where, "cap", "must be above 0")
    spread, spread_min = c.number(spec, "spread", where, 0.0), c.number(spec, "spread_min", where, 0.0)
    c.require(spread >= 0 and spread_min >= 0, where, "spread", "must not be negative")
    return Passages(cap, spread, spread_min, c.integer(spec, "chars", where, Passages.chars, low=200))


def default_rules_path() -> Path:
    return Path(str(resources.files("monitor") / "data" / "rules" / "peace_talks.toml"))


def load_rules(path: str | Path | None = None) -> Ruleset:
    """Load a rules file (default: the packaged peace-talk rules, read as a resource so that it is found in a
    zipped egg too); the version is a hash of its bytes."""
    file: Traversable = (
        Path(path) if path else resources.files("monitor").joinpath("data", "rules", "peace_talks.toml")
    )
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise RulesError(f"{file}: cannot read rules: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(f"{file}: not UTF-8 text") from exc
    return parse_rules(text, str(file), hashlib.sha256(raw).hexdigest()[:12])
