"""The rules engine itself (monitor/rules/lexicon.py, engine.py): how terms are found where they overlap, that
every match points at its words whatever the text, that it runs from its Python sources and keeps nothing from
the texts it reads. Rule semantics (within, none, any, requires, unless, fields, cap) are in test_classify.py;
the verdicts of the labelled corpus in test_rules_eval.py."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import monitor.rules.engine
import monitor.rules.lexicon
import monitor.rules.text
from monitor.devtools.eval_rules import load_corpus
from monitor.rules import classify, load_rules, parse_rules
from monitor.rules.model import Fired, Match, Ruleset, Term, Verdict
from monitor.rules.text import word_bytes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def packaged() -> Ruleset:
    return load_rules()


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load_corpus()


def test_the_engine_runs_from_its_python_sources():
    """Installs made before #14 compiled the engine to C beside its sources (monitor/rules/*.so); Python would
    import such a module, from an older engine, in place of the source."""
    for module in (monitor.rules.engine, monitor.rules.lexicon, monitor.rules.text):
        assert module.__file__ is not None and module.__file__.endswith(".py"), (
            f"{module.__file__}: a compiled module left by an older install; delete monitor/rules/*.so"
        )


# --- every match points at its words ------------------------------------------------------------------------


def check_matches(rules: Ruleset, verdict: Verdict, title: str | None, lead: str | None, body: str | None):
    """Every match of the verdict spans whole words of its field whose first and last are the first and last
    words of its term, with at most ``gap`` other words between each two of them."""
    texts = {"title": title or "", "lead": lead or "", "body": body or ""}
    terms: dict[tuple[str, str], Term] = {(t.label, t.text): t for t in rules.lexicon.terms}
    every = list(verdict.matches)
    for hit in verdict.fired:
        every += [hit.anchor, *hit.partners, *hit.context]
    for m in every:
        folded = word_bytes(texts[m.field][: rules.max_chars])
        term = terms[(m.entity or m.group, m.term)]
        words = [w.decode() for w in folded[m.start : m.end].split()]
        assert 0 <= m.start < m.end <= len(folded), m
        assert folded[m.start : m.start + 1] != b" " and folded[m.end - 1 : m.end] != b" ", m
        assert m.start == 0 or folded[m.start - 1 : m.start] == b" ", m  # whole words only
        assert m.end == len(folded) or folded[m.end : m.end + 1] == b" ", m
        assert term.words[0].matches(words[0]) and term.words[-1].matches(words[-1]), (m, words)
        assert len(term.words) <= len(words) <= len(term.words) + term.gap * (len(term.words) - 1), (m, words)
        passage = " ".join(texts[m.field][m.start : m.end].split())
        assert f"[{passage}]" in " ".join(m.snippet.split()), m


EDGES = {
    "empty": ("", "", ""),
    "none": (None, None, None),
    "blank": ("   ", "\n", "\t"),
    "short": ("Rozmowy", "", "rozmowy pokojowe"),
    "english": (
        "Peace talks in Geneva",
        "Putin and Zelensky",
        "Witkoff met Umerov in Geneva on a ceasefire.",
    ),
    "html": (
        "<h1>Rozmowy pokojowe</h1>",
        "<p>Putin <b>i</b> Zełenski</p>",
        "<div>Negocjacje &amp; rozejm</div>",
    ),
    "ascii": (
        "Rozmowy pokojowe w Genewie",
        "Zelenski i Putin",
        "Negocjacje pokojowe w Stambule, wymiana jencow",
    ),
    "cyrillic": (
        "Мирные переговоры",
        "Путин и Зеленский",
        "Переговоры в Стамбуле. Rozmowy Kremla z Kijowem.",
    ),
    "upper": (
        "ROZMOWY POKOJOWE",
        "PUTIN I ZEŁENSKI",
        "NEGOCJACJE W STAMBULE. KREML. ROZEJM. WYMIANA JEŃCÓW.",
    ),
    "dashes": ("Rozmowy—pokojowe", "Putin–Zełenski", "«Negocjacje»…‘rozejm’ „zawieszenie broni” Kreml-Kijów"),
    "unicode": ("x", "y", "ﬁ İstanbul ß ẞ rozmowy\u00a0pokojowe\u2009w Genewie \U0001f600 Putin\u200bem"),
    "5mb": ("Tytuł", "", ("Rozmowy pokojowe w Genewie: Witkoff, Umierow i Dmitrijew. " * 90_000)[:5_000_000]),
}


@pytest.mark.parametrize("texts", EDGES.values(), ids=EDGES.keys())
def test_odd_texts_give_matches_on_their_words(packaged, texts):
    verdict = classify(packaged, *texts)
    check_matches(packaged, verdict, *texts)
    assert verdict.relevance in ("primary", "mention", "none")


def test_corpus_and_long_articles_give_matches_on_their_words(packaged, corpus):
    pool = "\n\n".join(row["text"] for row in corpus)
    for i, row in enumerate(corpus):
        for texts in (
            (row["title"], row["lead"], row["text"]),
            (None, None, f"{row['title']}\n{row['lead']}\n{row['text']}"),
            (
                row["title"],
                row["lead"],
                (row["text"] + "\n\n" + pool[i * 7919 % (len(pool) - 5000) :])[:5000],
            ),
        ):
            check_matches(packaged, classify(packaged, *texts), *texts)


def vocabulary(rules: Ruleset) -> list[str]:
    """The words of every term (stems with a few endings, forms as they are), little words and separators."""
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


def test_word_soups_give_matches_on_their_words(packaged):
    """Dense random texts from the rules' own words: phrases with gaps, overlapping terms, every rule."""
    rng = random.Random(4)
    words = vocabulary(packaged)
    for _ in range(200):
        texts = (
            soup(rng, words, rng.randint(0, 12)),
            soup(rng, words, rng.randint(0, 30)),
            soup(rng, words, 400),
        )
        check_matches(packaged, classify(packaged, *texts), *texts)


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


@pytest.fixture(scope="module")
def stress() -> Ruleset:
    return parse_rules(STRESS, "stress.toml")


@pytest.mark.parametrize("little_term", [True, False], ids=["z-is-a-term", "z-starts-phrases-only"])
def test_colliding_terms_give_matches_on_their_words(little_term):
    """A rule set built to collide: little first words, phrases inside phrases of other groups and of entities,
    gaps 0 to 2, three-word terms, selectors of several labels, every kind of rule condition."""
    rules = parse_rules(STRESS if little_term else STRESS.replace('"z",\n', ""), "stress.toml")
    rng = random.Random(44)
    words = vocabulary(rules) + ["x", "y", "bardzo", "putinowski", "zaś", "rozmowami", "Genewie", "z z"]
    for _ in range(800):
        texts = (
            soup(rng, words, rng.randint(0, 8)),
            soup(rng, words, rng.randint(0, 15)),
            soup(rng, words, 60),
        )
        check_matches(rules, classify(rules, *texts), *texts)


# --- where terms overlap --------------------------------------------------------------------------------------


def found(rules: Ruleset, text: str) -> list[tuple[str, str, str]]:
    """(label, term, the words of the text) of every hit, in the lexicon's order."""
    return [
        (h.label, rules.lexicon.terms[h.term].text, text[h.start : h.end])
        for h in rules.lexicon.find(text, "body")
    ]


def test_the_longest_hit_of_a_label_wins_its_words(stress):
    assert found(stress, "Spotkanie przywódców") == [
        ("meeting", "spotkani* przywódc*", "Spotkanie przywódców")  # not also "spotkani*"
    ]


def test_a_group_hit_inside_a_longer_group_hit_gives_way(stress):
    # not also the peace group's "plan pokojowy" and "pokojow*"
    assert found(stress, "Plan pokojowy Trumpa") == [
        ("talks", "plan* pokojow* trump*", "Plan pokojowy Trumpa")
    ]
    # two groups' hits on the same words both count
    assert found(stress, "Rozmowy pokojowe") == [
        ("peace", "rozmow* pokojow*", "Rozmowy pokojowe"),
        ("talks", "rozmow* pokojow*", "Rozmowy pokojowe"),
    ]


def test_an_entity_inside_a_group_hit_stays(stress):
    assert found(stress, "Rozmowy z Rosją trwają") == [
        ("talks", "rozmow* z rosj*", "Rozmowy z Rosją"),
        ("rosja", "rosja", "Rosją"),
    ]


def test_a_term_that_starts_with_a_little_word_points_at_it(stress):
    assert found(stress, "Spotkanie odbyło się z   udziałem Amerykanów.") == [
        ("meeting", "spotkani*", "Spotkanie"),
        ("talks", "z udziałem amerykan*", "z   udziałem Amerykanów"),
        ("witkoff", "z udziałem amerykan*", "z   udziałem Amerykanów"),
    ]


def test_each_next_word_of_a_term_is_the_first_that_fits(stress):
    """Within ``gap`` (2) words, each next word of "w rozmow* pokojow*" is the first that fits: after the first
    "rozmowach" no "pokojowych" follows in reach, and the second "rozmowach" is not tried instead."""
    assert found(stress, "w rozmowach x y pokojowych") == [
        ("talks", "w rozmow* pokojow*", "w rozmowach x y pokojowych")
    ]
    assert found(stress, "w rozmowach rozmowach x y pokojowych") == [
        ("talks", "rozmow*", "rozmowach"),
        ("talks", "rozmow* pokojow*", "rozmowach x y pokojowych"),
    ]


def test_a_repeated_phrase_word_points_at_the_phrase(packaged):
    body = (
        "Gwarancje bez wojsk to papier. O tym, czy gwarancje bezpieczeństwa powstrzymają Rosję, mówi generał."
    )
    verdict = classify(packaged, None, None, body)
    hits = [m for m in verdict.matches if m.term == "gwarancj* bezpieczeństwa"]
    assert hits and all(body[m.start : m.end] == "gwarancje bezpieczeństwa" for m in hits)


TIE = (
    "Biały Dom: spotkanie przywódców możliwe jeszcze w tym miesiącu",
    "Administracja nie wyklucza trójstronnego szczytu z udziałem rosyjskiego przywódcy i prezydenta Ukrainy.",
    "Rozmowy o zawieszeniu broni. Rosyjskiego przywódcy nie było w Genewie, gdzie rozmawiano z Kijowem.",
)


def test_ties_between_labels_do_not_depend_on_string_hashing():
    """Two labels at one word ("rosyjskiego przywódcy" is Putin, and "rosyjskiego" is Russia): the same partner
    and context in every process, whatever PYTHONHASHSEED is."""
    script = (
        "import json, sys\nfrom monitor.rules import classify, load_rules\n"
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
    assert json.loads(outputs.pop())["matches"]


def test_the_nearest_partner_is_the_one_kept():
    rules = parse_rules(
        """
[ruleset]
name = "near"
primary = 5
mention = 1
[groups.talks]
terms = ["rozejm*"]
[groups.side]
terms = ["kreml*"]
[[rule]]
id = "near"
all = ["talks", "side"]
within = 6
weight = 1
""",
        "near.toml",
    )
    body = "Kreml a b c rozejm d Kremla e f Kreml"
    (hit,) = classify(rules, None, None, body).fired
    assert hit.anchor.term == "rozejm*"
    assert [body[p.start : p.end] for p in hit.partners] == ["Kremla"]


# --- the values it returns, and what it keeps ------------------------------------------------------------------


def test_matches_and_fired_are_ordinary_frozen_dataclasses(packaged, corpus):
    """Also when the opening stands in for a missing title (score.py moves the matches into the body)."""
    row = corpus[0]
    for verdict in (
        classify(packaged, row["title"], row["lead"], row["text"]),
        classify(packaged, "", "", row["text"]),
    ):
        assert verdict.matches and verdict.fired
        for m in verdict.matches:
            assert m == Match(**dataclasses.asdict(m)) and hash(m) == hash(Match(**dataclasses.asdict(m)))
            assert set(vars(m)) == {f.name for f in dataclasses.fields(Match)}
            with pytest.raises(dataclasses.FrozenInstanceError):
                m.start = 0  # type: ignore[misc]
        for f in verdict.fired:
            assert set(vars(f)) == {field.name for field in dataclasses.fields(Fired)}
            assert f == Fired(**{field.name: getattr(f, field.name) for field in dataclasses.fields(Fired)})


def test_the_lexicon_keeps_nothing_from_the_texts_it_reads(packaged):
    """Memory stays bounded: after many different texts the lexicon holds what it held after the first."""
    lexicon = packaged.lexicon
    rng = random.Random(5)
    words = vocabulary(packaged) + [f"słowo{i}" for i in range(5000)]
    classify(packaged, "Rozmowy", "", "Putin")

    def sizes() -> dict[str, int]:
        return {k: len(v) for k, v in vars(lexicon).items() if hasattr(v, "__len__")}

    before = sizes()
    for _ in range(50):
        classify(packaged, "", "", soup(rng, words, 2000))
    assert sizes() == before
