"""Date parsing for feeds, sitemaps and pages. Pure functions; naive times are Europe/Warsaw."""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")

POLISH_MONTHS = {
    "stycznia": 1, "styczeń": 1, "styczen": 1, "sty": 1, "lutego": 2, "luty": 2, "lut": 2,
    "marca": 3, "marzec": 3, "mar": 3, "kwietnia": 4, "kwiecień": 4, "kwiecien": 4, "kwi": 4,
    "maja": 5, "maj": 5, "czerwca": 6, "czerwiec": 6, "cze": 6, "lipca": 7, "lipiec": 7, "lip": 7,
    "sierpnia": 8, "sierpień": 8, "sierpien": 8, "sie": 8, "września": 9, "wrzesnia": 9,
    "wrzesień": 9, "wrzesien": 9, "wrz": 9, "października": 10, "pazdziernika": 10,
    "październik": 10, "pazdziernik": 10, "paź": 10, "paz": 10, "listopada": 11, "listopad": 11,
    "lis": 11, "grudnia": 12, "grudzień": 12, "grudzien": 12, "gru": 12,
}  # fmt: skip

EARLIEST_YEAR = 1995  # the Polish web's news archive starts here; older dates are noise (epoch 0, typos)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = r"(?:\s*(?:r\.)?\s*[,|/]?\s*(?:godz\.?\s*|o\s+(?:godz\.?\s*)?)?\(?(\d{1,2})[:.](\d{2})(?!\d)\)?)?"
_MONTH_WORDS = "|".join(sorted(POLISH_MONTHS, key=len, reverse=True))
_POLISH_WORDS = re.compile(r"(?<!\d)(\d{1,2})\s+(" + _MONTH_WORDS + r")\.?\s+(\d{4})" + _TIME, re.IGNORECASE)
_POLISH_DOTTED = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME)
_ISO_TEXT = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:[T\s,]+(\d{1,2}):(\d{2}))?")
_RELATIVE = re.compile(
    r"\b(dzisiaj|dziś|dzis|wczoraj)\s*,?\s*(?:o\s+|godz\.?\s*)?\(?(\d{1,2})[:.](\d{2})\)?", re.IGNORECASE
)
_LABEL = re.compile(
    r"(opublikowan\w*|publikacja|data\s+publikacji|data\s+utworzenia|utworzono|dodan[oy]|aktualizacj\w*|zaktualizowan\w*|akt\.|aktualizowan\w*"
    r"|modyfikacja|zmodyfikowan\w*|updated|published)\s*:?",
    re.IGNORECASE,
)
_URL_DATE = re.compile(r"/(20\d{2})[/-](\d{2})[/-](\d{2})(?:/|-|$)")


def to_warsaw_aware(value: datetime) -> datetime:
    """Attach Europe/Warsaw to a naive time; keep the offset of an aware one."""
    return value.replace(tzinfo=WARSAW) if value.tzinfo is None else value


def parse_date(value: str | None) -> datetime | None:
    """Parse ISO 8601 or RFC 822 (feeds) date strings; None when unparseable."""
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    if _ISO_DAY.match(text):
        try:
            return datetime.combine(date.fromisoformat(text), time(0, 0), WARSAW)
        except ValueError:
            return None
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
    try:
        return to_warsaw_aware(datetime.fromisoformat(iso))
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return to_warsaw_aware(parsed)
    return parse_polish_text_date(text)


def _dates_in(text: str, now: datetime | None) -> list[tuple[int, datetime]]:
    """(position, value) of every written date in ``text``."""
    found: list[tuple[int, datetime]] = []

    def add(position: int, year: int, month: int, day: int, hour: str | None, minute: str | None) -> None:
        with contextlib.suppress(ValueError):
            found.append(
                (position, datetime(year, month, day, int(hour or 0), int(minute or 0), tzinfo=WARSAW))
            )

    for m in _POLISH_WORDS.finditer(text):
        add(
            m.start(),
            int(m.group(3)),
            POLISH_MONTHS[m.group(2).lower()],
            int(m.group(1)),
            m.group(4),
            m.group(5),
        )
    for m in _POLISH_DOTTED.finditer(text):
        add(m.start(), int(m.group(3)), int(m.group(2)), int(m.group(1)), m.group(4), m.group(5))
    for m in _ISO_TEXT.finditer(text):
        add(m.start(), int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5))
    if now is not None:
        local = now.astimezone(WARSAW)
        for m in _RELATIVE.finditer(text):
            day = local.date() if m.group(1).lower().startswith("dzi") else local.date() - timedelta(days=1)
            add(m.start(), day.year, day.month, day.day, m.group(2), m.group(3))
    return sorted(found, key=lambda pair: pair[0])


def text_dates(text: str, now: datetime | None = None) -> list[tuple[datetime, str]]:
    """Dates written in a short piece of page text, each marked ``published`` or ``modified`` by the label before
    it ("Aktualizacja: 14.01.2026 15:10" is a modification). "dzisiaj, 10:32" and "wczoraj" count from ``now``."""
    labels = [
        (
            m.start(),
            "modified" if re.match(r"(?i)(akt|zaktual|modyf|zmodyf|updated)", m.group(1)) else "published",
        )
        for m in _LABEL.finditer(text)
    ]
    result = []
    for position, value in _dates_in(text, now):
        kind = "published"
        for label_position, label_kind in labels:
            if label_position <= position:
                kind = label_kind
        result.append((value, kind))
    return result


_WEEKDAYS = re.compile(
    r"\b(?:poniedziałek|poniedzialek|wtorek|środa|sroda|czwartek|piątek|piatek|sobota|niedziela"
    r"|pon|wt|śr|sr|czw|pt|sob|niedz|godz|r)\b\.?",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def is_dateline(text: str) -> bool:
    """True for a short line that only says when ("Dodano: 13.01.2026, 09:40", "Publikacja: … Aktualizacja: …",
    "środa, 14 stycznia 2026 r."): no word is left once its dates, labels and weekdays are taken out."""
    if len(text) > 160 or not (
        _POLISH_WORDS.search(text) or _POLISH_DOTTED.search(text) or _ISO_TEXT.search(text)
    ):
        return False
    rest = text
    for pattern in (_POLISH_WORDS, _POLISH_DOTTED, _ISO_TEXT, _RELATIVE, _LABEL, _WEEKDAYS):
        rest = pattern.sub(" ", rest)
    return not _WORD.search(rest)


def parse_polish_text_date(text: str) -> datetime | None:
    """First Polish written date in ``text``: '14 stycznia 2026, 10:32' or '14.01.2026 10:32'."""
    found = _dates_in(text, None)
    return found[0][1] if found else None


def plausible(value: datetime, now: datetime) -> bool:
    """Not before 1995 and not more than a day after ``now``."""
    return value.year >= EARLIEST_YEAR and not_in_future(value, now)


def has_time(value: str | None) -> bool:
    """True when a date string carries a time of day (not only a day)."""
    return bool(value) and bool(re.search(r"\d{1,2}:\d{2}", value or ""))


def date_from_url(url: str) -> datetime | None:
    """A day written in the URL path (``/2026/01/14/`` or ``/2026-01-14/``)."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        year, month, day = (int(g) for g in match.groups())
        return datetime(year, month, day, tzinfo=WARSAW)
    except ValueError:
        return None


def iso(value: datetime | None) -> str | None:
    """ISO 8601 to the second, with offset."""
    return value.isoformat(timespec="seconds") if value else None


def not_in_future(value: datetime, now: datetime, slack: timedelta = timedelta(days=1)) -> bool:
    return value <= now + slack
