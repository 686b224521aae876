"""A month and a day said without a year, and a day of the month alone, for any day of any
year: the nearest such day, never one a year off on the wrong side of today, never a leap
day years away, never a month skipped (hypothesis)."""

from __future__ import annotations

import calendar
from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rapport.bot.core.dates import Direction, day_problem, parse_day

# How far a day may lie on the wrong side of today and still be the one meant (two months).
NEAR_DAYS = 62
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31))
_DIRECTIONS = st.sampled_from(["past", "future"])


def _wrong_side(read: date, today: date, direction: Direction) -> bool:
    return read > today if direction == "past" else read < today


@settings(max_examples=300, deadline=None)
@given(today=_DAYS, month=st.integers(1, 12), day=st.integers(1, 31), direction=_DIRECTIONS,
       form=st.sampled_from(["{m} {d}", "{d} {m}", "on {m} {d}", "{n}/{d}"]))
def test_a_month_and_day_without_a_year_is_the_nearest(today: date, month: int, day: int,
                                                       direction: Direction, form: str) -> None:
    assume(form != "{n}/{d}" or day > 12)  # "1/2" reads either way: asked, not read
    phrase = form.format(m=_MONTHS[month - 1], d=day, n=month)
    read = parse_day(phrase, today=today, direction=direction)
    if read is None:
        # Only a day no year has (Apr 31), or a leap day the year meant lacks, goes unread,
        # and each is said so.
        assert day > calendar.monthrange(2000, month)[1] or (month, day) == (2, 29), phrase
        if form != "{n}/{d}":
            assert day_problem(phrase, today=today, direction=direction) is not None
        return
    assert (read.month, read.day) == (month, day), (phrase, read)
    distance = abs((read - today).days)
    if _wrong_side(read, today, direction):
        assert distance <= NEAR_DAYS, (phrase, today, read)
    else:
        assert distance < 366 - NEAR_DAYS, (phrase, today, read)


@settings(max_examples=300, deadline=None)
@given(today=_DAYS, number=st.integers(1, 31), direction=_DIRECTIONS)
def test_a_day_of_the_month_never_skips_a_month(today: date, number: int,
                                                direction: Direction) -> None:
    read = parse_day(f"the {_nth(number)}", today=today, direction=direction)
    if read is None:
        assert direction == "future" and day_problem(
            f"the {_nth(number)}", today=today, direction=direction) is not None
        return
    assert read.day == number
    months_apart = abs((read.year - today.year) * 12 + read.month - today.month)
    assert months_apart <= 1, (today, number, read)
    if _wrong_side(read, today, direction):
        # Only in a log, when last month had no such day: this month's, still to come.
        assert direction == "past" and read.month == today.month, (today, number, read)


def _nth(number: int) -> str:
    suffix = "th" if 10 <= number <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
