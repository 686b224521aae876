"""Use cases on people and touchpoints: add someone, log a conversation, set a rhythm."""

from __future__ import annotations

from rapport.bot.core import commands as c
from rapport.bot.core.context import MentionNamesNeeded, Turn
from rapport.bot.core.resolve import Resolved, name_key, resolve
from rapport.bot.core.touchpoints import record_touchpoint
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner, wording
from rapport.storage import queries
from rapport.storage.queries import ContactName


def find_contact(turn: Turn, person: c.PersonRef, *, create_mentions: bool
                 ) -> tuple[ContactName | None, str | None, bool]:
    """(contact, why not, created) for `person`; an unknown @mention may become a contact."""
    result = resolve(turn.session, turn.user.user_id, person)
    if isinstance(result, Resolved):
        return result.contact, None, False
    if person.mention_id and create_mentions:
        contact = create_contact(turn, person, kind="colleague", company=None,
                                 cadence_days=None)
        return contact, None, True
    return None, result.message, False


def create_contact(turn: Turn, person: c.PersonRef, *, kind: str, company: str | None,
                   cadence_days: int | None) -> ContactName:
    """A new contact; a colleague's name comes from the platform's directory."""
    if person.mention_id:
        if person.mention_id not in turn.mention_names:
            raise MentionNamesNeeded((person.mention_id,))
        name = (turn.mention_names[person.mention_id] or person.mention_name or person.text
                or person.mention_id)[:100]
    else:
        name = person.text[:100]
    if person.mention_id and queries.contact_by_key(turn.session, turn.user.user_id,
                                                    name_key(name)) is not None:
        # Two colleagues with one display name: the id tells them apart.
        name = f"{name} ({person.mention_id})"[:200]
    next_due = planner.cadence_next_due(None, cadence_days, turn.now)
    contact_id = queries.insert_contact(
        turn.session, workspace_id=turn.user.workspace_id, user_id=turn.user.user_id,
        name=name, key=name_key(name), kind=kind, platform_user_id=person.mention_id,
        company=company, cadence_days=cadence_days, next_due_at=next_due, now=turn.now)
    return ContactName(contact_id, name, person.mention_id)


def add(turn: Turn, command: c.AddContact) -> Reply:
    person = command.person
    user_id = turn.user.user_id
    existing = queries.contact_by_mention(turn.session, user_id, person.mention_id) \
        if person.mention_id else queries.contact_by_key(turn.session, user_id,
                                                         name_key(person.text))
    if existing is not None:
        return error(f"You already keep in touch with {existing.name}.")
    contact = create_contact(turn, person, kind=command.kind, company=command.company,
                             cadence_days=command.cadence_days)
    label = wording.contact_label(contact.name, command.company)
    cadence = (f" I'll remind you to talk every {planner.humanize_days(command.cadence_days)}."
               if command.cadence_days else
               f" Set how often with “every {contact.name.split()[0]} 2 weeks”.")
    return Reply(f"Added {label} ({command.kind}).{cadence}", changed=True)


def _reading(turn: Turn, command: c.Log) -> c.Log:
    """The reading of the words whose person is exactly one of the user's contacts."""
    for alternative in command.alternatives:
        if queries.contact_by_key(turn.session, turn.user.user_id,
                                  name_key(alternative.person.text)) is not None:
            return alternative
    return command


def log(turn: Turn, command: c.Log) -> Reply:
    command = _reading(turn, command)
    contact, problem, created = find_contact(turn, command.person, create_mentions=True)
    if contact is None:
        return error(problem or "Who do you mean?")
    today = turn.today
    day = command.day if command.day not in (None, today) else None
    # A past day counts from its noon, never later than now.
    happened_at = turn.now if day is None else min(
        turn.now, planner.local_moment(day, 12 * 60, turn.user.tz))
    record_touchpoint(turn.session, workspace_id=turn.user.workspace_id,
                      user_id=turn.user.user_id, contact_id=contact.id, happened_at=happened_at,
                      kind=command.kind, summary=command.summary, source="command",
                      now=turn.now)
    when = "" if day is None else f" ({wording.friendly_day(day, today)})"
    added = f" I added {contact.name} to your people." if created else ""
    return Reply(f"Logged {command.kind} with {contact.name}{when}.{added}", changed=True)


def every(turn: Turn, command: c.SetCadence) -> Reply:
    contact, problem, _ = find_contact(turn, command.person, create_mentions=True)
    if contact is None:
        return error(problem or "Who do you mean?")
    user_id = turn.user.user_id
    state = queries.contact_state(turn.session, user_id, contact.id)
    assert state is not None  # found above in this same transaction
    next_due = planner.cadence_next_due(state.last_touch_at, command.days, state.created_at)
    queries.update_contact(turn.session, user_id, contact.id, cadence_days=command.days,
                           next_due_at=next_due, plan_at=next_due)
    if command.days is None:
        queries.expire_cadence_nudges(turn.session, contact.id, user_id=user_id)
        return Reply(f"No more keep-in-touch reminders for {contact.name}.", changed=True)
    today = turn.today
    due_day = planner.local_date(next_due, turn.user.tz) if next_due else today
    when = "now" if due_day <= today else wording.friendly_day(due_day, today)
    return Reply(f"I'll remind you to talk to {contact.name} every "
                 f"{planner.humanize_days(command.days)} (next: {when}).", changed=True)


def forget_person(turn: Turn, person: c.PersonRef) -> Reply:
    result = resolve(turn.session, turn.user.user_id, person)
    if not isinstance(result, Resolved):
        return error(result.message)
    queries.delete_contact(turn.session, turn.user.user_id, result.contact.id)
    return Reply(f"Forgot {result.contact.name}, with their notes, conversations, nudges "
                 "and drafts.", changed=True)
