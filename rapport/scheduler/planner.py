"""Pure planning: when may a user be nudged, and what is due for a contact. No I/O here."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A calendar day or a moment: what month arithmetic works on alike.
Day = TypeVar("Day", date, datetime)

MINUTES_PER_DAY = 24 * 60
# How far ahead to look for an allowed delivery moment before giving up (a pause of years
# or an empty set of working days never loops forever).
_SEARCH_DAYS = 400


@dataclass(frozen=True, slots=True)
class DeliveryPrefs:
    """The user's delivery preferences, as the planner needs them."""

    tz: str = "UTC"
    window_start_minute: int = 9 * 60
    window_end_minute: int = 17 * 60
    working_days: int = 0b0011111  # bit 0 = Monday
    daily_cap: int = 3
    paused_until: datetime | None = None


def zone(tz_name: str) -> ZoneInfo:
    """The user's zone; an unknown name falls back to UTC instead of failing a sweep."""
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, tz_name: str) -> date:
    """The user's calendar date at `moment`."""
    return moment.astimezone(zone(tz_name)).date()


def days_past_rhythm(next_due_at: datetime, now: datetime, tz: str) -> int:
    """Days from the rhythm's day to today, in the user's calendar: negative before it, 0 on
    it (due today: not overdue, whatever the hour) and the days overdue after it. `people`,
    `show`, `due`, `stats`, `goals`, the weekly summary and the team report all count this
    way, so they agree on who is overdue."""
    return (local_date(now, tz) - local_date(next_due_at, tz)).days


def within_rhythm(next_due_at: datetime | None, now: datetime, tz: str) -> bool:
    """Whether someone with a rhythm is within it at `now`: its day has not passed in the
    user's calendar (`days_past_rhythm`). Someone never talked to is within it until their
    first period runs out, as they are not overdue before. `stats` (its "Health") and
    `goals` (people with a rhythm of their own) both count by this, so they agree."""
    return next_due_at is None or days_past_rhythm(next_due_at, now, tz) <= 0


class LocalDates(dict[str, date]):
    """The calendar date at one moment in each zone asked for, worked out once per zone: a
    sweep's batch handles thousands of nudges of users in a few zones."""

    def __init__(self, moment: datetime) -> None:
        super().__init__()
        self.moment = moment

    def __missing__(self, tz_name: str) -> date:
        day = self[tz_name] = local_date(self.moment, tz_name)
        return day


def local_moment(day: date, minute_of_day: int, tz_name: str) -> datetime:
    """The UTC instant of `minute_of_day` on the user's local `day`.

    Minute 1440 means the end of the day. A wall time skipped by a DST jump maps to the
    instant just after the jump, as clocks show it.
    """
    if minute_of_day >= MINUTES_PER_DAY:
        return local_moment(day + timedelta(days=1), 0, tz_name)
    return wall_clock_instant(
        datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60)), tz_name)


def wall_clock_instant(wall: datetime, tz_name: str) -> datetime:
    """The UTC instant at which the user's clock reads `wall` (naive, their local time). A
    wall time skipped by a DST jump maps to the instant just after the jump, as clocks show
    it; one that happens twice (the hour repeated in autumn) to its first time."""
    tzinfo = zone(tz_name)
    aware = wall.replace(tzinfo=tzinfo, fold=0)
    utc = aware.astimezone(UTC)
    # Round trip exposes non-existent wall times (spring forward). The fold=1 reading lies
    # before the jump and the fold=0 one after it; the first whole minute whose wall clock
    # reads at least `wall` is the jump itself.
    if utc.astimezone(tzinfo).replace(tzinfo=None) != wall:
        before = aware.replace(fold=1).astimezone(UTC)
        low, high = 0, int((utc - before).total_seconds() // 60)
        while high - low > 1:
            middle = (low + high) // 2
            reading = (before + timedelta(minutes=middle)).astimezone(tzinfo)
            if reading.replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        utc = before + timedelta(minutes=high)
    return utc


def is_working_day(day: date, working_days: int) -> bool:
    """True when `day` is one of the user's working days."""
    return bool(working_days & (1 << day.weekday()))


def next_delivery_moment(prefs: DeliveryPrefs, now: datetime, *, sent_on: date | None = None,
                         sent_count: int = 0) -> datetime | None:
    """The earliest moment at or after `now` when a nudge may reach this user.

    Respects pause, working days, the delivery window and the daily cap (`sent_count` messages
    already delivered on the local day `sent_on`). None when no moment exists in the next year.
    """
    earliest = now
    if prefs.paused_until is not None and prefs.paused_until > earliest:
        earliest = prefs.paused_until
        if earliest - now > timedelta(days=_SEARCH_DAYS):
            return None  # paused "until you resume" (year 9999): no moment to plan for
    if prefs.daily_cap <= 0 or prefs.working_days == 0:
        return None
    if prefs.window_end_minute <= prefs.window_start_minute:
        return None
    day = local_date(earliest, prefs.tz)
    for offset in range(_SEARCH_DAYS):
        candidate_day = day + timedelta(days=offset)
        if not is_working_day(candidate_day, prefs.working_days):
            continue
        if candidate_day == sent_on and sent_count >= prefs.daily_cap:
            continue
        start = local_moment(candidate_day, prefs.window_start_minute, prefs.tz)
        end = local_moment(candidate_day, prefs.window_end_minute, prefs.tz)
        if earliest >= end:
            continue
        return max(earliest, start)
    return None


def may_deliver_now(prefs: DeliveryPrefs, now: datetime, *, sent_on: date | None = None,
                    sent_count: int = 0) -> bool:
    """True when a nudge may be delivered to this user at `now`."""
    return next_delivery_moment(prefs, now, sent_on=sent_on, sent_count=sent_count) == now


def remaining_today(prefs: DeliveryPrefs, now: datetime, *, sent_on: date | None,
                    sent_count: int) -> int:
    """How many more messages the daily cap allows on the user's current local day."""
    if sent_on != local_date(now, prefs.tz):
        return max(prefs.daily_cap, 0)
    return max(prefs.daily_cap - sent_count, 0)


def add_months(moment: Day, months: int) -> Day:
    """The same instant (or day) `months` calendar months later; the 31st becomes the month's
    end."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def goal_months(goal_days: int | None) -> int | None:
    """The calendar months a goal stands for, when it was set in months or years: goals are
    stored in days, a month as 30 and a year as 365 (how `goal … every month` reads, and how
    its wording says it back), and the people following it then count calendar months, as
    `every … monthly` does. None for goals in days or weeks."""
    if not goal_days or goal_days <= 0:
        return None
    if goal_days % 365 == 0:
        return goal_days // 365 * 12
    if goal_days % 30 == 0:
        return goal_days // 30
    return None


def approx_days(months: int) -> int:
    """A calendar-month rhythm's length in days, for what only needs an approximation."""
    return round(months * 30.44)


def cadence_step(moment: datetime, cadence_days: int | None,
                 cadence_months: int | None = None, *, tz: str = "UTC") -> datetime | None:
    """`moment` one rhythm later on the user's calendar (their zone `tz`): the same wall-clock
    time that many days later, or calendar months later when the rhythm is in months. A
    week from the night before a DST change is still that night a week on, and a month from
    Berlin's Mar 1 00:30 is Apr 1, though in UTC both started on the day before."""
    if cadence_months and cadence_months > 0:
        months, days = cadence_months, 0
    elif cadence_days and cadence_days > 0:
        months, days = 0, cadence_days
    else:
        return None
    if tz == "UTC":  # no zone to go through
        return add_months(moment, months) if months else moment + timedelta(days=days)
    wall = moment.astimezone(zone(tz)).replace(tzinfo=None)
    wall = add_months(wall, months) if months else wall + timedelta(days=days)
    return wall_clock_instant(wall, tz)


def cadence_next_due(last_touch_at: datetime | None, cadence_days: int | None,
                     created_at: datetime, cadence_months: int | None = None, *,
                     tz: str = "UTC") -> datetime | None:
    """When the keep-in-touch cadence next asks for a conversation: the start of the
    rhythm's day in the user's zone `tz`.

    Counts from the day of the last interaction (not when it was logged, nor its hour); a
    contact never talked to counts from the day it was added. Days and months are counted on
    the user's calendar (`cadence_step`); a rhythm in months adds calendar months ("monthly"
    from Jan 31 is Feb 28, then Mar 28...). The day's start, not the conversation's hour:
    counted from a coffee at 17:30, the ask would come after that day's window, on the next
    working day, and counted from a day logged (kept at noon) at noon. The sweep delivers at
    the start of the window that day, or the next moment the user may be nudged.
    """
    start = last_touch_at or created_at
    stepped = cadence_step(start, cadence_days, cadence_months, tz=tz)
    if stepped is None:
        return None
    return local_moment(local_date(stepped, tz), 0, tz)


def cadence_text(cadence_days: int | None, cadence_months: int | None = None) -> str:
    """'2 weeks', 'month', '3 months': the rhythm as it reads after the word "every"."""
    if cadence_months:
        if cadence_months == 1:
            return "month"
        if cadence_months % 12 == 0:
            years = cadence_months // 12
            return "year" if years == 1 else f"{years} years"
        return f"{cadence_months} months"
    if not cadence_days:
        return ""
    if cadence_days < 14:
        return humanize_days(cadence_days)
    # Exact, as it was set: "every 10 weeks" is not "every 2 months", nor 30 days 4 weeks.
    weeks, odd_days = divmod(cadence_days, 7)
    return f"{weeks} weeks" if not odd_days else f"{cadence_days} days"


def follow_up_moment(follow_up_on: date, prefs: DeliveryPrefs) -> datetime:
    """A follow-up note is due at the start of the user's window on the follow-up day."""
    return local_moment(follow_up_on, prefs.window_start_minute, prefs.tz)


def yearly_occurrence(month: int, day: int, after: date) -> date:
    """The next date on or after `after` with this month and day (Feb 29 falls on Feb 28)."""
    for year in (after.year, after.year + 1, after.year + 2):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = date(year, month, 28)
        if candidate >= after:
            return candidate
    raise ValueError("no yearly occurrence found")  # unreachable for valid month/day


def humanize_days(days: int) -> str:
    """'3 days', '6 weeks', '4 months': how people say how long it has been."""
    if days < 14:
        return f"{days} day" + ("" if days == 1 else "s")
    if days < 63:
        weeks = round(days / 7)
        return f"{weeks} weeks"
    months = round(days / 30.4)
    if months < 24:
        return f"{months} months"
    return f"{round(days / 365.25)} years"


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)
