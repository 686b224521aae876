"""Your coming meetings with your people (`meetings this week`, `prep for my next meeting`):
from the connected calendars, each meeting with what to know before it, as the brief before a
meeting says it (the last conversation, notes to ask about, a date this week). Read-only; only
the user's own people are named, never the other guests, and never a meeting that has begun."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from rapport.bot.core import commands as c
from rapport.bot.core.briefs import after_dash, person_brief
from rapport.bot.core.calendars import NAMES
from rapport.bot.core.context import Turn
from rapport.bot.core.dates import parse_day, shift_by_duration
from rapport.bot.core.views import MeetingLine, MeetingPerson, MeetingsView, Reply
from rapport.scheduler import planner, wording
from rapport.storage import queries

DEFAULT_DAYS = 7
# How far "next meeting" looks.
NEXT_DAYS = 30
MAX_MEETINGS = 10

_NEXT = frozenset({"next", "my next", "the next", "next one", "next meeting", "my next meeting",
                   "the next meeting"})
_SOON = frozenset({"", "coming up", "soon", "upcoming", "ahead", "this coming week"})
_PAST = frozenset({"yesterday", "last week", "last month", "earlier today", "this morning",
                   "last night", "last weekend", "over the weekend", "recently", "lately"})
# "in the next 10 days", "over the coming 2 weeks", "next 3 days", "the next few days".
_AHEAD = re.compile(r"^(?:(?:in|over|during|for|within)\s+)?(?:the\s+)?(?:next|coming)\s+"
                    r"(?P<how_long>.+)$")
_FEW = re.compile(r"^(?:a\s+)?few\s+(?P<unit>days|weeks)$")
_BARE_UNIT = frozenset({"day", "week", "month"})
_SPAN_HELP = ("I can read a span like “today”, “tomorrow”, “this week”, “next week”, “Friday” "
              "or “the next 10 days”; “next” gives only your next meeting.")


def parse_meetings(rest: str, today: date) -> c.ShowMeetings | c.CommandError:
    """The span after `meetings`; none: the next 7 days."""
    phrase = " ".join(rest.lower().strip(" ?!.,").split())
    phrase = phrase.removeprefix("for ").removeprefix("with my people").strip()
    if phrase in _NEXT:
        return c.ShowMeetings(today, today + timedelta(days=NEXT_DAYS - 1), "next", True)
    if phrase.startswith("with "):
        return c.CommandError("“meetings” lists your coming meetings with all your people; "
                              f"“show {rest.strip(' ?!.,')[len('with '):]}” has one "
                              "person's card, with your next meeting with them.", "meetings")
    if phrase in _PAST or phrase.startswith(("last ", "since ")):
        return c.CommandError("Meetings that have passed are logged as conversations: "
                              f"“recent {phrase}” lists them.", "meetings")
    span = _span(phrase, today)
    if span is None:
        return c.CommandError(_SPAN_HELP, "meetings")
    first, last, label = span
    if last < today:
        return c.CommandError("That day has passed: meetings then are logged as "
                              f"conversations, and “recent {phrase}” lists them.", "meetings")
    return c.ShowMeetings(max(first, today), last, label)


def _span(phrase: str, today: date) -> tuple[date, date, str] | None:
    """(first day, last day, how the answer names it), or None when the phrase is no span."""
    if phrase in _SOON:
        return today, today + timedelta(days=DEFAULT_DAYS - 1), \
            f"in the next {DEFAULT_DAYS} days"
    monday = today - timedelta(days=today.weekday())
    sunday = monday + timedelta(days=6)
    saturday = monday + timedelta(days=5)
    this_week = (today, sunday, "this week")
    named: dict[str, tuple[date, date, str]] = {
        "today": (today, today, "today"), "later today": (today, today, "today"),
        "tonight": (today, today, "today"),
        "tomorrow": (today + timedelta(days=1), today + timedelta(days=1), "tomorrow"),
        "this week": this_week, "rest of the week": this_week,
        "the rest of the week": this_week, "the rest of this week": this_week,
        "next week": (monday + timedelta(days=7), sunday + timedelta(days=7), "next week"),
        "this weekend": (saturday, sunday, "this weekend"),
        "at the weekend": (saturday, sunday, "this weekend"),
        "on the weekend": (saturday, sunday, "this weekend"),
        "this month": (today, planner.add_months(today.replace(day=1), 1) - timedelta(days=1),
                       "this month"),
    }
    if phrase in named:
        return named[phrase]
    if (ahead := _AHEAD.match(phrase)) is not None:
        how_long = ahead.group("how_long")
        if (few := _FEW.match(how_long)) is not None:
            how_long = f"3 {few.group('unit')}"
        end = shift_by_duration(f"1 {how_long}" if how_long in _BARE_UNIT else how_long,
                                today)
        if end is not None and end > today:
            return today, end - timedelta(days=1), f"in the next {how_long}"
        return None
    day = parse_day(phrase.removeprefix("on "), today=today, direction="future")
    if day is None:
        return None
    return day, day, wording.on_day(day, today)


def meetings(turn: Turn, command: c.ShowMeetings) -> Reply:
    session, user_id, tz = turn.session, turn.user.user_id, turn.user.tz
    calendars = tuple((provider, status)
                      for provider, status, _ in queries.calendar_states(session, user_id))
    start = max(turn.now, planner.local_moment(command.first_day, 0, tz))
    end = planner.local_moment(command.last_day + timedelta(days=1), 0, tz)
    # One meeting per start however many calendars hold it, with every person either names.
    by_start: dict[datetime, dict[int, str]] = {}
    if any(status == "active" for _, status in calendars):
        for start_at, contact_id, name in queries.meetings_ahead(session, user_id, start, end):
            by_start.setdefault(start_at, {}).setdefault(contact_id, name)
    shown = list(by_start.items())[:1 if command.next_only else MAX_MEETINGS]
    zone = planner.zone(tz)
    # A person met again and again (a daily stand-up) is read once.
    known: dict[int, MeetingPerson] = {}
    for _, people in shown:
        for contact_id, name in people.items():
            if contact_id not in known:
                known[contact_id] = _person(turn, contact_id, name)
    lines = []
    for start_at, people in shown:
        local = start_at.astimezone(zone)
        lines.append(MeetingLine(day=local.date(), starts=local.strftime("%H:%M"),
                                 people=tuple(known[contact_id] for contact_id in people)))
    view = MeetingsView(label=command.label, meetings=tuple(lines), total=len(by_start),
                        calendars=calendars, today=turn.today, next_only=command.next_only)
    return Reply(meetings_text(view), view=view)


def _person(turn: Turn, contact_id: int, name: str) -> MeetingPerson:
    """One of the user's people in a meeting, with what the brief would say of them."""
    brief = person_brief(turn.session, turn.user.user_id, contact_id, turn.user.tz, turn.now)
    return MeetingPerson(contact_id, name, tuple(brief[1]) if brief is not None else ())


def _paused_text(view: MeetingsView) -> str:
    paused = [provider for provider, status in view.calendars if status == "paused"]
    return "".join(f" Your {NAMES.get(provider, provider)} calendar stopped letting Rapport "
                   f"read it: “connect {provider} calendar” connects it again."
                   for provider in paused)


def meetings_text(view: MeetingsView) -> str:
    if not view.calendars:
        return ("No calendar is connected, so I don't know your meetings. “connect calendar” "
                "lets Rapport read who you meet and when (never what is said), log those "
                "meetings for you and brief you before the next one.")
    paused = _paused_text(view)
    span = f"in the next {NEXT_DAYS} days" if view.next_only else view.label
    if not view.meetings:
        return f"No meetings with your people {span} in your calendar.{paused}".strip()
    if view.next_only:
        lines = ["Your next meeting with your people:"]
    else:
        lines = [f"{wording.counted(view.total, 'meeting')} with your people {span}:"]
    for meeting in view.meetings:
        day = wording.friendly_day(meeting.day, view.today)
        when = f"{day[:1].upper()}{day[1:]} {meeting.starts}"
        if len(meeting.people) == 1:
            lines.append(f"• {when}, {_person_text(meeting.people[0])}")
            continue
        names = [person.name for person in meeting.people]
        lines.append(f"• {when}, with {', '.join(names[:-1])} and {names[-1]}:")
        lines.extend(f"    {_person_text(person)}" for person in meeting.people)
    if view.total > len(view.meetings) and not view.next_only:
        lines.append(f"… and {view.total - len(view.meetings)} more: a shorter span "
                     "(“meetings tomorrow”) lists them.")
    if paused:
        lines.append(paused.strip())
    return "\n".join(lines)


def _person_text(person: MeetingPerson) -> str:
    if not person.know:
        return f"{person.name}: nothing logged with them yet."
    return f"{person.name} — {after_dash(person.know)}."
