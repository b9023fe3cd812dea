import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.rules import (
    Opening,
    Passages,
    RulesError,
    classify,
    explain,
    fold,
    load_rules,
    parse_rules,
    stand_ins,
)

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


@given(st.text(alphabet=st.characters(max_codepoint=0x2FFF), max_size=40))
def test_fold_lowers_each_character_on_its_own_and_keeps_the_length(text):
    """Whole-string lowering is the fast path; "İ" (two characters lowered) and the capital sigma (lowered by its
    context) must come out as each character lowered alone: "İ" kept, "Σ" as "σ"."""
    folded = fold(text)
    assert len(folded) == len(text)
    assert fold(text + " İ ΣΑ") == folded + " İ σα"


@given(
    st.text(alphabet=st.characters(max_codepoint=0x2FFF), max_size=60)
    | st.text("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–—…ab .")
)
def test_fold_through_the_code_page_is_the_fold_of_each_character(text):
    from monitor.rules.text import _FOLD

    assert fold(text) == fold_each(text.translate(_FOLD))


def fold_each(stripped: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in stripped)


def test_seed_story_is_primary_with_explanations(rules):
    verdict = classify(rules, SEED_TITLE, None, SEED_BODY)
    assert verdict.relevance == "primary" and verdict.flagged
    assert verdict.ruleset == rules.version
    title_hits = [m for m in verdict.matches if m.field == "title"]
    assert {m.term for m in title_hits} >= {"spotka* się z putin*", "rozmow*"}  # the phrase wins its words
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


# --- issue #4: Polish-aware entities and groups, weighted rules, explanations ----------------------------

INFLECTED = [
    ("putin", ["Putin", "Putina", "Putinem", "Putinowi", "Putinie", "PUTINA"]),
    ("zelenski", ["Zełenski", "Zełenskiego", "Zełenskim", "Zełenskiemu", "Zelenskiego", "Zełenska"]),
    ("pieskow", ["Pieskow", "Pieskowa", "Pieskowem", "Pieskowowi", "Pieskowie"]),
    ("lawrow", ["Ławrow", "Ławrowa", "Ławrowem", "Lawrowowi"]),
    ("uszakow", ["Uszakow", "Uszakowa", "Uszakowem"]),
    ("dmitrijew", ["Dmitrijew", "Dmitrijewa", "Dmitrijewem", "Dmitrijewowi"]),
    ("umierow", ["Umierow", "Umierowa", "Umierowem"]),
    ("kijow", ["Kijów", "Kijowa", "Kijowie", "Kijowem", "Kijow"]),
    ("moskwa", ["Moskwa", "Moskwy", "Moskwie", "Moskwę", "Moskwą"]),
    ("kreml", ["Kreml", "Kremla", "Kremlu", "Kremlem"]),
    ("stambul", ["Stambuł", "Stambułu", "Stambule", "Stambul"]),
    ("genewa", ["Genewa", "Genewy", "Genewie"]),
    ("alaska", ["Alaska", "Alaski", "Alasce", "Anchorage"]),
    ("rijad", ["Rijad", "Rijadu", "Rijadzie"]),
    ("abu_zabi", ["Abu Zabi"]),
    ("dzudda", ["Dżudda", "Dżuddzie", "Dzuddzie"]),
    ("kushner", ["Kushner", "Kushnera", "Kushnerem", "Kushnerze"]),
    ("witkoff", ["Witkoff", "Witkoffa", "Witkoffem", "Witkoffowi"]),
    ("jermak", ["Jermak", "Jermaka", "Jermakiem", "Jermaku"]),
    ("putin", ["rosyjski przywódca", "rosyjskiego przywódcy", "prezydenta Rosji"]),
    ("zelenski", ["prezydent Ukrainy", "prezydentem Ukrainy"]),
    ("bialy_dom", ["Biały Dom", "Białego Domu", "Białym Domu", "Bialy Dom"]),
    ("koalicja_chetnych", ["Koalicja Chętnych", "Koalicji Chętnych", "koalicji chetnych"]),
]


def entities_in(rules, text):
    return {h.label for h in rules.lexicon.find(text, "body") if h.label in rules.entities}


@pytest.mark.parametrize(("entity", "forms"), INFLECTED, ids=[e for e, _f in INFLECTED])
def test_entities_match_every_inflected_form_with_or_without_diacritics(rules, entity, forms):
    for form in forms:
        assert entity in entities_in(rules, f"Wczoraj {form} – powiedział ktoś."), form


def test_inflection_is_generated_from_a_declared_paradigm_not_listed(rules):
    assert rules.entities["pieskow"].forms == ("pieskow",)
    assert rules.entities["pieskow"].paradigm == "surname"
    assert "szczycie" in {
        m for w in rules.lexicon.terms if w.text == "szczyt:masculine" for m in w.words[0].exact
    }


def test_names_do_not_match_inside_other_words(rules):
    assert "putin" not in entities_in(rules, "Putinowska propaganda i putinizm")
    assert "rosja" not in entities_in(rules, "Prorosyjski polityk")
    assert "kreml" not in entities_in(rules, "Kremlowski dwór")  # a different word, not the organisation


@pytest.mark.parametrize(
    "phrase",
    [
        "rozmowy pokojowe",
        "rozmów pokojowych",
        "rozmowach pokojowych",
        "pokojowe rozmowy",
        "rozmowy o pokoju",
        "zawieszenie broni",
        "zawieszenia broni",
        "rozejmu",
        "wymianę jeńców",
        "gwarancjach bezpieczeństwa",
        "memorandum",
        "mediacji",
        "planu pokojowego",
        "negocjacji pokojowych",
        "warunków zakończenia wojny",
    ],
)
def test_talk_vocabulary_matches_inflected_forms(rules, phrase):
    labels = {h.label for h in rules.lexicon.find(f"Trwają {phrase} w sprawie Ukrainy.", "body")}
    assert labels & {"talks", "peace"}, phrase


TINY = """
[ruleset]
name = "tiny"
primary = 3
mention = 1
[fields]
title = 3
lead = 2
body = 1
[paradigms.m]
endings = ["", "a", "em", "~e"]
[softening]
r = "rz"
[[entity]]
id = "kushner"
name = "Jared Kushner"
type = "person"
side = "mediator"
role = "envoy"
forms = ["kushner"]
paradigm = "m"
[[entity]]
id = "kreml"
name = "Kreml"
type = "organisation"
side = "russia"
forms = ["kreml"]
paradigm = "m"
[groups.talks]
gap = 1
terms = ["rozmow* pokojow*", "rozejm*"]
[groups.pay]
terms = ["płac*"]
[[rule]]
id = "near"
all = ["talks", "side:russia"]
none = ["pay"]
within = 3
weight = 1
cap = 2
[[rule]]
id = "envoy"
any = ["role:envoy"]
requires = ["talks"]
unless = ["pay"]
weight = 0.5
"""


@pytest.fixture(scope="module")
def tiny():
    return parse_rules(TINY, "tiny.toml")


def fired(verdict):
    return [(f.rule, f.field, f.points) for f in verdict.fired]


def test_multi_word_terms_keep_order_and_a_small_gap(tiny):
    assert [h.label for h in tiny.lexicon.find("rozmowy bardzo pokojowe", "body")] == ["talks"]
    assert tiny.lexicon.find("rozmowy nie tak bardzo pokojowe", "body") == []
    assert tiny.lexicon.find("pokojowe rozmowy", "body") == []


def test_within_n_words_all_none_and_field_weights(tiny):
    assert fired(classify(tiny, "Rozejm? Kreml milczy", None, None)) == [("near", "title", 3.0)]
    assert fired(classify(tiny, None, None, "Rozejm. Długo, długo, długo nic, a potem Kreml.")) == []
    assert fired(classify(tiny, None, None, "Kreml o rozejmie płacowym")) == []  # a negative context nearby
    verdict = classify(tiny, "Rozejm? Kreml milczy", "Kreml chce rozejmu", "Rozejm, mówi Kreml.")
    assert fired(verdict) == [("near", "title", 3.0), ("near", "lead", 2.0)]  # cap 2, heaviest fields first
    assert verdict.score == 5.0 and verdict.relevance == "primary"


def test_requires_unless_and_any_selectors(tiny):
    verdict = classify(tiny, None, None, "Kushnerze, co z rozejmem?")
    assert ("envoy", "body", 0.5) in fired(verdict)
    assert verdict.relevance == "none"
    assert fired(classify(tiny, None, None, "Kushner i rozejm w sporze o płace")) == []
    assert fired(classify(tiny, None, None, "Kushner bez słowa o rozmowach")) == []


def test_matches_point_into_the_original_text(rules):
    title = "Zełenski: „Rozmowy pokojowe” z Kremlem – w Genewie"
    body = "<p>Witkoff i Kushner</p> rozmawiali z Dmitrijewem o zawieszeniu broni.\n\nKijów czeka."
    verdict = classify(rules, title, "", body)
    assert verdict.matches
    for m in verdict.matches:
        source = {"title": title, "body": body}[m.field]
        assert (
            fold(source[m.start : m.end]).replace("-", " ").split()
            and f"[{source[m.start : m.end]}]" in m.snippet
        )


def test_verdict_json_has_the_documented_keys(rules):
    data = classify(rules, SEED_TITLE, None, SEED_BODY).to_dict()
    assert list(data) == ["flagged", "relevance", "score", "ruleset", "matches"]
    assert set(data["matches"][0]) == {"rule", "term", "entity", "field", "start", "end", "snippet"}
    assert any(m["entity"] == "putin" for m in data["matches"])


def test_explanation_names_rules_words_fields_weights_and_thresholds(rules):
    from monitor.rules import explain

    verdict = classify(rules, SEED_TITLE, None, SEED_BODY)
    text = explain(rules, verdict, SEED_TITLE)
    assert "relevance: primary" in text and "primary ≥ 7" in text and "mention ≥ 2" in text
    assert "negotiation_in_title" in text and "× title 3" in text and "[rozmów]" in text
    assert "Władimir Putin" in text


def test_other_conflict_dominance_is_explained(rules):
    verdict = classify(
        rules,
        "Negocjacje w Kairze. Hamas stawia warunki",
        "Izrael i Hamas rozmawiają o rozejmie w Strefie Gazy.",
        "Hamas, Izrael, Strefa Gazy. Witkoff wspomniał też o Ukrainie.",
    )
    assert verdict.relevance == "none" and any("dominance" in n for n in verdict.notes)


@pytest.mark.parametrize(
    "body",
    [
        "",
        " \n\t ",
        "The Kremlin said peace talks with Ukraine would continue in Geneva next week.",
        "Кремль заявил, что переговоры с Украиной продолжатся. Путин, Зеленский, Песков.",
        "Der Kreml und die Ukraine verhandeln über einen Waffenstillstand.",
        "<div><p>Rozmowy</p><script>var x = '<b>Putin</b>';</script></div>" * 50,
        "\ud800 lone surrogate \U0001f600 emoji \x00 nul \u200b zero width",
        "Rozmowy pokojowe Putin Zełenski Witkoff Kreml Kijów rozejm " * 20_000,
    ],
    ids=["empty", "blank", "english", "russian", "german", "html", "odd-unicode", "repetitive"],
)
def test_odd_inputs_never_crash(rules, body):
    verdict = classify(rules, body[:200], body[:500], body)
    assert verdict.relevance in ("primary", "mention", "none")
    for m in verdict.matches:
        assert 0 <= m.start < m.end


def test_five_megabytes_of_text_is_handled(rules):
    import time

    body = ("Zwykły tekst o pogodzie i o cenach masła w sklepach. " * 100_000)[:5_000_000]
    body += " Rozmowy pokojowe w Genewie: Kreml i Kijów."
    started = time.perf_counter()
    verdict = classify(rules, "Długi tekst", None, body)
    assert time.perf_counter() - started < 10
    assert any("first 200,000" in n for n in verdict.notes)


# --- issue #12: texts without title or lead, the body by passage, third parties, guarantees, conditions -----

INFLECTED_12 = [
    ("kuleba", ["Kułeba", "Kułeby", "Kułebie", "Kułebą", "Kuleba"]),
    ("riabkow", ["Riabkow", "Riabkowa", "Riabkowem"]),
    ("miedwiediew", ["Miedwiediew", "Miedwiediewa", "Miedwiediewowi"]),
    ("zacharowa", ["Zacharowa", "Zacharowej", "Zacharową"]),
    ("podolak", ["Podolak", "Podolaka", "Podolakiem"]),
    ("arachamija", ["Arachamija", "Arachamii", "Arachamiją"]),
    ("petersburg", ["Petersburg", "Petersburgu", "Petersburgiem"]),
    ("chiny", ["Chiny", "Chin", "Chinami", "Pekin", "Pekinie", "chińskiej", "Xi Jinpinga", "Wang Yi"]),
    ("watykan", ["Watykan", "Watykanie", "Stolicy Apostolskiej", "papieża", "papieżem"]),
    ("turcja", ["Turcja", "Turcji", "turecki", "Ankara", "Ankarze", "Fidanem"]),
    ("afryka", ["afrykańskich przywódców", "przywódcy państw Afryki", "Ramaphosa", "RPA"]),
    ("zatoka", ["Arabia Saudyjska", "saudyjski", "Saudyjczycy", "Emiraty", "katarskie", "ZEA"]),
    ("orban", ["Orban", "Orbán", "Orbana", "Orbánem"]),
    ("indie_modi", ["Modi", "Modiego"]),
    ("doha", ["Doha", "Dosze"]),
    ("burgenstock", ["Bürgenstock", "Bürgenstocku"]),
]


@pytest.mark.parametrize(("entity", "forms"), INFLECTED_12, ids=[e for e, _f in INFLECTED_12])
def test_new_entities_match_their_inflected_forms(rules, entity, forms):
    for form in forms:
        assert entity in entities_in(rules, f"Wczoraj {form} – powiedział ktoś."), form


@pytest.mark.parametrize(
    "phrase",
    [
        "misji pokojowej",
        "szczycie pokojowym",
        "formuły pokojowej",
        "państw gwarantów",
        "gwarantem bezpieczeństwa",
        "sił rozjemczych",
        "przyszłego porozumienia",
        "pośredniczyć w rozmowach",
        "ultimatum",
        "warunków rozejmu",
        "pierwotnych przyczyn konfliktu",
        "kanał komunikacji",
        "kanału bezpośrednich rozmów",
        "spotkania Putina z Zełenskim",
        "spotkania na najwyższym szczeblu",
        "planu Trumpa",
        "amerykańskiej propozycji",
        "kontrpropozycji",
    ],
)
def test_vocabulary_of_missions_guarantees_conditions_and_plans(rules, phrase):
    labels = {h.label for h in rules.lexicon.find(f"Mówiono o {phrase} w sprawie Ukrainy.", "body")}
    assert labels & {"talks", "peace"}, phrase


@pytest.mark.parametrize(
    "text",
    [
        "Według mediów Rosja przerzuca wojska na południe Ukrainy.",  # mediów: the media, not mediation
        "Ukraina kupuje gaz za pośrednictwem polskiego operatora.",  # via
        "Sankcje obejmą pośredników handlu rosyjską ropą.",
        "Budapeszt od lat blokuje rozmowy o członkostwie Ukrainy w NATO.",  # Budapest as Hungary's government
    ],
)
def test_words_that_look_like_talk_vocabulary_do_not_count(rules, text):
    assert not {h.label for h in rules.lexicon.find(text, "body")} & {"talks", "peace"}, text
    assert not any(h.rule == "talks_at_venue" for h in classify(rules, "", "", text).fired)


def test_india_is_no_longer_another_war_by_itself(rules):
    """India named as a country that offers to mediate is not the India–Pakistan conflict (Kashmir is)."""
    text = "Premier Indii Narendra Modi zadeklarował w Kijowie, że Indie są gotowe pośredniczyć w rozmowach z Moskwą."
    verdict = classify(rules, "", "", text)
    assert not any(h.rule == "other_conflict" for h in verdict.fired)
    assert any(h.rule == "third_party_with_sides" for h in verdict.fired)
    assert any(
        h.rule == "other_conflict"
        for h in classify(rules, "", "", "Indie i Pakistan: rozejm w Kaszmirze.").fired
    )


BODY_ONLY = (
    "Delegacje Rosji i Ukrainy spotkały się w Stambule na kolejnej rundzie rozmów o zawieszeniu broni. "
    "Obradom przewodniczył szef tureckiej dyplomacji.\n\n"
    "Rosyjską stroną kierował Władimir Miedinski, ukraińską – Rustem Umierow. Rozmowy trwały dwie godziny.\n\n"
    "Jedynym konkretem jest wymiana jeńców w formacie tysiąc za tysiąc."
)


def test_the_first_sentence_stands_in_for_a_missing_title(rules):
    verdict = classify(rules, "", "", BODY_ONLY)
    assert verdict.flagged
    assert any("no title: the body's opening" in note for note in verdict.notes)
    title_hits = [hit for hit in verdict.fired if hit.field == "title"]
    assert title_hits, "the opening is scored with the title's weight"
    first_sentence_end = BODY_ONLY.index("broni.") + len("broni.")
    for hit in title_hits:
        assert hit.anchor.field == "body" and hit.anchor.end <= first_sentence_end  # still points at the body
    for m in verdict.matches:  # every match points at the words it names, in the field they are in
        assert m.field == "body"
        assert f"[{BODY_ONLY[m.start : m.end]}]" in m.snippet


def test_a_missing_lead_is_the_rest_of_the_first_paragraph(rules):
    verdict = classify(rules, "Rozmowy w Stambule", "", BODY_ONLY)
    assert verdict.notes and verdict.notes[0].startswith("no lead: the body's characters 0–")
    assert not any(note.startswith("no title") for note in verdict.notes)
    assert {hit.field for hit in verdict.fired} >= {"title", "lead"}


def test_without_a_title_the_leads_first_sentence_stands_in(rules):
    lead = "Putin nie przyleci do Stambułu. Na czele delegacji stanie Miedinski."
    places, notes = stand_ins(rules.opening, {"title": "", "lead": lead, "body": "Treść."})
    assert places["title"] == ("lead", 0, len("Putin nie przyleci do Stambułu."))
    assert places["lead"][0] == "lead" and places["body"] == ("body", 0, len("Treść."))
    assert notes == ["no title: the lead's opening (characters 0–31) stands in for it"]


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("Zełenski m.in. o rozejmie. Drugie zdanie.", "Zełenski m.in. o rozejmie."),
        (
            "Wiceprezydent J.D. Vance rozmawiał z Umierowem. Drugie zdanie.",
            "Wiceprezydent J.D. Vance rozmawiał z Umierowem.",
        ),
        ("Gen. Kellogg w Kijowie. Dalej.", "Gen. Kellogg w Kijowie."),
        (
            "ZEŁENSKI: SPOTKANIE W ABU ZABI\nPrezydent poinformował o rozmowach.",
            "ZEŁENSKI: SPOTKANIE W ABU ZABI",
        ),
        ("Ok. 40 proc. ankietowanych chce rozmów. Dalej.", "Ok. 40 proc. ankietowanych chce rozmów."),
    ],
)
def test_the_opening_sentence_is_found_past_abbreviations_and_headings(rules, body, title):
    places, _notes = stand_ins(rules.opening, {"title": "", "lead": "", "body": body})
    source, start, end = places["title"]
    assert (source, body[start:end]) == ("body", title)


def test_a_long_opening_is_cut_at_a_word(rules):
    body = "Słowo " * 100 + "koniec."
    places, _notes = stand_ins(rules.opening, {"title": "", "lead": "", "body": body})
    _source, start, end = places["title"]
    assert end - start <= rules.opening.title_chars and body[end] == " "
    _source, start, end = places["lead"]
    assert end - start <= rules.opening.lead_chars


def test_rules_without_an_opening_read_fields_as_given(rules):
    plain = dataclasses.replace(rules, opening=Opening())
    verdict = classify(plain, "", "", BODY_ONLY)
    assert not verdict.notes and {hit.field for hit in verdict.fired} == {"body"}


WAR_REPORT = (
    "Rosja zaatakowała w nocy Charków dronami i rakietami. Zginęły cztery osoby.\n\n"
    "Ratownicy przez cały dzień usuwali gruzy, a mer miasta ogłosił żałobę.\n\n"
    "Atak nastąpił dzień po zakończeniu rundy rozmów delegacji Rosji i Ukrainy w Stambule. Poza porozumieniem "
    "w sprawie wymiany jeńców nie przyniosła ona rezultatów, a Moskwa odrzuciła propozycję zawieszenia broni.\n\n"
    "Ukraina apeluje do partnerów o kolejne systemy obrony powietrznej."
)


def test_a_war_report_with_one_paragraph_on_the_talks_stays_a_mention(rules):
    verdict = classify(rules, "Nocny atak na Charków", "Zginęły cztery osoby.", WAR_REPORT)
    assert verdict.relevance == "mention"
    (cap,) = [a for a in verdict.adjustments if a.kind == "cap"]
    assert cap.points < 0 and "paragraph 3" in cap.description
    uncapped = dataclasses.replace(rules, passages=Passages())
    assert classify(uncapped, "Nocny atak na Charków", "Zginęły cztery osoby.", WAR_REPORT).flagged


def test_talks_told_in_several_paragraphs_add_up(rules):
    body = "\n\n".join(
        [
            "Rosja i Ukraina wymieniły jeńców po rozmowach w Stambule.",
            "Kreml ocenił, że negocjacje z Ukrainą będą trudne.",
            "Kijów chce zawieszenia broni przed rozmowami o terytoriach z Rosją.",
        ]
    )
    verdict = classify(rules, "Pogoda", "Bez zmian.", body)
    (spread,) = [a for a in verdict.adjustments if a.kind == "spread"]
    assert spread.points == rules.passages.spread * 2 and "paragraphs 1, 2, 3" in spread.description
    total = sum(hit.points for hit in verdict.fired) + sum(a.points for a in verdict.adjustments)
    assert verdict.score == round(total, 2)


def test_the_opening_that_stands_in_for_title_and_lead_still_counts_for_the_spread(rules):
    """A body-only text loses no paragraph for the spread: its opening, read as title and lead, tells the talks
    as the first paragraph of a full article would (#12), at what its hits weigh without the title's weight."""
    talks = [
        "Rosja i Ukraina wymieniły jeńców po rozmowach w Stambule.",
        "Kreml ocenił, że negocjacje z Ukrainą będą trudne.",
        "Kijów chce zawieszenia broni przed rozmowami o terytoriach z Rosją.",
    ]
    full = classify(rules, "Pogoda", "Bez zmian.", "\n\n".join(talks))
    body_only = classify(rules, "", "", "\n\n".join(talks))
    assert body_only.notes[0].startswith("no title: the body's opening")
    for verdict in (full, body_only):
        (spread,) = [a for a in verdict.adjustments if a.kind == "spread"]
        assert "(paragraphs 1, 2, 3)" in spread.description and spread.points == 2 * rules.passages.spread
    # weak words in the opening (a meeting next to a side) weigh 3× as a title, but do not tell the talks
    weak = ["Putin spotkał się w Moskwie z gubernatorem.", *talks[1:]]
    verdict = classify(rules, "", "", "\n\n".join(weak))
    assert any(hit.rule == "meeting_in_title" for hit in verdict.fired)
    (spread,) = [a for a in verdict.adjustments if a.kind == "spread"]
    assert "(paragraphs 2, 3)" in spread.description


def test_a_paragraph_longer_than_the_passage_size_is_read_in_pieces(rules):
    talk = "Rosja i Ukraina prowadzą rozmowy pokojowe o zawieszeniu broni. "
    filler = "Mieszkańcy miasta wrócili do swoich zajęć po długim weekendzie. " * 25  # ~1,600 characters
    long_line = talk + filler + talk + filler + talk  # one line: a feed description, a flattened page
    verdict = classify(rules, "Tytuł", "Lead.", long_line)
    (spread,) = [a for a in verdict.adjustments if a.kind == "spread"]
    assert "(paragraphs 1, 1.2, 1.3)" in spread.description and spread.points == 2 * rules.passages.spread
    one_piece = dataclasses.replace(rules, passages=dataclasses.replace(rules.passages, chars=10_000))
    assert not any(a.kind == "spread" for a in classify(one_piece, "Tytuł", "Lead.", long_line).adjustments)


def test_explain_shows_stand_ins_and_passages(rules):
    verdict = classify(rules, "", "", WAR_REPORT)
    text = explain(rules, verdict)
    assert "note: no title: the body's opening" in text
    assert "passages of the body:" in text and "cap: one paragraph of the body counts up to" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[opening]\ntitle = 'yes'\n", r"\[opening\], field 'title': must be true or false"),
        ("[opening]\ntitel = true\n", r"\[opening\], field 'titel': unknown key \(did you mean 'title'\?\)"),
        ("[opening]\nlead_chars = 5\n", r"\[opening\], field 'lead_chars': must be a whole number ≥ 20"),
        ("[passages]\ncap = 0\n", r"\[passages\], field 'cap': must be above 0"),
        ("[passages]\nspread = -1\n", r"\[passages\], field 'spread': must not be negative"),
        ("[passages]\nchars = 10\n", r"\[passages\], field 'chars': must be a whole number ≥ 200"),
    ],
)
def test_bad_opening_and_passages_name_the_table_and_field(extra, message):
    text = "[ruleset]\nname='x'\nprimary=2\nmention=1\n[groups.a]\nterms=['a']\n[[rule]]\nid='r'\ngroup='a'\nweight=1\n"
    with pytest.raises(RulesError, match=message):
        parse_rules(text + extra, "r.toml")
    parsed = parse_rules(text + "[opening]\ntitle = true\n[passages]\ncap = 3.5\nspread = 1\n", "r.toml")
    assert parsed.opening == Opening(title=True) and parsed.passages == Passages(cap=3.5, spread=1.0)
