"""Natural date and duration phrases in the user's time zone ("yesterday", "in 2 weeks").

Two entry points: `parse_day` reads a phrase that is only a date; `find_dates` finds the
dates inside free text ("her talk is next Thursday"), using dateparser's `search_dates` to
find candidates and `parse_day` to accept only what it reads with certainty. `date_like_words`
spots what looks like a date but was not read ("next tuesdy"), so a note can say so.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapidfuzz import fuzz, process

from rapport.scheduler.planner import add_months, zone
from rapport.scheduler.wording import short_date
from rapport.storage.names import name_key

Direction = Literal["past", "future"]

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ABBREVIATIONS = {**{name[:3]: index for index, name in enumerate(_WEEKDAYS)},
                          "tues": 1, "weds": 2, "thur": 3, "thurs": 3}
# How day words are shortened in chat ("coffee w Dana yday", "call Lee tmrw").
DAY_ABBREVIATIONS = {"yday": "yesterday", "yest": "yesterday", "ystd": "yesterday",
                     "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow",
                     "tmrow": "tomorrow", "2moro": "tomorrow",
                     "2day": "today", "tdy": "today", "tonite": "tonight"}
_DAY_ABBREVIATION = re.compile(r"(?<![\w'’-])(" + "|".join(DAY_ABBREVIATIONS) + r")(?![\w'’-])",
                               re.IGNORECASE)
_MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december"]
_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
          "fortnight": 14, "fortnights": 14,
          "m": 30, "mo": 30, "mos": 30, "mth": 30, "mths": 30, "month": 30, "months": 30,
          "y": 365, "yr": 365, "yrs": 365, "year": 365, "years": 365}
# Amounts said in words. "A few" is read as three, as `recent` and `meetings` read "the last
# few days" (docs/people.md): one reading everywhere, rather than no reminder at all.
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
                 "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
                 "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
                 "a couple of": 2, "couple of": 2, "a couple": 2, "a few": 3, "few": 3}
# Longest first, so that "a couple of" is not read as "a" followed by other words.
_NUMBER_WORD_PATTERN = "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
_UNIT_PATTERN = r"d|days?|w|wks?|weeks?|fortnights?|m|mos?|mths?|months?|y|yrs?|years?"
# A word amount is a word of its own ("an d" is no "and"); digits may touch the unit ("6w").
_DURATION = re.compile(rf"^(?:(\d{{1,4}})\s*|({_NUMBER_WORD_PATTERN})\s+)({_UNIT_PATTERN})$")
_UNIT_WORDS = rf"(?:{_UNIT_PATTERN})"
# An amount and its unit as typed, sign included: "-2 weeks" is read as words that are no
# day, not skipped.
_SIGNED_AMOUNT_AND_UNIT = (rf"(?:[-+−]\s*)?(?:\d+\s*|(?:zero|{_NUMBER_WORD_PATTERN})\s+)"
                           rf"{_UNIT_WORDS}")
# How far a day is counted from another ("2 weeks from today", "the day before yesterday").
# "day" alone counts only where nothing was read before it: in "1 day from last Friday" it
# is not a count of its own.
_COUNT = rf"(?:{_SIGNED_AMOUNT_AND_UNIT}|the\s+day)"
_MONTH_NAME = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b")
_NUMERIC_DATE = re.compile(r"^\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An ISO timestamp ("2026-12-04T23:00", "2026-12-04 23:00:00"): a log and a note keep its day.
# One with a zone ("…Z", "…+01:00") is a moment whose day depends on the zone: not read.
_ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[t ](\d{1,2}:\d{2})(?::\d{2}(?:\.\d{1,6})?)?$")
# "next wk", "last mo": the words of a span as chat shortens them.
_SPAN_ABBREVIATIONS = {"wk": "week", "mo": "month", "mth": "month"}
# Words of a day as chat spells them ("last nite", "this wknd"), read as the words they are.
_CHAT_SPELLINGS = {"nite": "night", "wknd": "weekend", "wkend": "weekend"}
_CHAT_SPELLING = re.compile(r"\b(" + "|".join(_CHAT_SPELLINGS) + r")\b")
# Phrases that dateparser would take but that are not dates a person means here.
_MAX_PHRASE = 40


def _duration(text: str) -> tuple[int, str] | None:
    """The amount and unit of a duration phrase ("2 weeks": (2, "weeks")), or None."""
    match = _DURATION.match(" ".join(text.lower().split()))
    if not match:
        return None
    digits, words, unit = match.groups()
    return (int(digits) if digits is not None else _NUMBER_WORDS[words]), unit


def parse_duration_days(text: str) -> int | None:
    """'2 weeks' -> 14, '6w' -> 42, '3 months' -> 90, 'a fortnight' -> 14; None when it is
    not a duration."""
    read = _duration(text)
    return None if read is None else _in_days(*read)


def _in_days(amount: int, unit: str) -> int | None:
    days = amount * _UNITS[unit]
    return days if 0 < days <= 3660 else None


def shift_by_duration(text: str, day: date, *, sign: int = 1) -> date | None:
    """`day` moved forward (`sign` -1: back) by a duration phrase: days and weeks as days,
    months and years as calendar months, as rhythms count them ("in 1 month" from Jan 31 is
    Feb 28, from Dec 3 Jan 3); None when it is not a duration."""
    read = _duration(text)
    days = None if read is None else _in_days(*read)
    if read is None or days is None:
        return None
    amount, unit = read
    if unit[0] not in "my":
        return day + timedelta(days=sign * days)
    return add_months(day, sign * amount * (12 if unit[0] == "y" else 1))


# "2 hours ago", "an hour ago": earlier today, as far as a day is concerned.
_HOURS_AGO = re.compile(r"^(?:\d{1,2}|an?|a few|few|a couple of|a couple|couple of)\s*"
                        r"(?:h|hrs?|hours?|mins?|minutes?)$")
_ZERO_DURATION = re.compile(rf"^(?:0+|zero)\s*{_UNIT_WORDS}$")


def _ago(text: str, today: date) -> date | None:
    """The day "2 weeks" (or "1 month") "ago" names; "0 days" ago is today, as people mean it
    ("in 0 days" is no reminder anybody wants, so it stays unread)."""
    phrase = " ".join(text.lower().split())
    if _ZERO_DURATION.match(phrase) or _HOURS_AGO.match(phrase):
        return today
    return _shift_far(text, today, sign=-1)


# How far "in 11 years" or "20 years ago" is read: beyond what a reminder or a log allows (ten
# years), so the command refuses it as too far, in its own words, instead of not reading it.
_FARTHEST_DAYS = 100 * 366


def _shift_far(text: str, day: date, *, sign: int) -> date | None:
    """As `shift_by_duration`, up to a hundred years rather than ten."""
    shifted = shift_by_duration(text, day, sign=sign)
    read = _duration(text)
    if shifted is not None or read is None or not 0 < read[0] * _UNITS[read[1]] <= _FARTHEST_DAYS:
        return shifted
    amount, unit = read
    if unit[0] in "my":
        return add_months(day, sign * amount * (12 if unit[0] == "y" else 1))
    return day + timedelta(days=sign * amount * _UNITS[unit])


# What may stand around a day without changing it: "yesterday!", "(last Friday)", "on
# Monday?!", "3 days ago…". A day is read the same with them or without.
AROUND_A_DAY = " ,.;!?…()[]"


def parse_day(text: str, *, today: date, direction: Direction) -> date | None:
    """A calendar day from a phrase, relative to the user's `today`.

    `direction` settles bare weekdays: "friday" in `log` means the last one, in `note` the next.
    """
    phrase = " ".join(text.lower().strip(AROUND_A_DAY).split())
    if not phrase or len(phrase) > _MAX_PHRASE:
        return None
    phrase = DAY_ABBREVIATIONS.get(phrase, phrase)  # "yday"; "tmrw morning" comes back here
    phrase = _CHAT_SPELLING.sub(lambda m: _CHAT_SPELLINGS[m.group(1)], phrase)  # "last nite"
    simple = {"today": 0, "now": 0, "yesterday": -1, "tomorrow": 1, "last night": -1,
              "last evening": -1,
              "this morning": 0, "earlier today": 0, "tomorrow morning": 1,
              "this afternoon": 0, "this evening": 0}
    if phrase in simple:
        return today + timedelta(days=simple[phrase])
    if (moment := _ISO_MOMENT.match(phrase)) is not None:
        phrase = moment.group(1)  # the day of "2026-12-04T23:00"; a log keeps days
    if _ISO.match(phrase):
        try:
            return date.fromisoformat(phrase)
        except ValueError:
            return None
    words = phrase.split()
    if len(words) == 2 and words[1] in _SPAN_ABBREVIATIONS:
        words[1] = _SPAN_ABBREVIATIONS[words[1]]  # "next wk" is "next week"
        phrase = " ".join(words)
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
            if words[0] == "next" and delta == 1:
                # "next Saturday" said on a Friday is the one after tomorrow's: tomorrow's is
                # "tomorrow" or "this Saturday" (dateparser reads it as tomorrow).
                delta += 7
            return today + timedelta(days=delta or 7)
        return today - timedelta(days=((today.weekday() - weekday) % 7) or 7)
    special = _special_day(phrase, today=today, direction=direction)
    if special is not None:
        return special  # before "in …": "in the first week of December" is no count
    if words[0] == "in" and len(words) >= 2:
        return _shift_far(" ".join(words[1:]), today, sign=1)
    if words[-1] in ("ago", "back") and len(words) >= 2:
        return _ago(" ".join(words[:-1]), today)  # "2 days back" is "2 days ago"
    if (counted := _COUNTED_FROM.match(phrase)) is not None:
        # "2 weeks from today", "the day before yesterday": read whole, or not at all; the
        # parts alone would be a day ("today") and words that are no summary ("2 weeks from").
        return _counted_from(counted, today=today, direction=direction)
    if phrase in ("next week", "next month", "last week", "last month"):
        return shift_by_duration(f"1 {words[1]}", today, sign=1 if words[0] == "next" else -1)
    if (ordinal := _ORDINAL_DAY.match(phrase)) is not None:
        return _ordinal_day(int(ordinal.group(1)), today, direction)
    if numeric_choices(phrase, today=today, direction=direction) is not None:
        return None  # "11/12": Nov 12 or Dec 11? Asked about (`which_numeric_day`), never guessed
    if len(words) > 1 and words[-1] in _TIMES_OF_DAY:
        # "yesterday afternoon", "friday morning": the day is what counts.
        return parse_day(" ".join(words[:-1]), today=today, direction=direction)
    return _parse_with_dateparser(phrase, today=today, direction=direction)


# A day counted from another: an amount ("2 weeks", "a day", "the day"), which way, and the
# day it counts from ("today", "Friday", "May 4").
_COUNTED_FROM = re.compile(rf"^(?P<amount>{_COUNT})\s+(?P<way>from|after|before)\s+"
                           r"(?P<anchor>\S.*)$")


# The same count with the day it counts from left off ("2 weeks from"), as a line's words.
_COUNT_ALONE = re.compile(rf"^(?P<amount>{_COUNT}|day)\s+(?P<way>from|after|before)$",
                          re.IGNORECASE)


def _counted_from(counted: re.Match[str], *, today: date, direction: Direction) -> date | None:
    """The day "2 weeks from today", "3 days before Friday" or "the day after tomorrow" names;
    None when the amount or the day it counts from cannot be read ("-2 weeks from today",
    "2 weeks from the launch")."""
    anchor = parse_day(counted["anchor"], today=today, direction=direction)
    return None if anchor is None else _count(counted, anchor)


def _count(counted: re.Match[str], anchor: date) -> date | None:
    amount = " ".join(counted["amount"].lower().split()).removeprefix("the ")
    sign = -1 if counted["way"].lower() == "before" else 1
    return shift_by_duration("1 day" if amount == "day" else amount, anchor, sign=sign)


def is_count_alone(text: str) -> bool:
    """Whether `text` is only a count towards a day, without the day ("2 weeks from", "the
    day before"): what is left of "2 weeks from next Monday" when only "next Monday" was read
    as the day."""
    return _COUNT_ALONE.match(" ".join(text.split())) is not None


def count_from(text: str, anchor: date) -> date | None:
    """The day a count alone ("2 weeks from", "a day before") names from `anchor`; None when
    `text` is no such count or its amount cannot be read ("100 years before")."""
    counted = _COUNT_ALONE.match(" ".join(text.split()))
    return None if counted is None else _count(counted, anchor)


# A counted day ending a text, from a day of one or two words ("… 2 weeks from tomorrow").
_COUNTED_AT_END = re.compile(rf"(?:^|(?<=\s))(?P<amount>{_COUNT}|day)\s+"
                             r"(?P<way>from|after|before)\s+(?P<anchor>\S+(?:\s+\S+)?)$",
                             re.IGNORECASE)


def counted_day_at_end(text: str, *, today: date, direction: Direction
                       ) -> tuple[int, date | None] | None:
    """Where a day counted from another ends `text` ("coffee 2 weeks from tomorrow"), and
    that day (None when its amount cannot be read: "coffee -2 weeks from tomorrow"); None
    when `text` does not end with one ("planning 2 weeks before the launch")."""
    found = _COUNTED_AT_END.search(text.rstrip(AROUND_A_DAY))
    if found is None:
        return None
    anchor = parse_day(found["anchor"], today=today, direction=direction)
    return None if anchor is None else (found.start(), _count(found, anchor))


_TIMES_OF_DAY = ("morning", "afternoon", "evening", "night", "lunchtime", "noon")
# "the 1st": a day of the month, the month left to the direction ("2nd" alone is as likely
# a count: "log Dana 2nd coffee"). `_ORDINAL` finds the same words inside a text.
_THE_NTH = r"the\s+(\d{1,2})(?:st|nd|rd|th)"
_ORDINAL_DAY = re.compile(rf"^{_THE_NTH}$")


def _special_day(phrase: str, *, today: date, direction: Direction) -> date | None:
    """'tonight', 'this weekend', 'end of the week' (EOW), 'end of the month' (EOM)."""
    phrase = phrase.removeprefix("the ")
    if phrase == "tonight":
        return today
    if phrase in ("weekend", "this weekend", "next weekend", "last weekend"):
        saturday = 5
        if direction == "past" or phrase == "last weekend":
            return today - timedelta(days=((today.weekday() - saturday) % 7) or 7)
        ahead = (saturday - today.weekday()) % 7
        if phrase == "next weekend" and (today.weekday() >= saturday or ahead == 1):
            ahead += 7  # as "next Saturday": said on a Friday, not tomorrow's
        return today + timedelta(days=ahead)
    if phrase in ("end of the week", "end of week", "eow", "end of this week"):
        friday = 4
        return today + timedelta(days=(friday - today.weekday()) % 7)
    if phrase in ("end of the month", "end of month", "eom", "end of this month"):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if phrase in ("week after next", "week after next week"):
        return today + timedelta(days=14 - today.weekday())  # that week's Monday
    if (part := _PART_OF_NEXT.fullmatch(phrase)) is not None:
        return _part_of_next(part["part"], part["span"], today)
    if (first_week := _FIRST_WEEK_OF.fullmatch(phrase)) is not None:
        # The week the 1st falls in, said by its 1st: always in that week, and in that month.
        month = first_week["month"]
        if month == "next month":
            return add_months(today.replace(day=1), 1)
        number = next(i for i, full in enumerate(_MONTH_NAMES, 1) if full.startswith(month[:3]))
        return nearest_month_day(number, 1, today=today, direction=direction)
    return None


# A part of next month or next week: "early next month", "the end of next month", "mid-next
# week". Early and the beginning are its first day, mid and the middle its middle, the end
# its last day (next week's: its Friday, as "end of the week" is).
_PART_OF_NEXT = re.compile(
    r"(?:at\s+|in\s+|by\s+|towards?\s+)?(?:the\s+)?"
    r"(?P<part>early|mid|beginning|start|middle|end)(?:\s+of)?(?:\s+|-)(?:the\s+)?next\s+"
    r"(?P<span>month|week)")
_FIRST_WEEK_OF = re.compile(
    r"(?:in\s+)?(?:the\s+)?(?:first|1st)\s+week\s+(?:of|in)\s+"
    rf"(?P<month>next month|(?:{'|'.join(_MONTH_NAMES)}|sept|jan|feb|mar|apr|jun|jul|aug|sep"
    r"|oct|nov|dec)\.?)")


def _part_of_next(part: str, span: str, today: date) -> date:
    if span == "week":
        monday = today + timedelta(days=7 - today.weekday())
        offset = {"early": 0, "beginning": 0, "start": 0, "mid": 2, "middle": 2, "end": 4}
        return monday + timedelta(days=offset[part])
    first = add_months(today.replace(day=1), 1)
    if part in ("early", "beginning", "start"):
        return first
    if part in ("mid", "middle"):
        return first.replace(day=15)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


# Words before a day that make the phrase something other than that day ("after Dec 3" is
# the day after; "from Nov 2" may be counted from).
_LEADS_OTHER_THAN_THE_DAY = frozenset({"after", "before", "by", "from", "since", "until",
                                       "till"})


def _parse_with_dateparser(phrase: str, *, today: date, direction: Direction) -> date | None:
    # Month names and numeric forms ("May 4", "dec 3rd", "4 May 2027", "12/24"); anything
    # else stays a word, so "call" or "2 days ago in" are never read as dates.
    if not (_MONTH_NAME.search(phrase) and any(ch.isdigit() for ch in phrase)) \
            and not _NUMERIC_DATE.match(phrase):
        return None
    if phrase.split()[0] in _LEADS_OTHER_THAN_THE_DAY:
        # dateparser reads "after Dec 3" and "from Nov 2" as that day; "1 day from Nov 2" is
        # not Nov 2, and "after" asks the day after: the caller reads the day without them.
        return None
    import dateparser  # lazy: it costs a noticeable part of start-up

    base = datetime(today.year, today.month, today.day, 12, 0)
    settings: dict[str, object] = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future" if direction == "future" else "past",
        "STRICT_PARSING": False,
        "REQUIRE_PARTS": ["day", "month"],
    }
    parsed: datetime | None = dateparser.parse(phrase, languages=["en"], settings=settings)
    if parsed is None:
        return None
    if dateparser.parse(phrase, languages=["en"],
                        settings={**settings, "REQUIRE_PARTS": ["day", "month", "year"]}):
        return parsed.date()  # the year was said
    return nearest_month_day(parsed.month, parsed.day, today=today, direction=direction)


# How far a month and day said without a year may lie on the wrong side of today and still be
# the one meant: "Oct 29" said on Oct 30 is yesterday's (a snooze or a reminder refuses it,
# rather than waiting a year), "Nov 2" in a log on Oct 30 is still to come (refused, rather
# than last year's). Further off, the other year is plainly meant: "Jan 5" in a December
# reminder, "Dec 20" in a January log.
_NEAR = timedelta(days=62)


def _year_meant(month: int, day: int, today: date, direction: Direction) -> int:
    """The year a month and day without one names: the next one (`direction` "past": the last
    one), unless the other is near (`_NEAR`). Feb 29 is placed as Feb 28 is, so that it is
    looked for in that year only, never in a leap year three years away."""
    probe = min(day, calendar.monthrange(2001, month)[1])  # 2001: no Feb 29
    on_or_after = date(today.year, month, probe)
    if on_or_after < today:
        on_or_after = on_or_after.replace(year=today.year + 1)
    before = on_or_after.replace(year=on_or_after.year - 1)
    if direction == "future":
        return before.year if today - before <= _NEAR else on_or_after.year
    if on_or_after == today:
        return today.year
    return on_or_after.year if on_or_after - today <= _NEAR else before.year


def nearest_month_day(month: int, day: int, *, today: date, direction: Direction
                      ) -> date | None:
    """The day a month and day without a year names ("Oct 30"): the nearest one, which may
    lie just on the other side of today for the caller to refuse ("Oct 29" in a snooze on Oct
    30 has passed; "Oct 31" in a log is still to come), never one a year away. None when that
    year has no such day (Feb 29 in 2026), or no year does (Apr 31)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    try:
        return date(_year_meant(month, day, today, direction), month, day)
    except ValueError:
        return None


# An all-numeric date whose first two numbers could each be the month ("11/12", "4.5.2027").
_NUMERIC_PARTS = re.compile(r"^(?:on\s+)?(\d{1,2})([/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?$")


def numeric_choices(text: str, *, today: date, direction: Direction
                    ) -> tuple[date, date] | None:
    """The two days an all-numeric date names when it reads as a day either way: month first
    ("11/12" is Nov 12, as the US writes it) and day first (Dec 11, as most of the world
    does), each the next one (`direction` "past": the last one). None when only one reading is
    a day ("11/20", "20/11") or both are the same ("11/11")."""
    match = _NUMERIC_PARTS.match(" ".join(text.lower().strip(AROUND_A_DAY).split()))
    if match is None:
        return None
    first, second = int(match.group(1)), int(match.group(3))
    year = match.group(4)
    in_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
    month_first = _numeric_day(first, second, in_year, today, direction)
    day_first = _numeric_day(second, first, in_year, today, direction)
    if month_first is None or day_first is None or month_first == day_first:
        return None
    return month_first, day_first


def _numeric_day(month: int, day: int, year: int | None, today: date,
                 direction: Direction) -> date | None:
    """`month`/`day` in `year`, or else the nearest one (`nearest_month_day`)."""
    if year is None:
        return nearest_month_day(month, day, today=today, direction=direction)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def which_numeric_day(text: str, *, today: date, direction: Direction, outcome: str
                      ) -> str | None:
    """The question to an all-numeric date of two readings ("Did you mean Fri Nov 12 2027 or
    Fri Dec 11? …"), saying what became of the command (`outcome`: "nothing was logged");
    None when `text` reads one way only."""
    choices = numeric_choices(text, today=today, direction=direction)
    if choices is None:
        return None
    said = " ".join(text.strip(AROUND_A_DAY).split())
    written = [f"“{day:%b} {day.day}”" for day in choices]
    return (f"Did you mean {short_date(choices[0], today)} or {short_date(choices[1], today)}? "
            f"“{said}” reads either way, so {outcome}: write the month as a word "
            f"({written[0]} or {written[1]}).")


# ------------------------------------------------------------------------ rhythms
@dataclass(frozen=True, slots=True)
class Cadence:
    """A keep-in-touch rhythm: a number of days, or of calendar months."""

    days: int | None = None
    months: int | None = None


_CADENCE_WORDS = {
    "daily": Cadence(days=1), "every day": Cadence(days=1),
    "weekly": Cadence(days=7), "every week": Cadence(days=7), "once a week": Cadence(days=7),
    "biweekly": Cadence(days=14), "bi-weekly": Cadence(days=14),
    "fortnightly": Cadence(days=14), "every fortnight": Cadence(days=14),
    "a fortnight": Cadence(days=14), "fortnight": Cadence(days=14),
    "every other week": Cadence(days=14), "every second week": Cadence(days=14),
    "twice a month": Cadence(days=14), "semimonthly": Cadence(days=14),
    "day": Cadence(days=1), "week": Cadence(days=7), "month": Cadence(months=1),
    "quarter": Cadence(months=3), "year": Cadence(months=12),
    "monthly": Cadence(months=1), "every month": Cadence(months=1),
    "once a month": Cadence(months=1), "a month": Cadence(months=1),
    "every other month": Cadence(months=2), "every second month": Cadence(months=2),
    "quarterly": Cadence(months=3), "every quarter": Cadence(months=3),
    "once a quarter": Cadence(months=3), "a quarter": Cadence(months=3),
    "twice a year": Cadence(months=6), "semiannually": Cadence(months=6),
    "yearly": Cadence(months=12), "annually": Cadence(months=12),
    "every year": Cadence(months=12), "once a year": Cadence(months=12),
}
_CADENCE_AMOUNT = re.compile(r"^(?:every\s+)?(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight"
                             r"|nine|ten|twelve)\s*(d|days?|w|wks?|weeks?|m|mo|mos|months?|y|yrs?"
                             r"|years?)$")
MAX_CADENCE_DAYS = 3660


def parse_cadence(text: str) -> Cadence | None:
    """'2 weeks', '6w', 'monthly', 'every other week', '3 months' (calendar months)."""
    phrase = " ".join(text.lower().strip(" ,.").split())
    if phrase in _CADENCE_WORDS:
        return _CADENCE_WORDS[phrase]
    match = _CADENCE_AMOUNT.match(phrase)
    if not match:
        return None
    amount = _NUMBER_WORDS.get(match.group(1)) or int(match.group(1))
    unit = match.group(2)
    if unit[0] in "my":
        months = amount * (12 if unit[0] == "y" else 1)
        return Cadence(months=months) if 0 < months <= MAX_CADENCE_DAYS // 30 else None
    days = amount * _UNITS[unit]
    return Cadence(days=days) if 0 < days <= MAX_CADENCE_DAYS else None


_HOURS = re.compile(r"^(?:for\s+)?(\d{1,3}|an?|one|two|three|four|five|six|eight|twelve)\s*"
                    r"(h|hrs?|hours?|m|mins?|minutes?)$")


def parse_short_duration(text: str) -> timedelta | None:
    """'2 hours', '2h', '30 minutes', 'an hour' -> the time; None when it is not one."""
    match = _HOURS.match(" ".join(text.lower().split()))
    if not match:
        return None
    amount = _NUMBER_WORDS.get(match.group(1)) or int(match.group(1))
    if match.group(2).startswith("h"):
        length = timedelta(hours=amount)
    else:
        length = timedelta(minutes=amount)
    return length if timedelta(0) < length <= timedelta(hours=72) else None


# ------------------------------------------------------------------------ dates in text
@dataclass(frozen=True, slots=True)
class DateSpan:
    """A date found in free text: where (character offsets, with any leading preposition),
    the preposition ("on", "after", ... or ""), and the day."""

    start: int
    end: int
    day: date
    preposition: str
    phrase: str


# Words that belong with the day after them ("after Friday", "due Mar 3"); "in" and "at"
# do not ("check in tomorrow").
_PREPOSITIONS = ("on", "after", "by", "before", "until", "till", "from", "due")
# Cheap gate: text with none of these cannot hold a date, so dateparser is not asked.
_DATE_HINT = re.compile(
    r"\d|\b(?:today|tonight|tomorrow|yesterday|mon|tues?|wed|weds|thu|thur|thurs|fri|sat|sun|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|"
    r"nov|dec|january|february|march|april|june|july|august|september|october|november|"
    r"december|week|weekend|month|year|fortnight|ago|eow|eom|couple|afternoon|evening|"
    r"wks?|mos?|mths?|yrs?)\b"
    # An amount of days, weeks or months, in words too: "in two weeks", "in ten days".
    rf"|\b(?:{_NUMBER_WORD_PATTERN})\s+(?:days|weeks|fortnights|months|years)\b",
    re.IGNORECASE)
# "the 4th" in a text names a day, unless it ranks the noun after it ("the 4th quarter
# looks rough", "the 2nd floor", "the 3rd time she asked").
_RANKED_NOUNS = (
    "quarter|half|floor|time|times|place|grade|year|years|anniversary|birthday|century|round|"
    "edition|version|release|generation|attempt|try|draft|step|level|row|week|weeks|month|"
    "months|day|days|hour|minute|inning|period|term|semester|season|game|match|question|item|"
    "point|page|chapter|avenue|ave|street|st|largest|biggest|best|worst|most|person|hire|"
    "child|kid|baby|one|employee|customer|client|meeting|call|interview|sprint")
_ORDINAL = re.compile(rf"\b(?:on\s+)?{_THE_NTH}\b(?!\s+(?:{_RANKED_NOUNS})\b)",
                      re.IGNORECASE)
# Words a date reader would take as a weekday or "now" but that mean something else in a
# sentence ("I sat with her", "she is now VP", "the sun"). "mon" is no word of a note: "call
# mon" is Monday, as "call tue" is Tuesday.
_NOT_DATES_IN_TEXT = {"sat", "sun", "wed", "now", "may", "march", "second"}
_SPECIAL_PHRASES = re.compile(
    r"\b(?:(?:on|by|at|for|until|till|before|after)\s+)?(?:the\s+)?(?:this\s+|next\s+|last\s+)?"
    r"(?:end of (?:the |this )?(?:week|month)|eow|eom|weekend"
    # Amounts dateparser does not find: "in a couple of days", "in a few weeks".
    r"|in (?:a couple of|a couple|a few) (?:days|weeks|months)"
    # Units as chat shortens them, which dateparser does not know: "in 2 wks", "in 3 mos".
    rf"|in (?:\d{{1,4}} ?|(?:{_NUMBER_WORD_PATTERN}) )(?:wks?|mos|mths?|yrs?)"
    r"|(?:a couple of|a couple|a few) (?:days|weeks|months) (?:ago|from now)"
    # A part of next month or week, the week after next, the first week of a month: words
    # around "next month" that dateparser leaves out ("early next month" is not Nov 30).
    r"|(?:early|mid|beginning|start|middle|end)(?: of)?(?:\s+|-)(?:the )?next (?:month|week)"
    r"|week after next(?: week)?"
    r"|(?:in )?(?:the )?(?:first|1st) week (?:of|in) (?:next month|" + "|".join(
        sorted({*_MONTH_NAMES, *(m[:3] for m in _MONTH_NAMES), "sept"}, key=len, reverse=True))
    + r"))\b",
    re.IGNORECASE)


def spell_out_days(text: str) -> str:
    """The text with chat shorthand for days written out ("call Lee tmrw" -> "call Lee
    tomorrow"), so a date reader that knows only whole words finds them."""
    return _DAY_ABBREVIATION.sub(lambda m: DAY_ABBREVIATIONS[m.group(1).lower()], text)


def find_dates(text: str, *, today: date, direction: Direction) -> list[DateSpan]:
    """Dates inside free text, in order; only phrases `parse_day` reads for certain."""
    if not _DATE_HINT.search(text):
        return []
    from dateparser.search import search_dates  # lazy: see warm_up

    base = datetime(today.year, today.month, today.day, 12, 0)
    try:
        found = search_dates(text, languages=["en"], settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future" if direction == "future" else "past"}) or []
    except (ValueError, OverflowError, IndexError, TypeError):
        found = []
    spans: list[DateSpan] = []
    position = 0
    for phrase, _moment in found:
        start = text.find(phrase, position)
        if start < 0:
            continue
        position = start + len(phrase)
        span = _accept(text, start, start + len(phrase), today=today, direction=direction)
        if span is not None:
            _add_span(spans, _with_count(text, span, today=today, direction=direction))
    for pattern in (_SPECIAL_PHRASES, _ORDINAL):
        for match in pattern.finditer(text):
            if any(s.start <= match.start() < s.end for s in spans):
                continue
            day = (_ordinal_day(int(match.group(1)), today, direction)
                   if pattern is _ORDINAL else None)
            span = DateSpan(match.start(), match.end(), day, "", match.group(0)) \
                if day is not None else _accept(text, match.start(), match.end(), today=today,
                                                direction=direction)
            if span is not None:
                span = _with_count(text, _with_preposition(text, span), today=today,
                                   direction=direction)
                if pattern is _SPECIAL_PHRASES:
                    # "early next month" read whole, not "next month" without "early".
                    spans[:] = [s for s in spans
                                if not span.start <= s.start < s.end <= span.end]
                _add_span(spans, span)
    for short in _SHORT_WEEKDAY.finditer(text):
        _add_short_weekday(spans, text, short, today=today, direction=direction)
    for qualified in _QUALIFIED_SPAN.finditer(text):
        if not any(s.start <= qualified.start() and qualified.end() <= s.end for s in spans):
            # "late next month": not next month's day, nor any day read; the words are left
            # whole for `date_like_words` to name.
            spans = [s for s in spans if s.end <= qualified.start() or s.start >= qualified.end()]
    return sorted(spans, key=lambda s: s.start)


# A part of a span, or a week of a month, said in words that `parse_day` may not read ("late
# next month", "mid this week", "the second week of December"): read whole, or not at all.
_QUALIFIED_SPAN = re.compile(
    r"\b(?:(?:early|mid|late)(?:\s+|-)|(?:the\s+)?(?:start|beginning|middle|end|rest)\s+of\s+)"
    r"(?:the\s+)?(?:next|last|this|coming|past|the)\s+(?:week|wk|month|mo|mth|year|yr)\b"
    r"|\b(?:the\s+)?(?:first|second|third|fourth|last|final|1st|2nd|3rd|4th)\s+week\s+"
    r"(?:of|in)\s+(?:(?:next|last|this|the)\s+month|" + "|".join(
        sorted({*_MONTH_NAMES, *(m[:3] for m in _MONTH_NAMES), "sept"}, key=len, reverse=True))
    + r")\b"
    r"|\b(?:the\s+)?week\s+after\s+next(?:\s+week)?\b", re.IGNORECASE)


# Weekdays shortened as chat shortens them ("next Sat", "this Thurs", "Weds"), which the date
# finder leaves out.
_SHORT_WEEKDAY = re.compile(
    r"(?<![\w'’-])(?:(?P<lead>next|this|coming|last|past|on)\s+)?"
    r"(?P<day>mon|tues?|weds?|thu|thur|thurs|fri|sat|sun)(?P<stop>\.)?(?![\w'’-])",
    re.IGNORECASE)
# Short weekdays that are also words: "she sat", "the sun", "Wei Sun".
_SHORT_WEEKDAY_WORDS = frozenset({"sat", "sun", "wed"})


def _reads_as_short_weekday(text: str, short: re.Match[str]) -> bool:
    """Whether a short weekday is said as a day: after "next" or "last" ("hiking next Sat"),
    after "this" or "on" written as a day is ("this Sat", not "this sun", "on sun loungers");
    alone, when it is no word ("Thurs", "Weds"), or ends the text as a day is written,
    capitalised with its full stop, after a word that makes it no verb or name ("hiking
    Sat.", not "she sat." or "Wei Sun.")."""
    day, lead = short["day"], (short["lead"] or "").lower()
    if day.lower() not in _SHORT_WEEKDAY_WORDS:
        return True
    if lead:
        return lead not in ("this", "on") or day[0].isupper()
    if not day[0].isupper() or short["stop"] is None \
            or text[short.end():].strip(AROUND_A_DAY + " "):
        return False
    previous = text[:short.start()].split()
    return bool(previous) and previous[-1].lower() not in _BEFORE_A_WORD and not (
        previous[-1][:1].isupper() and len(previous) > 1)


def _add_short_weekday(spans: list[DateSpan], text: str, short: re.Match[str], *, today: date,
                       direction: Direction) -> None:
    """Add the day of a short weekday to `spans`, in place of any part of it found before
    ("Sat" of "next Sat"); not where it overlaps more than itself."""
    inside = [s for s in spans if s.start < short.end() and short.start() < s.end]
    if any(s.start < short.start() or s.end > short.end() for s in inside) \
            or not _reads_as_short_weekday(text, short):
        return
    # "on" is the day's preposition, not part of the day ("on Sat" reads as "Sat").
    start = short.start("day") if (short["lead"] or "").lower() == "on" else short.start()
    day = parse_day(text[start:short.end()], today=today, direction=direction)
    if day is None:
        return
    spans[:] = [s for s in spans if s not in inside]
    spans.append(_with_preposition(text, DateSpan(start, short.end(), day, "",
                                                  text[start:short.end()])))


def _add_span(spans: list[DateSpan], span: DateSpan) -> None:
    """Keep `span` unless it overlaps one already found: "a week before May 4" is one date,
    not also "before May 4"."""
    if all(span.end <= found.start or span.start >= found.end for found in spans):
        spans.append(span)


# The amount before "from Friday" that the date finder leaves out ("back 2 weeks from
# Friday"), and the word before it: after "for" it is a length ("off for 2 weeks from Monday").
_COUNT_BEFORE = re.compile(rf"(?:(?P<lead>\S+)\s+)?(?P<count>(?<!\S){_COUNT})\s*$",
                           re.IGNORECASE)


def _with_count(text: str, span: DateSpan, *, today: date, direction: Direction) -> DateSpan:
    """Take in the amount before a day it is counted from ("2 weeks from Friday" is one date),
    when the whole reads as one day."""
    if span.preposition not in ("from", "after", "before"):
        return span
    counted = _COUNT_BEFORE.search(text[:span.start])
    if counted is None or (counted["lead"] or "").lower() == "for":
        return span
    start = counted.start("count")
    day = parse_day(text[start:span.end], today=today, direction=direction)
    if day is None:
        return span
    return DateSpan(start, span.end, day, "", text[start:span.end])


def _ordinal_day(number: int, today: date, direction: Direction) -> date | None:
    """'the 15th': this month's 15th, or the next month's once it has passed (`direction`
    "past": the last month's while this one's is still to come). A month without that day is
    never skipped: "the 31st" in a snooze on Nov 15 is None (November has none), and in a log
    on Oct 30 it is Oct 31, still to come, for the log to refuse, not Aug 31."""
    if not 1 <= number <= 31:
        return None
    this_month = _day_of_month(today.year, today.month, number)
    step = 1 if direction == "future" else -1
    if this_month is not None and (this_month >= today if step > 0 else this_month <= today):
        return this_month
    if this_month is None and step > 0:
        return None  # this month's would be ahead, and there is none
    year, month = divmod(today.year * 12 + today.month - 1 + step, 12)
    other = _day_of_month(year, month + 1, number)
    # Last month without it (Sep 31) while this month's is still to come: this month's, the
    # nearest, for a log to refuse as still to come.
    return other if other is not None or step > 0 else this_month


def _day_of_month(year: int, month: int, number: int) -> date | None:
    return date(year, month, number) if number <= calendar.monthrange(year, month)[1] else None


def day_problem(text: str, *, today: date, direction: Direction) -> str | None:
    """Why a day of the month that `parse_day` does not read names no day where it is meant
    ("There is no Feb 29 in 2026", "November has no 31st", "April has no 31st"); None for any
    other phrase."""
    phrase = " ".join(text.lower().strip(AROUND_A_DAY).split()).removeprefix("on ")
    if (ordinal := _ORDINAL_DAY.match(phrase)) is not None:
        number = int(ordinal.group(1))
        if not 1 <= number <= 31 or _ordinal_day(number, today, direction) is not None:
            return None
        this_month = _day_of_month(today.year, today.month, number)
        month = today.month if this_month is None else today.month % 12 + 1
        return f"{_MONTH_NAMES[month - 1].title()} has no {_nth(number)}"
    said = _MONTH_AND_DAY.match(phrase)
    if said is None:
        return None
    name = said["month"] or said["month_after"]
    month = next(i for i, full in enumerate(_MONTH_NAMES, 1) if full.startswith(name[:3]))
    number = int(said["day"] or said["day_before"])
    if not 1 <= number <= 31 or nearest_month_day(month, number, today=today,
                                                   direction=direction) is not None:
        return None
    if number > calendar.monthrange(2000, month)[1]:  # 2000: a leap year
        return f"{_MONTH_NAMES[month - 1].title()} has no {_nth(number)}"
    year = _year_meant(month, number, today, direction)
    return f"There is no {_MONTH_NAMES[month - 1][:3].title()} {number} in {year}"


def without_year(text: str) -> bool:
    """Whether `text` is a month and a day without a year ("Oct 29", "on 29 October",
    "10/29"): a day `nearest_month_day` places, maybe just on the other side of today."""
    phrase = " ".join(text.lower().strip(AROUND_A_DAY).split()).removeprefix("on ")
    numeric = _NUMERIC_PARTS.match(phrase)
    return _MONTH_AND_DAY.match(phrase) is not None or (
        numeric is not None and numeric.group(4) is None)


def passed_question(day: date, today: date, *, outcome: str, again: str) -> str:
    """The answer to a month and day without a year that has just passed ("Oct 29" on Oct
    30) where a day to come is needed: which day was read, what became of the command
    (`outcome`: "nothing was snoozed"), and the words (`again`, with {day} for the day) that
    ask for next year's."""
    passed = f"{day:%b} {day.day} was yesterday" if day == today - timedelta(days=1) \
        else f"{short_date(day, today)} has passed"
    if day.month == 2 and day.day == 29:
        return f"{passed}, so {outcome}."  # next year has none
    said = again.replace("{day}", f"{day:%b} {day.day} {day.year + 1}")
    return f"{passed}, so {outcome}. Did you mean next year's? Say “{said}”."


# A verb that tells of something done ("her talk was", "went to Lisbon", "presented"; "-ed",
# not "-eed": "need", "speed").
_TOLD_DONE = re.compile(r"\b(?:was|were|had|did|went|got|left|met|\w{2,}(?<!e)ed)\b",
                        re.IGNORECASE)
# Before that verb, words that make it a plan ("is scheduled", "will be moved"); after it,
# words that make the day one to come ("said the launch is on", "asked me to call on").
_PLANNED = re.compile(r"\b(?:is|are|am|be|being|will|shall|gets?)\s+\S+$", re.IGNORECASE)
_STILL_TO_COME = re.compile(r"\b(?:is|are|am|will|shall|be|going|gonna|next|until|till)\b"
                            r"|['’]ll\b", re.IGNORECASE)
# Verbs in the past that arrange or tell of a day rather than say it came: "she invited me to
# her wedding on Jun 14" is next June's wedding.
_ARRANGED = frozenset({
    "invited", "asked", "scheduled", "rescheduled", "booked", "planned", "arranged",
    "organised", "organized", "confirmed", "mentioned", "promised", "agreed", "offered",
    "proposed", "suggested", "postponed", "pushed", "delayed", "announced", "registered",
    "signed", "accepted", "reminded", "requested", "wanted", "hoped", "expected", "decided",
    "needed", "emailed", "texted", "messaged", "pinged", "warned", "shared", "reserved"})
# "to" and a verb ("asked me to call"), not a place ("went to Lisbon", "went to lunch").
_TO_DO = re.compile(r"\bto\s+(?!(?:the|a|an|her|his|their|my|our|your|its|lunch|dinner|"
                    r"breakfast|work|school|church|bed|town|court|hospital)\b)[a-z]+\b")


def past_day_meant(before: str, phrase: str, day: date, today: date) -> date | None:
    """The day gone by a note means by a month and day without a year (`phrase`) that was
    read as the next one (`day`), when the words before it (`before`) tell of something
    done: "her talk was on Jun 1" in October is last June's, not next June's. The last such
    day, unless the next one is near (`_NEAR`: "she started on Nov 2" on Oct 30 is still to
    come). None when the day is one to come: said with its year, no verb in the past before
    it, or one that says a plan ("is scheduled", "asked me to call on", "invited me to her
    wedding on", "said the launch is on", "moved to")."""
    # The words a date is found in may run on past it ("Mar 3 and" of "presented Mar 3 and
    # it went well").
    words = phrase.split()
    if day <= today or re.search(r"\d{3,}", phrase) or not any(
            without_year(" ".join(words[:count])) for count in range(len(words), 0, -1)):
        return None
    done = list(_TOLD_DONE.finditer(before))
    if not done:
        return None
    verb, after = before[:done[-1].end()], before[done[-1].end():]
    if done[-1].group(0).lower() in _ARRANGED or _PLANNED.search(verb) \
            or _STILL_TO_COME.search(after) or _TO_DO.search(after) \
            or re.search(r"\b(?:to|for)\s*$", before, re.IGNORECASE):
        # "moved to Jun 1", "booked for Jun 1": the day it is now.
        return None
    past = nearest_month_day(day.month, day.day, today=today, direction="past")
    return past if past is not None and past < today else None


# Verbs in the past common enough to read a weekday a few words after them as the last one
# ("ran a marathon on Sunday", "her party was Saturday"), where a weekday alone in a note is
# the coming one. Only these: "-ed" words are as often plans or adjectives ("planned",
# "scheduled", "tired"); and only in the same clause as the day (no comma, "and", "but").
_DONE_BEFORE_A_WEEKDAY = re.compile(
    r"\b(?:was|were|had|did|went|ran|got|met|saw|came|left|took|gave|spent|flew|won|lost)\b"
    r"(?P<between>(?:\s+[^\s,;:.!?]+){0,4})$", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"\b(?:and|but|then|so|now|will|shall)\b", re.IGNORECASE)
# Before the verb, words that ask about what was done: "ask how the offsite went on Friday"
# asks on Friday.
_ASKED_ABOUT = re.compile(r"\b(?:ask|asking|how|what|whether|if|why|when|where|who)\b",
                          re.IGNORECASE)


def past_weekday_meant(before: str, phrase: str, today: date) -> date | None:
    """The weekday gone by a note means by a weekday alone (`phrase`: "Sunday", "on Sun"),
    when the words just before it (`before`) tell of something done with a common verb in the
    past ("ran a marathon", "her party was"): the last such day. None when the weekday is one
    to come: no such verb in the clause, or words that make it a plan ("was planning to
    visit on", "had to move it to", "was told the launch is on")."""
    said = " ".join(phrase.lower().strip(AROUND_A_DAY).split()).removeprefix("on ")
    if said not in _WEEKDAYS and said not in _WEEKDAY_ABBREVIATIONS:
        return None
    done = _DONE_BEFORE_A_WEEKDAY.search(before.rstrip(" ,;"))
    if done is None:
        return None
    verb, after = before[:done.start("between")], done["between"]
    if _PLANNED.search(verb) or _ASKED_ABOUT.search(verb) or _STILL_TO_COME.search(after) \
            or _TO_DO.search(after) \
            or _CLAUSE_BREAK.search(after) or re.search(r"\b(?:to|for|until|till|by)\s*$",
                                                         before, re.IGNORECASE):
        return None
    return parse_day(said, today=today, direction="past")


def stands_for_a_week(text: str) -> bool:
    """Whether a day was read from words that name a week ("the first week of December"):
    they stay true on the day the reminder comes, and say more than that day."""
    phrase = " ".join(text.lower().strip(AROUND_A_DAY).split())
    found = _FIRST_WEEK_OF.search(phrase)
    return found is not None and found.end() == len(phrase)


def _nth(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


# A month and a day without a year: "Feb 29", "february 29th", "29 Feb", "the 29th of Feb".
_MONTH_FORM = "(?:" + "|".join(sorted({*_MONTH_NAMES, *(m[:3] for m in _MONTH_NAMES), "sept"},
                                       key=len, reverse=True)) + r")\.?"
_MONTH_AND_DAY = re.compile(
    rf"^(?:(?P<month>{_MONTH_FORM})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"|(?:the\s+)?(?P<day_before>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    rf"(?P<month_after>{_MONTH_FORM}))$")


_TIME_TAIL = re.compile(
    r"(?:\s*,)?\s+(?:at\s+\d{1,2}(?::\d{2})?\s*(?:am|pm|h)?|\d{1,2}:\d{2}\s*(?:am|pm)?"
    r"|\d{1,2}\s*(?:am|pm|h)|(?:at\s+|in\s+the\s+)?(?:noon|midday|morning|afternoon|evening"
    r"|night|lunchtime|eod))$", re.IGNORECASE)


_TIME_HEAD = re.compile(
    r"(?:at\s+\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|h)?|\d{1,2}:\d{2}\s*(?:am|pm)?"
    r"|\d{1,2}\s*(?:am|pm|h)|(?:at\s+)?(?:noon|midday|lunchtime))\b,?\s+", re.IGNORECASE)


def _accept(text: str, start: int, end: int, *, today: date, direction: Direction
            ) -> DateSpan | None:
    """The longest part of dateparser's find that `parse_day` reads for certain: dateparser
    takes words around a date ("on Friday about the"), and a word before it may be a
    preposition that belongs with it ("on", "after") or not ("in" of "check in")."""
    # dateparser sometimes keeps only part of a date ("Dec" of "before Dec 15"): up to two
    # following words are tried too, longest first.
    following = re.match(r"(\s+[\w,]+){1,2}", text[end:])
    if following is not None:
        longer = _accept_exact(text, start, end + following.end(), today=today,
                               direction=direction)
        if longer is not None and longer.end > end:
            return longer
    return _accept_exact(text, start, end, today=today, direction=direction)


def _accept_exact(text: str, start: int, end: int, *, today: date, direction: Direction
                  ) -> DateSpan | None:
    phrase = text[start:end]
    # A time of day after the date ("Monday at noon") is not kept: notes have days. "This
    # afternoon" is a day of its own: today.
    while (cut := _TIME_TAIL.search(phrase)) is not None and cut.start() > 0 \
            and phrase[:cut.start()].split()[-1].lower() != "this":
        phrase = phrase[:cut.start()]
    # Nor one before it ("at 3pm tomorrow" is "tomorrow at 3pm"); the time stays in the text.
    while (lead := _TIME_HEAD.match(phrase)) is not None and lead.end() < len(phrase):
        phrase, start = phrase[lead.end():], start + lead.end()
    words = phrase.split()
    for first in (0, 1):
        for last in range(len(words), first, -1):
            candidate = words[first:last]
            if len(candidate) == 1 and candidate[0].lower().strip(".,") in _NOT_DATES_IN_TEXT:
                continue
            said = " ".join(candidate)
            if _ORDINAL_DAY.match(said.lower()):
                # A day of the month alone is found in a text by `_ORDINAL` ("the 20th"), not
                # in what the date library reads ("finished 4th").
                continue
            day = parse_day(said, today=today, direction=direction)
            if day is None:
                continue
            offset = start
            for word in words[:first]:
                offset = text.index(word, offset) + len(word)
            begin = text.index(candidate[0], offset)
            finish = text.index(candidate[-1], begin) + len(candidate[-1])
            preposition = ""
            if first and words[0].lower() in _PREPOSITIONS:
                preposition, begin = words[0].lower(), text.index(words[0], start)
            return _with_preposition(text, DateSpan(begin, finish, day, preposition,
                                                    text[begin:finish]))
    return None


def _with_preposition(text: str, span: DateSpan) -> DateSpan:
    """Take in the word before the date when it is a preposition ("after Friday")."""
    if span.preposition:
        return span
    first = span.phrase.split()[0].lower() if span.phrase.split() else ""
    if first in _PREPOSITIONS:
        return DateSpan(span.start, span.end, span.day, first, span.phrase)
    before = text[:span.start].rstrip()
    match = re.search(r"(\w+)$", before)
    if match and match.group(1).lower() in _PREPOSITIONS:
        word = match.group(1).lower()
        return DateSpan(match.start(1), span.end, span.day, word,
                        text[match.start(1):span.end])
    return span


_DATE_WORDS = [*_WEEKDAYS, *_MONTH_NAMES, "tomorrow", "yesterday", "tonight", "weekend"]
_MONTH_ABBREVIATIONS = {name[:3] for name in _MONTH_NAMES}
_MONTH_FORMS = {*_MONTH_NAMES, *_MONTH_ABBREVIATIONS, "sept"}


@dataclass(frozen=True, slots=True)
class _DateLike:
    """Words that look like a date: where they end, what they say, and how sure the guess is
    ("misspelt" and "vague" ones may be ordinary words in a summary)."""

    end: int
    phrase: str
    sort: Literal["numeric", "misspelt", "vague"]
    previous: str


def _date_like(text: str, spans: list[DateSpan]) -> list[_DateLike]:
    found: list[_DateLike] = []
    tokens = list(re.finditer(r"[\w/.\-]+", text))
    for index, token in enumerate(tokens):
        if any(s.start <= token.start() < s.end for s in spans):
            continue
        word = token.group(0).lower().strip(".")
        previous = tokens[index - 1].group(0).lower() if index else ""
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if re.fullmatch(r"\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?|\d{1,2}(?:st|nd|rd|th)"
                        r"|\d{4}-\d{1,2}-\d{1,2}", word):
            found.append(_DateLike(token.end(), token.group(0), "numeric", previous))
        elif word[:3] in _MONTH_ABBREVIATIONS and word in _MONTH_FORMS and \
                following is not None and following.group(0)[:1].isdigit():
            found.append(_DateLike(following.end(), f"{token.group(0)} {following.group(0)}",
                                   "numeric", previous))
        elif len(word) >= 5 and word.isalpha() and word not in ("march", "second"):
            match = process.extractOne(word, _DATE_WORDS, scorer=fuzz.ratio, score_cutoff=80)
            if match is not None and (word != match[0] or previous in ("next", "this", "on",
                                                                        "mid", "early", "late",
                                                                        "coming")):
                found.append(_DateLike(token.end(), token.group(0), "misspelt", previous))
        elif previous in ("next", "this", "coming") and word in ("time", "quarter", "sprint"):
            found.append(_DateLike(token.end(), f"{previous} {token.group(0)}", "vague",
                                   previous))
    return found


# A time ahead counted in hours or minutes ("in 2 hours", "in an hour", "30 minutes from now").
_HOUR_AMOUNT = (r"(?:\d{1,3}\s*|(?:an?|half\s+an|a\s+few|a\s+couple\s+of|a\s+couple|few|one|two"
                r"|three|four|five|six|ten|fifteen|twenty|thirty)\s+)")
_HOUR_UNIT = r"(?:h|hrs?|hours?|mins?|minutes?)"
_HOURS_AHEAD_WORDS = (rf"(?:in\s+{_HOUR_AMOUNT}{_HOUR_UNIT}"
                      rf"|{_HOUR_AMOUNT}{_HOUR_UNIT}\s+from\s+now)")
# A time from now said with an amount no one can count ("in several weeks"): a date was
# meant, but which day is anyone's guess.
_UNCOUNTED_WAIT = re.compile(r"\b(?:in\s+(?:several|some|many)\s+(?:days|weeks|months)"
                             r"|(?:several|some|many)\s+(?:days|weeks|months)\s+from\s+now)\b",
                             re.IGNORECASE)


# A time of day, or a time counted in hours ("at 3pm", "at 15:30", "in 3 hours"): a note
# keeps a day, and which day a time alone falls on depends on when it is said.
_TIME_ALONE = re.compile(
    r"\b(?:(?:at|by|around|before|after|from|until|till)\s+)?\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)\b"
    r"|\b(?:at|by|around|before|after|until|till)\s+(?:\d{1,2}:\d{2}|noon|midday|lunchtime|eod)\b"
    rf"|\b{_HOURS_AHEAD_WORDS}\b", re.IGNORECASE)
# A month without its day after a word that makes it a date ("in January", "by March", "early
# June"): which day of it nobody said.
_MONTH_WORDS = "|".join([*_MONTH_NAMES, *(m[:3] for m in _MONTH_NAMES), "sept"])
_MONTH_AFTER_LEAD = re.compile(
    r"\b(?:in|during|early|mid|late|by|until|till|before|after|since|from|next|this|last"
    rf"|(?:the\s+)?(?:start|beginning|middle|end)\s+of)(?:\s+|-)(?:{_MONTH_WORDS})\b"
    r"(?!\.?\s*\d|['’-])", re.IGNORECASE)
# A holiday after a word that makes it a date ("after Christmas", "before the holidays"):
# whose holiday, and which day of it, Rapport does not guess.
_HOLIDAY = re.compile(
    r"\b(?:after|before|by|until|till|over|around|since|from|next|this|last|on|at)\s+"
    r"(?:christmas(?:\s+eve|\s+day)?|xmas|easter|thanksgiving|halloween|hanukk?ah|chanukah"
    r"|diwali|ramadan|eid|passover|new\s+year(?:['’]s)?(?:\s+(?:eve|day))?|boxing\s+day"
    r"|valentine(?:['’]s)?(?:\s+day)?|labou?r\s+day|memorial\s+day|independence\s+day"
    r"|the\s+(?:holidays|break|long\s+weekend|new\s+year)"
    r"|(?:the\s+)?(?:spring|summer|winter|fall|autumn|christmas|easter)\s+(?:break|holidays?))\b",
    re.IGNORECASE)
# A counted wait that no reading took ("in 1000 years"): the amount a date reader found too
# far, or in a unit it does not know.
_UNREAD_WAIT = re.compile(rf"\bin\s+(?:\d{{1,6}}\s*|(?:{_NUMBER_WORD_PATTERN})\s+)"
                          r"(?:days?|wks?|weeks?|fortnights?|mos|mths?|months?|yrs?|years?)\b",
                          re.IGNORECASE)
# Weekdays shortened to words of their own ("call sat"): a day when they end a note after a
# word that does not make them a word ("she sat", "the sun").
_SHORT_WEEKDAY_AT_END = re.compile(r"(?:^|\s)(?P<previous>\S+)\s+(?P<day>sat|sun|wed)"
                                   r"[\s.!?…)]*$", re.IGNORECASE)
_BEFORE_A_WORD = frozenset({"i", "you", "he", "she", "we", "they", "it", "who", "that", "the",
                            "a", "an", "and", "or", "her", "his", "my", "our", "their", "your",
                            "its", "in", "of", "to", "just", "got", "get", "be", "was", "is",
                            "were", "had", "have", "has", "dog", "cat", "kids", "everyone"})


def date_like_words(text: str, spans: list[DateSpan]) -> list[str]:
    """Words outside `spans` that look like a date nobody could read ("tuesdy", "15/13",
    "mid December", "next blursday", "in several weeks", "in January", "after Christmas"),
    and, when no date was read at all, a time alone ("at 3pm", "in 3 hours"), so the answer
    can say so instead of saying nothing."""
    found = [(found.end - len(found.phrase), found.end, found.phrase)
             for found in _date_like(text, spans)]
    patterns = [_UNCOUNTED_WAIT, _MONTH_AFTER_LEAD, _HOLIDAY, _UNREAD_WAIT, _QUALIFIED_SPAN,
                _ORDINAL]
    if not spans:
        patterns.append(_TIME_ALONE)
    found += [(match.start(), match.end(), match.group(0)) for pattern in patterns
              for match in pattern.finditer(text)]
    short = _SHORT_WEEKDAY_AT_END.search(text)
    if short is not None and short["previous"].lower() not in _BEFORE_A_WORD:
        found.append((short.start("day"), short.end("day"), short["day"]))
    kept: list[tuple[int, int, str]] = []
    # Longest first where two overlap ("mid December" found twice, "in 3 hours" and "3").
    for start, end, phrase in sorted(found, key=lambda f: (f[0], -f[1])):
        if any(s.start <= start < s.end for s in spans) or any(
                start < other_end and other_start < end for other_start, other_end, _ in kept):
            continue
        kept.append((start, end, phrase))
    return [phrase for _start, _end, phrase in kept]


# "later" and "hence" name a day ahead in words `parse_day` does not read, as does "from now"
# after an amount it cannot count ("100 years from now"); a signed amount ("in -3 days",
# "-2 weeks ago") is no day anyone can be told about.
_RELATIVE_TAIL = re.compile(rf"(?:^|\s)(in\s+{_SIGNED_AMOUNT_AND_UNIT}"
                            rf"|{_SIGNED_AMOUNT_AND_UNIT}\s+"
                            rf"(?:ago|back|from\s+now|from\s+today|later|hence))$",
                            re.IGNORECASE)
# Words before a misspelt day that say a day was meant ("on fridya", "last tuesdy").
_DAY_LEADS = ("on", "last", "next", "this", "coming", "past")


def _day_like(found: _DateLike) -> bool:
    """Whether numbers look like a day and month ("13/12", "feb 30"), not a ratio, a year or
    an anniversary ("50/50", "June 2027", "her 30th")."""
    if found.sort != "numeric" or _ISO_SHAPE.fullmatch(found.phrase):
        return True
    numbers = [int(n) for n in re.findall(r"\d+", found.phrase)]
    if re.search(r"\d(?:st|nd|rd|th)$", found.phrase, re.IGNORECASE):
        return False
    return all(0 < n <= 31 for n in numbers[:2])


_ISO_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


# A month said without its day ("in November", "early March", "last October 2025"): a
# conversation is kept by its day, and which day of the month nobody said.
_MONTH_ALONE = re.compile(
    r"^(?:in|during|early|mid|late|last|this|(?:at\s+)?the\s+(?:start|beginning|middle|end)"
    r"\s+of)(?:\s+|-)(?:" + "|".join([*_MONTH_NAMES, *(m[:3] for m in _MONTH_NAMES), "sept"])
    + r")\.?(?:\s+\d{4})?$", re.IGNORECASE)


def month_alone(text: str) -> bool:
    """Whether `text` names a month and no day of it ("in November", "early March")."""
    return _MONTH_ALONE.match(" ".join(text.strip(AROUND_A_DAY).split())) is not None


# A span under way, without its day ("this week", "earlier this month"): which day of it
# nobody said. ("Last week" is read as a day, a week ago, as docs/people.md says.)
_SPAN_ALONE = re.compile(r"^(?:(?:earlier|sometime|some\s+time)\s+)?(?:during\s+)?this\s+"
                         r"(?:week|wk|month|mo|mth|year|yr)$", re.IGNORECASE)


def span_alone(text: str) -> bool:
    """Whether `text` names a span under way and no day of it ("this week", "this month")."""
    return _SPAN_ALONE.match(" ".join(text.strip(AROUND_A_DAY).split())) is not None


# A time still to come counted in hours or minutes ("in 2 hours", "in an hour", "30 minutes
# from now"): no day a conversation can have had.
_HOURS_AHEAD = re.compile(rf"(?:^|\s)({_HOURS_AHEAD_WORDS})$", re.IGNORECASE)


# Time words no day can be read from with confidence: vague ("the other day", "a while
# back"), counted in amounts nobody can count or units mistyped ("several days ago", "3 dayz
# ago"), a length where the day goes ("3 days", "a couple of weeks"; not "one day", which is
# someday), or "last" with a word that names no day as typed ("last nght", "last year").
_VAGUE_TIME = (r"(?:the\s+)?other\s+(?:day|night|evening|morning|afternoon|week|weekend)"
               r"|(?:a\s+)?(?:little\s+|short\s+|good\s+)?while\s+(?:ago|back)"
               r"|(?:(?:a|some)\s+)?(?:long\s+)?time\s+(?:ago|back)|ages\s+(?:ago|back)"
               r"|(?:not\s+)?(?:so\s+)?long\s+ago")
_AMOUNT_SAID = rf"(?:\d{{1,4}}\s*|(?:{_NUMBER_WORD_PATTERN}|several|some|many)\s+)"
_TIME_WORDS_AT_END = re.compile(
    rf"(?:^|\s)(?P<phrase>{_VAGUE_TIME}"
    rf"|(?P<amount>{_AMOUNT_SAID})?(?P<unit>[a-z]+)\s+(?:ago|back|bak)"
    rf"|\d{{1,4}}\s*(?:days?|weeks?|wks?|fortnights?|months?|mos|mths?|years?|yrs?)"
    rf"|(?:{_NUMBER_WORD_PATTERN})\s+(?:days|weeks|wks|fortnights|months|mos|mths|years|yrs)"
    r"|last\s+(?P<last>[a-z]+))$", re.IGNORECASE)
_UNITS_AS_TYPED = ("day", "days", "week", "weeks", "wk", "wks", "month", "months", "mos",
                   "year", "years", "yrs", "hour", "hours", "hrs", "fortnight")
_DAY_WORDS_AFTER_LAST = [*_WEEKDAYS, "night", "evening", "morning", "afternoon", "weekend",
                         "week", "month", "year"]
# Words before time words that make them what was talked about, not when ("planning for the
# next 2 weeks", "her leave is 3 weeks", "talked about the other day").
_TIME_AS_TOPIC = frozenset({"for", "about", "until", "till", "til", "before", "after", "by",
                            "from", "since", "to", "of", "due", "re", "regarding", "through",
                            "is", "was", "are", "were", "be", "'s", "’s", "the", "next",
                            "past", "last", "first", "coming", "these", "those", "every",
                            "each", "per", "than", "over", "within", "during", "in"})


def time_words_at_end(text: str) -> str | None:
    """The words ending `text` when they say a time without a day one can read with
    confidence ("the other day", "a while back", "several days ago", "3 days", "last nght"),
    and would otherwise be kept as what a conversation logged today was about; None when the
    text ends otherwise or the words are what was talked about ("planning for the next 2
    weeks"). Read days ("2 days back", "last night") end it too: the caller reads those first."""
    stripped = " ".join(text.rstrip(AROUND_A_DAY).split())
    found = _TIME_WORDS_AT_END.search(stripped)
    if found is None:
        return None
    unit, last = found["unit"], found["last"]
    if unit is not None and process.extractOne(unit.lower(), _UNITS_AS_TYPED,
                                               scorer=fuzz.ratio, score_cutoff=75) is None:
        return None  # "got the books back", "called me back": no time at all
    if last is not None and process.extractOne(last.lower(), _DAY_WORDS_AFTER_LAST,
                                               scorer=fuzz.ratio, score_cutoff=75) is None:
        return None  # "the last slide", "last time"
    before = stripped[:found.start("phrase")].split()
    if before and before[-1].lower().strip(",;:") in _TIME_AS_TOPIC:
        return None
    return found["phrase"]


def unread_date_at_end(text: str, *, today: date, direction: Direction) -> str | None:
    """The words ending `text` when they look like a date that `parse_day` cannot read
    ("on 2026-13-45", "in 2 hours", "last fridya"), or the whole `text` when it is a month
    or a span without its day ("in November", "this week"); None when the text ends
    otherwise, or with a date that reads ("… for Dec 10" is what was said, not a date nobody
    could read).

    Stricter than `date_like_words`: a command that would store these words as text, and the
    day as today, asks instead, so only what is almost surely a date counts."""
    stripped = text.rstrip(AROUND_A_DAY)
    if month_alone(stripped) or span_alone(stripped):
        return " ".join(stripped.lstrip(AROUND_A_DAY).split())
    if (ahead := _HOURS_AHEAD.search(stripped)) is not None:
        return ahead.group(1)
    relative = _RELATIVE_TAIL.search(stripped)
    if relative is not None and parse_day(relative.group(1), today=today,
                                          direction=direction) is None:
        return relative.group(1)
    said = time_words_at_end(stripped)
    if said is not None and parse_day(said, today=today, direction=direction) is None:
        return said  # "the other day", "several days ago", "3 days": which day is unsaid
    found = _date_like(stripped, [])
    if not found or found[-1].end != len(stripped):
        return None
    last = found[-1]
    longest = next(f for f in found if f.end == last.end)  # "Feb 29th", not its "29th"
    if day_problem(longest.phrase, today=today, direction=direction) is not None:
        return longest.phrase  # "on February 29th" in 2026, "on Apr 31st": no such day
    if last.sort == "vague" or not _day_like(last):
        return None
    if last.sort == "misspelt" and last.previous not in _DAY_LEADS and \
            stripped[:-len(last.phrase)].strip():
        return None  # "complained about mondays": a word, unless a day was plainly meant
    if parse_day(last.phrase, today=today, direction=direction) is not None:
        return None
    return last.phrase


# More words than a plain day takes ("a couple of days ago", "2 weeks from next Monday"):
# only a day counted from another, or back from today, is that long.
_COUNTED_DAY = re.compile(r"(?:\s(?:from|after|before)\s|\s(?:ago|back)$|^in\s)", re.IGNORECASE)


def is_counted_day(text: str) -> bool:
    """Whether `text` is said as a day counted from another ("… from next Monday", "… ago",
    "… back", "in …"): the only days worth reading in more than four words."""
    return _COUNTED_DAY.search(" ".join(text.strip(AROUND_A_DAY).split())) is not None


def warm_up() -> None:
    """Load dateparser's language data and rapidfuzz now, not on the first month name a
    person types (the first "June 12" would otherwise take a second or two)."""
    today = date.today()
    parse_day("June 12", today=today, direction="future")
    find_dates("her talk is next Thursday, then lunch on the 15th", today=today,
               direction="future")
    process.extractOne("tuesdy", _DATE_WORDS, scorer=fuzz.ratio)


def local_today(now: datetime, tz_name: str) -> date:
    """The user's date now."""
    return now.astimezone(zone(tz_name)).date()


def moment_minute(text: str) -> int | None:
    """The time of day of an ISO timestamp ("2026-12-04T23:00" -> 1380), minutes after
    midnight; None for any other phrase. A log keeps the day (`parse_day`); its time still
    says whether the conversation has happened yet."""
    moment = _ISO_MOMENT.match(" ".join(text.lower().strip(AROUND_A_DAY).split()))
    return parse_clock(moment.group(2)) if moment is not None else None


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


# Abbreviations people type for the clock where they live, each read as a zone of that
# region, with its summer time: the zone database's own "EST", "MST" and "HST" are UTC-5, -7
# and -10 all year, nobody's clock in New York in July; "CET" and "EET" name no place.
_ZONE_ABBREVIATIONS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("EST", "EDT", "ET", "EASTERN"), ("America/New_York", "US Eastern time")),
    **dict.fromkeys(("CDT", "CT", "CENTRAL"), ("America/Chicago", "US Central time")),
    **dict.fromkeys(("MDT", "MT", "MOUNTAIN"), ("America/Denver", "US Mountain time")),
    **dict.fromkeys(("PST", "PDT", "PT", "PACIFIC"),
                    ("America/Los_Angeles", "US Pacific time")),
    **dict.fromkeys(("AKST", "AKDT"), ("America/Anchorage", "Alaska time")),
    "HST": ("Pacific/Honolulu", "Hawaii time"),
    "ADT": ("America/Halifax", "Atlantic time"),
    **dict.fromkeys(("NST", "NDT"), ("America/St_Johns", "Newfoundland time")),
    **dict.fromkeys(("WET", "WEST"), ("Europe/Lisbon", "Western European time")),
    **dict.fromkeys(("CET", "CEST", "MET", "MEST"), ("Europe/Berlin", "Central European time")),
    **dict.fromkeys(("EET", "EEST"), ("Europe/Athens", "Eastern European time")),
    "MSK": ("Europe/Moscow", "Moscow time"),
    "WAT": ("Africa/Lagos", "West Africa time"),
    "CAT": ("Africa/Maputo", "Central Africa time"),
    "EAT": ("Africa/Nairobi", "East Africa time"),
    "SAST": ("Africa/Johannesburg", "South African time"),
    "PKT": ("Asia/Karachi", "Pakistan time"),
    "WIB": ("Asia/Jakarta", "Western Indonesia time"),
    "SGT": ("Asia/Singapore", "Singapore time"),
    "HKT": ("Asia/Hong_Kong", "Hong Kong time"),
    "PHT": ("Asia/Manila", "Philippine time"),
    "JST": ("Asia/Tokyo", "Japan time"),
    "KST": ("Asia/Seoul", "Korea time"),
    "AWST": ("Australia/Perth", "Australian Western time"),
    "ACDT": ("Australia/Adelaide", "Australian Central time"),
    "AEDT": ("Australia/Sydney", "Australian Eastern time"),
    **dict.fromkeys(("NZST", "NZDT"), ("Pacific/Auckland", "New Zealand time")),
}
# Abbreviations of more than one region's clock: asked about, never guessed.
_AMBIGUOUS_ZONES: dict[str, tuple[tuple[str, str], ...]] = {
    "CST": (("America/Chicago", "US Central"), ("Asia/Shanghai", "China")),
    "MST": (("America/Denver", "US Mountain, with summer time"),
            ("America/Phoenix", "Arizona, without")),
    "AST": (("America/Halifax", "Atlantic Canada"), ("America/Puerto_Rico", "Caribbean"),
            ("Asia/Riyadh", "Arabia")),
    "IST": (("Asia/Kolkata", "India"), ("Europe/Dublin", "Ireland"),
            ("Asia/Jerusalem", "Israel")),
    "BST": (("Europe/London", "UK"), ("Asia/Dhaka", "Bangladesh")),
    "GMT": (("Europe/London", "UK, with summer time"), ("UTC", "all year")),
    "AEST": (("Australia/Sydney", "New South Wales, Victoria"),
             ("Australia/Brisbane", "Queensland")),
    "ACST": (("Australia/Adelaide", "South Australia"),
             ("Australia/Darwin", "Northern Territory")),
}


@dataclass(frozen=True, slots=True)
class ZoneReading:
    """What a typed time zone names: the zone (None when it names none), how an abbreviation
    was read (to say so in the answer), and the question when it names several."""

    zone: str | None
    read_as: str | None = None
    question: str | None = None


def read_zone(name: str) -> ZoneReading:
    """The zone a person means: an IANA name in any case ("europe/berlin"), the city a zone
    is named after ("berlin", "new york", "Sao_Paulo"), or the abbreviation of a region's
    clock ("EST": America/New_York, summer time included); "CST", which is US Central or
    China, is asked about."""
    said = " ".join(name.split())
    key = said.upper().removeprefix("US ").removesuffix(" TIME")
    shown = said.upper() if len(said) <= 5 else said  # "est" is written EST
    if key in _ZONE_ABBREVIATIONS:
        zone, region = _ZONE_ABBREVIATIONS[key]
        return ZoneReading(zone, read_as=f"I read {shown} as {zone} ({region}), so nudges "
                                         "follow the clock there all year.")
    if key in _AMBIGUOUS_ZONES:
        choices = [f"{zone} ({region})" for zone, region in _AMBIGUOUS_ZONES[key]]
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        return ZoneReading(None, question=f"{shown} can mean {listed}. Which one? Type the "
                                          "zone or your city.")
    return ZoneReading(zone_named(said))


def zone_named(name: str) -> str | None:
    """The zone an IANA name in any case ("europe/berlin") or the city a zone is named after
    ("berlin", "new york", "Sao_Paulo") names; None when it is neither. What people type
    goes through `read_zone`, which reads abbreviations too."""
    zone = valid_zone(name.strip())
    if zone is not None:
        return zone
    # Folded as names are ("São Paulo", "Zürich", "bogota"): the zone database spells its
    # cities without accents, and people type them with or without.
    city = name_key(name.replace("_", " "))
    if not city or len(city) > 64:
        return None
    return _zones_by_city().get(city)


@cache
def _zones_by_city() -> dict[str, str]:
    """The zone each city names (a zone's last part: "America/New_York" is "new york"), read
    once from the zone database. Where one city names several zones they are old aliases of
    one another ("America/Indianapolis", "America/Indiana/Indianapolis"): the one with the
    fewest parts is taken."""
    from zoneinfo import available_timezones

    found: dict[str, str] = {}
    for zone_name in sorted(available_timezones(), key=lambda z: (z.count("/"), z)):
        region, _, city = zone_name.rpartition("/")
        if not region or region.split("/")[0] in ("Etc", "SystemV", "posix", "right"):
            continue
        found.setdefault(name_key(city.replace("_", " ")), zone_name)
    return found


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
