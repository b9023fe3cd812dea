import pytest

from monitor.classify import RulesError, classify, fold, load_rules, parse_rules

SEED_TITLE = "Media: Kushner i Witkoff mają spotkać się z Putinem w Moskwie. Wyciekły tematy rozmów"
SEED_BODY = (
    "Według mediów Steve Witkoff i Jared Kushner planują spotkanie z Władimirem Putinem w Moskwie, "
    "by omówić propozycje pokojowe dla Ukrainy. Pomimo rozmów i negocjacji, Rosja kontynuuje ataki na "
    "Ukrainę. Rozmowy miałyby objąć gwarancje bezpieczeństwa ze strony USA i Europy w celu utrzymania "
    "ewentualnego porozumienia."
)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def test_fold_keeps_positions():
    text = "Zełenski spotkał się z PUTINEM w Łodzi"
    assert fold(text) == "zelenski spotkal sie z putinem w lodzi"
    assert len(fold(text)) == len(text)


def test_seed_story_is_primary_with_explanations(rules):
    verdict = classify(rules, SEED_TITLE, None, SEED_BODY)
    assert verdict.relevance == "primary" and verdict.flagged
    assert verdict.ruleset == rules.version
    title_hits = [m for m in verdict.matches if m.field == "title"]
    assert {m.term for m in title_hits} >= {"spotka*", "rozmow*"}
    for m in verdict.matches:
        source = {"title": SEED_TITLE, "body": SEED_BODY}[m.field]
        assert f"[{source[m.start : m.end]}]" in m.snippet


def test_text_without_diacritics_still_matches(rules):
    plain = SEED_BODY.translate(str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ"))
    assert classify(rules, SEED_TITLE, None, plain).flagged


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Nauczyciele negocjują podwyżki",
            "Rozmowy z ministrem zakończyły się porozumieniem w sprawie płac.",
        ),
        (
            "Nocny atak dronów na Charków",
            "Rosja zaatakowała Ukrainę dronami. Zginęły trzy osoby, a Kijów apeluje o obronę.",
        ),
        (
            "Witkoff w Kairze: rozmowy o rozejmie w Strefie Gazy",
            "Negocjacje Izraela i Hamasu o zawieszeniu broni w Strefie Gazy trwają. Izrael i Hamas wymienili "
            "zakładników. Witkoff rozmawia też o Ukrainie, ale w Kairze chodzi o Hamas i Izrael.",
        ),
    ],
)
def test_not_flagged(rules, title, body):
    assert not classify(rules, title, None, body).flagged


def test_empty_and_huge_inputs(rules):
    assert classify(rules, None, None, None).relevance == "none"
    assert classify(rules, "", "", "<p>" * 10000).relevance == "none"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ruleset]\nname='x'\nprimary=1\nmention=2\n", "field 'primary': below mention"),
        (
            "[ruleset]\nname='x'\nprimary=2\nmention=1\n[groups.a]\nterms=[]\n",
            "group 'a', field 'terms': empty group",
        ),
        (
            "[ruleset]\nname='x'\nprimary=2\nmention=1\n[groups.a]\nterms=['Rozmowy']\n",
            "group 'a', field 'terms': 'Rozmowy'",
        ),
        (
            "[ruleset]\nname='x'\nprimary=2\nmention=1\n[groups.a]\nterms=['a']\n[[rule]]\nid='r'\ngroup='b'\nweight=1\n",
            "rule 'r' \\(entry 1\\), field 'group': unknown group 'b'",
        ),
        (
            "[ruleset]\nname='x'\nprimary=2\nmention=1\n[groups.a]\nterms=['a']\n[[rule]]\nid='r'\ngroup='a'\nweight=1\nwieght=2\n",
            "field 'wieght': unknown key",
        ),
        (
            "[ruleset]\nname='x'\nprimary=2\nmention=1\n[groups.a]\nterms=['a']\n"
            "[[rule]]\nid='r'\ngroup='a'\nweight=1\n[[rule]]\nid='r'\ngroup='a'\nweight=1\n",
            "rule 'r' \\(entry 2\\), field 'id': duplicate id",
        ),
        ("[ruleset\n", "not valid TOML"),
    ],
)
def test_bad_rules_name_file_entry_and_field(text, message):
    with pytest.raises(RulesError, match=message) as info:
        parse_rules(text, "r.toml")
    assert str(info.value).startswith("r.toml: ")


def test_rules_version_is_a_hash_of_the_file(tmp_path, rules):
    copy = tmp_path / "r.toml"
    copy.write_bytes(load_rules.__globals__["default_rules_path"]().read_bytes())
    assert load_rules(copy).version == rules.version
    copy.write_bytes(copy.read_bytes() + b"\n# changed\n")
    assert load_rules(copy).version != rules.version
    with pytest.raises(RulesError, match="cannot read rules"):
        load_rules(tmp_path / "missing.toml")
