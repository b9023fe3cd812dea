"""The language of an article: Polish told at once by its own letters and words, everything else by langdetect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langdetect import DetectorFactory, detect

from monitor.devtools.mirror import load_sites
from monitor.extract import extract_article
from monitor.extract import language as lang
from monitor.extract.language import LANGUAGE_PREFIX, clearly_polish, detect_language

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DetectorFactory.seed = 0

POLISH = [
    "Delegacje Ukrainy i Rosji spotkały się w czwartek w Genewie. Rozmowy trwały ponad cztery godziny, a ich "
    "przebieg obie strony oceniły jako rzeczowy. Jak przekazał rzecznik Kremla, kolejna runda ma się odbyć "
    "jeszcze w tym miesiącu.",
    "Niecodzienna interwencja policjantów z Oleśnicy. Zawieźli oni zatrzymanego mężczyznę do sklepu, dzięki "
    "czemu uniknął aresztu. Zaskakujące, co musiał zrobić.",
    "Prezydent Recep Tayyip Erdoğan zaproponował, by kolejne rozmowy pokojowe odbyły się w Stambule. Turcja "
    "jest gotowa przyjąć obie delegacje – powiedział po spotkaniu z premierem Norwegii Jonasem Gahrem Støre.",
]

# Written for this test: languages that share letters or short words with Polish, and English and German
# texts full of Polish names. None is Polish, so none may be called Polish without asking langdetect.
NOT_POLISH = {
    "cs": "Prezident Zelenskyj se ve čtvrtek setkal v Ženevě s americkým vyslancem. Jednání o příměří podle "
    "mluvčího Kremlu pokračují a další kolo se má uskutečnit ještě tento měsíc v Istanbulu.",
    "sk": "Rokovania o prímerí medzi Ruskom a Ukrajinou pokračujú v Ženeve. Podľa hovorcu Kremľa sa ďalšie kolo "
    "uskutoční ešte tento mesiac, no dohoda o územiach je zatiaľ ďaleko.",
    "hr": "Pregovori o primirju između Rusije i Ukrajine nastavljaju se u Ženevi. Prema riječima glasnogovornika "
    "Kremlja, sljedeći krug održat će se još ovaj mjesec, ali dogovor o teritorijima još je daleko.",
    "sl": "Pogajanja o premirju med Rusijo in Ukrajino se nadaljujejo v Ženevi. Po besedah tiskovnega "
    "predstavnika Kremlja bo naslednji krog že ta mesec, dogovor o ozemljih pa je še daleč.",
    "lt": "Ukrainos ir Rusijos derybos dėl paliaubų tęsiasi Ženevoje. Kremliaus atstovo teigimu, kitas derybų "
    "ratas įvyks dar šį mėnesį, tačiau susitarimas dėl teritorijų dar toli.",
    "hsb": "Zwjazkowy prezident je so w srjedu z předsydu knježerstwa zetkał. Rozmołwy wo měrje su so w Ženewje "
    "pokročowali a přichodne koło ma so hišće tutón měsac wotměć.",
    "en": "Delegations met in Kraków and Łódź this week, and further talks are planned in Gdańsk, Wrocław and "
    "Poznań. Officials from Białystok and Częstochowa said the meetings on Ukraine's reconstruction went well.",
    "de": "In Łódź und Gdańsk trafen sich am Donnerstag Vertreter der Ukraine und Polens. Die Gespräche über den "
    "Wiederaufbau sollen nächste Woche in Wrocław und Kraków fortgesetzt werden.",
}


@pytest.mark.parametrize("text", POLISH)
def test_polish_with_its_letters_and_words_is_polish_without_langdetect(text, monkeypatch):
    monkeypatch.setattr(lang, "detect", lambda _text: pytest.fail("langdetect was asked"))
    assert clearly_polish(text[:LANGUAGE_PREFIX])
    assert detect_language(text) == "pl"


@pytest.mark.parametrize("code", sorted(NOT_POLISH))
def test_other_languages_and_polish_names_in_other_languages_go_to_langdetect(code):
    text = NOT_POLISH[code]
    assert not clearly_polish(text[:LANGUAGE_PREFIX])
    assert detect_language(text) == detect(text[:LANGUAGE_PREFIX])  # Sorbian, unknown to langdetect: "pl"


def test_polish_typed_without_its_letters_goes_to_langdetect():
    text = "Rozmowy odbyly sie w niedziele w stolicy Szwajcarii. Zelenski przekazal wieczorem, ze dokument wymaga zmian."
    assert not clearly_polish(text)
    assert detect_language(text) == "pl"


def test_langdetect_says_polish_of_every_labelled_text_told_polish_at_once():
    """Over the rules' labelled corpus and the story fixtures (Polish, some typed without its letters): every text
    the quick test calls Polish, langdetect calls Polish too, and the quick test answers for nearly all."""
    texts = [
        json.loads(line)["text"]
        for path in [*sorted((FIXTURES / "corpus").rglob("*.jsonl")), FIXTURES / "stories" / "written.jsonl"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("text")
    ]
    quick = [text[:LANGUAGE_PREFIX] for text in texts if clearly_polish(text[:LANGUAGE_PREFIX])]
    assert len(texts) > 500 and len(quick) >= 0.95 * len(texts)
    assert {detect(text) for text in quick} == {"pl"}


def test_a_crawl_of_polish_pages_never_loads_langdetect(monkeypatch):
    """Every article page of the demo mirror is told Polish without langdetect's 55 profiles (61 MB, 0.3-0.5 s of
    CPU in each crawl and extraction worker)."""
    monkeypatch.setattr(lang, "detect", lambda _text: pytest.fail("langdetect was asked"))
    pages = [
        page for site in load_sites(FIXTURES / "sites") for page in site.pages if page.expect.get("article")
    ]
    assert pages
    for page in pages:
        assert extract_article(page.url, page.file.read_bytes()).language == "pl"
