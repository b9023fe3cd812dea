"""What clustering knows of an article (issue #17), from its own text alone: its word vector, event dates, venues,
people and time (:class:`Features`, made by :func:`features`). Pure functions; how stories use them is
:mod:`monitor.archive.clusters`, whose docstring describes both.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

from monitor.archive.story_events import DOCUMENT_WEIGHT, WEIGHT, Event, from_tokens, record, tense
from monitor.archive.story_mention import adjective_days, passing
from monitor.extract.dates import POLISH_MONTHS, WARSAW
from monitor.rules.text import fold, word_bytes

DATE_RANGE = 10  # event dates further than this many days from the publication day are history, not events
DATE_AHEAD = 14  # ... and days further ahead than this are too far to be announced (a summit two weeks on)

STEM = 6  # letters kept of each lemma
MIN_LETTERS = 4  # shorter words carry no subject
BODY_WORDS = 400  # the top of a news story says what happened; the rest is background
TOP_TOKENS = 40  # tokens kept per article
FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # title, lead, body
ENTITY_BOOST = 2.0

# Lemmas (folded) that say nothing about the subject of a news story: function words, the commonest verbs of
# reporting and being, time words. Shorter words than MIN_LETTERS are left out anyway.
_STOPWORDS = """
    oraz jest przez ktory jego tego temu tych tym jednak takze tylko jako przy miedzy podczas poniewaz
    wszystek wszyscy kazdy inny taki taka takze potem wtedy dzis dzisiaj wczoraj jutro teraz juz jeszcze nawet
    ponad okolo wobec gdzie kiedy dlaczego jaki jesli jezeli czyli siebie swoj zeby bowiem natomiast rowniez
    bardzo wiec tutaj tamten ten ta to sam samo moc musiec chciec miec byc bywac zostac stac zostawac
    powiedziec mowic dodac przekazac poinformowac stwierdzic zaznaczyc podkreslic oswiadczyc ocenic uznac
    wedlug zdanie czytac zobaczyc wiecej mniej sprawa ramy rok lata tydzien dzien godzina miesiac noc rano
    wieczor poniedzialek wtorek sroda czwartek piatek sobota niedziela styczen luty marzec kwiecien maj
    czerwiec lipiec sierpien wrzesien pazdziernik listopad grudzien pierwszy drugi trzeci ostatni kolejny nowy
    duzy wielki dobry wysoki caly wiele wielu kilka kilkanascie kilkadziesiat procent proc tysiac milion
    miliard jeden dwa trzy cztery piec szesc siedem osiem dziewiec dziesiec ktos cos nic nikt zaden zawsze
    nigdy czesto jeszcze wlasnie jednak dlatego zatem takze aby albo lecz ani czy nie tak jak ale gdy chociaz
    choc mimo pomimo wciaz dalej dzieki wzgledu zwiazek strona sposob czas raz razem moze mozna trzeba
    powinien wlasny obecny obecnie dzisiejszy wczesniej pozniej znow znowu dotad dotychczas bardziej
    najbardziej szczegol kwestia temat dotyczyc chodzic uwazac wiedziec widziec przyjac dac brac wziac miejsce
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Features:
    """What clustering knows of an article (see the module's docstring)."""

    at: datetime
    vector: Mapping[str, float]
    entities: frozenset[str] = frozenset()
    venues: frozenset[str] = frozenset()
    dates: frozenset[int] = frozenset()  # date.toordinal() of each event day
    people: frozenset[str] = frozenset()  # the people among its entities that are in its vector

    @functools.cached_property
    def event(self) -> Event:
        """Its event record (:mod:`monitor.archive.story_events`), carried in its vector as ``#`` tokens."""
        return from_tokens(token for token in self.vector if token.startswith("#"))


def people_in(vector: Mapping[str, float], persons: Iterable[str]) -> frozenset[str]:
    """The people (entity ids of ``persons``) whose entity token is in a vector: what an article's people are,
    whether its features were just computed or read back from the archive."""
    ids = (token[1:] if token[0] == "@" else token[3:] for token in vector if token.startswith(("@", NAMED)))
    return frozenset(ids) & frozenset(persons)


_NAME = re.compile(r"\b[^\W\d_a-ząćęłńóśźż][^\W\d_]{3,}")
NAMED = "#n:"  # a person the head names by surname (``#n:putin``), whether or not a rule matched them there
HEAD_NAMES = 60  # the words of the body under the title and lead read for names


def named(title: str | None, lead: str | None, text: str | None, persons: Iterable[str]) -> list[str]:
    """The people (entity ids of ``persons`` that are one surname, ``putin``) the title, the lead or the first
    ``HEAD_NAMES`` words of the body name (folded, in any case: *Putina*, *Ławrowem*)."""
    wanted, lengths = _surnames(frozenset(persons))
    body = " ".join(words(text or "", HEAD_NAMES))
    found = _NAME.findall(" ".join(part for part in (title, lead, body) if part))
    names = set(fold(" ".join(found)).split())  # a surname is written with a capital
    return sorted(wanted.intersection(name[:n] for name in names for n in lengths))


@functools.lru_cache(maxsize=8)
def _surnames(persons: frozenset[str]) -> tuple[frozenset[str], tuple[int, ...]]:
    """The people of ``persons`` named by one surname, and the lengths of those surnames."""
    wanted = frozenset(person for person in persons if "_" not in person and len(person) >= 4)
    return wanted, tuple(sorted({len(person) for person in wanted}))


@functools.lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """A word's token: its lemma (simplemma's Polish dictionary), folded (``rules.text.fold``) and cut to
    ``STEM`` letters, so that *planu*, *planie* and *plan*, *rozmów* and *rozmowy*, *spotkali* and *spotkanie*
    meet, and so do words written without Polish letters and names the dictionary does not know (*Witkoffa*,
    *Witkoff*)."""
    return fold(_lemmatizer().lemmatize(word, lang="pl"))[:STEM]


@functools.cache
def _lemmatizer() -> Any:
    """The Polish lemmatiser (:func:`monitor.archive.lemmas.lemmatizer`), loaded when the first word is lemmatised:
    a command that only stores or reads the archive does not import simplemma."""
    from monitor.archive.lemmas import lemmatizer

    return lemmatizer()


_TOKENS: dict[str, str] = {}  # a word as written -> its token, "" when it has none (see stems)
_TOKENS_HELD = 400_000  # words remembered; the memory is emptied when it holds more


def _token(word: str) -> str:
    """The token of a word as written, "" for a short word or a function word (remembered: a crawl or a rebuild
    meets the same words again and again, and simplemma takes a tenth of a millisecond for a word it has to
    decompose)."""
    found = _TOKENS.get(word)
    if found is None:
        lowered = word.lower()
        token = lemma(lowered) if len(lowered) >= MIN_LETTERS else ""
        found = token if len(token) >= MIN_LETTERS and token not in STOPWORDS else ""
        if len(_TOKENS) >= _TOKENS_HELD:
            _TOKENS.clear()
        _TOKENS[word] = found
    return found


def words(text: str, limit: int) -> list[str]:
    """The first ``limit`` words of a text (runs of letters), read from a prefix of it when that holds more than
    ``limit`` of them (only the last word found in a prefix can be cut short)."""
    end = limit * 16
    if len(text) > end:
        found = _WORD.findall(text, 0, end)
        if len(found) > limit:
            return found[:limit]
    return _WORD.findall(text)[:limit]


def stems(text: str | None, limit: int) -> list[str]:
    """The tokens of the first ``limit`` words of a text (:func:`lemma`), without function words and numbers."""
    if not text:
        return []
    tokens = _TOKENS
    found = []
    for word in words(text, limit):
        token = tokens.get(word)
        if token is None:
            token = _token(word)
        if token:
            found.append(token)
    return found


def counts(
    title: str | None, lead: str | None, text: str | None, entities: Mapping[str, int] | None = None
) -> dict[str, float]:
    """Weighted token counts of an article: its tokens by field weight, its entities as ``@id``."""
    found: dict[str, float] = {}
    for weight, value, limit in zip(FIELD_WEIGHTS, (title, lead, text), (100, 200, BODY_WORDS), strict=True):
        for stem in stems(value, limit):
            found[stem] = found.get(stem, 0.0) + weight
    for entity, n in (entities or {}).items():
        found[f"@{entity}"] = found.get(f"@{entity}", 0.0) + ENTITY_BOOST * n
    return found


def idf(df: int, docs: int) -> float:
    """Smoothed inverse document frequency (a token no article had yet weighs most)."""
    return math.log((docs + 1) / (df + 1)) + 1.0


_IDFS: dict[int, tuple[Mapping[str, int], dict[str, float]]] = {}  # id(df) -> (df, idf of each of its tokens)


def _idf_table(df: Mapping[str, int], docs: int) -> dict[str, float]:
    """The idf of every token of a document-frequency table, computed once per table (the packaged one is
    fixed); the table is held with it, so its id is not reused while the entry lives."""
    held = _IDFS.get(id(df))
    if held is None or held[0] is not df:
        if len(_IDFS) > 8:
            _IDFS.clear()
        held = _IDFS[id(df)] = (df, {token: idf(n, docs) for token, n in df.items()})
    return held[1]


def weigh(raw: Mapping[str, float], df: Mapping[str, int], docs: int) -> dict[str, float]:
    """The TF-IDF vector of token counts: sublinear TF, the ``TOP_TOKENS`` heaviest, unit length."""
    table, unseen, log = _idf_table(df, docs), idf(0, docs), math.log
    weighted = [(-(1.0 + log(n)) * table.get(token, unseen), token) for token, n in raw.items() if n > 0]
    top = heapq.nsmallest(TOP_TOKENS, weighted)
    norm = math.sqrt(sum(w * w for w, _t in top)) or 1.0
    return {token: round(-w / norm, 5) for w, token in top}


_MONTH = "|".join(sorted((m for m in POLISH_MONTHS if len(m) > 3), key=len, reverse=True))
_DAY_MONTH = re.compile(rf"(?<!\d)(\d{{1,2}})\s+({_MONTH})\b(?:\s+(\d{{4}}))?", re.IGNORECASE)
_WEEKDAY_FORMS = {
    "poniedzialek": 0,
    "wtorek": 1,
    "srode": 2,
    "czwartek": 3,
    "piatek": 4,
    "sobote": 5,
    "niedziele": 6,
}
_WEEKDAY = re.compile(
    r"\b(?:we?|na)\s+(?:(najblizsz[ya]|przyszl[ya]|ubiegl[ya]|zeszl[ya]|ostatni[a]?)\s+)?("
    + "|".join(_WEEKDAY_FORMS)
    + r")\b"
)
# a date in figures, "15.10" or "15.10.2026" (portals write it in titles and agency items), but not a time ("o godz.
# 15.10", "od 9.30 do 11.00") nor an amount ("2.50 zł")
_NUMERIC_DATE = re.compile(r"(?<![\d.,:/])(\d{1,2})\.(\d{2})(?:\.(\d{4}))?(?![\d%]|[.,:]\d)")
_TIME_BEFORE = re.compile(r"(?:\bgodz\w*\.?|\bo|\bod|\bdo|\bok\.|\bokoło|\bmiędzy|[–-])\s*$", re.IGNORECASE)
_AMOUNT_AFTER = re.compile(r"\s*(?:[–-]\s*\d|proc|mln|mld|tys|zł|euro|dol|km|godz|h\b)", re.IGNORECASE)
# "jutro", and its adjective ("jutrzejsza wizyta")
_RELATIVE_DAYS = re.compile(r"\b(przedwczoraj|wczoraj|jutr|pojutrz)(?:o|e|sz\w*|zejsz\w*|ejsz\w*)?\b")
_RELATIVE_SHIFT = {"przedwczoraj": -2, "wczoraj": -1, "jutr": 1, "pojutrz": 2}
_FUTURE = ("najbl", "przysz")


def event_dates(text: str | None, published: date, announced: bool = False) -> frozenset[int]:
    """Days a text names, as ``date.toordinal()``: "22 stycznia" (the year nearest ``published`` unless written),
    "w czwartek" (the nearest Thursday within three days; "w przyszły czwartek" the next one, "w ubiegły
    czwartek" the last one), "jutro", "wczoraj". Left out: days more than ``DATE_RANGE`` from ``published``
    (history), and the day of publication and the day before, the days news is reported on ("powiedział w
    środę"): what is left are the days of announced and recalled events."""
    if not text:
        return frozenset()
    folded = word_bytes(text).decode()
    base = published.toordinal()
    found: set[int] = set()
    for match in _DAY_MONTH.finditer(text):
        found.update(
            _days(published, int(match.group(1)), POLISH_MONTHS[match.group(2).lower()], match.group(3))
        )
    for match in _NUMERIC_DATE.finditer(text):
        if _TIME_BEFORE.search(text, max(0, match.start() - 12), match.start()) or _AMOUNT_AFTER.match(
            text, match.end()
        ):
            continue
        found.update(_days(published, int(match.group(1)), int(match.group(2)), match.group(3)))
    for match in _WEEKDAY.finditer(folded):
        qualifier, weekday = match.group(1) or "", _WEEKDAY_FORMS[match.group(2)]
        ahead = (weekday - published.weekday()) % 7  # 0..6 days to the next such weekday (0: that day)
        if qualifier.startswith(_FUTURE):
            shift = ahead or 7
        elif qualifier:
            shift = ahead - 7 if ahead else -7
        else:
            # the sentence's tense decides ("spotkają się w poniedziałek" is the next one), else the nearest
            # in an announcement's head, the next one unless its sentence reports ("spotkali się w czwartek")
            forward = announced and tense(_sentence(text, folded, match.start(), match.end())) >= 0
            shift = ahead if forward or ahead <= 3 else ahead - 7
        found.add(base + shift)
    for match in _RELATIVE_DAYS.finditer(folded):
        found.add(base + _RELATIVE_SHIFT[match.group(1)])
    furthest = DATE_AHEAD if announced else DATE_RANGE
    return frozenset(
        day for day in found if -DATE_RANGE <= day - base <= furthest and day not in (base, base - 1)
    )


def _days(published: date, day: int, month: int, year: str | None) -> list[int]:
    """The days (ordinals) a day and month name: in the year written, else in the year of ``published`` or the
    one before or after (the nearest is the one kept in range); none when no such date exists."""
    years = [int(year)] if year else [published.year - 1, published.year, published.year + 1]
    found = []
    for one in years:
        try:
            found.append(date(one, month, day).toordinal())
        except ValueError:
            continue
    return found


_STOPS = re.compile(r"[.?!:;\n]")


def _sentence(text: str, folded: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]``, folded (``folded`` is ``text`` folded, each character in its
    place)."""
    before = max((m.end() for m in _STOPS.finditer(text, max(0, start - 300), start)), default=0)
    after = _STOPS.search(text, end)
    return folded[before : after.start() if after else len(text)]


def warsaw_day(at: datetime) -> date:
    return at.astimezone(WARSAW).date()


@dataclass(frozen=True)
class Terms:
    """Document frequencies: how many of ``docs`` documents have each token (one count per document)."""

    docs: int
    df: Mapping[str, int]


@functools.cache
def background() -> Terms:
    """The packaged document frequencies (``monitor/data/story_terms.toml``, written by ``python -m
    monitor.devtools.eval_stories --write-terms`` from the labelled corpus): fixed, so an article's vector does
    not depend on what was stored before it."""
    packaged = resources.files("monitor").joinpath("data", "story_terms.toml")  # also inside a zipped egg
    data = tomllib.loads(packaged.read_text(encoding="utf-8"))
    return Terms(int(data["docs"]), {str(k): int(v) for k, v in data["df"].items()})


def features(
    at: datetime,
    title: str | None,
    lead: str | None,
    text: str | None,
    entity_hits: Mapping[str, int],
    venues: Iterable[str],
    terms: Terms | None = None,
    persons: Iterable[str] = (),
    passages: Sequence[int] | None = None,
) -> Features:
    """An article's features. ``entity_hits`` counts its matched entities (distinct passages), ``venues`` names
    the entities that are meeting places and ``persons`` those that are people, ``terms`` the document
    frequencies (:func:`background` by default). ``passages``, for a passing mention (relevance ``mention``), are
    where the rules' matches in its body start (:mod:`monitor.archive.story_mention`); None for any other."""
    terms, persons = terms or background(), frozenset(persons)
    heading = " ".join(part for part in (title, lead) if part)
    body = " ".join((text or "").split()[:BODY_WORDS])
    if not heading:
        # an item with the body only (an agency's copy): its first sentence is its head
        heading, _stop, body = body.partition(". ")
    event, day = record(title, lead, text), warsaw_day(at)
    mentioned: frozenset[int] = frozenset()
    words_of = (title, lead)
    read = passing(text, passages) if passages and event.kind is None else None
    if read is not None:
        # a passing mention whose head says nothing of the talks: when the body's sentences the rules matched name
        # an event of them (a place, a day), its record, words and days are theirs (its head is of another subject);
        # talks named in general ("w trwających negocjacjach") leave the article as it is
        found, sentence, passage = read
        days = adjective_days(sentence, day, found.announced) | event_dates(sentence, day, found.announced)
        if found.place is not None or days:
            event, words_of, mentioned = found, (passage, None), days
    vector = weigh(counts(*words_of, text, entity_hits), terms.df, terms.docs)
    vector.update({token: DOCUMENT_WEIGHT if token.startswith("#o:") else WEIGHT for token in event.tokens()})
    vector.update({f"{NAMED}{person}": WEIGHT for person in named(title, lead, text, persons)})
    return Features(
        at=at,
        vector=vector,
        entities=frozenset(entity_hits),
        venues=frozenset(venues) & frozenset(entity_hits),
        # a weekday the title or lead of an announcement names without a tense is the next one
        dates=event_dates(heading, day, event.announced) | event_dates(body, day) | mentioned,
        people=people_in(vector, persons),
    )
