"""Use cases that look rather than change: what is due, the people list, stats, App Home."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from rapport.bot.core import commands as c
from rapport.bot.core import suggestions as suggestion_cases
from rapport.bot.core.context import Turn
from rapport.bot.core.stats import compute_user_stats, format_stats_text
from rapport.bot.core.views import (
    ComingLine,
    DateComingLine,
    DueView,
    HomeView,
    OverdueLine,
    PeopleView,
    PersonLine,
    QuietLine,
    Reply,
    RowStatus,
    StatsView,
)
from rapport.scheduler import planner, wording
from rapport.scheduler.attainment import cadence_phrase, every_phrase, goal_attainments, goal_line
from rapport.scheduler.items import called_names, nudge_items
from rapport.scheduler.messenger import NudgeItem
from rapport.storage import queries
from rapport.storage.models import NudgeStatus
from rapport.storage.names import tag_key

UPCOMING_HORIZON = timedelta(days=7)
MAX_OPEN_NUDGES = 50
MAX_PEOPLE = 200
# "who haven't I talked to?" names this many of each: the longest without a conversation,
# and those with none logged.
MAX_QUIET = 5


def contact_health(next_due: datetime | None, now: datetime, tz: str) -> str:
    """'overdue 2 weeks', 'due today', 'due in 3 days', or '' when fine or no rhythm is set:
    counted in the user's days, as the "next nudge" date beside it is (24-hour spans read one
    short)."""
    if next_due is None:
        return ""
    days = -planner.days_past_rhythm(next_due, now, tz)
    if days < 0:
        return f"overdue {planner.humanize_days(-days)}"
    if days == 0:
        return "due today"
    return f"due in {planner.humanize_days(days)}" if days < 7 else ""


def open_nudges(turn: Turn, *, limit: int = MAX_OPEN_NUDGES) -> list[NudgeItem]:
    """The user's nudges that are due and not acted on, oldest first."""
    ids = queries.open_nudge_ids(turn.session, turn.user.user_id, turn.now, limit)
    if not ids:
        return []
    items = nudge_items(turn.session, ids, turn.now)
    return [items[i] for i in ids if i in items]


# A nudge in a message keeps its buttons in these statuses (delivered, or due and not acted
# on); a snoozed one comes back in a message of its own.
OUT_STATUSES = frozenset({NudgeStatus.SENT, NudgeStatus.PLANNED, NudgeStatus.CLAIMED})


def nudge_statuses(turn: Turn, nudge_ids: Sequence[int]) -> dict[int, RowStatus]:
    """The state of each of the user's nudges among `nudge_ids`, to redraw a message that
    shows them; another user's and missing ones (a forgotten person's) are left out."""
    return {row.id: RowStatus(row.status, row.contact_id, row.reason)
            for row in queries.nudges_of_user(turn.session, turn.user.user_id,
                                              turn.user.workspace_id, nudge_ids)}


def suggestion_statuses(turn: Turn, suggestion_ids: Sequence[int]) -> dict[int, RowStatus]:
    """The state of each of the user's suggestions among `suggestion_ids`, to redraw a
    message that shows them; another user's and missing ones (a forgotten person's) are left
    out."""
    return {row.id: RowStatus(row.status, row.contact_id, row.kind)
            for row in queries.suggestions_of_user(turn.session, turn.user.user_id,
                                                   turn.user.workspace_id, suggestion_ids)}


def paused_until(turn: Turn) -> date | None:
    """The user's local day nudges resume (date.max: until "resume"), or None."""
    paused = turn.user.prefs.paused_until
    if paused is None or paused <= turn.now:
        return None
    return date.max if paused.year >= 9999 else planner.local_date(paused, turn.user.tz)


def is_rhythm_line(line: ComingLine) -> bool:
    """True for "talk to <name>" (a rhythm falling due), not a note or a yearly date."""
    return line.topic is None and not isinstance(line, DateComingLine)


@dataclass(frozen=True, slots=True)
class _Snoozed:
    """What `due` shows of the snoozed nudges: when each person's rhythm reminders come
    back, and the other reminders as "coming up" lines on the day they come back."""

    rhythm_back: dict[str, list[datetime]]
    # With the contact's id, for `_called`.
    coming: tuple[tuple[int, ComingLine], ...]


def coming_day(turn: Turn, moment: datetime) -> date:
    """The user's day a nudge planned, or snoozed, until `moment` comes: one whose moment
    has passed comes with the next sweep, today, not on a day gone by."""
    return max(planner.local_date(moment, turn.user.tz), turn.today)


def delivery_moments(turn: Turn) -> Callable[[datetime], datetime | None]:
    """When a nudge the sweep takes up at a moment reaches the user, decided as the sweep
    decides it (`planner.next_delivery_moment`: window, working days, pause, daily cap): the
    first moment at or after it, or after now once it has passed, that the user may be
    nudged; None when there is none (paused until "resume")."""
    used: list[tuple[date | None, int]] = []

    def arrives(moment: datetime) -> datetime | None:
        if not used:  # what today's cap has used, read once and only when asked
            used.append(queries.delivered_today(turn.session, turn.user.user_id))
        sent_on, sent_count = used[0]
        return planner.next_delivery_moment(turn.user.prefs, max(moment, turn.now),
                                            sent_on=sent_on, sent_count=sent_count)
    return arrives


def _snoozed(turn: Turn, horizon: datetime,
             arrives: Callable[[datetime], datetime | None]) -> _Snoozed:
    tz = turn.user.tz
    rhythm_back: dict[str, list[datetime]] = {}
    coming: list[tuple[int, ComingLine]] = []
    for (reason, back, due_at, name, note_text, kind, month, day, year,
         contact_id) in queries.snoozed_nudges(turn.session, turn.user.user_id, horizon,
                                               MAX_OPEN_NUDGES):
        if reason == "cadence":
            rhythm_back.setdefault(name, []).append(back)
            continue
        # Snoozed to a day off, it comes on the next working day, as the snooze's answer said.
        back_on = _arrival_day(turn, back, arrives)
        if reason == "follow_up" and note_text is not None:
            coming.append((contact_id, ComingLine(name, back_on, topic=note_text)))
        elif reason == "date" and kind is not None:
            on = planner.yearly_occurrence(month, day, planner.local_date(due_at, tz))
            coming.append((contact_id, DateComingLine(name, back_on, kind=kind, on=on,
                                                      since_year=year)))
    return _Snoozed(rhythm_back, tuple(coming))


def _coming_dates(turn: Turn, horizon: datetime,
                  arrives: Callable[[datetime], datetime | None]
                  ) -> tuple[tuple[int, ComingLine], ...]:
    """Birthdays and work anniversaries whose reminder comes before `horizon`: the date,
    and the day its reminder reaches the user, as the sweep will deliver it (`arrives`);
    each with the contact's id."""
    tz = turn.user.tz
    lines: list[tuple[int, ComingLine]] = []
    for name, kind, month, day, year, plan_at, contact_id in queries.upcoming_dates(
            turn.session, turn.user.user_id, horizon):
        # The occurrence the reminder is planned for, as the sweep reads it (planning.py).
        on = planner.yearly_occurrence(month, day, planner.local_date(plan_at, tz))
        reminder_day = _arrival_day(turn, plan_at, arrives)
        lines.append((contact_id, DateComingLine(name, reminder_day, kind=kind, on=on,
                                                 since_year=year)))
    return tuple(lines)


def _arrival_day(turn: Turn, moment: datetime,
                 arrives: Callable[[datetime], datetime | None]) -> date:
    """The user's day a reminder the sweep takes up at `moment` reaches them (`arrives`), or
    `moment`'s own when nothing says (paused until "resume": the view says so)."""
    at = arrives(moment)
    return coming_day(turn, at if at is not None else moment)


def reminder_days(turn: Turn) -> Callable[[datetime], date]:
    """The user's day each reminder the sweep takes up at a moment reaches them, as `due`
    says it (`_arrival_day`): for a card's several notes, with one read of today's cap."""
    arrives = delivery_moments(turn)
    return lambda moment: _arrival_day(turn, moment, arrives)


def rhythm_reminder_day(turn: Turn, plan: datetime) -> date:
    """The user's day the reminder of a rhythm the sweep takes up at `plan` reaches them, as
    `due`'s Coming up (`_coming_rhythms`) and `show`'s next nudge say it: due on a day off or
    in a pause, it comes when the sweep delivers it, not on the day it falls due."""
    return _arrival_day(turn, plan, delivery_moments(turn))


def _coming_rhythms(turn: Turn, after: datetime, horizon: datetime,
                    arrives: Callable[[datetime], datetime | None]) -> tuple[ComingLine, ...]:
    """Whose rhythm falls due from `after` to `horizon`, each on the day its reminder reaches
    the user: one due on a day off, or in a pause, comes when the sweep delivers it, as
    `show` says, not on the day it falls due; one held by "snooze <name>" waits until then
    (the sweep takes a rhythm up at its plan, not at its due day)."""
    return tuple(
        ComingLine(name, _arrival_day(turn, plan if plan is not None else due_at, arrives))
        for name, due_at, plan in queries.upcoming_contacts(
            turn.session, turn.user.user_id, after, horizon))


def _coming_follow_ups(turn: Turn, horizon: datetime,
                       arrives: Callable[[datetime], datetime | None]
                       ) -> tuple[tuple[int, ComingLine], ...]:
    """Notes whose reminder is planned before `horizon`, each on the day it reaches the
    user: a note for a day off comes on the next working day, as its confirmation said
    (`notes.reminder_comes`), not on the note's own day; each with the contact's id."""
    prefs = turn.user.prefs
    return tuple(
        (contact_id, ComingLine(name, None if day is None else _arrival_day(
            turn, planner.follow_up_moment(day, prefs), arrives), topic=text))
        for name, text, day, contact_id in queries.upcoming_follow_ups(
            turn.session, turn.user.user_id, horizon))


def _called(turn: Turn, lines: Sequence[tuple[int, ComingLine]]) -> tuple[ComingLine, ...]:
    """Note and date lines (with their contact's id) calling each person as their reminder
    does: the full name when another contact has that first name (one statement, and none
    when there are no such lines)."""
    called = called_names(turn.session, {contact_id: line.name for contact_id, line in lines})
    return tuple(replace(line, called=called[contact_id]) for contact_id, line in lines)


def _next_reminder(turn: Turn, plan: datetime | None, snoozed_back: Iterable[datetime],
                   arrives: Callable[[datetime], datetime | None]) -> date | None:
    """The day the next nudge about someone whose rhythm has come due comes: a snoozed one
    coming back (the sweep plans no new ask while a rhythm's nudge is snoozed), else the
    rhythm's next ask, on a day and at an hour the user may be nudged (`arrives`); None when
    the next sweep sends one."""
    if plan is None:
        return None
    back = tuple(snoozed_back)
    at = arrives(min(back) if back else plan)
    if at is None or at <= turn.now:
        return None  # the sweep sends one now (or nudges are paused: the line says so)
    return planner.local_date(at, turn.user.tz)


def due_view(turn: Turn, *, quiet: bool = False, quiet_days: int = 0) -> DueView:
    now, tz, today = turn.now, turn.user.tz, turn.today
    people, rhythms = queries.people_counts(turn.session, turn.user.user_id)
    if quiet and quiet_days and people:
        # "Who haven't I talked to in 2 months?" asks for those people only, not for what
        # is due.
        asked = DueView(nudges=(), overdue=(), coming=(), today=today, has_people=True,
                        has_rhythms=rhythms > 0, paused_until=paused_until(turn))
        return _with_quiet(turn, asked, quiet_days)
    items = open_nudges(turn)
    # The list stops at MAX_OPEN_NUDGES (a Home view holds 100 blocks); how many it leaves
    # out is said, not dropped silently.
    more = queries.open_nudge_count(turn.session, turn.user.user_id, now) - len(items) \
        if len(items) >= MAX_OPEN_NUDGES else 0
    horizon = now + UPCOMING_HORIZON
    tomorrow = planner.local_moment(today + timedelta(days=1), 0, tz)
    arrives = delivery_moments(turn)
    # A snoozed nudge is neither out nor planned: it is shown on the day it comes back.
    snoozed = _snoozed(turn, horizon, arrives)
    # Whose rhythm has come due and whose nudge is not out (asked of all their nudges, not
    # of the listed ones only): overdue once its day has passed, due today on the day
    # itself, whether or not its hour has come (as `people` says).
    come_due = [
        OverdueLine(name, planner.local_date(at, tz),
                    _next_reminder(turn, plan, snoozed.rhythm_back.get(name, ()), arrives))
        for name, at, plan in queries.come_due_contacts(turn.session, turn.user.user_id,
                                                        now, tomorrow)]
    overdue = tuple(line for line in come_due if line.since < today)
    due_today = tuple(line for line in come_due if line.since >= today)
    coming = _coming_rhythms(turn, tomorrow, horizon, arrives)
    coming += _called(turn, (
        *_coming_follow_ups(turn, horizon, arrives),
        *_coming_dates(turn, horizon, arrives), *snoozed.coming))
    # One list in date order: rhythms, follow-ups, yearly dates and snoozed reminders come
    # from four queries.
    coming = tuple(sorted(coming, key=lambda line: (line.day is None, line.day or date.min)))
    view = DueView(nudges=tuple(items), overdue=overdue, coming=coming, today=today,
                   has_people=people > 0, has_rhythms=rhythms > 0,
                   paused_until=paused_until(turn), due_today=due_today, more_nudges=more)
    return _with_quiet(turn, view, quiet_days) if quiet and people else view


def _with_quiet(turn: Turn, view: DueView, quiet_days: int) -> DueView:
    """The view with the people gone longest without a conversation who are not in it yet:
    someone due or coming up is named once."""
    listed = {item.contact_name for item in view.nudges} \
        | {line.name for line in (*view.overdue, *view.due_today)} \
        | {line.name for line in view.coming if is_rhythm_line(line)}
    oldest = queries.longest_quiet(turn.session, turn.user.user_id,
                                   turn.now - timedelta(days=quiet_days), MAX_QUIET + len(listed))
    quiet = tuple(QuietLine(name, planner.local_date(at, turn.user.tz))
                  for name, at in oldest if name not in listed)[:MAX_QUIET]
    never, never_count = queries.never_talked(turn.session, turn.user.user_id,
                                              MAX_QUIET + len(listed))
    named = [name for name in never if name not in listed][:MAX_QUIET]
    return replace(view, quiet=quiet + tuple(QuietLine(name, None) for name in named),
                   never_talked=never_count - sum(name in listed for name in never),
                   quiet_days=quiet_days)


def paused_text(view: DueView) -> str:
    """'nudges are paused until Mon Nov 30' or 'nudges are paused until you type “resume”'."""
    if view.paused_until is None:
        return ""
    if view.paused_until == date.max:
        return "nudges are paused until you type “resume”"
    return f"nudges are paused until {wording.friendly_day(view.paused_until, view.today)}"


def overdue_lines(view: DueView) -> list[str]:
    """The overdue lines, each saying when its next nudge comes, without a heading."""
    return [_come_due_line(line, view, f"{line.name} (since "
                                       f"{wording.friendly_day(line.since, view.today)})")
            for line in view.overdue]


def due_today_lines(view: DueView, *, under_heading: bool = True) -> list[str]:
    """Whose rhythm's day is today, each saying when its next nudge comes; without a
    "Due today" heading over them (Home lists them under "Coming up") each line says it."""
    return [_come_due_line(line, view, line.name if under_heading
                           else f"{line.name} (due today)") for line in view.due_today]


def _due_today_section(view: DueView, paused: str) -> list[str]:
    """Whose rhythm's day is today, under a heading their lines bear out: "Due today" over
    those reminded today (or paused: the heading says until when), "Due today, reminded
    later" over those whose next reminder comes on a later day (today's was dismissed or
    snoozed), rather than "Due today" over "next reminder Fri Dec 25"."""
    if paused:
        return [f"Due today ({paused}):", *(f"  {line}" for line in due_today_lines(view))]
    groups: dict[str, list[OverdueLine]] = {"Due today:": [], "Due today, reminded later:": []}
    for line in view.due_today:
        later = line.next_nudge is not None and line.next_nudge > view.today
        groups["Due today, reminded later:" if later else "Due today:"].append(line)
    lines: list[str] = []
    for heading, rows in groups.items():
        if rows:
            lines.append(heading)
            lines += [f"  {_come_due_line(line, view, line.name)}" for line in rows]
    return lines


def _come_due_line(line: OverdueLine, view: DueView, who: str) -> str:
    """'Dana Scully (since Sat Nov 28): next reminder Fri Dec 11': `who`, then when the next
    nudge comes (nothing while nudges are paused)."""
    if view.paused_until is not None:
        return who
    if line.next_nudge is None:
        return f"{who}: a nudge is on its way"
    return f"{who}: next reminder {wording.friendly_day(line.next_nudge, view.today)}"


def coming_lines(view: DueView) -> list[str]:
    """The "coming up" lines, without a heading."""
    lines = []
    for line in view.coming:
        when = wording.friendly_day(line.day, view.today) if line.day else ""
        if isinstance(line, DateComingLine):
            lines.append(_date_line(line, when, view.today))
        elif line.topic is None:
            lines.append(f"Talk to {line.name} {when}".rstrip())
        else:
            # The same words as the note's confirmation and its nudge.
            lines.append(wording.reminder(line.name, line.topic, when=when,
                                          called=line.called))
    return lines


def _date_line(line: DateComingLine, when: str, today: date) -> str:
    """"Lee's birthday on Thu Dec 3: next reminder Wed Dec 2" (its reminder planned, or
    snoozed until then)."""
    what = "birthday" if line.kind == "birthday" else "work anniversary"
    if line.on is not None and line.since_year is not None and line.kind != "birthday" \
            and line.on.year > line.since_year:
        what = f"{wording.ordinal(line.on.year - line.since_year)} {what}"
    on = f" {wording.on_day(line.on, today)}" if line.on is not None else ""
    name = line.called or wording.first_name(line.name)
    return f"{name}'s {what}{on}: next reminder {when}".rstrip()


def more_nudges_line(more: int, due: str = "“due”") -> str:
    """What `due` says of the open nudges it leaves out (`due`: how the platform spells the
    command)."""
    return f"… and {more} more; answer these and {due} shows the next ones."


def due_text_beside_cards(view: DueView) -> str:
    """What `due` says besides its open nudges, for platforms that show those as cards with
    buttons (overdue, coming up, who you have not talked to); empty when there is nothing
    else."""
    rest = replace(view, nudges=())
    if rest.overdue or rest.due_today or rest.coming:
        return due_text(rest)
    return "\n".join(quiet_lines(view))


def quiet_lines(view: DueView) -> list[str]:
    """Who you have gone longest without talking to, with a heading; none when not asked."""
    if view.quiet is None:
        return []
    talked = [line for line in view.quiet if line.last_talked_on is not None]
    never = [line.name for line in view.quiet if line.last_talked_on is None]
    lines = []
    if view.quiet_days and not talked:
        anyone = "Nobody else" if view.nudges or view.overdue or view.coming else "Nobody"
        lines.append(f"{anyone} has gone {cadence_phrase(view.quiet_days)} without a conversation.")
    if talked:
        lines.append(f"Not talked to in {cadence_phrase(view.quiet_days)}:"
                     if view.quiet_days else "Longest since you talked:")
        for line in talked:
            assert line.last_talked_on is not None
            day = wording.friendly_day(line.last_talked_on, view.today)
            days = (view.today - line.last_talked_on).days
            ago = f" ({planner.humanize_days(days)} ago)" if days > 1 else ""
            lines.append(f"  {line.name}: last talked {day}{ago}")
    if never:
        more = view.never_talked - len(never)
        names = ", ".join(never) + (f" and {wording.counted(more, 'other')}" if more else "")
        lines.append(c.full_stop(f"No conversation logged yet: {names}"))
    return lines


def due_text(view: DueView) -> str:
    if view.quiet_days:
        # Asked who has gone that long without a conversation: only those, said plainly.
        return "\n".join(quiet_lines(view))
    lines: list[str] = []
    paused = paused_text(view)
    if view.nudges:
        lines.append("Due now:")
        lines += [f"  #{item.nudge_id} {item.headline}" for item in view.nudges]
        if view.more_nudges:
            lines.append(f"  {more_nudges_line(view.more_nudges)}")
    if view.overdue:
        lines.append(f"Overdue ({paused}):" if paused else "Overdue:")
        lines += [f"  {line}" for line in overdue_lines(view)]
    if view.due_today:
        lines += _due_today_section(view, paused)
    if view.coming:
        lines.append("Coming up:")
        lines += [f"  {line}" for line in coming_lines(view)]
    if not lines:
        if not view.has_people:
            return ("Nothing is due. Add people with “add <name>” and set how often with "
                    "“every <name> 2 weeks”.")
        if not view.has_rhythms:
            return "\n".join([
                "Nothing is due. None of your people has a rhythm yet: “every <name> 2 "
                "weeks” tells me how often to remind you.", *quiet_lines(view)])
        text = "Nothing is due in the next week."
        paused = paused_text(view)
        return "\n".join([f"{text} ({paused[0].upper()}{paused[1:]}.)" if paused else text,
                          *quiet_lines(view)])
    if view.nudges:
        lines.append("Reply “done #N”, “snooze #N 1 week” or “dismiss #N”.")
    if paused and not view.overdue and not view.due_today:
        lines.append(f"{paused[0].upper()}{paused[1:]}.")
    lines += quiet_lines(view)
    return "\n".join(lines)


def due(turn: Turn, command: c.ShowDue) -> Reply:
    view = due_view(turn, quiet=command.quiet, quiet_days=command.quiet_days)
    return Reply(due_text(view), view=view)


def people_view(turn: Turn, *, limit: int = MAX_PEOPLE, tag: str | None = None) -> PeopleView:
    tag_id = None
    if tag is not None:
        found = queries.tag_by_key(turn.session, turn.user.user_id, tag_key(tag))
        if found is None:
            return PeopleView(people=(), truncated=False, today=turn.today, tag=tag)
        tag_id = found.id
    rows = queries.people_rows(turn.session, turn.user.user_id, limit + 1, tag_id)
    shown = rows[:limit]
    tags = queries.tags_of_contacts(turn.session, turn.user.user_id, [row[0] for row in shown])
    # Only tagged people can follow a goal: no extra read for someone without tags.
    from_goal = {state.id for state in queries.goal_states(turn.session, turn.user.user_id,
                                                           tags)
                 if state.cadence_days is not None and state.follows_goal} if tags else set()
    lines = tuple(
        PersonLine(contact_id=cid, name=name, company=company, kind=kind,
                   cadence_days=cadence,
                   last_touch_on=planner.local_date(last, turn.user.tz) if last else None,
                   health=contact_health(next_due, turn.now, turn.user.tz),
                   tags=tuple(tags.get(cid, ())),
                   cadence_from_goal=cid in from_goal, cadence_months=months)
        for cid, name, company, kind, cadence, last, next_due, months in shown)
    return PeopleView(people=lines, truncated=len(rows) > limit, today=turn.today, tag=tag)


def people_text(view: PeopleView) -> str:
    if not view.people:
        if view.tag is not None:
            return (f"Nobody is tagged {view.tag}. Tag someone with “tag Lee {view.tag}”.")
        return "You have no people yet. Add someone with “add Dana every 2 weeks”."
    lines = [f"Your people tagged {view.tag}:" if view.tag is not None else "Your people:"]
    for person in view.people:
        last = (f"last talked {wording.friendly_day(person.last_touch_on, view.today)}"
                if person.last_touch_on else "no conversation logged")
        every = f", every {planner.cadence_text(person.cadence_days, person.cadence_months)}" \
            if person.cadence_days else ""
        if person.cadence_days and person.cadence_from_goal:
            every = f"; goal: {every_phrase(person.cadence_days)}"
        health = f" · {person.health}" if person.health else ""
        tags = "".join(f" #{name}" for name in person.tags)
        lines.append(f"  {person.name} ({wording.kind_at(person.kind, person.company)}{every})"
                     f"{tags}: {last}{health}")
    if view.truncated:
        lines.append(f"  … and more; showing the first {len(view.people)}.")
    return "\n".join(lines)


def people(turn: Turn, command: c.ShowPeople) -> Reply:
    view = people_view(turn, tag=command.tag)
    return Reply(people_text(view), view=view)


def stats_view(turn: Turn) -> StatsView:
    """The numbers, the goals that lead them, and the open suggestions (one unit of work)."""
    user_id = turn.user.user_id
    return StatsView(compute_user_stats(turn.session, user_id, turn.now, tz=turn.user.tz),
                     goals=goal_attainments(turn.session, user_id, turn.now,
                                            tz=turn.user.tz),
                     suggestions=suggestion_cases.open_items(turn.session, user_id),
                     suggestion_counts=suggestion_cases.counts(turn.session, user_id))


def goal_lines(view: StatsView) -> list[str]:
    """'Clients: 7 of 9 within a month (78%), up from 56%' per goal with people."""
    lines = [goal_line(goal) for goal in view.goals if goal.now.members]
    empty = [goal for goal in view.goals if not goal.now.members]
    if empty:
        lines.append("No one tagged yet for: " + ", ".join(
            f"{goal.tag} ({every_phrase(goal.cadence_days)})" for goal in empty) + ".")
    return lines


def stats_text(view: StatsView) -> str:
    """Goals first, then the numbers, then what Rapport suggests and how that went."""
    lines = goal_lines(view)
    lines.append(format_stats_text(view.stats))
    counted = suggestion_cases.counts_line(view.suggestion_counts)
    if counted:
        lines.append(counted)
    lines += [suggestion_cases.item_text(entry) for entry in view.suggestions]
    return "\n".join(lines)


def stats(turn: Turn, command: c.Stats) -> Reply:
    del command
    view = stats_view(turn)
    return Reply(stats_text(view), view=view)


def home(turn: Turn) -> HomeView:
    """Due, people and stats for the Slack App Home, in one unit of work."""
    due_now = due_view(turn)
    everyone = people_view(turn)
    numbers = stats_view(turn)
    return HomeView(due=due_now, due_text=due_text(due_now), people=everyone,
                    people_text=people_text(everyone), stats=numbers,
                    stats_text=stats_text(numbers))
