"""Who you talked to over a span of days (`recent last week`, `who did I talk to this
week?`): the conversations logged then, newest first, each with its person and the handle
`edit` and `delete` take. Read-only; the span is read in the user's time zone."""

from __future__ import annotations

import re
from datetime import date, timedelta

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn
from rapport.bot.core.dates import parse_day, shift_by_duration
from rapport.bot.core.profile import source_note
from rapport.bot.core.views import RecentTouch, RecentView, Reply, TouchLine
from rapport.scheduler import planner, wording
from rapport.storage import queries

MAX_RECENT = 25
# A summary is cut here in the list; `show <name>` has it whole.
SUMMARY_CHARS = 80
DEFAULT_DAYS = 14

_LATELY = frozenset({"", "lately", "recently", "of late", "these days", "so far"})
# "in the last 2 weeks", "over the past month", "the last few days", "past 10 days".
_ROLLING = re.compile(r"^(?:(?:in|over|during|for|within)\s+)?(?:the\s+)?(?:last|past)\s+"
                      r"(?P<how_long>.+)$")
_BARE_UNIT = frozenset({"day", "week", "month", "year"})
_FEW = re.compile(r"^(?:a\s+)?few\s+(?P<unit>days|weeks|months)$")
_SPAN_HELP = ("I can read a span like “this week”, “last week”, “this month”, “in the last "
              "10 days”, “yesterday” or “since Monday”; “show Dana” shows the conversations "
              "with one person.")


def parse_recent(rest: str, today: date) -> c.ShowRecent | c.ShowPerson | c.CommandError:
    """The span after `recent` (or after "who did I talk to"); none: the last two weeks.
    "… with Dana" is Dana's card; "… about the offsite" is a search."""
    phrase = " ".join(rest.lower().strip(" ?!.,").split())
    if phrase.startswith("with "):
        return c.parse_show(rest.strip(" ?!.,")[len("with "):], today)
    lead, _, topic = " ".join(rest.strip(" ?!.,").split()).partition(" ")
    if topic and lead.lower() in ("at", "from"):
        return c.CommandError(f"“who works at {topic}?” lists your people there; “search "
                              f"{topic}” also finds the notes and conversations that name it.",
                              "recent")
    if topic and (lead.lower() in ("about", "regarding")
                  or (lead.lower() == "for" and _span(phrase, today) is None)):
        return c.CommandError(f"To find conversations by what they were about, “search "
                              f"{topic}”.", "recent")
    span = _span(phrase, today)
    if span is None:
        return c.CommandError(_SPAN_HELP, "recent")
    first, last, label = span
    if first > today:
        return c.CommandError("That is still to come: nothing has been logged for it yet. "
                              f"“meetings {phrase}” shows whom you will meet (from a "
                              "connected calendar), “due” who to reach out to.", "recent")
    return c.ShowRecent(first, min(last, today), label)


def _span(phrase: str, today: date) -> tuple[date, date, str] | None:
    """(first day, last day, how the answer names it), or None when the phrase is no span."""
    if phrase in _LATELY:
        return today - timedelta(days=DEFAULT_DAYS - 1), today, "in the last 2 weeks"
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    named: dict[str, tuple[date, date]] = {
        "today": (today, today), "yesterday": (today - timedelta(days=1),) * 2,
        "this week": (monday, today), "so far this week": (monday, today),
        "last week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this month": (first_of_month, today),
        "last month": (planner.add_months(first_of_month, -1),
                       first_of_month - timedelta(days=1)),
        "this year": (today.replace(month=1, day=1), today),
    }
    # The weekend just gone, or this one while it lasts.
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)
    for said in ("this weekend", "last weekend", "over the weekend", "at the weekend",
                 "on the weekend"):
        named[said] = (saturday, saturday + timedelta(days=1))
    if phrase in named:
        first, last = named[phrase]
        return first, last, phrase.removeprefix("so far ")
    if (rolling := _ROLLING.match(phrase)) is not None:
        how_long = rolling.group("how_long")
        if (few := _FEW.match(how_long)) is not None:
            how_long = f"3 {few.group('unit')}"
        back = shift_by_duration(f"1 {how_long}" if how_long in _BARE_UNIT else how_long,
                                 today, sign=-1)
        if back is not None:
            return back + timedelta(days=1), today, f"in the last {how_long}"
    if (back := shift_by_duration(phrase, today, sign=-1)) is not None:  # "recent 10 days"
        return back + timedelta(days=1), today, f"in the last {phrase}"
    if (month := _month_named(phrase, today)) is not None:
        return month
    if phrase.startswith("since "):
        day = parse_day(phrase[len("since "):], today=today, direction="past")
        return (day, today, f"since {wording.friendly_day(day, today)}") \
            if day is not None else None
    day = parse_day(phrase.removeprefix("on "), today=today, direction="past")
    if day is None:
        return None
    return day, day, wording.on_day(day, today)


_FULL_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_MONTH_WORDS = {**{name: number for number, name in enumerate(_FULL_MONTHS, 1)},
                **{name[:3]: number for number, name in enumerate(_FULL_MONTHS, 1)},
                "sept": 9}
_MONTH = re.compile(r"^(?:in\s+|during\s+)?(?P<month>[a-z]+)$")


def _month_named(phrase: str, today: date) -> tuple[date, date, str] | None:
    """"in November", "october": that month, the latest one not still to come."""
    said = _MONTH.match(phrase)
    number = _MONTH_WORDS.get(said.group("month")) if said is not None else None
    if number is None:
        return None
    year = today.year if number <= today.month else today.year - 1
    first = date(year, number, 1)
    last = planner.add_months(first, 1) - timedelta(days=1)
    label = f"in {_FULL_MONTHS[number - 1].title()}" + ("" if year == today.year else f" {year}")
    return first, min(last, today), label


def recent(turn: Turn, command: c.ShowRecent) -> Reply:
    session, user_id, tz = turn.session, turn.user.user_id, turn.user.tz
    start = planner.local_moment(command.first_day, 0, tz)
    end = planner.local_moment(command.last_day + timedelta(days=1), 0, tz)
    total, people = queries.span_counts(session, user_id, start, end)
    touches = tuple(
        RecentTouch(TouchLine(touchpoint_id=touch_id, day=planner.local_date(at, tz),
                              kind=kind, summary=summary, source=source),
                    contact_id=contact_id, contact_name=name)
        for touch_id, contact_id, name, at, kind, summary, source in (
            queries.touches_in_span(session, user_id, start, end, MAX_RECENT) if total else ()))
    view = RecentView(first_day=command.first_day, last_day=command.last_day,
                      label=command.label, touches=touches, total=total, people=people,
                      today=turn.today)
    return Reply(recent_text(view), view=view)


def span_text(view: RecentView) -> str:
    """'this week (since Mon Nov 30)', 'last week (Mon Nov 23 – Sun Nov 29)', 'yesterday'."""
    if view.first_day == view.last_day or view.label.startswith("since "):
        return view.label
    first = wording.friendly_day(view.first_day, view.today)
    if view.last_day == view.today:
        return f"{view.label} (since {first})"
    return f"{view.label} ({first} – {wording.friendly_day(view.last_day, view.today)})"


def recent_text(view: RecentView) -> str:
    span = span_text(view)
    if not view.touches:
        return (f"No conversations logged {span}. After you talk to someone, “log Dana: "
                f"coffee” records it; “who haven't I talked to lately?” shows who you have "
                f"not talked to.")
    with_whom = view.touches[0].contact_name if view.people == 1 else \
        wording.counted(view.people, "person", "people")
    lines = [f"{wording.counted(view.total, 'conversation')} with {with_whom} {span}"
             f"{', newest first' if view.total > 1 else ''}:"]
    for line in view.touches:
        touch = line.touch
        summary = touch.summary or ""
        if len(summary) > SUMMARY_CHARS:
            cut = summary[:SUMMARY_CHARS]
            # At a word's end when there is one to cut at.
            summary = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"
        about = f": {summary}" if summary else ""
        lines.append(f"  {touch.handle} {wording.friendly_day(touch.day, view.today)}, "
                     f"{line.contact_name}: {touch.kind}{about}{source_note(touch.source)}")
    if view.total > len(view.touches):
        lines.append(f"  … and {view.total - len(view.touches)} earlier: a shorter span "
                     f"(“recent this week”) or “show <name>” lists them.")
    return "\n".join(lines)
