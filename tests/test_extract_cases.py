"""Extraction cases one at a time: encodings, dates with provenance, summary and lead, boilerplate, paywall,
authors, and inputs that must not crash or hang."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import lxml.html
import pytest
import trafilatura

from monitor.extract import NotAnArticle, clean_authors, decode_html, extract_article, prose_words
from monitor.extract.dates import is_dateline, text_dates
from monitor.extract.language import count_words
from monitor.extract.lines import is_boilerplate_line, split_credits

NOW = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)
LETTERS = "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"
SENTENCES = "".join(
    f"<p>Zdanie numer {n} opowiada o rozmowach w Genewie, gdzie delegacje spotkały się ponownie.</p>"
    for n in range(8)
)


def page(body: str = SENTENCES, head: str = "", title: str = "Tytuł artykułu", after_h1: str = "") -> str:
    return f"<html><head>{head}</head><body><article><h1>{title}</h1>{after_h1}{body}</article></body></html>"


# --- encodings ---------------------------------------------------------------------------------

TEXT = f"<p>Pchnąć w tę łódź jeża lub ośm skrzyń fig: {LETTERS}.</p>"


@pytest.mark.parametrize(
    ("codec", "meta", "header"),
    [
        ("utf-8", "utf-8", None),
        ("utf-8", None, "text/html; charset=utf-8"),
        ("cp1250", "windows-1250", None),
        ("cp1250", None, "text/html; charset=windows-1250"),
        ("cp1250", None, None),  # no declaration at all
        ("iso8859-2", "iso-8859-2", None),
        ("iso8859-2", None, "text/html; charset=ISO-8859-2"),
        ("iso8859-2", None, None),
        ("cp1250", "windows-1250", "text/html; charset=utf-8"),  # the header lies
        ("cp1250", "iso-8859-2", None),  # the meta lies the common Polish way
        ("utf-8", "iso-8859-2", "text/html; charset=utf-8"),  # conflicting: header wins and decodes
    ],
)
def test_polish_letters_survive_every_declaration(codec, meta, header):
    head = f'<meta charset="{meta}">' if meta else ""
    body = f"<html><head>{head}</head><body>{TEXT}</body></html>".encode(codec)
    text = decode_html(body, header)
    assert LETTERS in text and "\ufffd" not in text


def test_bom_and_numeric_entities():
    assert LETTERS in decode_html(b"\xef\xbb\xbf" + TEXT.encode())
    entities = "".join(f"&#x{ord(c):x};" for c in LETTERS)
    article = extract_article(
        "https://x.pl/a",
        page(f"<p>{entities}.</p>" + SENTENCES).encode("ascii", "xmlcharrefreplace"),
        fetched_at=NOW,
    )
    assert LETTERS in article.text


def test_utf8_page_with_a_broken_byte_stays_utf8():
    text = f"<html><body><p>{LETTERS} Café Noël {LETTERS}</p></body></html>"
    body = text.encode("utf-8").replace("é".encode(), b"\xe9", 1)  # one byte written by a latin-1 system
    decoded = decode_html(body, "text/html")
    assert LETTERS in decoded and decoded.count("\ufffd") == 1 and "Noël" in decoded
    assert LETTERS in decode_html(body, "text/html; charset=utf-8")


def test_legacy_polish_page_is_not_mistaken_for_nearly_utf8():
    body = f"<html><body><p>{TEXT * 3}</p></body></html>".encode("cp1250")
    assert LETTERS in decode_html(body, "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("lang", "label", "codec", "words"),
    [
        ("fr", "iso-8859-1", "cp1252", "À côté, où l’œuvre, très chère, Noël"),
        ("de", "iso-8859-1", "cp1252", "Über die Straße, schön, fünf Äpfel"),
        ("pl", "iso-8859-1", "cp1250", f"Źle się dzieje w państwie {LETTERS}"),
        ("pl", "iso-8859-1", "iso8859-2", f"Źle się dzieje w państwie {LETTERS}"),
        ("cs", None, "cp1250", "Příliš žluťoučký kůň úpěl ďábelské ódy"),
    ],
)
def test_latin_single_byte_pages_read_as_letters(lang, label, codec, words):
    head = f'<meta charset="{label}">' if label else ""
    body = f'<html lang="{lang}"><head>{head}</head><body><p>{words}.</p></body></html>'.encode(codec)
    assert words in decode_html(body)


@pytest.mark.parametrize(
    ("lang", "meta", "codec", "words"),
    [
        ("uk", "windows-1251", "cp1251", "Перемовини в Женеві тривали кілька годин."),
        ("uk", None, "cp1251", "Перемовини в Женеві тривали кілька годин."),
        ("ru", None, "cp1251", "Переговоры в Женеве продолжались несколько часов."),
        ("zh", "gbk", "gbk", "日内瓦的会谈持续了几个小时。"),
        ("el", None, "cp1253", "Οι συνομιλίες στη Γενεύη διήρκεσαν αρκετές ώρες."),
    ],
)
def test_legacy_charsets_of_other_scripts(lang, meta, codec, words):
    head = f'<meta charset="{meta}">' if meta else ""
    body = f'<html lang="{lang}"><head>{head}</head><body><p>{words}</p></body></html>'.encode(codec)
    assert words in decode_html(body)


def test_other_declared_charsets_and_xml_declarations():
    japanese = "東京で和平交渉についての会合が開かれた。"
    body = f'<html><head><meta charset="shift_jis"></head><body><p>{japanese}</p></body></html>'
    assert japanese in decode_html(body.encode("shift_jis"))
    xhtml = f'<?xml version="1.0" encoding="iso-8859-2"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>{TEXT}{SENTENCES}</body></html>'
    article = extract_article("https://x.pl/a", xhtml.encode("iso8859-2"), fetched_at=NOW)
    assert LETTERS in article.text


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 stycznia 2026, 10:32", [("2026-01-14T10:32:00+01:00", "published")]),
        ("środa, 14.01.2026 10:32", [("2026-01-14T10:32:00+01:00", "published")]),
        ("Czwartek, 15 stycznia 2026 (07:45)", [("2026-01-15T07:45:00+01:00", "published")]),
        (
            "Publikacja: 14.01.2026 10:32 Aktualizacja: 14.01.2026 15:10",
            [("2026-01-14T10:32:00+01:00", "published"), ("2026-01-14T15:10:00+01:00", "modified")],
        ),
        ("dzisiaj, 10:32", [("2026-01-15T10:32:00+01:00", "published")]),
        ("wczoraj, 18:05", [("2026-01-14T18:05:00+01:00", "published")]),
        ("2025-02-17 12:01", [("2025-02-17T12:01:00+01:00", "published")]),
        ("14 lip 2025 r., godz. 8:05", [("2025-07-14T08:05:00+02:00", "published")]),
        ("Nic tu nie ma 31.02.2026", []),
    ],
)
def test_polish_text_dates(text, expected):
    assert [(d.isoformat(), kind) for d, kind in text_dates(text, NOW)] == expected


@pytest.mark.parametrize(
    ("line", "only_a_date"),
    [
        ("Dodano: 13.01.2026, 09:40", True),
        ("Publikacja: 14.01.2026 10:32 Aktualizacja: 14.01.2026 15:10", True),
        ("środa, 14 stycznia 2026 r., godz. 10:32", True),
        ("Jan Kowalski, 14.01.2026", False),
        ("Rozmowy zaplanowano na 14 stycznia 2026 r. w Genewie.", False),
        ("Bez daty", False),
    ],
)
def test_date_lines_are_told_from_sentences_with_dates(line, only_a_date):
    assert is_dateline(line) is only_a_date


def test_publication_time_from_text_with_modification_kept_apart():
    after = '<div class="article-date">Publikacja: 14.01.2026 10:32 Aktualizacja: 14.01.2026 15:10</div>'
    article = extract_article("https://x.pl/a", page(after_h1=after).encode(), fetched_at=NOW)
    assert (article.published, article.published_source) == ("2026-01-14T10:32:00+01:00", "text")
    assert article.modified == "2026-01-14T15:10:00+01:00"


def test_utc_times_are_expressed_in_warsaw_and_a_bare_day_is_refined_by_a_time():
    head = '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2026-01-14T09:32:00Z"}</script>'
    assert (
        extract_article("https://x.pl/a", page(head=head).encode(), fetched_at=NOW).published
        == "2026-01-14T10:32:00+01:00"
    )
    day_only = '<meta property="article:published_time" content="2026-01-14">'
    timed = '<span class="date">14.01.2026, 10:32</span>'
    article = extract_article("https://x.pl/a", page(head=day_only, after_h1=timed).encode(), fetched_at=NOW)
    assert article.published == "2026-01-14T10:32:00+01:00"


def test_modification_time_is_never_the_publication_time():
    head = '<meta property="article:modified_time" content="2026-01-14T15:10:00+01:00">'
    article = extract_article("https://x.pl/a", page(head=head).encode(), fetched_at=NOW)
    assert article.published is None and article.modified == "2026-01-14T15:10:00+01:00"


# --- prose in any script, and the body read again from the page's prose -----------------------------


@pytest.mark.parametrize(
    ("text", "at_least", "at_most"),
    [
        (
            "三月五日上午九时，南湖市地铁五号线正式开通运营。这条线路全长二十八公里，共设二十二座车站。",
            15,
            30,
        ),
        ("暖かくなってきたので、先週末は久しぶりに近くの山へ出かけました。", 10, 20),
        ("Rozmowy trwały kilka godzin, a strony uzgodniły kolejne spotkanie.", 9, 9),
        ("هل ستنجح المفاوضات بين الوفدين في جنيف هذا الأسبوع؟", 9, 9),
        ("वार्ता का अगला दौर अगले सप्ताह जिनेवा में होगा।", 9, 9),
        ("Die Bundesregierung beschloss Entlastungsmaßnahmen.", 4, 4),  # few long words
        ("Hallituksen neuvottelut jatkuvat torstaina.", 4, 4),
        ("Ein Satz. Noch kurz.", 0, 0),
        (" ".join(["słowo"] * 16), 16, 16),  # a paragraph that does not end in a sentence mark
        ("Kijów zimą, zdjęcia czytelników", 0, 0),
        ("Zdjęcie: PAP", 0, 0),
        ("東京", 0, 0),
    ],
)
def test_prose_is_counted_in_any_script(text, at_least, at_most):
    assert at_least <= prose_words(text) <= at_most


def test_words_in_unspaced_scripts():
    assert count_words("地铁五号线今日开通运营") == 6  # eleven characters, about two a word
    assert count_words("Kijów i 東京") == 3


def test_a_body_shorter_than_the_pages_prose_is_read_again():
    from monitor.extract.core import look_again
    from monitor.extract.prose import main_run, read_prose

    paragraphs = [
        f"<p>Akapit numer {n} opisuje kolejny etap rozmów delegacji w Genewie i ich skutki.</p>"
        for n in range(9)
    ]
    tree = lxml.html.document_fromstring(
        "<html><body><div class='box'><p>Krótka zapowiedź tekstu, która nie jest jego treścią, choć ma zdanie.</p></div>"
        + "<ul>"
        + "".join(
            f"<li><a href='/dzial/{n}'>Dział serwisu numer {n} z wiadomościami</a></li>" for n in range(12)
        )
        + "</ul>"
        f"<div class='part'>{''.join(paragraphs[:3])}</div><div class='ad'>Reklama</div>"
        f"<div class='part'>{''.join(paragraphs[3:])}</div></body></html>"
    )
    run = main_run(read_prose(tree), tree)
    assert len(run) == 9
    # a shorter box returned while the body was lost: the run replaces it
    replaced = look_again("Krótka zapowiedź tekstu, która nie jest jego treścią, choć ma zdanie.", run, None)
    assert (
        "Akapit numer 0" in replaced and "Akapit numer 8" in replaced and "Krótka zapowiedź" not in replaced
    )
    # the first of several boxes returned: the rest of the run follows it
    first = "\n".join(p[3:-4] for p in paragraphs[:3])
    continued = look_again(first, run, None)
    assert continued.count("Akapit numer 0") == 1 and "Akapit numer 8" in continued
    # a body that holds the run's prose is kept as it is
    assert look_again(continued, run, None) == continued


# --- lead, summary, boilerplate ----------------------------------------------------------------


def test_w_skrocie_goes_to_lead_and_lead_paragraph_starts_the_body():
    summary = "<div class='box'><h2>W skrócie</h2><ul><li>Pierwszy punkt streszczenia.</li><li>Drugi punkt.</li></ul></div>"
    lead = "<p class='article-lead'>To jest lead artykułu, który opisuje najważniejsze fakty w dwóch zdaniach. Drugie zdanie.</p>"
    article = extract_article("https://x.pl/a", page(after_h1=summary + lead).encode(), fetched_at=NOW)
    assert article.lead == "Pierwszy punkt streszczenia. Drugi punkt."
    assert "Pierwszy punkt" not in article.text
    assert article.text.startswith("To jest lead artykułu")


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("Ten tekst przeczytasz w 3 minuty", True),
        ("4 min czytania", True),
        ("Dalszy ciąg materiału pod wideo", True),
        ("Dalsza część artykułu znajduje się pod materiałem wideo", True),
        ("Masz ciekawy temat? Napisz do nas", True),
        ("Więcej informacji ze świata na stronie głównej Gazeta.pl", True),
        ("Tagi: Ukraina, Rosja, rozmowy pokojowe", True),
        ("Obserwuj nas w Google News", True),
        ("Zobacz także: Putin w Moskwie", True),
        ("Komentarze", True),
        ("Czas czytania tekstu skrócił się dzięki nowej redakcji, która pisze krócej.", False),
        ("Napisał do nas czytelnik z Lublina, który widział wybuch.", False),
        ("Komentarze polityków były ostre, a premier zapowiedział odpowiedź.", False),
    ],
)
def test_furniture_lines(line, furniture):
    assert is_boilerplate_line(line) is furniture


@pytest.mark.parametrize(
    ("text", "body", "credits"),
    [
        ("Zdanie pierwsze.\nOstatnie zdanie. aja/PAP", "Zdanie pierwsze.\nOstatnie zdanie.", ["aja/PAP"]),
        ("Zdanie pierwsze.\nOstatnie zdanie. (PAP)", "Zdanie pierwsze.\nOstatnie zdanie.", ["(PAP)"]),
        ("Zdanie.\nPAP/IAR/PR24/mg", "Zdanie.", ["PAP/IAR/PR24/mg"]),
        ("Zdanie.\n(dpa/jak)", "Zdanie.", ["(dpa/jak)"]),
        ("Zdanie.\nŹródło: Onet, PAP\noprac. mb", "Zdanie.", ["Źródło: Onet, PAP", "oprac. mb"]),
        ("Zdanie.\nTekst: Jan Kowalski", "Zdanie.", ["Tekst: Jan Kowalski"]),
        ("Zdanie.\nŹródło: GUS\nKolejne zdanie.", "Zdanie.\nKolejne zdanie.", ["Źródło: GUS"]),
        ("Zdanie.\ntak, nie", "Zdanie.\ntak, nie", []),
        ("Opracowanie planu potrwa rok.", "Opracowanie planu potrwa rok.", []),
        ("Zdanie mówi o 3/4 wyborców.", "Zdanie mówi o 3/4 wyborców.", []),
        ("W rozmowie z PAP powiedział, że tak.", "W rozmowie z PAP powiedział, że tak.", []),
    ],
)
def test_credits_and_sign_offs_leave_the_body(text, body, credits):
    assert split_credits(text) == (body, credits)


@pytest.mark.parametrize(
    "boilerplate",
    [
        "<p>Reklama</p>",
        "<div class='see-also'><strong>Zobacz także</strong><a href='/x'>Inny tekst o czymś innym</a></div>",
        "<p>Czytaj także: <a href='/y'>Kolejny artykuł o sprawie</a></p>",
        "<p>Dalsza część artykułu pod materiałem wideo</p>",
        "<div class='newsletter'>Zapisz się na newsletter i bądź na bieżąco z wiadomościami.</div>",
        "<p>Komentarze (34)</p>",
        "<p>Źródło: PAP</p>",
        "<div class='author-bio'>Jan Kowalski jest dziennikarzem działu zagranicznego od 2010 roku.</div>",
        "<blockquote class='twitter-tweet'>Wyświetl ten post na platformie X</blockquote>",
    ],
)
def test_boilerplate_is_not_body(boilerplate):
    body = SENTENCES[: len(SENTENCES) // 2] + boilerplate + SENTENCES[len(SENTENCES) // 2 :]
    article = extract_article("https://x.pl/a", page(body).encode(), fetched_at=NOW)
    for marker in (
        "Reklama",
        "Zobacz także",
        "Czytaj także",
        "Dalsza część",
        "newsletter",
        "Komentarze",
        "Źródło",
        "jest dziennikarzem",
        "Wyświetl ten post",
    ):
        assert marker not in article.text
    assert "Zdanie numer 7" in article.text


def test_teasers_go_but_paragraphs_with_links_stay():
    paragraph = (
        "<p class='body-text'>Jak pisaliśmy wcześniej, <a href='/swiat/rozmowy-w-genewie-trwaja-drugi-dzien'>rozmowy"
        " w Genewie trwają drugi dzień</a>, a delegacje mają się spotkać ponownie w piątek rano.</p>"
    )
    teasers = "".join(
        f"<div class='latest-item'><a href='/kraj/tekst-{n}'>Inny tekst numer {n} o czymś innym</a>"
        f"<p>Zajawka tekstu numer {n}, która opisuje, o czym on jest, w jednym zdaniu.</p></div>"
        for n in range(3)
    )
    body = SENTENCES.replace("<p>", "<p class='body-text'>") + paragraph
    article = extract_article(
        "https://x.pl/a", page(body + f"<div class='latest'>{teasers}</div>").encode(), fetched_at=NOW
    )
    assert "rozmowy w Genewie trwają drugi dzień, a delegacje mają się spotkać" in article.text
    assert "Zajawka tekstu" not in article.text and "Inny tekst numer" not in article.text


def test_paywall_by_jsonld_and_by_box():
    head = '<script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":false}</script>'
    assert extract_article("https://x.pl/a", page(head=head).encode(), fetched_at=NOW).paywalled
    box = "<div class='paywall'><p>Artykuł dostępny dla subskrybentów. Kup subskrypcję.</p></div>"
    article = extract_article("https://x.pl/a", page(SENTENCES + box).encode(), fetched_at=NOW)
    assert article.paywalled and "Zdanie numer 1" in article.text and "subskrybentów" not in article.text
    assert not extract_article("https://x.pl/a", page().encode(), fetched_at=NOW).paywalled


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Anna Nowak; Jan Kowalski"], ["Anna Nowak", "Jan Kowalski"]),
        (["Autorka/Autor: Piotr Rutkowski"], ["Piotr Rutkowski"]),
        (["Katarzyna Wójcik Dziennikarka Onetu"], ["Katarzyna Wójcik"]),
        (["oprac. Anna Nowak"], []),
        (["Źródło: PAP"], []),
        (["PAP"], []),
        (["Foto: PAP/EPA, SERGEY DOLZHENKO"], []),
    ],
)
def test_authors_are_people(raw, expected):
    assert clean_authors(raw) == expected


# --- inputs that must not crash or hang --------------------------------------------------------


def test_deeply_nested_page_does_not_crash():
    nested = "<div>" * 100_000 + "tekst" + "</div>" * 100_000
    started = time.process_time()
    with pytest.raises(NotAnArticle):
        extract_article("https://x.pl/a", nested.encode(), fetched_at=NOW)
    assert time.process_time() - started < 30


def test_slow_extraction_hits_the_time_limit(monkeypatch):
    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(trafilatura, "bare_extraction", slow)
    with pytest.raises(NotAnArticle, match="longer than 0.5 s"):
        extract_article("https://x.pl/a", page().encode(), fetched_at=NOW, timeout=0.5)


def test_html_without_an_article_and_leftover_markup():
    with pytest.raises(NotAnArticle, match="no article text"):
        extract_article(
            "https://x.pl/a", b"<html><body><nav><a href='/'>Start</a></nav></body></html>", fetched_at=NOW
        )
    with pytest.raises(NotAnArticle):
        extract_article("https://x.pl/a", b"<<<>>> <p <div", fetched_at=NOW)


def test_per_outlet_hints_drop_boxes_and_pick_the_date():
    from monitor.extract import SiteHints

    odd_box = "<div class='xq7'>Kup teraz bilety na koncert w najlepszej cenie, oferta ważna tylko dziś w sklepie.</div>"
    after = "<span class='kiedy'>14.01.2026, 10:32</span><span class='date'>13.01.2026, 08:00</span>"
    html = page(SENTENCES + odd_box, after_h1=after).encode()
    plain = extract_article("https://x.pl/a", html, fetched_at=NOW)
    assert "Kup teraz bilety" in plain.text
    hinted = extract_article(
        "https://x.pl/a", html, fetched_at=NOW, site=SiteHints(drop=("div.xq7",), date_selector="span.kiedy")
    )
    assert "Kup teraz bilety" not in hinted.text
    assert (hinted.published, hinted.published_source) == ("2026-01-14T10:32:00+01:00", "site:date_selector")
