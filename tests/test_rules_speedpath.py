"""The fast rules engine (#4) gives the verdicts of the engine it replaced.

``rules_reference.py`` is the previous engine (one dictionary lookup per word of ``bytes.split()``), with the
two fixes its header describes; every verdict is compared in full: relevance, score, notes, every match (rule,
group, term, entity, field, offsets, snippet) and every fired rule with its anchor, partners and context.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import rules_reference as reference

from monitor.classify import load_rules, parse_rules
from monitor.eval_rules import load_corpus
from monitor.rules.engine import classify  # the engine alone (monitor.classify adds #12's passages)
from monitor.rules.model import Fired, Match, Ruleset, Verdict

ROOT = Path(__file__).resolve().parent.parent


def with_reference_lexicon(rules: Ruleset) -> Ruleset:
    return dataclasses.replace(rules, lexicon=reference.Lexicon(rules.lexicon.terms, rules.lexicon.groups))


def match_row(m: Match) -> tuple:
    return (m.rule, m.group, m.term, m.entity, m.field, m.start, m.end, m.snippet)


def verdict_row(v: Verdict) -> tuple:
    fired = [
        (f.rule, f.field, f.weight, f.field_weight, f.points, match_row(f.anchor))
        + (tuple(map(match_row, f.partners)), tuple(map(match_row, f.context)))
        for f in v.fired
    ]
    return v.relevance, v.score, v.ruleset, v.notes, [match_row(m) for m in v.matches], fired


class Pair:
    """The same rule set run by the fast engine and by the reference engine."""

    def __init__(self, rules: Ruleset):
        self.rules = rules
        self.reference = with_reference_lexicon(rules)

    def check(self, title: str | None, lead: str | None, body: str | None) -> Verdict:
        verdict = classify(self.rules, title, lead, body)
        assert verdict_row(verdict) == verdict_row(reference.classify(self.reference, title, lead, body)), (
            title,
            lead,
            body,
        )
        return verdict


@pytest.fixture(scope="module")
def packaged() -> Pair:
    return Pair(load_rules())


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load_corpus()


def test_corpus_verdicts_are_the_reference_ones(packaged, corpus):
    for row in corpus:
        title, lead, text = row.get("title"), row.get("lead"), row.get("text")
        packaged.check(title, lead, text)
        packaged.check(None, None, f"{title}\n{lead}\n{text}")  # everything in the body
        packaged.check((title or "").upper(), lead, (text or "").replace("\n", "  "))


def test_long_articles_are_the_reference_ones(packaged, corpus):
    """Articles of 5,000 characters of corpus text, as in bench/bench_rules.py."""
    pool = "\n\n".join(row["text"] for row in corpus)
    for i in range(120):
        row = corpus[i % len(corpus)]
        start = (i * 7919) % (len(pool) - 5000)
        packaged.check(row["title"], row["lead"], (row["text"] + "\n\n" + pool[start : start + 5000])[:5000])


def vocabulary(rules: Ruleset) -> list[str]:
    """The words of every term (stems with a few endings, forms as they are), fillers and separators."""
    words = [
        "i",
        "w",
        "z",
        "za",
        "o",
        "na",
        "nie",
        "się",
        "że",
        "2025",
        "r.",
        "—",
        "-",
        ",",
        ".",
        "„",
        "”",
        "\n",
    ]
    for term in rules.lexicon.terms:
        for w in term.words:
            if w.stem is not None:
                words += [w.stem, w.stem + "a", w.stem + "ami", w.stem + "owski"]
            else:
                words += sorted(w.exact)[:3]
    words += [w.upper() for w in words[::7]] + [w.capitalize() for w in words[::5]]
    return sorted(set(words))


def soup(rng: random.Random, words: list[str], count: int) -> str:
    return " ".join(rng.choice(words) for _ in range(count))


def test_word_soups_are_the_reference_ones(packaged):
    """Dense random texts from the rules' own words: phrases with gaps, overlapping terms, every rule."""
    rng = random.Random(4)
    words = vocabulary(packaged.rules)
    for _ in range(300):
        packaged.check(
            soup(rng, words, rng.randint(0, 12)), soup(rng, words, rng.randint(0, 30)), soup(rng, words, 400)
        )


STRESS = """
[ruleset]
name = "stress"
primary = 4
mention = 1
gap = 2

[paradigms.m]
endings = ["", "a", "em", "owi", "~e"]

[softening]
r = "rz"

[[entity]]
id = "putin"
name = "Władimir Putin"
type = "person"
side = "russia"
role = "leader"
forms = ["putin"]
paradigm = "m"
aliases = ["rosyjsk* przywódc*", "prezydent* rosji", "prezydent rosji władimir"]
gap = 1

[[entity]]
id = "rosja"
name = "Rosja"
type = "state"
side = "russia"
forms = ["rosja", "rosji", "rosję"]
aliases = ["rosyjsk*", "kreml*"]

[[entity]]
id = "witkoff"
name = "Steve Witkoff"
type = "person"
side = "mediator"
role = "envoy"
forms = ["witkoff"]
paradigm = "m"
aliases = ["z udziałem amerykan*"]

[groups.talks]
terms = [
    "rozmow*", "rozmow* pokojow*", "rozmow* z rosj*", "z udziałem amerykan*", "plan* pokojow* trump*",
    "w rozmow* pokojow*", "z",
]

[groups.peace]
gap = 0
terms = ["pokojow* rozmow*", "rozmow* pokojow*", "pokój", "plan pokojowy", "pokojow*"]

[groups.meeting]
gap = 1
terms = ["spotkani*", "spotkani* przywódc*", "szczyt* w genewie", "w genewie"]

[groups.other]
terms = ["gaza", "hamas", "w gazie", "rozmow* o gazie"]

[[rule]]
id = "talks_near_russia"
all = ["talks|peace", "side:russia"]
none = ["other"]
within = 4
weight = 2
cap = 3

[[rule]]
id = "peace_or_meeting"
any = ["peace", "meeting"]
requires = ["side:russia"]
weight = 1
cap = 2

[[rule]]
id = "meeting_with"
all = ["meeting"]
any = ["side:russia|side:mediator", "talks"]
within = 6
weight = 1.5
fields = ["lead", "body"]

[[rule]]
id = "other_war"
all = ["other"]
any = ["talks", "peace"]
within = 5
weight = -1

[[rule]]
id = "talks_anywhere"
all = ["talks", "role:leader"]
none = ["other"]
unless = ["role:envoy"]
weight = 0.5
cap = 4

[[rule]]
id = "envoys"
any = ["role:envoy", "entities"]
requires = ["talks|peace"]
weight = 0.25
field_weights = { title = 1, body = 2 }

[dominance]
group = "other"
over = ["talks", "peace"]
"""


@pytest.mark.parametrize("little_term", [True, False], ids=["z-is-a-term", "z-starts-phrases-only"])
def test_stress_rules_are_the_reference_ones(little_term):
    """A rule set built to collide: little first words (found from the second word when they only start
    phrases), phrases inside phrases of other groups and of entities, gaps 0 to 2, three-word terms,
    selectors of several labels, every kind of rule condition."""
    text = STRESS if little_term else STRESS.replace('"z",\n', "")
    stress = Pair(parse_rules(text, "stress.toml"))
    rng = random.Random(44)
    words = vocabulary(stress.rules) + [
        "x",
        "y",
        "bardzo",
        "putinowski",
        "zaś",
        "rozmowami",
        "Genewie",
        "z z",
    ]
    for _ in range(2500):
        stress.check(
            soup(rng, words, rng.randint(0, 8)), soup(rng, words, rng.randint(0, 15)), soup(rng, words, 60)
        )


@pytest.mark.parametrize(
    "title, lead, body",
    [
        ("", "", ""),
        (None, None, None),
        ("   ", "\n", "\t"),
        ("Rozmowy", "", "rozmowy pokojowe"),
        (
            "Peace talks in Geneva",
            "Putin and Zelensky",
            "Witkoff met Umerov in Geneva to discuss a ceasefire.",
        ),
        (
            "<h1>Rozmowy pokojowe</h1>",
            "<p>Putin <b>i</b> Zełenski</p>",
            "<div>Negocjacje w Stambule &amp; rozejm</div>",
        ),
        (
            "Rozmowy pokojowe w Genewie",
            "Zelenski i Putin",
            "Negocjacje pokojowe w Stambule, wymiana jencow, Kreml",
        ),
        (
            "Мирные переговоры в Женеве",
            "Путин и Зеленский",
            "Переговоры в Стамбуле. Rozmowy Kremla z Kijowem.",
        ),
        ("ROZMOWY POKOJOWE", "PUTIN I ZEŁENSKI", "NEGOCJACJE W STAMBULE. KREML. ROZEJM. WYMIANA JEŃCÓW."),
        (
            "Rozmowy—pokojowe",
            "Putin–Zełenski",
            "«Negocjacje»…‘rozejm’ „zawieszenie broni” rozmowy2 Kreml-Kijów",
        ),
        ("x", "y", "ﬁ İstanbul ß ẞ rozmowy\u00a0pokojowe\u2009w Genewie \U0001f600 Putin\u200bem"),
        ("Tytuł", "", ("Rozmowy pokojowe w Genewie: Witkoff, Umierow i Dmitrijew. " * 90_000)[:5_000_000]),
    ],
    ids=[
        "empty",
        "none",
        "blank",
        "short",
        "english",
        "html",
        "ascii",
        "cyrillic",
        "upper",
        "dashes",
        "unicode",
        "5mb",
    ],
)
def test_edge_cases_are_the_reference_ones(packaged, title, lead, body):
    packaged.check(title, lead, body)


def test_a_repeated_phrase_word_points_at_the_phrase(packaged):
    body = (
        "Gwarancje bez wojsk to papier. O tym, czy gwarancje bezpieczeństwa powstrzymają Rosję, mówi generał."
    )
    verdict = packaged.check(None, None, body)
    found = [m for m in verdict.matches if m.term == "gwarancj* bezpieczeństwa"]
    assert found and all(body[m.start : m.end] == "gwarancje bezpieczeństwa" for m in found)


TIE = (
    "Biały Dom: spotkanie przywódców możliwe jeszcze w tym miesiącu",
    "Administracja nie wyklucza trójstronnego szczytu z udziałem rosyjskiego przywódcy i prezydenta Ukrainy.",
    "Rozmowy o zawieszeniu broni. Rosyjskiego przywódcy nie było w Genewie, gdzie rozmawiano z Kijowem.",
)


def test_ties_between_labels_do_not_depend_on_string_hashing(packaged):
    """Two labels at one word ("rosyjskiego przywódcy" is Putin, "rosyjskiego" is Russia): the same partner and
    context in every process, whatever PYTHONHASHSEED is."""
    packaged.check(*TIE)
    script = (
        "import json, sys\nfrom monitor.classify import classify, load_rules\n"
        "print(json.dumps(classify(load_rules(), *json.load(sys.stdin)).to_dict()))"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(TIE),
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_matches_and_fired_are_ordinary_frozen_dataclasses(packaged, corpus):
    """The engine builds them without their __init__ (see classify's make): same fields, equality, hash."""
    verdict = packaged.check(corpus[0]["title"], corpus[0]["lead"], corpus[0]["text"])
    assert verdict.matches and verdict.fired
    for m in verdict.matches:
        assert m == Match(**dataclasses.asdict(m)) and hash(m) == hash(Match(**dataclasses.asdict(m)))
        assert set(vars(m)) == {f.name for f in dataclasses.fields(Match)}
        with pytest.raises(dataclasses.FrozenInstanceError):
            m.start = 0  # type: ignore[misc]
    for f in verdict.fired:
        assert set(vars(f)) == {field.name for field in dataclasses.fields(Fired)}
        assert f == Fired(**{field.name: getattr(f, field.name) for field in dataclasses.fields(Fired)})
        assert repr(f).startswith("Fired(rule=")


def test_the_lexicon_keeps_nothing_from_the_texts_it_reads(packaged):
    """Memory stays bounded: after many different texts the lexicon holds what it held after the first."""
    lexicon = packaged.rules.lexicon
    rng = random.Random(5)
    words = vocabulary(packaged.rules) + [f"słowo{i}" for i in range(5000)]
    classify(packaged.rules, "Rozmowy", "", "Putin")

    def sizes() -> dict[str, int]:
        # dir(), not vars(): the compiled Lexicon keeps its attributes in slots, not in a __dict__
        attributes = {k: getattr(lexicon, k) for k in dir(lexicon) if not k.startswith("__")}
        return {k: len(v) for k, v in attributes.items() if hasattr(v, "__len__") and not callable(v)}

    before = sizes()
    for _ in range(50):
        classify(packaged.rules, "", "", soup(rng, words, 2000))
    assert sizes() == before
