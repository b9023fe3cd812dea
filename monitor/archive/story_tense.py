"""Whether an article's head tells of an event to come or of one done (issue #17), in the portals' words: the
tenses and phrasings of announcements (*ma się spotkać*, *polecą*, *będę rozmawiał*, *przełożone na
poniedziałek*) and of reports (*spotkali się*, *gościł*, *za nami*). Pure functions over folded sentences;
:mod:`monitor.archive.story_events` reads the rest of the event record.
"""

from __future__ import annotations

import re

from monitor.rules.text import word_bytes

# An event to come, and one done (folded): "ma się spotkać", "mają we wtorek rozmawiać" (a form of "mieć" and an
# infinitive), future forms of the verbs of meeting, travelling and calling, plans and announcements; past forms
# of the same.
_AHEAD = re.compile(
    r"\b(?:(?:ma|maja)(?: \w+){0,3} \w+(?:c|sc)|bedzie|beda|spotka|spotkaja|przyjmie|przyjma"
    r"|poleci|poleca|leci|leca|przyleci|przyleca|pojedzie|pojada|przyjedzie|przyjada|odwiedzi|odwiedza"
    r"|uda|udadza|wymieni|wymienia|odbedzie|odbeda|rozpocznie|rozpoczna|rusza|ruszy|zasiada|usiada|zadzwoni"
    r"|zadzwonie|porozmawia|porozmawiaja|omowia|wyleci|wyleca|dotrze|dotra|przeprowadzi|przeprowadza|wezmie"
    r"|wezma|zobacza|zbierze|zbiora|wylecial\w*|wyruszyl\w*|udal\w* sie"
    r"|zapowiedzi\w*|zapowiada\w*|planowan\w*|zaplanowan\w*|w przyszlym tygodniu|najblizsz\w*|jutro"
    r"|pojutrze|spotkam|spotkamy|porozmawiam|porozmawiamy|polece|polecimy|pojade|pojedziemy|przyjade"
    r"|przyjedziemy|odwiedze|odwiedzimy|przyjme|przyjmiemy|zadzwonimy|dojdzie|przyjal\w* zaproszeni\w*"
    r"|przyjel\w* zaproszeni\w*|zaprasza\w*|zaprosil\w*|w drodze do|przed spotkaniem|przed szczytem"
    r"|przed rozmowami|przed wizyta|przygotowan\w* do|zostanie|zostana|nastapi|nastapia|spodziewan[aey]"
    r"|oczekiwan[aey]|szykuj\w*|przybedzie|przybeda|ugosci|ugoszcza|zawita|dolaczy|dolacza|wybiera\w* sie"
    r"|zmierza\w*|wyrusza\w*|wyruszy|jedzie|jada|za tydzien|przyszl\w* tygodni\w*|bede|bedziemy|bedziecie"
    r"|zgodzil\w* sie na|przylatuj\w*|przyjezdza\w*|przybywa\w*|zaplanowano|jutrzejsz\w*|pojutrzejsz\w*"
    # its preparations go on: the event is to come ("Kreml: trwają przygotowania do rozmowy")
    r"|trwaja przygotowan\w*"
    # what the media report as planned, in the conditional ("rozmowy miałyby się odbyć w środę", "mieliby usiąść
    # do stołu"), and what may happen ("delegacje mogą spotkać się w środę")
    r"|(?:mial(?:a|o)?by|miel[ia]by|mialyby)(?: \w+){0,3} \w+(?:c|sc)"
    r"|(?:moze|moga)(?: sie)? (?:spotkac|odbyc|rozmawiac|porozmawiac|usiasc|dojsc|zadzwonic|przyjechac|poleciec)"
    r"|(?:przyszl|najblizsz)\w* (?:poniedzialek|wtorek|srode|czwartek|piatek|sobote|niedziele))\b"
)
_DONE = re.compile(
    r"\b(?:spotkal\w*|rozmawial\w*|zakonczyl\w*|odbyl\w*|odbyly|trwal\w*|przyjal\w*(?! zaproszeni)"
    r"|wrocil\w*|podpisal\w*|uzgodnil\w*|omowil\w*|zakonczon\w*|po rozmowach"
    r"|po rozmowie|po spotkaniu|po szczycie|po wizycie|porozmawial\w*|rozpoczel\w*|rozpoczal\w*|rozpoczely"
    r"|rozpoczeto|doszlo|przeprowadzil\w*|trwaja(?! przygotowan)|odbywa\w*|rozmawiano|u?goscil\w*|obradowal\w*"
    r"|negocjowal\w*|za nami|zostal\w* przyjet\w*|przyjeto|(?:rozmow\w*|spotkani\w*|wizyt\w*|szczyt\w*) byl\w*)\b"
)

FULL_STOP = re.compile(r"(?<=[.?!])\s+")  # the end of a sentence (not of a clause after a dash or colon)
_THAT = re.compile(
    r",\s+że\s+", re.IGNORECASE
)  # the clause a sentence reports as said (with its Polish letter)


def said(title: str | None, lead: str | None, body: str) -> tuple[str, str]:
    """The clauses the head's first two sentences report as said (after *, że*; "" when none), folded: the title's
    and the first sentence's under it (an item with the body only: its first two sentences)."""
    if title or lead:
        first, under = title or "", lead or body
    else:
        first, under = body, FULL_STOP.split(body, maxsplit=1)[1] if FULL_STOP.search(body) else ""
    found = []
    for text in (first, under):
        sentence = FULL_STOP.split(text, maxsplit=1)[0]
        clause = _THAT.split(sentence, maxsplit=1)
        found.append(" ".join(word_bytes(clause[1]).decode().split()) if len(clause) == 2 else "")
    return found[0], found[1]


# An announcement of a new day for the event, of a meeting in person (folded)
MOVED = re.compile(
    r"\b(?:przelozon\w*|przelozyl\w*|przesuniet\w*|przesunal\w*|przesuniec\w*|odlozon\w*|nowy termin\w*"
    r"|nowym termin\w*|pozniej niz planowano|wczesniej niz planowano|opozni\w*|poslizg\w*)\b"
)
# The next meeting (folded): "Następna runda w Waszyngtonie", "kolejne spotkanie w Moskwie", "kolejna runda w Katarze"
NEXT = re.compile(
    r"\b(?:nastepn|kolejn)\w*(?: \w+)? (?:rund|tur[aey]\b|spotkani|rozmow|szczyt|wizyt|negocjac)"
)
IN_PERSON = re.compile(
    r"\b(?:spotka\w*|spotkani\w*|wizyt\w*|szczyt\w*|polec\w*|przyleci\w*|przyjmie|przyjm\w*|przyjedzie"
    r"|przyjada|odwiedz\w*|uda sie do|udadza sie do|w drodze do|przylatuj\w*|przyjezdza\w*)\b"
)


def announced(title: list[str], lead: list[str], body: list[str], said: tuple[str, str] = ("", "")) -> bool:
    """Whether the title and the first sentence under it (folded sentences) announce an event to come (*ma się
    spotkać*, *przyjmie*, *polecą*, *w przyszłym tygodniu*) and report none as done (*spotkali się*,
    *rozmawiali*, *zakończyły*). ``said`` gives, for each of the two, the clause it reports as said (after *,
    że*; "" when none): when that clause has a tense, it is the sentence's (*Trump ogłosił po rozmowie z Orbánem,
    że szczyt odbędzie się 14 lipca* announces; *Kreml potwierdził, że rozmowy się zakończyły* reports)."""
    heading = " ".join(title)
    if said[0] and tense(said[0]):
        heading = said[0]
    if _done(heading):
        return False
    under = next((part[0] for part in (lead, body) if part), "")
    if said[1] and tense(said[1]):
        under = said[1]
    # a title announcing holds unless the sentence under it only reports ("Trump: spotkamy się" over a call held)
    return tense(under) >= 0 if _ahead(heading) else tense(under) > 0


def tense(sentence: str) -> int:
    """Whether a folded sentence tells of an event to come (1: *spotkają się*, *ma się odbyć*), of one done (-1:
    *spotkali się*, *po rozmowach*) or neither, or both (0)."""
    return int(_ahead(sentence)) - int(_done(sentence))


def _ahead(sentence: str) -> bool:
    """Whether a folded sentence tells of an event to come (:data:`_AHEAD`); a form denied is not one: the other
    side's answer *nie będziemy rozmawiać*, *Rosja nie przyjmie warunków* announces nothing."""
    return any(not _DENIED.search(sentence, 0, match.start()) for match in _AHEAD.finditer(sentence))


_DENIED = re.compile(r"\bnie $")  # "nie" right before a form (searched up to the form's start)


# "będę rozmawiał", "będzie się spotykał", "będą rozmawiali": the future made of "być" and a past form
_COMPOUND_FUTURE = re.compile(r"\bbed(?:e|ziesz|zie|ziemy|ziecie|a)(?: sie)?(?: \w+)?$")


def _done(sentence: str) -> bool:
    """Whether a folded sentence tells of an event done (:data:`_DONE`), a past form in the compound future
    (*we wtorek będę rozmawiał z Putinem*) left out."""
    return any(
        not _COMPOUND_FUTURE.search(sentence, max(0, match.start() - 30), max(0, match.start() - 1))
        for match in _DONE.finditer(sentence)
    )
