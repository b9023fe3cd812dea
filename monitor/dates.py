"""Date parsing for feeds, sitemaps and pages. Pure functions; naive times are Europe/Warsaw."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")

POLISH_MONTHS = {
    "stycznia": 1, "styczeń": 1, "styczen": 1, "lutego": 2, "luty": 2, "marca": 3, "marzec": 3,
    "kwietnia": 4, "kwiecień": 4, "kwiecien": 4, "maja": 5, "maj": 5, "czerwca": 6, "czerwiec": 6,
    "lipca": 7, "lipiec": 7, "sierpnia": 8, "sierpień": 8, "sierpien": 8, "września": 9,
    "wrzesnia": 9, "wrzesień": 9, "wrzesien": 9, "października": 10, "pazdziernika": 10,
    "październik": 10, "pazdziernik": 10, "listopada": 11, "listopad": 11, "grudnia": 12,
    "grudzień": 12, "grudzien": 12,
}  # fmt: skip

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_POLISH_WORDS = re.compile(
    r"\b(\d{1,2})\s+(" + "|".join(sorted(POLISH_MONTHS, key=len, reverse=True)) + r")\s+(\d{4})"
    r"(?:\s*(?:r\.)?\s*,?\s*(?:godz\.\s*)?(\d{1,2})[:.](\d{2}))?",
    re.IGNORECASE,
)
_POLISH_DOTTED = re.compile(
    r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s*(?:r\.)?\s*,?\s*(?:godz\.\s*)?(\d{1,2})[:.](\d{2}))?"
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


def parse_polish_text_date(text: str) -> datetime | None:
    """First Polish written date in ``text``: '14 stycznia 2026, 10:32' or '14.01.2026 10:32'."""
    for regex, words in ((_POLISH_WORDS, True), (_POLISH_DOTTED, False)):
        match = regex.search(text)
        if not match:
            continue
        day_s, month_s, year_s, hour_s, minute_s = match.groups()
        month = POLISH_MONTHS[month_s.lower()] if words else int(month_s)
        try:
            return datetime(
                int(year_s), month, int(day_s), int(hour_s or 0), int(minute_s or 0), tzinfo=WARSAW
            )
        except ValueError:
            continue
    return None


def has_time(value: str | None) -> bool:
    """True when a date string carries a time of day (not only a day)."""
    return bool(value) and bool(re.search(r"\d{1,2}:\d{2}", value or ""))


def date_from_url(url: str) -> datetime | None:
    """A day written in the URL path (``/2026/01/14/`` or ``/2026-01-14/``)."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return datetime(*(int(g) for g in match.groups()), tzinfo=WARSAW)
    except ValueError:
        return None


def iso(value: datetime | None) -> str | None:
    """ISO 8601 to the second, with offset."""
    return value.isoformat(timespec="seconds") if value else None


def not_in_future(value: datetime, now: datetime, slack: timedelta = timedelta(days=1)) -> bool:
    return value <= now + slack
