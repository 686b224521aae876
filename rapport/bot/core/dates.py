"""Natural date and duration phrases in the user's time zone ("yesterday", "in 2 weeks")."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapport.scheduler.planner import zone

Direction = Literal["past", "future"]

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ABBREVIATIONS = {name[:3]: index for index, name in enumerate(_WEEKDAYS)}
_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
          "m": 30, "mo": 30, "month": 30, "months": 30, "y": 365, "yr": 365, "year": 365,
          "years": 365}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}
_DURATION = re.compile(r"^(\d{1,4}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
                       r"\s*(d|days?|w|wks?|weeks?|m|mo|months?|y|yr|years?)$")
_MONTH_NAME = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b")
_NUMERIC_DATE = re.compile(r"^\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Phrases that dateparser would take but that are not dates a person means here.
_MAX_PHRASE = 40


def parse_duration_days(text: str) -> int | None:
    """'2 weeks' -> 14, '6w' -> 42, '3 months' -> 90; None when it is not a duration."""
    match = _DURATION.match(" ".join(text.lower().split()))
    if not match:
        return None
    amount_text, unit = match.groups()
    amount = _NUMBER_WORDS.get(amount_text) or int(amount_text)
    days = amount * _UNITS[unit]
    return days if 0 < days <= 3660 else None


def parse_day(text: str, *, today: date, direction: Direction) -> date | None:
    """A calendar day from a phrase, relative to the user's `today`.

    `direction` settles bare weekdays: "friday" in `log` means the last one, in `note` the next.
    """
    phrase = " ".join(text.lower().strip(" ,.").split())
    if not phrase or len(phrase) > _MAX_PHRASE:
        return None
    simple = {"today": 0, "now": 0, "yesterday": -1, "tomorrow": 1}
    if phrase in simple:
        return today + timedelta(days=simple[phrase])
    if _ISO.match(phrase):
        try:
            return date.fromisoformat(phrase)
        except ValueError:
            return None
    words = phrase.split()
    relative = {"next": 1, "this": 0, "last": -1, "past": -1, "coming": 1}
    if len(words) in (1, 2) and (words[-1] in _WEEKDAYS or words[-1] in _WEEKDAY_ABBREVIATIONS):
        weekday = _WEEKDAYS.index(words[-1]) if words[-1] in _WEEKDAYS else \
            _WEEKDAY_ABBREVIATIONS[words[-1]]
        if len(words) == 2 and words[0] not in relative:
            return None
        step = relative[words[0]] if len(words) == 2 else (1 if direction == "future" else -1)
        if step == 0:
            step = 1 if direction == "future" else -1
        delta = (weekday - today.weekday()) % 7
        if step > 0:
            return today + timedelta(days=delta or 7)
        return today - timedelta(days=((today.weekday() - weekday) % 7) or 7)
    if words[0] == "in" and len(words) >= 2:
        days = parse_duration_days(" ".join(words[1:]))
        return today + timedelta(days=days) if days else None
    if words[-1] == "ago" and len(words) >= 2:
        days = parse_duration_days(" ".join(words[:-1]))
        return today - timedelta(days=days) if days else None
    if phrase in ("next week", "next month"):
        return today + timedelta(days=7 if phrase == "next week" else 30)
    if phrase in ("last week", "last month"):
        return today - timedelta(days=7 if phrase == "last week" else 30)
    return _parse_with_dateparser(phrase, today=today, direction=direction)


def _parse_with_dateparser(phrase: str, *, today: date, direction: Direction) -> date | None:
    # Month names and numeric forms ("May 4", "dec 3rd", "4 May 2027", "12/24"); anything
    # else stays a word, so "call" or "2 days ago in" are never read as dates.
    if not (_MONTH_NAME.search(phrase) and any(ch.isdigit() for ch in phrase)) \
            and not _NUMERIC_DATE.match(phrase):
        return None
    import dateparser  # lazy: it costs a noticeable part of start-up

    base = datetime(today.year, today.month, today.day, 12, 0)
    parsed = dateparser.parse(phrase, languages=["en"], settings={
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future" if direction == "future" else "past",
        "STRICT_PARSING": False,
        "REQUIRE_PARTS": ["day", "month"],
    })
    return parsed.date() if parsed else None


def local_today(now: datetime, tz_name: str) -> date:
    """The user's date now."""
    return now.astimezone(zone(tz_name)).date()


def parse_clock(text: str) -> int | None:
    """'9', '09:30', '17h', '5pm', '24:00' -> minutes after midnight; None when invalid."""
    value = text.strip().lower().replace(".", ":")
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|h)?", value)
    if not match:
        return None
    hours, minutes, suffix = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if suffix in ("am", "pm"):
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if suffix == "pm" else 0)
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def valid_zone(name: str) -> str | None:
    """The canonical IANA zone name, or None when `name` is not a known zone."""
    if not name or len(name) > 64 or ".." in name:
        return None
    try:
        return str(ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError):
        for candidate in (name.title(), name.upper()):
            try:
                return str(ZoneInfo(candidate))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return None
