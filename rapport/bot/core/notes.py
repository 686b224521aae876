"""Use cases on what to remember about people: notes with follow-ups, yearly dates."""

from __future__ import annotations

from datetime import timedelta

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn
from rapport.bot.core.people import find_contact
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner, wording
from rapport.scheduler.planning import IMPORTANT_DATE_LEAD_DAYS
from rapport.storage import queries


def note(turn: Turn, command: c.AddNote) -> Reply:
    contact, problem, _ = find_contact(turn, command.person, create_mentions=True)
    if contact is None:
        return error(problem or "Who do you mean?")
    today = turn.today
    plan_at = None
    if command.follow_up_on is not None:
        moment = planner.follow_up_moment(command.follow_up_on, turn.user.prefs)
        # Today's follow-up is due now, not at this morning's window start.
        plan_at = max(moment, turn.now) if command.follow_up_on == today else moment
    queries.insert_note(turn.session, workspace_id=turn.user.workspace_id,
                        user_id=turn.user.user_id, contact_id=contact.id, text=command.text,
                        follow_up_on=command.follow_up_on, plan_at=plan_at, now=turn.now)
    if command.follow_up_on is None:
        return Reply(f"Noted for {contact.name}.", changed=True)
    return Reply(f"Noted. I'll remind you to ask {wording.first_name(contact.name)} about "
                 f"{wording.about_phrase(command.text)} "
                 f"{wording.friendly_day(command.follow_up_on, today)}.", changed=True)


def set_date(turn: Turn, command: c.SetDate) -> Reply:
    contact, problem, _ = find_contact(turn, command.person, create_mentions=True)
    if contact is None:
        return error(problem or "Who do you mean?")
    session, user = turn.session, turn.user
    existing = queries.important_date_id(session, contact.id, command.kind)
    what = "birthday" if command.kind == "birthday" else "work anniversary"
    if command.month is None or command.day is None:
        if existing is not None:
            queries.delete_important_date(session, existing)
        return Reply(f"Forgot {contact.name}'s {what}.", changed=True)
    occurrence = planner.yearly_occurrence(command.month, command.day, turn.today)
    plan_day = occurrence - timedelta(days=IMPORTANT_DATE_LEAD_DAYS)
    plan_at = max(turn.now, planner.local_moment(plan_day, user.prefs.window_start_minute,
                                                 user.tz))
    if existing is None:
        queries.insert_important_date(session, workspace_id=user.workspace_id,
                                      user_id=user.user_id, contact_id=contact.id,
                                      kind=command.kind, month=command.month, day=command.day,
                                      plan_at=plan_at, now=turn.now)
    else:
        queries.update_important_date(session, existing, month=command.month, day=command.day,
                                      plan_at=plan_at)
    return Reply(f"I'll remind you of {wording.first_name(contact.name)}'s {what} "
                 f"({wording.short_date(occurrence)}) a few days before.", changed=True)
