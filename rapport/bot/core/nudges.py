"""Use cases on nudges: done, snooze, dismiss (typed or clicked) and drafting a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from rapport.bot.core import commands as c
from rapport.bot.core import overview
from rapport.bot.core.calendars import complete_logged_meeting
from rapport.bot.core.context import Directory, Turn, UserContext
from rapport.bot.core.journal import NUDGE_OUTCOME, NUDGE_SNOOZE, Change
from rapport.bot.core.people import find_contact, resolve_person, summary_named, touch_clock
from rapport.bot.core.resolve import Resolved, or_list
from rapport.bot.core.touchpoints import record_touchpoint
from rapport.bot.core.views import NudgeActed, Reply, error
from rapport.scheduler import planner, wording
from rapport.scheduler.items import called_names, nudge_items
from rapport.storage import queries
from rapport.storage.models import (
    CALENDAR_SOURCE,
    OPEN_NUDGE_STATUSES,
    TYPED_SOURCE,
    NudgeStatus,
)
from rapport.storage.queries import ContactName, NudgeRow

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

# "done Dana" means the nudge about Dana that is out, or about to be (today's window).
OPEN_NUDGE_LOOKAHEAD = timedelta(days=1)
# How many of a person's newest conversations are read to find today's: Done logs one a
# day, and a few `log`s besides are already a lot.
TODAY_READ = 5


@dataclass(frozen=True, slots=True)
class _Found:
    """What a command's target names: the person (when named by a person) and the nudges it
    may mean: the one a number names, or the person's open ones, newest first (maybe none)."""

    person: ContactName | None
    nudges: list[NudgeRow]


def _find(turn: Turn, target: c.Target) -> _Found | str:
    """The nudges `target` may mean, or why none can be found."""
    if isinstance(target, c.NudgeRef):
        nudge = queries.nudge_of_user(turn.session, turn.user.user_id, turn.user.workspace_id,
                                      target.nudge_id)
        if nudge is None:
            # The same answer for "missing" and "someone else's": nothing leaks.
            return f"I can't find nudge #{target.nudge_id} among yours."
        return _Found(None, [nudge])
    result = resolve_person(turn, target)
    if not isinstance(result, Resolved):
        return result.message
    nudges = queries.open_nudges_for_contact(turn.session, turn.user.user_id, result.contact.id,
                                             turn.now + OPEN_NUDGE_LOOKAHEAD)
    # A rhythm that asked again before its last ask was answered is still one reminder: its
    # newest ask stands for it (a conversation closes them all).
    rhythm = [n.id for n in nudges if n.reason == "cadence"][:1]
    return _Found(result.contact, [n for n in nudges if n.reason != "cadence" or n.id in rhythm])


def _subject(turn: Turn, nudge: NudgeRow) -> str:
    """How an answer names the nudge it acted on ("the reminder to ask Dana about ..."), with
    the full name where the reminder says it (another contact has that first name)."""
    called = None if nudge.reason == "cadence" else called_names(
        turn.session, {nudge.contact_id: nudge.contact_name})[nudge.contact_id]
    return wording.nudge_subject(nudge.reason, nudge.contact_name, nudge.note_text,
                                 nudge.date_kind, called=called)


def _listed(turn: Turn, nudges: list[NudgeRow]) -> list[str]:
    """The nudges as `due` lists them ("  #5 Ask Dana about the trip ..."), oldest first."""
    ids = [nudge.id for nudge in reversed(nudges)]
    items = nudge_items(turn.session, ids, turn.now)
    return [f"  #{i} {items[i].headline}" for i in ids if i in items]


def _which(turn: Turn, found: _Found, command: c.Snooze | c.Done | c.Dismiss) -> Reply:
    """Several open nudges about the person and nothing says which: ask, as "Which Dana do
    you mean" does, and change nothing. The answer is the command again with the nudge's
    number, the way a nudge's own buttons name it."""
    assert found.person is not None
    lines = [f"Which nudge about {found.person.name} do you mean?", *_listed(turn, found.nudges)]
    again = tuple(f"“{_typed(command, nudge.id, turn.today)}”"
                  for nudge in reversed(found.nudges))
    lines.append(f"Reply {or_list(again)}.")
    return error("\n".join(lines))


def _typed(command: c.Snooze | c.Done | c.Dismiss, nudge_id: int, today: date) -> str:
    """`command` as typed about nudge #`nudge_id`: "snooze #5 until Dec 7", "done #5: coffee"."""
    if isinstance(command, c.Done):
        said = ", ".join(part for part in (command.kind, command.summary) if part)
        return f"done #{nudge_id}" + (f": {said}" if said else "")
    if isinstance(command, c.Dismiss):
        return f"dismiss #{nudge_id}"
    if command.minutes is not None:
        return f"snooze #{nudge_id} {_length(command.minutes)}"
    until = _snooze_until(command, today)
    # A month and day alone is read as the nearest such day: another year's is said with it.
    year = f" {until.year}" if until.year != today.year else ""
    return f"snooze #{nudge_id} until {until:%b} {until.day}{year}"


def _snooze_until(command: c.Snooze, today: date) -> date:
    return command.until or today + timedelta(days=command.days or 1)


def done(turn: Turn, command: c.Done) -> Reply:
    found = _find(turn, command.target)
    if isinstance(found, str):
        return error(found)
    if not found.nudges:
        assert found.person is not None  # a number names its nudge or is refused
        if _talked_today(turn, command, found.person.id):
            # Once a day per person (README): a second plain Done has nothing to close and
            # nothing new to log.
            name = found.person.name
            return error(_logged_already(name))
        today = _logged_today(turn, command, found.person.id)
        if today is not None:
            return _add_to_today(turn, found.person.name, today, command.summary)
        return _log_chat(turn, found.person, command.summary, command.kind)
    nudge, still_open = found.nudges[0], found.nudges[1:]
    if still_open:
        # "done Dana" says you talked to Dana: that answers the keep-in-touch reminder (a
        # conversation closes it anyway). Whether the talk covered a noted topic or a
        # birthday, nothing says: those stay open, and are named.
        rhythm = [n for n in found.nudges if n.reason == "cadence"]
        if not rhythm:
            return _which(turn, found, command)
        nudge = rhythm[0]
        still_open = [n for n in found.nudges if n is not nudge]
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    user = turn.user
    change = Change(turn)
    change.before_update("nudges", [nudge.id], NUDGE_OUTCOME)
    # Done on a second nudge about someone you talked to today (their other card's Done, a
    # `log`, a meeting from the calendar) is the same conversation: it closes the nudge
    # without logging that conversation twice; what it says the talk was about goes to
    # that conversation (`_logged_today`).
    talked_today = _talked_today(turn, command, nudge.contact_id)
    today = None if talked_today else _logged_today(turn, command, nudge.contact_id)
    logs = not talked_today and today is None
    state = touch_clock(turn, change, nudge.contact_id) if logs else None
    if nudge.note_id is not None:
        change.before_update("notes", [nudge.note_id], ("plan_at",))
    queries.set_nudge_status(turn.session, nudge.id, NudgeStatus.DONE, turn.now)
    said = summary_named(turn, command.summary)
    added = today is not None and _add_summary(turn, change, today, said)
    if logs:
        # The meeting the calendar logged today is the conversation meant, as for `log`; a
        # kind not said leaves it the calendar's ("meeting").
        if complete_logged_meeting(turn, change, nudge.contact_id, turn.today, state,
                                   kind=command.kind, summary=said) is None:
            touchpoint_id = record_touchpoint(
                turn.session, workspace_id=user.workspace_id, user_id=user.user_id,
                contact_id=nudge.contact_id, happened_at=turn.now,
                kind=command.kind or c.DEFAULT_LOG_KIND,
                summary=said, source="nudge", now=turn.now, state=state)
            change.inserted_row("touchpoints", touchpoint_id)
    if nudge.note_id is not None:
        queries.set_note_plan(turn.session, nudge.note_id, None)
    name = nudge.contact_name
    change.save(f"marked nudge #{nudge.id} about {name} done")
    if today is not None and added:
        text = (f"Nice. Marked {_subject(turn, nudge)} done and added “{said}” to today's "
                f"{today.kind} with {name}.")
    elif today is not None and _says_otherwise(today, said):
        text = (f"Nice. Marked {_subject(turn, nudge)} done; "
                f"{wording.lower_first(_told_otherwise(name, today))}.")
    elif not logs:
        text = (f"Nice. Marked {_subject(turn, nudge)} done; today's conversation with {name} "
                "is logged already.")
    else:
        # Reaching out is what the keep-in-touch reminder asks: the sentence names it.
        marked = "" if nudge.reason == "cadence" \
            else f" and marked {_subject(turn, nudge)} done"
        text = c.full_stop(f"Nice. Logged that you reached out to {name}{marked}")
    if still_open:
        text = "\n".join([text, "Still open:", *_listed(turn, still_open)])
    return Reply(text, changed=True, view=NudgeActed(nudge.id, NudgeStatus.DONE))


def _talked_today(turn: Turn, command: c.Done, contact_id: int) -> bool:
    """A plain Done (no summary, no kind) about someone already talked to today: the same
    conversation, not another to log. With a summary or a kind: `_logged_today`."""
    return command.summary is None and command.kind is None and queries.touched_between(
        turn.session, turn.user.user_id, contact_id,
        planner.local_moment(turn.today, 0, turn.user.tz), turn.now)


@dataclass(frozen=True, slots=True)
class _Today:
    """The conversation with someone logged today that a second Done that day means."""

    touchpoint_id: int
    kind: str
    summary: str | None


def _logged_today(turn: Turn, command: c.Done, contact_id: int) -> _Today | None:
    """The conversation logged today (up to now) that a Done saying what the talk was about
    means, once a day per person (README): the newest of the kind it says, or of any kind
    when it says none. None when there is none: a kind of another ("coffee" after a chat)
    is another conversation, logged as asked; and a meeting the calendar still holds is
    completed as a `log` completes it (`complete_logged_meeting`)."""
    start = planner.local_moment(turn.today, 0, turn.user.tz)
    for touchpoint_id, happened_at, kind, summary, source in queries.touches_of_contact(
            turn.session, turn.user.user_id, contact_id, TODAY_READ):
        if happened_at > turn.now:
            continue
        if happened_at < start:
            return None
        if command.kind is not None and kind.casefold() != command.kind.casefold():
            continue
        return None if source == CALENDAR_SOURCE else _Today(touchpoint_id, kind, summary)
    return None


def _add_summary(turn: Turn, change: Change, today: _Today, said: str | None) -> bool:
    """Give today's conversation what the talk was about when it says nothing yet (the
    first Done logged it bare): whether it did. Words of its own are never overwritten."""
    if not said or today.summary:
        return False
    change.before_update("touchpoints", [today.touchpoint_id], ("summary",))
    queries.update_touchpoint(turn.session, turn.user.user_id, today.touchpoint_id,
                              summary=said)
    return True


def _says_otherwise(today: _Today, said: str | None) -> bool:
    return bool(said and today.summary and said != today.summary)


def _logged_already(name: str) -> str:
    return (f"Today's conversation with {name} is logged already (“log {name}: …” logs "
            "another). Nothing changed.")


def _told_otherwise(name: str, today: _Today) -> str:
    """Today's conversation says something else already: nothing is logged twice, and the
    answer says how to change what it says."""
    return (f"Today's {today.kind} with {name} is logged already, about “{today.summary}”, "
            f"and nothing is logged twice: “edit t{today.touchpoint_id}: …” changes what it "
            f"says (“log {name}: …” logs another)")


def _add_to_today(turn: Turn, name: str, today: _Today, summary: str | None) -> Reply:
    """A second Done today, no nudge open, that says what the talk was about: its words go
    to today's conversation (`_add_summary`), which undo takes back alone."""
    said = summary_named(turn, summary)
    if _says_otherwise(today, said):
        return error(f"{_told_otherwise(name, today)}. Nothing changed.")
    change = Change(turn)
    if not _add_summary(turn, change, today, said):
        return error(_logged_already(name))
    change.save(f"added “{said}” to today's {today.kind} with {name}")
    return Reply(f"Added “{said}” to today's {today.kind} with {name}.", changed=True)


def _log_chat(turn: Turn, person: ContactName, summary: str | None, said_kind: str | None
              ) -> Reply:
    """Nothing open: "done Dana" still means "I talked to Dana". `said_kind`: None when the
    user said no kind (a meeting the calendar logged today stays one)."""
    user = turn.user
    change = Change(turn)
    state = touch_clock(turn, change, person.id)
    said = summary_named(turn, summary)
    kind = complete_logged_meeting(turn, change, person.id, turn.today, state,
                                   kind=said_kind, summary=said)
    if kind is None:
        kind = said_kind or c.DEFAULT_LOG_KIND
        touchpoint_id = record_touchpoint(
            turn.session, workspace_id=user.workspace_id, user_id=user.user_id,
            contact_id=person.id, happened_at=turn.now, kind=kind, summary=said,
            source=TYPED_SOURCE, now=turn.now, state=state)
        change.inserted_row("touchpoints", touchpoint_id)
    change.save(f"logged {kind} with {person.name} on {wording.short_date(turn.today)}")
    logged = "a chat" if kind == "chat" else kind
    return Reply(c.full_stop(f"Logged {logged} with {person.name}"), changed=True)


def _one(turn: Turn, found: _Found, command: c.Snooze | c.Dismiss) -> NudgeRow | Reply:
    """The one open nudge `found` names, or the answer: none, or which one?"""
    if not found.nudges:
        assert found.person is not None  # a number names its nudge or is refused
        return error(c.full_stop(f"There is no open nudge for {found.person.name}"))
    if len(found.nudges) > 1:
        return _which(turn, found, command)
    nudge = found.nudges[0]
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    return nudge


def dismiss(turn: Turn, command: c.Dismiss) -> Reply:
    found = _find(turn, command.target)
    if isinstance(found, str):
        return error(found)
    nudge = _one(turn, found, command)
    if isinstance(nudge, Reply):
        return nudge
    change = Change(turn)
    change.before_update("nudges", [nudge.id], NUDGE_OUTCOME)
    queries.set_nudge_status(turn.session, nudge.id, NudgeStatus.DISMISSED, turn.now)
    change.save(f"dismissed nudge #{nudge.id} about {nudge.contact_name}")
    return Reply(c.full_stop(f"Dismissed {_subject(turn, nudge)}"),
                 changed=True, view=NudgeActed(nudge.id, NudgeStatus.DISMISSED))


def snooze(turn: Turn, command: c.Snooze) -> Reply:
    today = turn.today
    until = _snooze_until(command, today)
    if command.minutes is None and c.snooze_problem(until, today) is not None:
        # Typed text was checked by the grammar; this is a date picker or a button.
        return error("Pick a day after today, within a year.")
    found = _find(turn, command.target)
    if isinstance(found, str):
        return error(found)
    if not found.nudges and found.person is not None:
        return _hold_next(turn, found.person, until, command.minutes)
    nudge = _one(turn, found, command)
    if isinstance(nudge, Reply):
        return nudge
    change = Change(turn)
    change.before_update("nudges", [nudge.id], NUDGE_SNOOZE)
    name, subject = nudge.contact_name, _subject(turn, nudge)
    if command.minutes is not None:
        back = turn.now + timedelta(minutes=command.minutes)
        queries.snooze_nudge(turn.session, nudge.id, back)
        length = _length(command.minutes)
        clock = back.astimezone(planner.zone(turn.user.tz))
        day = "" if clock.date() == today else " " + wording.lasting_day(clock.date(), today)
        change.save(f"snoozed nudge #{nudge.id} about {name} for {length}")
        return Reply(f"Snoozed {subject} for {length} (until {clock:%H:%M}{day}; "
                     f"{_back_in_window(turn, back)}).", changed=True,
                     view=NudgeActed(nudge.id, NudgeStatus.SNOOZED, clock.date()))
    queries.snooze_nudge(turn.session, nudge.id, planner.local_moment(
        until, turn.user.prefs.window_start_minute, turn.user.tz))
    # The day it comes, as the answer says it: undo's "snoozed … until Sat Dec 5" named a
    # day off the nudge was never going to come on.
    change.save(f"snoozed nudge #{nudge.id} about {name} until "
                f"{wording.short_date(working_day_from(turn, until), today)}")
    return Reply(f"Snoozed {subject} until {_comes_back(turn, until)}.",
                 changed=True, view=NudgeActed(nudge.id, NudgeStatus.SNOOZED, until))


def _comes_back(turn: Turn, until: date, *, lasting: bool = True) -> str:
    """`until` as the answer says it ('tomorrow (Sat Oct 31)' where the text stays in the
    nudge's message, `lasting`; 'tomorrow' otherwise), or, when it is no working day of the
    user's, the day the reminder does come: 'Mon Nov 2: Sat Oct 31 is not one of your
    working days' ("until tomorrow (Sat Oct 31)" promised a Saturday that never came)."""
    today = turn.today
    say = wording.lasting_day if lasting else wording.friendly_day
    comes = working_day_from(turn, until)
    if comes == until:
        return say(until, today)
    return f"{say(comes, today)}: {not_a_working_day(until, today)}"


def _back_in_window(turn: Turn, back: datetime) -> str:
    """When a nudge snoozed until `back` reaches the user, decided as the sweep decides it
    (`planner.next_delivery_moment`: window, working days, pause, the daily cap used so far):
    'it comes back inside your delivery window' when that is `back` itself, else its day and
    time ("until 18:30" after the window closed promised an hour nothing came)."""
    sent_on, sent_count = queries.delivered_today(turn.session, turn.user.user_id)
    comes = planner.next_delivery_moment(turn.user.prefs, back, sent_on=sent_on,
                                         sent_count=sent_count)
    if comes is None or comes == back:
        # None: paused until "resume", which the pause's own answers say.
        return "it comes back inside your delivery window"
    local = comes.astimezone(planner.zone(turn.user.tz))
    day = "" if local.date() == planner.local_date(back, turn.user.tz) \
        else wording.lasting_day(local.date(), turn.today) + " "
    return f"it comes back {day}at {local:%H:%M}, inside your delivery window"


def working_day_from(turn: Turn, day: date) -> date:
    """The first of the user's working days on or after `day`: the day a reminder planned
    for `day` comes (`day` itself when the user works no day of the week)."""
    working_days = turn.user.prefs.working_days
    return next((day + timedelta(days=ahead) for ahead in range(7)
                 if planner.is_working_day(day + timedelta(days=ahead), working_days)), day)


def not_a_working_day(day: date, today: date) -> str:
    """Why a reminder for `day` comes later: 'Sat Oct 31 is not one of your working days'."""
    return f"{wording.short_date(day, today)} is not one of your working days"


def _length(minutes: int) -> str:
    if minutes % 60:
        return wording.counted(minutes, "minute")
    return wording.counted(minutes // 60, "hour")


def _hold_next(turn: Turn, contact: ContactName, until: date, minutes: int | None) -> Reply:
    """"snooze Dana 1 week" with no nudge out: the next rhythm nudge waits until then."""
    state = queries.contact_state(turn.session, turn.user.user_id, contact.id)
    if state is None or not state.cadence_days or minutes is not None:
        return error(c.full_stop(f"There is no open nudge for {contact.name}"))
    hold = planner.local_moment(until, turn.user.prefs.window_start_minute, turn.user.tz)
    sooner = _dated_before(turn, contact, hold)
    if state.plan_at is not None and state.plan_at >= hold:
        if sooner:
            return error(f"{contact.name}'s rhythm brings no nudge before "
                         f"{wording.friendly_day(until, turn.today)} anyway.{sooner}")
        return error(f"No nudge about {contact.name} is due before "
                     f"{wording.friendly_day(until, turn.today)} anyway.")
    change = Change(turn)
    change.before_update("contacts", [contact.id], ("plan_at",))
    queries.update_contact(turn.session, turn.user.user_id, contact.id, plan_at=hold)
    change.save(f"held the next nudge about {contact.name} until "
                f"{wording.short_date(working_day_from(turn, until), turn.today)}")
    if sooner:
        return Reply(f"No nudge about {contact.name} is out; their next rhythm nudge waits "
                     f"until {_comes_back(turn, until, lasting=False)}.{sooner}", changed=True)
    return Reply(f"No nudge about {contact.name} is out; the next one waits until "
                 f"{_comes_back(turn, until, lasting=False)}.", changed=True)


def _dated_before(turn: Turn, contact: ContactName, hold: datetime) -> str:
    """What to add when a reminder with a day of its own (a note's follow-up, a birthday)
    comes before `hold`: a snooze of the person moves their rhythm, not a day the person
    chose, and must not claim that nothing comes sooner."""
    dated = queries.next_dated_plan(turn.session, turn.user.user_id, contact.id)
    if dated is None or dated >= hold:
        return ""
    # The day it reaches the user, as the note's confirmation, `due` and `show` name it (a
    # follow-up for a day off comes on the next working day): the sweep delivers a dated
    # reminder as it delivers a rhythm's.
    day = overview.rhythm_reminder_day(turn, dated)
    return (f" A reminder with a day of its own still comes "
            f"{wording.friendly_day(day, turn.today)} (“show {contact.name}” lists it).")


async def draft(core: Rapport, ctx: UserContext, command: c.Draft,
                directory: Directory | None) -> Reply:
    """A draft for a person or a nudge: the contact is checked, then the drafter writes."""
    target = command.person

    def contact_of(turn: Turn) -> tuple[int | None, str, str | None, UserContext]:
        # turn.user is read in this transaction: whether AI may be used is never stale.
        if isinstance(target, c.NudgeRef):
            nudge = queries.nudge_of_user(turn.session, ctx.user_id, ctx.workspace_id,
                                          target.nudge_id)
            if nudge is None:
                return None, "", f"I can't find nudge #{target.nudge_id} among yours.", \
                    turn.user
            return nudge.contact_id, "", None, turn.user
        contact, problem, _ = find_contact(turn, target, create_mentions=False)
        if contact is None:
            return None, "", problem or "Who do you mean?", turn.user
        return contact.id, contact.name, None, turn.user

    contact_id, name, problem, current = await core.read(ctx, contact_of, directory=directory)
    if contact_id is None:
        return error(problem or "Who do you mean?")
    if core.drafter is None:
        who = f"to {wording.first_name(name)} " if name else ""
        return Reply(f"AI drafts are not set up yet. Write {who}in your own words.")
    nudge_id = target.nudge_id if isinstance(target, c.NudgeRef) else None
    return await core.drafter.draft_for(current, contact_id, nudge_id)
