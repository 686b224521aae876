"""Use cases on what to remember about people: notes with follow-ups, yearly dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn
from rapport.bot.core.journal import Change
from rapport.bot.core.nudges import not_a_working_day
from rapport.bot.core.people import choose_reading, find_contact, named_mentions
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner, wording
from rapport.scheduler.items import called_names
from rapport.scheduler.planning import IMPORTANT_DATE_LEAD_DAYS
from rapport.storage import queries
from rapport.storage.queries import ContactName


def follow_up_plan(turn: Turn, follow_up_on: date | None) -> datetime | None:
    """When the sweep should plan a note's nudge: the window start on its day (today's is
    due now, not at this morning's window start)."""
    if follow_up_on is None:
        return None
    moment = planner.follow_up_moment(follow_up_on, turn.user.prefs)
    return max(moment, turn.now) if follow_up_on <= turn.today else moment


def reminder_comes(turn: Turn, follow_up_on: date) -> tuple[date, str]:
    """The day a note's reminder for `follow_up_on` comes, as the sweep delivers it, and why
    that is not `follow_up_on` ("" when it is): a day off brings it on the next working day,
    and today's, once the delivery window has closed, on the next day it opens. A pause is
    said on its own (`paused_note`); the daily cap is left out: what else that day brings is
    not known yet."""
    prefs = replace(turn.user.prefs, paused_until=None)
    at = planner.next_delivery_moment(prefs, follow_up_plan(turn, follow_up_on) or turn.now)
    comes = planner.local_date(at, turn.user.tz) if at is not None else follow_up_on
    if comes == follow_up_on:
        return comes, ""
    if not planner.is_working_day(follow_up_on, prefs.working_days):
        return comes, not_a_working_day(follow_up_on, turn.today)
    end = prefs.window_end_minute
    return comes, f"today's delivery window ended at {end // 60:02d}:{end % 60:02d}"


def reminder_sentence(turn: Turn, contact_id: int, name: str, text: str, follow_up_on: date,
                      handle: str = "") -> str:
    """'I'll remind you on Mon Nov 30 to ask Dana Scully about the trip (n3): Sun Nov 29 is
    not one of your working days.': the day the reminder comes, and its words as the reminder
    says them (the full name when another contact has that first name)."""
    comes, why = reminder_comes(turn, follow_up_on)
    called = called_names(turn.session, {contact_id: name})[contact_id]
    todo = wording.lower_first(wording.reminder(name, text, called=called))
    said = f"I'll remind you {wording.on_day(comes, turn.today)} to {todo}"
    if handle:
        said += f" ({handle})"
    return c.full_stop(f"{said}: {why}" if why else said)


def paused_note(turn: Turn) -> str:
    """" Nudges are paused until Mon Nov 30, so it comes after that." or ""."""
    paused = turn.user.prefs.paused_until
    if paused is None or paused <= turn.now:
        return ""
    if paused.year >= 9999:
        return " Nudges are paused, so it waits until you type “resume”."
    day = planner.local_date(paused, turn.user.tz)
    return (f" Nudges are paused until {wording.friendly_day(day, turn.today)}, so it comes "
            "after that.")


FOLLOW_UP_PASSED = "That follow-up date has already passed."
FOLLOW_UP_TOO_FAR = ("That follow-up date is more than ten years away. Pick a day within the "
                     "next ten years.")
# The log's bound the other way: a date picker scrolled to 2099 is a slip, not a plan.
FOLLOW_UP_HORIZON = timedelta(days=3650)


def follow_up_refusal(turn: Turn, follow_up_on: date | None) -> Reply | None:
    """The refusal of a follow-up day that can't be used (passed, or too far away), about
    the command's `follow_up_on`; None when it can."""
    if follow_up_on is None:
        return None
    if follow_up_on < turn.today:
        # Typed text is checked by the grammar; this is a form's date picker.
        return error(FOLLOW_UP_PASSED, refused="follow_up_on")
    if follow_up_on > turn.today + FOLLOW_UP_HORIZON:
        return error(FOLLOW_UP_TOO_FAR, refused="follow_up_on")
    return None


def note(turn: Turn, command: c.AddNote) -> Reply:
    chosen = choose_reading(turn, (command, *command.alternatives), "note")
    if isinstance(chosen, str):
        return error(chosen)
    command, known = chosen
    # "birthday March 3", typed or in the card's Note form (read here, on the user's today):
    # their birthday, as "Lee's birthday is March 3" sets it, not a one-off reminder.
    birthday = command.birthday or (c.birthday_said(command.text, turn.today)
                                    if command.dates_unread and command.follow_up_on is None
                                    else None)
    if birthday is not None:
        return set_date(turn, c.SetDate(command.person, "birthday", *birthday), known=known)
    if command.dates_unread and command.follow_up_on is None:
        read = c.read_note_date(command.text, turn.today)
        if isinstance(read, c.CommandError):
            return error(read.message)
        command = replace(command, text=read.text or command.text,
                          follow_up_on=read.follow_up_on, event_on=read.event_on,
                          unread_date=read.unread, past_date=read.past)
    refusal = follow_up_refusal(turn, command.follow_up_on)
    if refusal is not None:
        return refusal
    text = named_mentions(turn, command.text)
    change = Change(turn)
    contact, problem, created = find_contact(turn, command.person, create_mentions=True,
                                             known=known, change=change)
    if contact is None:
        return error(problem or "Who do you mean?")
    if created:
        change.inserted_row("contacts", contact.id)
    today = turn.today
    note_id = queries.insert_note(
        turn.session, workspace_id=turn.user.workspace_id, user_id=turn.user.user_id,
        contact_id=contact.id, text=text, follow_up_on=command.follow_up_on,
        plan_at=follow_up_plan(turn, command.follow_up_on), now=turn.now,
        event_on=command.event_on)
    change.inserted_row("notes", note_id)
    change.save(f"added note n{note_id} for {contact.name}")
    handle = f"n{note_id}"
    if command.follow_up_on is None:
        text = f"Noted for {contact.name} ({handle})."
        if command.unread_date:
            text += (f" “{c.clip(command.unread_date)}” looks like a date, but I couldn't read "
                     f"it, so there is no reminder. To get one, say for example “edit {handle} "
                     "on Friday” or “edit {handle} on Dec 4”.").replace("{handle}", handle)
        elif command.past_date is not None:
            day = wording.friendly_day(command.past_date, today)
            text += f" {day[:1].upper()}{day[1:]} is in the past, so there is no reminder."
        return Reply(text, changed=True)
    reminder = reminder_sentence(turn, contact.id, contact.name, text, command.follow_up_on,
                                 handle)
    return Reply(f"Noted. {reminder}{paused_note(turn)}", changed=True)


def set_date(turn: Turn, command: c.SetDate, *, known: ContactName | None = None) -> Reply:
    """Set or forget a yearly date (`known`: the contact this unit of work found for
    `command.person` already)."""
    change = Change(turn)
    contact, problem, created = find_contact(turn, command.person, create_mentions=True,
                                             known=known, change=change)
    if contact is None:
        return error(problem or "Who do you mean?")
    session = turn.session
    if created:
        change.inserted_row("contacts", contact.id)
    existing = queries.important_date_id(session, contact.id, command.kind)
    what = "birthday" if command.kind == "birthday" else "work anniversary"
    if command.month is None or command.day is None:
        if existing is None:
            return error(c.full_stop(f"There is no {what} to forget for {contact.name}"))
        change.before_delete("important_dates", [existing])
        queries.delete_important_date(session, existing)
        change.save(f"removed {contact.name}'s {what}")
        return Reply(f"Forgot {contact.name}'s {what}.", changed=True)
    answer, day = keep_date(turn, change, contact, command, existing=existing)
    change.save(f"set {contact.name}'s {what} to {day}",
                unchanged=f"{contact.name}'s {what} is already {day}.")
    return Reply(answer, changed=True)


def keep_date(turn: Turn, change: Change, contact: ContactName, command: c.SetDate, *,
              existing: int | None) -> tuple[str, str]:
    """Store `command`'s yearly date of `contact` (`existing`: the id of the one of that kind
    they have), its rows in `change` for the caller to save (`set_date`, and `add …,
    birthday March 3`): the answer ("I'll remind you of Dana's birthday (Wed Mar 3 2027) a
    few days before.") and the day as the journal says it ("Mar 3, since 1985")."""
    assert command.month is not None and command.day is not None  # forgetting is no keeping
    session, user = turn.session, turn.user
    what = "birthday" if command.kind == "birthday" else "work anniversary"
    occurrence = planner.yearly_occurrence(command.month, command.day, turn.today)
    plan_day = occurrence - timedelta(days=IMPORTANT_DATE_LEAD_DAYS)
    plan_at = max(turn.now, planner.local_moment(plan_day, user.prefs.window_start_minute,
                                                 user.tz))
    if existing is None:
        date_id = queries.insert_important_date(
            session, workspace_id=user.workspace_id, user_id=user.user_id,
            contact_id=contact.id, kind=command.kind, month=command.month, day=command.day,
            plan_at=plan_at, now=turn.now, year=command.year)
        change.inserted_row("important_dates", date_id)
    else:
        change.before_update("important_dates", [existing],
                             ("month", "day", "year", "plan_at"), follows=("plan_at",))
        queries.update_important_date(session, existing, month=command.month, day=command.day,
                                      plan_at=plan_at, year=command.year)
    since = f", since {command.year}" if command.year else ""
    called = called_names(session, {contact.id: contact.name})[contact.id]
    return (f"I'll remind you of {called}'s {what} "
            f"({wording.short_date(occurrence, turn.today)}{since}) a few days before.",
            f"{occurrence:%b} {occurrence.day}{since}")
