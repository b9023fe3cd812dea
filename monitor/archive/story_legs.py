"""One event told over several days (issue #17): a visit with legs in two capitals, a meeting announced for next
week, read from an article's head in the portals' words. Pure functions over folded sentences;
:mod:`monitor.archive.story_events` reads the rest of the event record.

- the **next leg** of a mission a report announces (*Afrykańska misja w Kijowie … W sobotę mają spotkać się z
  Putinem w Petersburgu*): a head sentence that tells of a meeting in person to come in the other side's
  country, not the next round of the same talks (*kolejna runda*, *ponownie*);
- the **answer** of a side to what was asked of it at a place (*To odpowiedź na żądanie, które w sobotę w Kijowie
  postawili Rosji przywódcy…*): the place it is to;
- a meeting announced for **next week** with no day (*Rubio i Ławrow spotkają się w przyszłym tygodniu*): the
  report may come to the end of that week, and the week's last day is what :func:`week_end` gives.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date

from monitor.archive.story_places import place, returned_from, same_place
from monitor.archive.story_tense import IN_PERSON, NEXT, tense

# The next meeting of the same people, not a leg of one visit (folded): "ponownie", "znów", "jeszcze raz"
_AGAIN = re.compile(r"\b(?:ponownie|znow|znowu|jeszcze raz|po raz kolejny|drugi raz)\b")
# Next week (folded): "w przyszłym tygodniu", "na początku / pod koniec przyszłego tygodnia"
NEXT_WEEK = re.compile(r"\b(?:w (?:przyszlym|nastepnym|kolejnym) tygodniu|przyszlego tygodnia)\b")
# Going on (folded), besides the verbs of a meeting in person: "pojedzie", "wyruszy", "uda się następnie do"
_ONWARD = re.compile(r"\b(?:pojedzie|pojada|wyrusz\w*|zawita\w*|uda sie|udadza sie)\b")
_WAR = ("ru", "ua")  # the countries of the sides of the war (a mission's legs)
LEG_SENTENCES = 3  # the sentences of the lead (or of an agency item's body after its first) read for a leg


def leg(title: list[str], under: list[str], where: str | None) -> str | None:
    """The place of the next leg of a mission a report's head announces (folded sentences of the title and of the
    lead, or an agency item's body after its first sentence; ``where``: the report's own place): the first of
    them that tells of a meeting in person to come (*mają spotkać się*, *poleci do*, *uda się do*) in the country
    of the other side of the war — a mission with legs in Kyiv and Moscow (or St Petersburg) — and is not the next
    round (*kolejna runda*, *ponownie*); None when there is none. An envoy flying on from Moscow to talks in Abu
    Dhabi or Riyadh goes to another meeting."""
    country = where.split("/")[0] if where else None
    if country not in _WAR:
        return None
    for text in (*title, *under[:LEG_SENTENCES]):
        going = IN_PERSON.search(text) or _ONWARD.search(text)
        if tense(text) <= 0 or not going or NEXT.search(text) or _AGAIN.search(text):
            continue
        found = place([text], [], [])
        if found is not None and found.split("/")[0] in _WAR and found.split("/")[0] != country:
            return found
    return None


def week_end(published: date) -> int:
    """The last day (Sunday, as ``date.toordinal()``) of the week after the one ``published`` is in: "w przyszłym
    tygodniu" said on any day of a week."""
    return published.toordinal() + 13 - published.weekday()


# The other side's answer (folded): "to odpowiedź na żądanie", "w odpowiedzi na", "odrzucił wezwanie", "Rosja nie
# przyjmie warunków", "odniósł się do ustaleń", "w reakcji na"
_ANSWER = re.compile(
    r"\b(?:odpowi\w* na|w odpowiedzi na|odrzuci\w*|odrzuca\w*|nie przyjmie|nie przyjma|nie zaakceptuje"
    r"|odni\w+ sie do|reaguj\w* na|zareagowal\w* na|w reakcji na)\b"
)


def answer(found_sentences: list[str]) -> str | None:
    """The place of the event an article tells itself the answer to, read from its folded sentences (the head and
    the top of the body): the place the first sentence that answers or rejects something names (*To odpowiedź na
    żądanie, które w sobotę w Kijowie postawili Rosji przywódcy…*, *Rosja nie przyjmie warunków postawionych w
    Kijowie*; :func:`~monitor.archive.story_places.place`), else, when one does, the place someone came back from
    (*Kreml: odpowiedź na amerykańskie propozycje* over *Dmitrijew wrócił w niedzielę z Miami*); None when none."""
    answering = [text for text in found_sentences if _ANSWER.search(text)]
    for text in answering:
        if (found := place([text], [], [])) is not None:
            return found
    back = (returned_from(text) for text in found_sentences) if answering else ()
    return next((found for found in back if found is not None), None)


def answered(where: str | None, speaker: str | None, places: Collection[str], heads: Collection[str]) -> bool:
    """Whether an answer (:func:`answer`: ``where``, the place it is to; ``speaker``, the bloc that answers) is to
    meetings at ``places`` whose reports' heads name the sides of the war ``heads``: at one of their places, by a
    side they name — the Kremlin answers what was asked of Moscow (a third party's comment is a story of its own,
    and the Kremlin's answer to what its envoy brought back from Miami is not of the Ukrainians' talks there the
    same days, whose heads name only Ukraine)."""
    return bool(where and speaker in heads and any(same_place(where, other) for other in places))
