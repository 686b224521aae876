"""Goal attainment: the share of a goal's people talked to within their cadence, now and for
each of the last eight weeks.

Computed from the touchpoint history (when a conversation happened, not when it was logged),
so the same database gives the same numbers on every run. Two simplifications, said plainly
in docs/goals.md: the group is who carries the tag today (a person counts from the day they
were added to Rapport), and a person's cadence is today's cadence.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.storage import queries

# Points of the trend: now, and the same moment 1..8 weeks before.
TREND_WEEKS = 8
WEEK = timedelta(days=7)
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten")


@dataclass(frozen=True, slots=True)
class Point:
    """How many of a goal's people were within their cadence at one moment."""

    at: datetime
    within: int
    members: int

    @property
    def share(self) -> float | None:
        return self.within / self.members if self.members else None


@dataclass(frozen=True, slots=True)
class GoalAttainment:
    """One goal (a tag with a cadence) and how it went: `trend` is oldest first, ending now."""

    tag: str
    cadence_days: int
    trend: tuple[Point, ...]

    @property
    def now(self) -> Point:
        return self.trend[-1]

    @property
    def earlier(self) -> Point | None:
        """The oldest point of the trend that had people (what "up from" compares with)."""
        for point in self.trend[:-1]:
            if point.members:
                return point
        return None


@dataclass(frozen=True, slots=True)
class Member:
    """One person of a goal's group, as attainment needs them."""

    contact_id: int
    cadence_days: int | None
    created_at: datetime
    # Their own rhythm in calendar months (`every Dana monthly`), None otherwise.
    cadence_months: int | None = None


def cadence_phrase(days: int) -> str:
    """'a week', '2 weeks', 'a month', '3 months', '10 days': how long a cadence is."""
    if days % 30 == 0 or days % 365 == 0:
        if days % 365 == 0:
            years = days // 365
            return "a year" if years == 1 else f"{years} years"
        months = days // 30
        return "a month" if months == 1 else f"{months} months"
    if days % 7 == 0:
        weeks = days // 7
        return "a week" if weeks == 1 else f"{weeks} weeks"
    return "a day" if days == 1 else f"{days} days"


def every_phrase(days: int) -> str:
    """'every week', 'every 2 weeks', 'every month': the words of `every` and `goal`."""
    phrase = cadence_phrase(days)
    return "every " + phrase.removeprefix("a ")


def number_word(n: int) -> str:
    """'three' for 3; digits from 11 on."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def trend_moments(now: datetime, weeks: int = TREND_WEEKS) -> tuple[datetime, ...]:
    """The moments of a trend, oldest first: `weeks` weeks ago ... now."""
    return tuple(now - WEEK * (weeks - k) for k in range(weeks + 1))


def within_cadence(touches: Sequence[datetime], cadence_days: int, at: datetime, tz: str,
                   cadence_months: int | None = None) -> bool:
    """True when the last of the (sorted) `touches` up to `at` puts the rhythm's day on or
    after `at`'s day in the user's calendar `tz`: someone due that day is still within it,
    whatever the hour, as `people` and `stats` count. The rhythm's day is the one the sweep
    plans (`planner.cadence_step`): calendar months for a rhythm in months."""
    index = bisect_right(touches, at)
    if index == 0:
        return False
    due = planner.cadence_step(touches[index - 1], cadence_days, cadence_months, tz=tz)
    return due is not None and planner.days_past_rhythm(due, at, tz) <= 0


def attainment(tag: str, goal_days: int, members: Iterable[Member],
               touches: Mapping[int, Sequence[datetime]], now: datetime, *, tz: str
               ) -> GoalAttainment:
    """Pure: each moment of the trend counts the members that existed then and had a
    conversation within their cadence (their own, else the goal's) before it, days counted
    in the user's time zone `tz`; a rhythm in months (their own, or a goal of months, which
    its followers count in calendar months) counts calendar months."""
    people = list(members)
    goal_months = planner.goal_months(goal_days)
    points = []
    for at in trend_moments(now):
        present = [m for m in people if m.created_at <= at]
        within = sum(1 for m in present if within_cadence(
            touches.get(m.contact_id, ()), m.cadence_days or goal_days, at, tz,
            m.cadence_months if m.cadence_days else goal_months))
        points.append(Point(at=at, within=within, members=len(present)))
    return GoalAttainment(tag=tag, cadence_days=goal_days, trend=tuple(points))


def goal_attainments(session: Session, user_id: int, now: datetime, *, tz: str
                     ) -> tuple[GoalAttainment, ...]:
    """Every goal of the user with its trend, by tag name, days in their time zone `tz`;
    two reads."""
    goals = queries.goal_members(session, user_id)
    if not goals:
        return ()
    longest = max((m.cadence_days or g.cadence_days) for g in goals for m in g.members) \
        if any(g.members for g in goals) else 0
    contact_ids = {m.contact_id for g in goals for m in g.members}
    # Slack for the calendar: a touch up to a (25-hour) day over the cadence before the oldest
    # moment can still be due on that moment's day.
    since = now - WEEK * TREND_WEEKS - timedelta(days=longest + 2)
    touches = queries.touch_moments(session, user_id, contact_ids, since=since, until=now)
    return tuple(attainment(g.tag, g.cadence_days,
                            (Member(m.contact_id, m.cadence_days, m.created_at,
                                    m.cadence_months)
                             for m in g.members), touches, now, tz=tz) for g in goals)


def goal_line(goal: GoalAttainment) -> str:
    """'Clients: 7 of 9 within a month (78%), up from 56%'."""
    name = goal.tag[:1].upper() + goal.tag[1:]
    now = goal.now
    if not now.members:
        return (f"{name}: nobody tagged yet (goal: {every_phrase(goal.cadence_days)}; "
                f"“tag Lee {goal.tag}” adds someone).")
    line = (f"{name}: {now.within} of {now.members} within {cadence_phrase(goal.cadence_days)} "
            f"({percent(now.share)})")
    earlier = goal.earlier
    if earlier is not None and earlier.share is not None and now.share is not None:
        before, after = round(earlier.share * 100), round(now.share * 100)
        if after > before:
            line += f", up from {before}%"
        elif after < before:
            line += f", down from {before}%"
        else:
            line += _unchanged(goal, earlier, before)
    return line


def _unchanged(goal: GoalAttainment, earlier: Point, share: int) -> str:
    """Same share as at the start of the trend: said plainly, with the dip if there was one
    ("no change" over a month that fell to 20% and came back would hide what happened)."""
    lowest = min((point for point in goal.trend if point.at >= earlier.at
                  and point.share is not None), key=lambda point: point.share or 0.0)
    low = round((lowest.share or 0.0) * 100)
    if low >= share:
        return ", no change"
    weeks = max(1, round((goal.now.at - earlier.at).days / 7))
    return (f", the same as {weeks} week{'s' if weeks != 1 else ''} ago after a dip to "
            f"{low}%")


def trend_text(goals: Sequence[GoalAttainment]) -> str:
    """The chart as one accessible line: each goal's share eight weeks ago and now."""
    parts = []
    for goal in goals:
        earlier = goal.earlier.share if goal.earlier is not None else None
        name = goal.tag[:1].upper() + goal.tag[1:]
        if earlier is None:
            parts.append(f"{name} {percent(goal.now.share)} now")
        else:
            parts.append(f"{name} from {percent(earlier)} to {percent(goal.now.share)}")
    return (f"Goal attainment over the last {TREND_WEEKS} weeks: " + "; ".join(parts) + ".") \
        if parts else ""
