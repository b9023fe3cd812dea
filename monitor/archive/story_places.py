"""Where an event takes place (issue #17), read from an article's head: the first city or country named after a
preposition of place, as ``country/city`` or ``country``. Pure functions; :mod:`monitor.archive.story_events`
reads the rest of the event record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from monitor.archive.story_tense import NEXT, tense

# Where an event takes place (folded): a city or a country named after "w", "we", "na" or "do" (an adjective
# may stand between: "w szwajcarskiej Genewie"), as ``country/city`` or ``country``. A city meets its country
# ("do Szwajcarii", "w Genewie"); the countries of the war itself are named only by their cities ("wojna w
# Ukrainie" places nothing).
_PLACES: Mapping[str, str] = {
    "ru/moskwa": r"moskw\w*|kreml\w*|nowo ogariow\w*",
    "ru/petersburg": r"petersburg\w*|konstantynowsk\w*|strieln\w*|newa|newie|newy",
    "ru/soczi": r"soczi",
    "ua/kijow": r"kijow\w*",
    "ua/lwow": r"lwow\w*",
    "us/waszyngton": r"waszyngton\w*|bial\w* dom\w*|gabinec\w* owaln\w*|potomak\w*",
    "us/floryda": r"miami|floryd\w*|mar a lago|palm beach",
    "us/nowy-jork": r"now\w* jork\w*",
    "us/alaska": r"alask\w*|alasce|anchorage",
    "us": r"stan\w* zjednoczon\w*|usa|ameryce|camp david",
    "ch/genewa": r"genew\w*",
    "ch/burgenstock": r"burgenstock",
    "ch/davos": r"davos",
    "ch": r"szwajcari\w*",
    "ae/abu-zabi": r"abu zabi|abu dhabi",
    "ae/dubaj": r"dubaj\w*",
    "ae": r"(?:zjednoczon\w* )?emirat\w*|zea",
    "sa/rijad": r"rijad\w*|riad\w*",
    "sa/dzudda": r"dzudd\w*|dzedd\w*|jedd\w*",
    "sa": r"arabi\w* saudyjsk\w*",
    "tr/stambul": r"stambul\w*|istambul\w*|bosfor\w*|dolmabahce|ciragan",
    "tr/ankara": r"ankar\w*",
    "tr/antalya": r"antaly\w*|antali\w*",
    "tr": r"turcj\w*",
    "qa/doha": r"doha|dohy|dosze",
    "qa": r"katar\w*",
    "eg/kair": r"kair\w*",
    "eg/szarm": r"szarm\w*",
    "eg": r"egip\w*",
    "il/jerozolima": r"jerozolim\w*",
    "il/tel-awiw": r"tel awiw\w*",
    "il": r"izrael\w*",
    "de/berlin": r"berlin\w*",
    "de/monachium": r"monachium",
    "de": r"niemcz\w*|niemiec",
    "fr/paryz": r"paryz\w*|elizejsk\w*|sekwan\w*",
    "fr": r"francj\w*",
    "gb/londyn": r"londyn\w*|downing street|tamiz\w*",
    "gb": r"wielk\w* brytani\w*",
    "be/bruksela": r"bruksel\w*",
    "it/rzym": r"rzym\w*",
    "va": r"watykan\w*",
    "hu/budapeszt": r"budapeszt\w*|budapeszcie",
    "hu": r"wegr\w*|wegier",
    "at/wieden": r"wiedn\w*|wieden",
    "at": r"austri\w*",
    "fi/helsinki": r"helsink\w*",
    "no/oslo": r"oslo",
    "se/sztokholm": r"sztokholm\w*",
    "sk/bratyslawa": r"bratyslaw\w*",
    "sk": r"slowacj\w*",
    "rs/belgrad": r"belgrad\w*",
    "az/baku": r"baku",
    "kz/astana": r"astan\w*",
    "om/maskat": r"maskat\w*",
    "om": r"oman\w*",
    "in/delhi": r"delhi|new delhi",
    "in": r"indi\w*",
    "jp/tokio": r"tokio",
    "za": r"rpa|afryce poludniowej",
    "br": r"brazyli\w*",
    "kr/seul": r"seul\w*",
    "pl/warszawa": r"warszaw\w*|wisla|wisle",
    "pl/rzeszow": r"rzeszow\w*",
    "by/minsk": r"minsk\w*",
    "by/homel": r"homel\w*|homlu",
    "by": r"bialorus\w*",
    "cn/pekin": r"pekin\w*",
}
_PLACE_NAMES = list(_PLACES)
# Another war, by its places and parties (folded; the rules' other_conflict group): a plan "dla Strefy Gazy" the
# head names is not a document of the talks on Ukraine, whoever proposes it (story_events.record)
OTHER_WAR = re.compile(
    r"\b(?:strefi\w* gazy|strefy gazy|strefa gazy|strefe gazy|hamas\w*|izrael\w*|palestyn\w*"
    r"|hezbollah\w*|liban\w*|iran\w*|teheran\w*|armeni\w*|azerbejdzan\w*|karabach\w*|syri\w*"
    r"|sudan\w*|jemen\w*|huti|kong[oau])\b"
)
_NAMES = "|".join(f"(?P<p{i}>{pattern})" for i, pattern in enumerate(_PLACES.values()))
_PLACE = re.compile(
    r"\b(?:w|we|na|do|nad)(?: \w+(?:skiej|skim|ckiej|ckim))?(?: stolic\w*| (?:palac|rezydencj|kurort|osrod|will)\w*)? (?:"
    + _NAMES
    + r")\b"
)
# ... or named as the host, up to three words after ("Gospodarzem Arabia Saudyjska", "gospodarzem rozmów będzie
# emir Kataru")
_HOST = re.compile(r"\bgospodarz\w*(?: \w+){0,3}? (?:" + _NAMES + r")\b")
# ... or as where someone came back from ("wrócił w niedzielę z Miami", "po powrocie z Moskwy"): see returned_from
_RETURN = re.compile(
    r"\b(?:wrocil\w*|powrocie|przywiozl\w*|przywiezion\w*)(?: \w+){0,3}? (?:z|ze) (?:" + _NAMES + r")\b"
)


def place(title: list[str], lead: list[str], body: list[str], report: bool = False) -> str | None:
    """Where the event takes place: the first place (:data:`_PLACES`) the title names after "w", "na" or "do",
    else the first the first sentence under it names (folded sentences). In a ``report`` (an event held), a
    sentence that names the next meeting and tells of nothing done (*Następna runda w Waszyngtonie*) does not
    place the one reported when a sentence before it tells of it as done (*Zacharowa: rozmowy były
    konstruktywne.*; a head that begins with it, *Kolejna runda rozmów nad Bosforem*, is about it)."""
    done = False
    for text in (*title, *[part[0] for part in (lead, body) if part][:1]):
        told = tense(text)
        if report and done and told >= 0 and NEXT.search(text):
            continue
        done = done or told < 0
        match = _PLACE.search(text) or _HOST.search(text)
        if match is not None:
            return _PLACE_NAMES[int(str(match.lastgroup)[1:])]
    return None


def returned_from(text: str) -> str | None:
    """The place a folded sentence tells someone came back from (*wrócił w niedzielę z Miami*, *po powrocie z
    Moskwy*, *dokumenty przywiezione z Waszyngtonu*), else None."""
    match = _RETURN.search(text)
    return None if match is None else _PLACE_NAMES[int(str(match.lastgroup)[1:])]


def same_place(one: str, other: str) -> bool:
    """Whether two places (:func:`place`) can be one: the same, or a city and its country."""
    return one == other or one.split("/")[0] == other or other.split("/")[0] == one
