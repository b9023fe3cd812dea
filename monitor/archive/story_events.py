"""An article's **event record** (issue #17), read from its own text: what kind of event it reports, who speaks,
and whose document (plan, proposal, memorandum, guarantees) it is about. Pure functions.

Two articles about one plan share few words: the Kremlin's spokesman says "we did not receive it", Ukrainian MPs
refuse the territorial clause, an explainer lists the sanctions clause. What they share is the document they
react to — *the American proposal* — and that their speakers are its parties. A Polish minister, NATO's
secretary-general or Budapest on the same proposal is another story (a third party's statement), and so is a
meeting or a phone call about it (another event). :func:`record` reads, from the title, the lead and the first
:data:`HEAD_WORDS` words of the body (folded, as the rules fold):

- **kind** (:data:`KINDS`): what the title names, else the first sentence of the lead or body — a phone
  ``call`` (also when the lead's first sentence names it), an ``exchange`` of prisoners, a ``meeting`` (talks, a
  round, a summit, a visit, envoys flying in, a leader receiving), a ``plan`` (a document); None when none;
- **speaker**: the bloc of the first actor the title names (else the lead's, else the body's first sentence):
  ``us``, ``ru``, ``ua`` (:data:`PARTIES`, the parties of the peace talks), ``eu``, ``pl``, ``nato``, ``hu``,
  ``tr`` and other states (:data:`_BLOCS`: adjectives, capitals, institutions and the people of each);
- **objects**: the document it is mostly about, as its owner's (``doc:us``): the owner is the subject of a verb
  of proposing it (*Stany Zjednoczone zaproponowały Ukrainie gwarancje*), else the bloc named by the word or two
  before the noun (*amerykańska propozycja*) or the three after it (*propozycja Waszyngtonu*, *dokument, który
  przedstawili Amerykanie*), with no preposition between (*Kreml o planie* is the speaker, *gwarancje dla
  Ukrainy* the addressee; so is a dative, *ofertę Kijowowi*); one whose owner is not named so is left out. A
  third party's document is left out too, unless it is its own (its statement is its own story).

- **announced**: a meeting, call or exchange the title and the first sentence under it announce and report
  nothing done of; **place**: where a meeting or exchange is (:func:`place`: *w Genewie* ``ch/genewa``, *do
  Szwajcarii* ``ch``); **party** and **parties**: the sides of the war (:data:`SIDES`) the head names, the first
  and all; **moved** and **in person**: an announcement of a new day (*przełożone na poniedziałek*), of a meeting
  in person (*spotkają się*, not *porozmawiają*). :class:`monitor.archive.story_announced.Announced` gathers a
  story's announcements and tells whether an article is about what they announce.

The record travels in the article's vector as tokens (``#k:plan``, ``#s:ru``, ``#o:doc:us``, ``#a`` for an
announcement, ``#p:ch/genewa``, ``#f:ua``, ``#h:ua``, ``#m``, ``#i``), so ``story_vectors`` keeps it without a column of its own; :func:`from_tokens` reads it back.
The kind, speaker and announcement weigh :data:`WEIGHT`, too little to move a cosine; the document weighs
:data:`DOCUMENT_WEIGHT`: two articles about the same document meet through it, however few words they share,
and the stories about it are found among the near ones (:mod:`monitor.archive.clusters` decides what it counts
for).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.archive.story_legs import NEXT_WEEK, answer, leg
from monitor.archive.story_places import OTHER_WAR
from monitor.archive.story_places import place as place
from monitor.archive.story_places import same_place as same_place
from monitor.archive.story_tense import FULL_STOP, IN_PERSON, MOVED, NEXT, said
from monitor.archive.story_tense import announced as announced
from monitor.archive.story_tense import tense as tense
from monitor.rules.text import word_bytes

DOCUMENT_WEIGHT = 0.6  # the document's token's weight: the same document, a cosine of about 0.3 alone
WEIGHT = 0.0001  # an event token's weight in the vector: found by the postings, nothing in a cosine
HEAD_WORDS = 100  # the words of the body read for documents
BEFORE = 2  # words before a document's noun that may name its owner (adjectives)
AFTER = 3  # words after it that may (a genitive, a relative clause)
PROPOSER_WORDS = 8  # how far before a document its proposer may be named (see _proposer)
PARTIES = frozenset({"us", "ru", "ua"})
AHEAD = timedelta(
    days=7
)  # a story of announcements only waits this long for the report of what they announce
ANNOUNCED_DAYS = 2  # a report comes at most this many days after the day the meeting was announced for
LONGEST = timedelta(days=14)  # the longest a story of announcements waits for the report, after the last
# what may be announced, and reported as the same event: a "rozmowa" announced may be held as a phone call
FAMILY: dict[str | None, str] = {"meeting": "talks", "call": "talks", "exchange": "exchange"}

# Actors (folded word prefixes, a regular expression each) and their bloc. Parties first: a sentence naming both
# a party and a third party ("Kreml o polskiej propozycji") is read from its first actor anyway.
_BLOCS: Mapping[str, str] = {
    "us": r"amerykan\w*|usa|waszyngton\w*|stan\w* zjednoczon\w*|bial\w* dom\w*|trump\w*|witkoff\w*|kushner\w*"
    r"|rubio|driscoll\w*|vance\w*|kellogg\w*|pentagon\w*|departament\w* stanu",
    "ru": r"rosj\w*|rosyjsk\w*|moskw\w*|kreml\w*|putin\w*|pieskow\w*|lawrow\w*|uszakow\w*|dmitrijew\w*"
    r"|miedwiediew\w*|zacharow\w*|riabkow\w*|miedinski\w*|kostiukow\w*|galuzin\w*",
    "ua": r"ukrain\w*|kijow\w*|zelensk\w*|umierow\w*|jermak\w*|budanow\w*|sybih\w*|kuleb\w*|podolak\w*"
    r"|arachamij\w*|rad\w* najwyzsz\w*|stefanczuk\w*",
    "eu": r"europ\w*|unia|unii|unij\w*|ue|bruksel\w*|niemc\w*|niemiec\w*|merz\w*|macron\w*|francj\w*"
    r"|francus\w*|starmer\w*|brytyj\w*|londyn\w*|paryz\w*|e3",
    "pl": r"polsk\w*|polsce|polak\w*|warszaw\w*|sikorsk\w*|tusk\w*|nawrock\w*|sejm\w*|msz",
    "nato": r"nato|rutte\w*|sojusz\w* polnocnoatlantyck\w*",
    "hu": r"wegr\w*|wegier\w*|szijjart\w*|orban\w*|budapeszt\w*",
    "tr": r"turcj\w*|tureck\w*|erdogan\w*|ankar\w*",
    "cn": r"chin\w*|pekin\w*",
    "jp": r"japon\w*",
    "va": r"watykan\w*|papiez\w*|stolic\w* apostolsk\w*",
}
BLOCS = tuple(_BLOCS)  # the blocs a document's owner may be (``doc:us`` …)
_ACTOR = re.compile("|".join(rf"\b(?P<{bloc}>{pattern})\b" for bloc, pattern in _BLOCS.items()))

# Documents (folded word prefixes): a plan, a proposal or counter-proposal, a draft, a document, a memorandum,
# amendments, a version, points, an offer, guarantees. One owner's documents within a story's days are one offer
# told in pieces (the plan and its guarantees), so the kind of document is not kept, only whose it is.
_DOCUMENTS = re.compile(
    r"\b(?:plan|planu|planie|planem|planow|propozycj\w*|kontrpropozycj\w*|projekt\w*|dokument\w*|memorand\w*"
    r"|poprawk\w*|wersj\w*|punkt\w*|ofert\w*|gwarancj\w*)\b"
)

# Words that, between an actor and a document, make the actor something else than its owner: "Kreml o planie"
# (the speaker), "gwarancje dla Ukrainy" (the addressee); "przez", "od" keep it the owner.
_LINKS = frozenset(
    ["o", "do", "na", "dla", "wobec", "w", "we", "z", "ze", "po", "przed", "nad", "pod", "u", "ws"]
)

# Verbs of proposing a document: their subject is its owner, whoever else the sentence names nearer to it.
_PROPOSING = re.compile(r"(?:zapropon|przedstawi|przygotow|przekaz|zloz|sklad|przesl|wysl|opublikow)\w*$")

# Endings of an actor named as the addressee (the dative: "ofertę Kijowowi", "Putinowi"), never an owner.
_ADDRESSEE = ("owi", "emu")
# ... and the countries whose dative is not their genitive, named without a preposition ("zapewnić Ukrainie
# gwarancje": "w Ukrainie" has its preposition, and "propozycja Rosji" is a genitive, an owner)
_DATIVES = frozenset({"ukrainie", "ameryce", "europie", "polsce"})

# What kind of event a title names, in order of precedence: a call is a call even when a plan is its subject.
KINDS = ("call", "exchange", "meeting", "plan")
_KIND = {
    "call": re.compile(r"\b(?:telefon\w*|zadzwon\w*|dzwoni\w*|rozmow\w* telefoniczn\w*)\b"),
    "exchange": re.compile(
        r"\b(?:wymian\w*|wymieni\w*(?: (?!sie\b)\w+){0,2} (?:jenc\w*|wiezn\w*|cial\w*))\b"
    ),
    "meeting": re.compile(
        r"\b(?:spotka\w*|spotkal\w*|rozmow\w*|rozmawia\w*|negocjac\w*|negocjuj\w*|runda|rundy|rundzie|tura|tury"
        r"|turze|szczyt\w*|wizyt\w*|lec\w*|leci|polec\w*|przylecial\w*|przyleci\w*|przyjal\w*|porozmawia\w*"
        r"|przyjedzie|przyjada|przyjechal\w*|odwiedz\w*|wyleci\w*|wylecial\w*|ud\w* sie do"
        r"|przyjmie|przyjm\w*|konsultacj\w*|na kremlu)\b"
    ),
    "plan": _DOCUMENTS,
}
# A meeting behind the news the head tells (folded): "dzień po rozmowie z", "po spotkaniu", "efekt wtorkowej wizyty",
# "po trwającej ponad dwie godziny rozmowie", "po ośmiu godzinach rozmów" (up to four words between, none of them
# a preposition: "po raz pierwszy od rozmów" recalls them); and an exchange of prisoners agreed ("uzgodniliśmy
# wymianę 314 jeńców"): what came of the talks, not the exchange itself
_AFTERMATH = re.compile(
    r"\b(?:po(?: (?!(?:od|do|w|we|z|ze|na|przed|raz)\b)\w+){0,4} (?:rozmowie|rozmowach|rozmow|spotkaniu|spotkan"
    r"|szczycie|wizycie|negocjacjach|negocjacji|obradach)|efekt\w*(?: \w+)? (?:rozmow|spotkan|wizyt|szczyt)\w*)\b"
)
# A title opening with one actor received by another (folded): "Zełenski u Trumpa", "Witkoff i Kushner u Putina"
_ANY_ACTOR = "|".join(_BLOCS.values())
_RECEIVED = re.compile(rf"\b(?:{_ANY_ACTOR})(?: i \w+)? u (?:{_ANY_ACTOR})\b")
_AGREED = re.compile(
    r"\b(?:uzgodni\w*|ustalil\w*|ustalono|zgodzil\w* sie na|zgodzily sie na|porozumial\w* sie w sprawie)"
    r"(?: \w+){0,2} (?:wymian\w*|powrot\w*|uwolnieni\w*)\b"
)
_WHERE = re.compile(r"\b(?:w|we|na) $")  # before an actor named as the place of something (see speaker)
_SENTENCE = re.compile(r"(?<=[.?!:;])\s+|\s+[–—-]\s+")


@dataclass(frozen=True)
class Event:
    """An article's event record (see the module's docstring)."""

    kind: str | None = None
    speaker: str | None = None
    objects: frozenset[str] = frozenset()
    announced: bool = False
    place: str | None = None
    party: str | None = None  # the first party of the talks (PARTIES but the mediator) its head names
    parties: frozenset[str] = frozenset()  # every such party its head names
    # an announcement of a new day for it ("przełożone na poniedziałek"), a report of it held late ("z opóźnieniem")
    moved: bool = False
    in_person: bool = False  # an announced meeting that is not a talk that may be held by phone
    # an announcement of the next meeting ("Kolejna runda w Katarze w przyszłym tygodniu")
    following: bool = False
    week: bool = False  # an announcement for next week ("spotkają się w przyszłym tygodniu")
    mediator: bool = False  # its head names the mediator's side ("przywódcy USA i Rosji"): Announced.meets
    leg: str | None = None  # the place of the next leg of a visit a report announces (story_legs)
    answers: str | None = None  # the place of the event it tells itself the answer to (story_legs)

    def tokens(self) -> list[str]:
        """The record as vector tokens (``#k:``, ``#s:``, ``#o:``, ``#a``, ``#p:``), in a fixed order."""
        found = [f"#k:{self.kind}"] if self.kind else []
        found += [f"#s:{self.speaker}"] if self.speaker else []
        found += [f"#o:{item}" for item in sorted(self.objects)]
        found += ["#a"] if self.announced else []
        found += [f"#p:{self.place}"] if self.place else []
        found += [f"#f:{self.party}"] if self.party else []
        found += [f"#h:{item}" for item in sorted(self.parties)]
        found += [f"#l:{self.leg}"] if self.leg else []
        found += [f"#r:{self.answers}"] if self.answers else []
        return found + [mark for flag, mark in _MARKS.items() if getattr(self, flag)]

    @property
    def third_party(self) -> bool:
        """Whether its speaker is neither a party of the peace talks nor the owner of a document it names."""
        return self.speaker is not None and self.speaker not in PARTIES


def from_tokens(tokens: Iterable[str]) -> Event:
    """The record whose :meth:`Event.tokens` are among ``tokens`` (an article's vector, read back)."""
    kind = speaker = place = party = leg = answers = None
    objects, parties = [], []
    announced = False
    marks = set()
    for token in tokens:
        if token == "#a":
            announced = True
        elif token in _MARK_TOKENS:
            marks.add(token)
        elif token.startswith("#p:"):
            place = token[3:]
        elif token.startswith("#f:"):
            party = token[3:]
        elif token.startswith("#h:"):
            parties.append(token[3:])
        elif token.startswith("#l:"):
            leg = token[3:]
        elif token.startswith("#r:"):
            answers = token[3:]
        elif token.startswith("#k:"):
            kind = token[3:]
        elif token.startswith("#s:"):
            speaker = token[3:]
        elif token.startswith("#o:"):
            objects.append(token[3:])
    flags = {flag: mark in marks for flag, mark in _MARKS.items()}
    return Event(
        kind,
        speaker,
        frozenset(objects),
        announced,
        place,
        party,
        frozenset(parties),
        leg=leg,
        answers=answers,
        **flags,
    )


# the flags of a record and their tokens: an announcement of a new day, of a meeting in person, of the next one, for
# next week; a head naming the mediator's side
_MARKS = {"moved": "#m", "in_person": "#i", "following": "#x", "week": "#w", "mediator": "#u"}
_MARK_TOKENS = frozenset(_MARKS.values())


def _folded(text: str) -> str:
    return " ".join(word_bytes(text).decode().split())


def sentences(text: str | None) -> list[str]:
    """A text's sentences (and dash-separated clauses), folded (``rules.text.word_bytes``, which keeps every
    character's place, so the text is folded once), empty ones left out."""
    if not text:
        return []
    folded = word_bytes(text).decode()
    found, start = [], 0
    for match in _SENTENCE.finditer(text):
        found.append(folded[start : match.start()])
        start = match.end()
    found.append(folded[start:])
    return [joined for part in found if (joined := " ".join(part.split()))]


def speaker(parts: Iterable[list[str]]) -> str | None:
    """The bloc of the first actor named in the first sentence of the first of ``parts`` (the sentences of the
    title, lead and body) that names one; an actor named as a place (*członkostwo w Unii*, *w Europie*,
    *Rozmowy w Turcji*) is where, not who."""
    for found in parts:
        text = found[0] if found else ""
        match = next((m for m in _ACTOR.finditer(text) if not _WHERE.search(text, 0, m.start())), None)
        if match is not None:
            return match.lastgroup
    return None


def kind(title: list[str], lead: list[str], body: list[str]) -> str | None:
    """The kind of event the title (its sentences) names, else the first sentence of the lead, else of the body
    (:data:`KINDS` gives the precedence); a call named in the first sentence under the title makes it a call
    whatever the title says ("Ławrowowi nie spodobały się poprawki" over "rozmawiał telefonicznie z Ławrowem")."""
    texts = [text for text in (" ".join(title), *(part[0] for part in (lead, body) if part)) if text]
    if texts[:1] and _KIND["call"].search(" ".join(texts[:2])):
        return "call"
    if texts[:1] and _RECEIVED.match(texts[0]):
        return "meeting"  # "Zełenski u Trumpa. Gwarancje na 15 lat": a visit, whatever came of it
    found = next((name for text in texts for name in KINDS if _kind(name, text)), None)
    # what came of a meeting ("... – ujawnił Zełenski dzień po rozmowie z Trumpem", the attribution after a dash
    # included) is its report
    under = next((part[:2] for part in (lead, body) if part), [])
    told = " ".join([*title, *under])
    if found in (None, "plan") and _AFTERMATH.search(told):
        return "meeting"
    if found == "exchange" and _AGREED.search(" ".join(texts[:2])):
        return "meeting"
    return found


def _kind(name: str, text: str) -> bool:
    """Whether a folded text names an event of a kind; an exchange after a meeting is the talks' subject
    (*Rozmowy w Dosze mają dotyczyć wymiany jeńców*, *Negocjacje w Stambule bez przełomu. Jedynym konkretem
    wymiana jeńców*), not an exchange."""
    match = _KIND[name].search(text)
    if match is None or name != "exchange":
        return match is not None
    talks = _KIND["meeting"].search(text)
    return talks is None or talks.start() > match.start()


SIDES = frozenset({"ru", "ua"})  # the parties of the talks that are not the mediator


def parties(title: list[str], lead: list[str], body: list[str]) -> tuple[str | None, frozenset[str]]:
    """The sides of the war (:data:`SIDES`) the head names — the title and the first sentence under it: the first
    the title names (else that sentence), and all of them (*Witkoff uda się do Moskwy*: ``ru``)."""
    head = [" ".join(title), *[part[0] for part in (lead, body) if part][:1]]
    first: str | None = None
    named: set[str] = set()
    for text in head:
        found = [match.lastgroup for match in _ACTOR.finditer(text) if match.lastgroup in SIDES]
        first = first or (found[0] if found else None)
        named.update(str(side) for side in found)
    return first, frozenset(named)


def side(name: str) -> str | None:
    """The side of the war (:data:`SIDES`) of an actor named by an entity id (``lawrow``: ``ru``), else None."""
    match = _ACTOR.fullmatch(name.replace("_", " "))
    return match.lastgroup if match is not None and match.lastgroup in SIDES else None


def mediating(name: str) -> bool:
    """Whether an actor named by an entity id is of the mediator's side (``witkoff``, ``trump``: the USA)."""
    match = _ACTOR.fullmatch(name.replace("_", " "))
    return match is not None and match.lastgroup == "us"


def objects(found_sentences: Iterable[str]) -> list[str]:
    """The documents folded sentences name, as their owners (``doc:us``), in order: the bloc named by the word or two
    before the noun (*amerykańska propozycja*, *europejskie poprawki*) or the :data:`AFTER` words after it
    (*propozycja Waszyngtonu*, *dokument, który przedstawili Amerykanie*), the nearer, before on a tie, unless a
    preposition other than *przez* or *od* stands between them (*Kreml o planie*, *gwarancje dla Ukrainy*); a
    document whose owner is not named so is left out."""
    found = []
    for sentence in found_sentences:
        matches = list(_DOCUMENTS.finditer(sentence))
        if not matches:
            continue
        words = sentence.split(" ")
        actors = _actors(sentence)
        for match in matches:
            at = sentence.count(" ", 0, match.start())
            near = [
                (abs(position - at), position > at, bloc)
                for position, bloc in actors
                if (at - BEFORE <= position < at or at < position <= at + AFTER)
                and _LINKS.isdisjoint(words[min(position, at) + 1 : max(position, at)])
            ]
            proposer = _proposer(words, actors, at)
            if proposer is not None:
                found.append(f"doc:{proposer}")
            elif near:
                found.append(f"doc:{min(near)[2]}")
    return found


def _actors(sentence: str) -> list[tuple[int, str | None]]:
    """The actors a folded sentence names: (word position, bloc); an actor right after another takes its bloc
    (*rosyjskie MSZ* is Russian, *ukraińska delegacja* Ukrainian)."""
    found: list[tuple[int, str | None]] = []
    for match in _ACTOR.finditer(sentence):
        if match.group().endswith(_ADDRESSEE) or match.group() in _DATIVES:
            continue
        position = sentence.count(" ", 0, match.start())
        bloc = found[-1][1] if found and found[-1][0] == position - 1 else match.lastgroup
        found.append((position, bloc))
    return found


def _proposer(words: list[str], actors: list[tuple[int, str | None]], at: int) -> str | None:
    """The bloc of the actor who proposes, hands over or prepares the document at word ``at``: the nearest actor
    before a verb of :data:`_PROPOSING` that stands before the document, within :data:`PROPOSER_WORDS` words
    (*Stany Zjednoczone zaproponowały Ukrainie gwarancje*, *Rosyjskie MSZ przekazało delegacji memorandum*), with
    no preposition between the verb and the document (*Kijów przedstawi uwagi do dokumentu*: not its owner)."""
    verbs = [i for i in range(max(0, at - PROPOSER_WORDS), at) if _PROPOSING.match(words[i])]
    verbs = [i for i in verbs if _LINKS.isdisjoint(words[i + 1 : at])]
    if not verbs:
        return None
    before = [(position, bloc) for position, bloc in actors if at - PROPOSER_WORDS <= position < verbs[-1]]
    return max(before)[1] if before else None


def main_object(found: list[str]) -> str | None:
    """The document an article is about: the one it names most, the first on a tie."""
    if not found:
        return None
    counts = Counter(found)
    return max(found, key=lambda item: (counts[item], -found.index(item)))


def record(title: str | None, lead: str | None, text: str | None) -> Event:
    """An article's event record (see the module's docstring)."""
    body = " ".join((text or "")[: HEAD_WORDS * 16].split()[:HEAD_WORDS])  # a prefix holds the first words
    if title or lead:
        parts = [sentences(title), sentences(lead), sentences(body)]
    else:
        # an item with the body only (an agency's copy): its first sentence, to its full stop, is its title
        stop = FULL_STOP.search(body)
        end = stop.start() if stop else len(body)
        parts = [sentences(body[:end]), [], sentences(body[end:])]
    who = speaker(parts)
    what = kind(*parts)
    ahead = what in ("meeting", "call", "exchange") and announced(
        parts[0], parts[1], parts[2], said=said(title, lead, body)
    )
    # a call is made from two places
    where = place(parts[0], parts[1], parts[2], report=not ahead) if what in ("meeting", "exchange") else None
    first, sides = parties(*parts) if what in ("meeting", "call", "exchange") else (None, frozenset())
    main = main_object(objects(sentence for part in parts for sentence in part))
    head = " ".join([*parts[0], *[part[0] for part in parts[1:] if part][:1]])
    marks = (
        # an announcement of a new day; a report of an event held later than planned ("z opóźnieniem")
        MOVED.search(head if ahead else " ".join(" ".join(part) for part in parts)) is not None
        and what in FAMILY,
        ahead and what == "meeting" and IN_PERSON.search(head) is not None,
        ahead and NEXT.search(head) is not None,
        ahead and NEXT_WEEK.search(head) is not None,
        what in ("meeting", "call") and any(match.lastgroup == "us" for match in _ACTOR.finditer(head)),
    )
    if OTHER_WAR.search(head) and (main or what == "plan"):  # another war's (a plan for Gaza): not the talks'
        main = f"{main or 'doc:'}@war"
    # the next leg of a visit a report announces: the lead's sentences (an agency item's after its first)
    went = leg(parts[0], parts[1] or parts[2], where) if what == "meeting" and not ahead else None
    told = (went, answer([sentence for part in parts for sentence in part]))
    if main is None or (who is not None and who not in PARTIES and main.rsplit(":", 1)[1] != who):
        return Event(what, who, frozenset(), ahead, where, first, sides, *marks, *told)
    return Event(what, who, frozenset({main}), ahead, where, first, sides, *marks, *told)
