"""Use cases that look rather than change: what is due, the people list, stats, App Home."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn
from rapport.bot.core.stats import compute_user_stats, format_stats_text
from rapport.bot.core.views import (
    ComingLine,
    DueView,
    HomeView,
    OverdueLine,
    PeopleView,
    PersonLine,
    Reply,
    StatsView,
)
from rapport.scheduler import planner, wording
from rapport.scheduler.items import nudge_items
from rapport.scheduler.messenger import NudgeItem
from rapport.storage import queries

UPCOMING_HORIZON = timedelta(days=7)
MAX_OPEN_NUDGES = 50
MAX_PEOPLE = 200


def contact_health(next_due: datetime | None, now: datetime) -> str:
    """'overdue 2 weeks', 'due in 3 days', or '' when fine or no rhythm is set."""
    if next_due is None:
        return ""
    if next_due <= now:
        return f"overdue {planner.humanize_days(max((now - next_due).days, 0))}" \
            if (now - next_due).days >= 1 else "due today"
    days = (next_due - now).days
    return f"due in {planner.humanize_days(days)}" if days < 7 else ""


def open_nudges(turn: Turn, *, limit: int = MAX_OPEN_NUDGES) -> list[NudgeItem]:
    """The user's nudges that are due and not acted on, oldest first."""
    ids = queries.open_nudge_ids(turn.session, turn.user.user_id, turn.now, limit)
    if not ids:
        return []
    items = nudge_items(turn.session, ids, turn.now)
    return [items[i] for i in ids if i in items]


def paused_until(turn: Turn) -> date | None:
    """The user's local day nudges resume (date.max: until "resume"), or None."""
    paused = turn.user.prefs.paused_until
    if paused is None or paused <= turn.now:
        return None
    return date.max if paused.year >= 9999 else planner.local_date(paused, turn.user.tz)


def due_view(turn: Turn) -> DueView:
    now, tz = turn.now, turn.user.tz
    items = open_nudges(turn)
    horizon = now + UPCOMING_HORIZON
    upcoming = queries.upcoming_contacts(turn.session, turn.user.user_id, horizon)
    follow_ups = queries.upcoming_follow_ups(turn.session, turn.user.user_id, horizon)
    open_names = {item.contact_name for item in items}
    overdue = tuple(
        OverdueLine(name, planner.local_date(at, tz),
                    planner.local_date(plan, tz) if plan is not None and plan > now else None)
        for name, at, plan in upcoming if at <= now and name not in open_names)
    coming = tuple(ComingLine(name, planner.local_date(at, tz)) for name, at, _ in upcoming
                   if at > now)
    coming += tuple(ComingLine(name, day, topic=text) for name, text, day in follow_ups)
    people, rhythms = queries.people_counts(turn.session, turn.user.user_id)
    return DueView(nudges=tuple(items), overdue=overdue, coming=coming, today=turn.today,
                   has_people=people > 0, has_rhythms=rhythms > 0,
                   paused_until=paused_until(turn))


def paused_text(view: DueView) -> str:
    """'nudges are paused until Mon Nov 30' or 'nudges are paused until you type “resume”'."""
    if view.paused_until is None:
        return ""
    if view.paused_until == date.max:
        return "nudges are paused until you type “resume”"
    return f"nudges are paused until {wording.friendly_day(view.paused_until, view.today)}"


def overdue_lines(view: DueView) -> list[str]:
    """The overdue lines, each saying when its next nudge comes, without a heading."""
    lines = []
    for line in view.overdue:
        since = f"{line.name} (since {wording.friendly_day(line.since, view.today)})"
        if view.paused_until is not None:
            lines.append(since)
        elif line.next_nudge is None:
            lines.append(f"{since}: a nudge is on its way")
        else:
            lines.append(f"{since}: next reminder "
                         f"{wording.friendly_day(line.next_nudge, view.today)}")
    return lines


def coming_lines(view: DueView) -> list[str]:
    """The "coming up" lines, without a heading."""
    lines = []
    for line in view.coming:
        when = wording.friendly_day(line.day, view.today) if line.day else ""
        if line.topic is None:
            lines.append(f"Talk to {line.name} {when}")
        else:
            lines.append(f"Ask {wording.first_name(line.name)} about "
                         f"{wording.about_phrase(line.topic)} {when}".rstrip())
    return lines


def due_text(view: DueView) -> str:
    lines: list[str] = []
    if view.nudges:
        lines.append("Due now:")
        lines += [f"  #{item.nudge_id} {item.headline}" for item in view.nudges]
    if view.overdue:
        paused = paused_text(view)
        lines.append(f"Overdue ({paused}):" if paused else "Overdue:")
        lines += [f"  {line}" for line in overdue_lines(view)]
    if view.coming:
        lines.append("Coming up:")
        lines += [f"  {line}" for line in coming_lines(view)]
    if not lines:
        if not view.has_people:
            return ("Nothing is due. Add people with “add <name>” and set how often with "
                    "“every <name> 2 weeks”.")
        if not view.has_rhythms:
            return ("Nothing is due. None of your people has a rhythm yet: “every <name> 2 "
                    "weeks” tells me how often to remind you.")
        text = "Nothing is due in the next week."
        paused = paused_text(view)
        return f"{text} ({paused[0].upper()}{paused[1:]}.)" if paused else text
    if view.nudges:
        lines.append("Reply “done #N”, “snooze #N 1 week” or “dismiss #N”.")
    if view.paused_until is not None and not view.overdue:
        paused = paused_text(view)
        lines.append(f"{paused[0].upper()}{paused[1:]}.")
    return "\n".join(lines)


def due(turn: Turn, command: c.ShowDue) -> Reply:
    del command
    view = due_view(turn)
    return Reply(due_text(view), view=view)


def people_view(turn: Turn, *, limit: int = MAX_PEOPLE) -> PeopleView:
    rows = queries.people_rows(turn.session, turn.user.user_id, limit + 1)
    lines = tuple(
        PersonLine(contact_id=cid, name=name, company=company, kind=kind,
                   cadence_days=cadence,
                   last_touch_on=planner.local_date(last, turn.user.tz) if last else None,
                   health=contact_health(next_due, turn.now), cadence_months=months)
        for cid, name, company, kind, cadence, last, next_due, months in rows[:limit])
    return PeopleView(people=lines, truncated=len(rows) > limit, today=turn.today)


def people_text(view: PeopleView) -> str:
    if not view.people:
        return "You have no people yet. Add someone with “add Dana every 2 weeks”."
    lines = ["Your people:"]
    for person in view.people:
        last = (f"last talked {wording.friendly_day(person.last_touch_on, view.today)}"
                if person.last_touch_on else "no conversation logged")
        every = f", every {planner.cadence_text(person.cadence_days, person.cadence_months)}" \
            if person.cadence_days else ""
        health = f" · {person.health}" if person.health else ""
        lines.append(f"  {wording.contact_label(person.name, person.company)} "
                     f"({person.kind}{every}): {last}{health}")
    if view.truncated:
        lines.append(f"  … and more; showing the first {len(view.people)}.")
    return "\n".join(lines)


def people(turn: Turn, command: c.ShowPeople) -> Reply:
    del command
    view = people_view(turn)
    return Reply(people_text(view), view=view)


def stats(turn: Turn, command: c.Stats) -> Reply:
    del command
    numbers = compute_user_stats(turn.session, turn.user.user_id, turn.now)
    return Reply(format_stats_text(numbers), view=StatsView(numbers))


def home(turn: Turn) -> HomeView:
    """Due, people and stats for the Slack App Home, in one unit of work."""
    due_now = due_view(turn)
    everyone = people_view(turn)
    numbers = compute_user_stats(turn.session, turn.user.user_id, turn.now)
    return HomeView(due=due_now, due_text=due_text(due_now), people=everyone,
                    people_text=people_text(everyone), stats=StatsView(numbers),
                    stats_text=format_stats_text(numbers))
