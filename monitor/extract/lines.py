"""The body text line by line: lines that are never article text leave it, and the credits and sign-offs that
end a news text ("oprac. Anna Nowak", "Źródło: PAP", "aja/PAP", "(PAP)", a broadcaster's initials) leave it for
``Article.credits``."""

from __future__ import annotations

import re

from monitor.extract.dates import is_dateline
from monitor.extract.language import SENTENCE_END, prose_words
from monitor.extract.tree import norm

# Lines of body text that are page furniture in every Polish portal (and the few English ones of the same kind).
_BOILERPLATE_LINES = re.compile(
    r"""^\s*(?:
        reklama | advertisement | reklama\s*[-–:].{0,60}
      | (?:zobacz|czytaj|przeczytaj|sprawdź)\s+(?:też|także|również|więcej|dalej)\b.*
      | (?:zobacz|czytaj|przeczytaj|sprawdź|polecamy|posłuchaj|obejrzyj)\s*:.*
      | (?:zobacz|obejrzyj)\s+(?:wideo|film|nagranie|galerię|zdjęcia)\b.*
      | polecamy\b.* | warto\s+przeczytać\b.* | więcej\s+informacji\s+znajdziesz\b.* | więcej\s+na\s+ten\s+temat\b.*
      | może\s+(?:cię|was|pana|panią)\s+(?:też\s+|także\s+)?zainteresować\b.* | najnowsze | najczęściej\s+czytane
      | (?:see\s+also|read\s+(?:more|also|next)|related(?:\s+articles?)?)\b\s*:?.*
      | dalsza\s+część\s+(?:artykułu|tekstu|materiału)\b.{0,40}?\bpod\s+(?:materiałem|reklamą|wideo|filmem|nagraniem).*
      | dalszy\s+ciąg\s+(?:artykułu|tekstu|materiału)\b.{0,60}
      | (?:masz\s+(?:ciekawy\s+)?(?:temat|informację|sygnał)|napisz\s+do\s+(?:nas|autora|autorki|redakcji))\b.{0,120}
      | więcej\s+(?:informacji|wiadomości|tekstów|artykułów)\b.{0,40}\bna\s+stronie\s+głównej\b.{0,40}
      | (?:tagi|tematy|słowa\s+kluczowe|tags)\s*:.{0,200} | (?:dodaj\s+)?komentarz[ey]? | komentarze\s*:?
      | (?:wideo|video|galeria|zdjęcia|podcast)\s*:.{0,150} | (?:posłuchaj|odsłuchaj|słuchaj)\s+(?:artykułu|tekstu)\b.{0,80}
      | .{0,40}\baudio\s+generowane\b.{0,80} | obserwuj\s+(?:nas|serwis|\S+\s+w\s+google).{0,80}
      | (?:fot|foto|fot\.|zdj|zdjęcie|zdjęcia|ilustracja|źródło\s+(?:zdjęć|zdjęcia|ilustracji|grafiki)(?:\s+\w+)?)\s*[.:].{0,120}
      | (?=.{0,240}$)(?=.*\bnewslett?er)(?=.*\b(?:zapisz|subskryb|zasubskryb|zamów|otrzymuj|dołącz|sign\s+up|subscribe)).*
      | bądź\s+na\s+bieżąco\b.{0,80} | masz\s+newsa.*
      | (?:kup|wykup)\s+(?:subskrypcję|prenumeratę|dostęp).* | masz\s+już\s+(?:subskrypcję|konto).*
      | .*dostępny\s+(?:tylko\s+)?dla\s+(?:subskrybentów|prenumeratorów).* | .*nieograniczony\s+dostęp\s+do.*
      | komentarze?\s*\(\d+\) | \d+\s+komentarz\w* | skomentuj.* | udostępnij.*
      | wyświetl\s+ten\s+post\s+(?:na|w)\s+\w+.* | (?:post|wpis)\s+udostępniony\s+przez.*
      | .*\(@\w+\)\s+\w+\s+\d{1,2},\s+\d{4}
      | dowiedz\s+się\s+więcej\s*:.* | materiał\s+chroniony\s+prawem\s+autorskim.*
      | (?:wszelkie|wszystkie)\s+prawa\s+zastrzeżone.* | ©.* | copyright\b.*
      | zapraszamy\s+(?:też\s+|także\s+|również\s+)?do\s+(?:subskrypcji|prenumeraty|lektury|słuchania|oglądania).*
      | .*\bwesprzyj\s+(?:nas|naszą|nasz|redakcję|portal)\b.* | .*\bzobacz\s+oferty\b.*
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Reading-time widgets: "Ten tekst przeczytasz w 3 minuty", "Czas czytania: 4 min", "5 min czytania", "3 min read".
_READING_TIME = re.compile(
    r"""^\s*(?:
        (?:ten\s+)?(?:tekst|artykuł|materiał|wpis)?\s*przeczytasz\s+(?:w\s+)?(?:około\s+|ok\.\s*|mniej\s+niż\s+)?\d*\s*\w*
      | (?:szacowany\s+)?czas\s+(?:czytania|lektury)\s*:?\s*.{0,20} | przeczytanie\s+zajmie\s+.{0,30}
      | (?:około\s+|ok\.\s*)?\d+\s*(?:min\.?|minut[ya]?|minuty)\s+(?:czytania|lektury|read(?:ing)?)
      | (?:reading\s+time|read\s+time)\s*:?\s*.{0,20}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Credit lines: where the text came from and who put it together. Photo credits are not text credits.
_CREDIT_LINE = re.compile(
    r"""^\s*\(?\s*(?:
        (?:źródł[oa]|zrodlo|źródło\s+(?:informacji|artykułu|tekstu)|source|sources)\s*:\s*.{1,100}
      | (?:oprac\.|opr\.|opracowanie\s*:|oprac\s*:|opracował[a]?\s*:?)\s*.{1,80}
      | (?:współpraca|wsp\.)\s*:\s*.{1,80}
      | (?:red\.|redakcja\s*:)\s*.{0,60}
    )\s*\)?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_AUTHOR_LINE = re.compile(
    r"^\s*(?:i\s+)?(?:autor|autorka|autorzy|author|tekst)(?:\s*/\s*autor\w*)?\s*:\s*[^.!?]{1,60}?(?:\s+\S+){0,8}\s*$",
    re.IGNORECASE,
)
# Sign-offs: agencies, broadcasters, outlets and editors' initials, separated by slashes or commas, or in
# parentheses — "aja/PAP", "kk/ PAP", "mmi/ mhr/", "PAP/IAR/PR24/mg", "(PAP)", "(mpw)", "dk/ac / PAP / polsatnews.pl".
_AGENCY = (
    r"(?:PAP(?:\s+(?:Biznes|MediaRoom))?|IAR|KAI|ISBnews|Reuters|AFP|AP|DPA|dpa|ANSA|EFE|Ukrinform|Interfax|TASS"
    r"|RIA(?:\s+Nowosti)?|BBC|CNN|Bloomberg|Xinhua|Anadolu|Kyodo|Yonhap|PR24|PR1|IAR/PR|Polskie\s+Radio"
    r"|RMF\s*FM|RMF24|TVN24|TVN|Polsat\s*News|TVP\s*Info|TVP|Radio\s+ZET|Onet|Interia|WP|Wprost|wPolityce"
    r"|Rzeczpospolita|Business\s+Insider|[\w-]+\.(?:pl|com|eu|info))"
)
_INITIALS = r"(?:[a-ząćęłńóśźż]{1,5}\.?|red\.)"
_TOKEN = rf"(?:{_AGENCY}|{_INITIALS})"
_SEP = r"\s*(?:/+|,|;)\s*"
_SIGNOFF_FORMS = rf"""
        \(\s*{_TOKEN}(?:{_SEP}{_TOKEN})*\s*/?\s*\)                  # (PAP), (mpw), (PAP Biznes), (dpa/jak)
      | {_TOKEN}(?:\s*/+\s*{_TOKEN})*\s*/+                          # mmi/ mhr/
      | {_TOKEN}(?:\s*/+\s*{_TOKEN})+                               # aja/PAP, PAP/IAR/PR24/mg
      | {_AGENCY}(?:{_SEP}{_AGENCY})*                               # PAP; IAR, PAP
"""
_SIGNOFF = re.compile(rf"^(?:{_SIGNOFF_FORMS})$", re.VERBOSE)
# A correspondent's name with the agency: "Marta Zielińska (PAP)", "Jan Nowak (IAR)".
_NAMED_SIGNOFF = re.compile(rf"^(?:[A-ZĄĆĘŁŃÓŚŹŻ][\w'-]+\s+){{1,3}}\(\s*{_AGENCY}(?:{_SEP}{_AGENCY})*\s*\)$")
# A sign-off or a source written after the last sentence of the last paragraph.
_TRAILING = re.compile(
    rf"""(?<=[.!?…"”»])\s+({_SIGNOFF_FORMS}
      | (?:źródło|oprac\.)\s*:?\s*[^.!?]{{1,60}}
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def is_boilerplate_line(line: str) -> bool:
    """A line that is page furniture, a reading-time widget or only a date, never article text."""
    return bool(_BOILERPLATE_LINES.match(line) or _READING_TIME.match(line) or is_dateline(line))


def clean_text(text: str, title: str | None = None) -> str:
    """Drop boilerplate lines, the headline and repeated lines from body text (credit lines stay for
    :func:`split_credits`)."""
    kept: list[str] = []
    seen: set[str] = {norm(title)} if title else set()
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or norm(stripped) in seen or is_boilerplate_line(stripped):
            continue
        if len(stripped) > 30:
            seen.add(norm(stripped))
        kept.append(stripped)
    return "\n".join(kept)


_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_DAY = re.compile(r"(?<![\d,])\d{1,2}(?!\d|,\d)")


def drop_leading_bylines(text: str) -> str:
    """Short lines before the first sentence of the body that carry a date — "Posted by Helen on March 3, 2024 in
    Gardening", "Jan Nowak, 3 marca 2024" — in any language: bylines and datelines, not body."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if SENTENCE_END.search(line) and prose_words(line):
            break
        if len(line) <= 120 and _YEAR.search(line) and _DAY.search(_YEAR.sub(" ", line)):
            lines[index] = ""
    return "\n".join(line for line in lines if line)


def _is_credit(line: str) -> bool:
    return bool(_CREDIT_LINE.match(line) or _SIGNOFF.match(line.strip()))


def split_credits(text: str) -> tuple[str, list[str]]:
    """Body text without its credits, and the credits in page order.

    Credit lines ("Źródło: PAP", "oprac. Anna Nowak") leave the body wherever they are; sign-offs (agency and
    editors' initials, "(PAP)") and author lines only at its end, as lines of their own or after the last
    sentence of the last paragraph.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    trailing: list[str] = []
    while lines:
        last = lines[-1]
        if _is_credit(last) or _AUTHOR_LINE.match(last) or _NAMED_SIGNOFF.match(last):
            trailing.insert(0, norm(last))
            lines.pop()
            continue
        found = _TRAILING.search(last)
        if found and found.start() > 0:
            trailing.insert(0, norm(found.group(1)))
            lines[-1] = last[: found.start()].rstrip()
        break
    kept: list[str] = []
    credits: list[str] = []
    for line in lines:
        if _CREDIT_LINE.match(line):
            credits.append(norm(line))
        elif not _AUTHOR_LINE.match(line):  # a byline inside the body: the authors field has it
            kept.append(line)
    for credit in trailing:
        if credit not in credits:
            credits.append(credit)
    return "\n".join(kept), credits


def with_lead_first(text: str, lead: str | None) -> str:
    """The lead paragraph first in the body, unless the body already has it."""
    if not lead:
        return text
    probe = norm(lead)[:60]
    if probe and probe in norm(text):
        return text
    return lead + "\n" + text if text else lead
