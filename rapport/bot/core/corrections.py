"""Use cases that fix a mistake in one place: edit or delete one note or conversation (by
the handle `show` prints), rename a person, set one of their details. All are undoable."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn
from rapport.bot.core.journal import CLOCK, Change
from rapport.bot.core.notes import follow_up_plan, follow_up_refusal, reminder_sentence
from rapport.bot.core.people import named_mentions, resolve_person, summary_named
from rapport.bot.core.resolve import Resolved
from rapport.bot.core.touchpoints import DAY_ONLY_MINUTE, delete_touchpoint, move_touchpoint
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner, wording
from rapport.storage import queries
from rapport.storage.names import first_word, name_key


def _missing(handle: str) -> Reply:
    # The same answer for a handle that does not exist and one that is someone else's.
    return error(f"I can't find {handle} among yours. “show <person>” lists the handles.")


def edit(turn: Turn, command: c.EditNote | c.EditTouch | c.EditNewest) -> Reply:
    if isinstance(command, c.EditNewest):
        return _edit_newest(turn, command)
    if isinstance(command, c.EditTouch):
        return _edit_touch(turn, command)
    return _edit_note(turn, command)


def _edit_newest(turn: Turn, command: c.EditNewest) -> Reply:
    """The note or conversation recorded last, changed as `edit` with its handle would
    change it (the reply names the handle; `undo` reverses it)."""
    kind: Literal["note", "touchpoint"] = "note" if isinstance(command.change, c.EditNote) \
        else "touchpoint"
    found = _newest(turn, kind, command.person, "edit")
    if isinstance(found, Reply):
        return found
    if isinstance(command.change, c.EditNote):
        return _edit_note(turn, replace(command.change, note_id=found))
    return _edit_touch(turn, replace(command.change, touchpoint_id=found))


def _edit_note(turn: Turn, command: c.EditNote) -> Reply:
    session, user_id = turn.session, turn.user.user_id
    handle = f"n{command.note_id}"
    row = queries.note_row(session, user_id, command.note_id)
    if row is None:
        return _missing(handle)
    refusal = None if command.clear_follow_up else follow_up_refusal(turn,
                                                                      command.follow_up_on)
    if refusal is not None:
        return refusal
    new_text = named_mentions(turn, command.text) if command.text is not None else None
    change = Change(turn)
    change.before_update("notes", [command.note_id],
                         ("text", "follow_up_on", "event_on", "plan_at"))
    values: dict[str, object] = {}
    if new_text is not None and new_text != row.text:
        values["text"] = new_text
    new_follow_up = row.follow_up_on
    if command.clear_follow_up:
        new_follow_up = None
        values.update(follow_up_on=None, event_on=None, plan_at=None)
    elif command.follow_up_on is not None:
        new_follow_up = command.follow_up_on
        values.update(follow_up_on=command.follow_up_on, event_on=command.event_on,
                      plan_at=follow_up_plan(turn, command.follow_up_on))
    if not values:
        return error(f"{handle} already says that. Nothing changed.")
    if new_follow_up != row.follow_up_on:
        # A reminder already planned for the old day must not come as well, and one out and
        # not answered is closed: it would read "due now" beside the new day (the sweep
        # asks again on that day).
        closed = queries.waiting_note_nudge_ids(session, user_id, command.note_id) \
            + queries.note_nudge_ids(session, user_id, command.note_id)[2]
        change.before_update("nudges", closed, ("status",))
        queries.expire_nudges(session, closed)
    queries.update_note(session, user_id, command.note_id, **values)
    contact = queries.contact_state(session, user_id, row.contact_id)
    name = contact.name if contact is not None else "them"
    change.save(f"edited {handle} about {name}")
    text = str(values.get("text", row.text))
    when = ""
    if new_follow_up is not None:
        when = " " + reminder_sentence(turn, row.contact_id, name, text, new_follow_up)
    elif command.clear_follow_up:
        when = " No reminder any more."
    return Reply(c.full_stop(f"Changed {handle} ({name}): {text}") + when, changed=True)


def _edit_touch(turn: Turn, command: c.EditTouch) -> Reply:
    session, user_id = turn.session, turn.user.user_id
    handle = f"t{command.touchpoint_id}"
    row = queries.touch_row(session, user_id, command.touchpoint_id)
    if row is None:
        return _missing(handle)
    change = Change(turn)
    change.before_update("touchpoints", [command.touchpoint_id],
                         ("kind", "summary", "happened_at", "day_only"))
    change.before_update("contacts", [row.contact_id], CLOCK)
    values: dict[str, object] = {}
    if command.kind is not None and command.kind != row.kind:
        values["kind"] = command.kind
    new_summary = summary_named(turn, command.summary)
    if new_summary is not None and (new_summary or None) != row.summary:
        values["summary"] = new_summary or None
    today = turn.today
    old_day = planner.local_date(row.happened_at, turn.user.tz)
    move_to = None
    if command.day is not None and command.day != old_day:
        move_to = turn.now if command.day == today else min(
            turn.now, planner.local_moment(command.day, DAY_ONLY_MINUTE, turn.user.tz))
    if not values and move_to is None:
        return error(f"{handle} already says that. Nothing changed.")
    if values:
        queries.update_touchpoint(session, user_id, command.touchpoint_id, **values)
    if move_to is not None:
        # Moved to a past day, it stands for that day (moved again with the person's time
        # zone, left alone by a calendar sync); moved to today, it is now.
        move_touchpoint(session, command.touchpoint_id, move_to,
                        day_only=command.day != today)
    # A correction sticks: the calendar no longer moves or deletes what the person fixed
    # (before, a date or kind corrected here went back with the meeting's next change).
    change.let_go_captured(queries.take_over_captured(session, command.touchpoint_id),
                           command.touchpoint_id)
    contact = queries.contact_state(session, user_id, row.contact_id)
    name = contact.name if contact is not None else "them"
    day = command.day or old_day
    kind = str(values.get("kind", row.kind))
    summary = values["summary"] if "summary" in values else row.summary
    change.save(f"edited {handle} with {name}")
    about = f": {summary}" if summary else ""
    return Reply(c.full_stop(f"Changed {handle}: {kind} with {name} "
                             f"({wording.friendly_day(day, today)}){about}"), changed=True)


def delete(turn: Turn, command: c.DeleteEntry | c.DeleteNewest) -> Reply:
    session, user_id = turn.session, turn.user.user_id
    if isinstance(command, c.DeleteNewest):
        return _delete_newest(turn, command)
    change = Change(turn)
    if command.kind == "note":
        handle = f"n{command.entry_id}"
        row = queries.note_row(session, user_id, command.entry_id)
        if row is None:
            return _missing(handle)
        # Delivered nudges keep their history without the note; waiting ones go with it. One
        # out and not answered yet is closed: without its note it would read as a reminder
        # to keep in touch that was never due.
        waiting, delivered, unanswered = queries.note_nudge_ids(session, user_id,
                                                                command.entry_id)
        change.before_delete("notes", [command.entry_id])
        change.before_delete("nudges", waiting)
        change.before_update("nudges", delivered, ("note_id", "status"))
        queries.detach_note(session, delivered)
        queries.expire_nudges(session, unanswered)
        queries.delete_owned(session, "notes", user_id, command.entry_id)
        name = _name(turn, row.contact_id)
        change.save(f"deleted note {handle} about {name}")
        return Reply(c.full_stop(f"Deleted {handle} about {name}: {row.text}")
                     + " “undo” brings it back.", changed=True)
    handle = f"t{command.entry_id}"
    touch = queries.touch_row(session, user_id, command.entry_id)
    if touch is None:
        return _missing(handle)
    change.before_delete("touchpoints", [command.entry_id])
    change.before_update("contacts", [touch.contact_id], CLOCK)
    # A calendar meeting deleted stays handled (it is not logged again); undo gives the
    # touchpoint back to the calendar, which then moves or cancels it as before.
    change.let_go_captured(queries.take_over_captured(session, command.entry_id),
                           command.entry_id)
    delete_touchpoint(session, command.entry_id)
    name = _name(turn, touch.contact_id)
    day = wording.friendly_day(planner.local_date(touch.happened_at, turn.user.tz), turn.today)
    change.save(f"deleted {handle}, {touch.kind} with {name} on "
                f"{wording.short_date(planner.local_date(touch.happened_at, turn.user.tz))}")
    return Reply(f"Deleted {handle}: {touch.kind} with {name} ({day}). “undo” brings it back.",
                 changed=True)


def _delete_newest(turn: Turn, command: c.DeleteNewest) -> Reply:
    """The note or conversation recorded last goes, as `delete n3` would take it; the reply
    names it with its handle, and `undo` brings it back."""
    found = _newest(turn, command.kind, command.person, "delete")
    if isinstance(found, Reply):
        return found
    return delete(turn, c.DeleteEntry(command.kind, found))


def _newest(turn: Turn, kind: Literal["note", "touchpoint"], person: c.PersonRef | None,
            verb: str) -> int | Reply:
    """The id of the newest note or conversation (of `person`'s), or the answer when there
    is none (or no such person)."""
    session, user_id = turn.session, turn.user.user_id
    contact_id: int | None = None
    whose = ""
    if person is not None:
        found = resolve_person(turn, person, offer_add=False)
        if not isinstance(found, Resolved):
            return error(found.message)
        contact_id, whose = found.contact.id, f" for {found.contact.name}"
    entry_id = queries.newest_entry_id(session, user_id, kind, contact_id)
    if entry_id is None:
        what = "notes" if kind == "note" else "conversations logged"
        return error(f"There are no {what}{whose} to {verb}.")
    return entry_id


def _name(turn: Turn, contact_id: int) -> str:
    state = queries.contact_state(turn.session, turn.user.user_id, contact_id)
    return state.name if state is not None else "them"


def rename(turn: Turn, command: c.Rename) -> Reply:
    session, user_id = turn.session, turn.user.user_id
    result = resolve_person(turn, command.person, offer_add=False)
    if not isinstance(result, Resolved):
        return error(result.message)
    contact = result.contact
    new_name = " ".join(command.new_name.split())[:100]
    key = name_key(new_name)
    taken = queries.contact_by_key(session, user_id, key)
    if taken is not None and taken.id != contact.id:
        return error(c.full_stop(f"You already have someone called {taken.name}")
                     + " Nothing changed.")
    if new_name == contact.name:
        return error(f"{contact.name} is already called that. Nothing changed.")
    change = Change(turn)
    change.before_update("contacts", [contact.id], ("name", "name_key", "first_key"))
    queries.update_contact(session, user_id, contact.id, name=new_name, name_key=key,
                           first_key=first_word(key))
    change.save(f"renamed {contact.name} to {new_name}")
    return Reply(c.full_stop(f"Renamed {contact.name} to {new_name}"), changed=True)


def new_company(turn: Turn, command: c.NewCompany) -> Reply:
    """"Lee moved to Initech": the company is set (undoably, as `set Lee company Initech`)
    when one of the person's contacts works there or its name ends like a company's only
    ("Hooli Inc"). Otherwise it may as well be a city ("Dana moved to Berlin"), and a
    contact has no place to keep one: ask, and say how to note the move instead."""
    result = resolve_person(turn, command.person, offer_add=False)
    if not isinstance(result, Resolved):
        return error(result.message)
    contact, company = result.contact, command.company
    if c.names_a_group(company):
        # "Priya joined the team": news worth a note, but no company and no conversation.
        group = company.split()[-1].strip(".,!").lower()
        if group in c.UNNAMED_COMPANY:
            return error(f"Which company did {contact.name} join? “set {contact.name} company "
                         f"Acme” records it.")
        tag = f"; to group your people, “tag {contact.name} {group}”" \
            if group in ("team", "squad", "group", "crew") else ""
        return error(f"“{company}” is not a company, and joining it is no conversation, so "
                     f"I stored nothing. To remember it: “note {contact.name}: {command.said} "
                     f"{company}”{tag}.")
    # "works at" or "for" names an employer; "moved to" may as well name a city.
    employer = command.said.lower().split()[-2:] in (["works", "at"], ["works", "for"])
    if not (employer or queries.someone_works_at(turn.session, turn.user.user_id, company)
            or c.looks_like_company(company)):
        role = f" (and “set {contact.name} role {command.role}”)" if command.role else ""
        return error(f"Is {company} {contact.name}'s new company? Then “set {contact.name} "
                     f"company {company}”{role} records it. If it is a place, Rapport keeps "
                     f"no address: “note {contact.name}: {command.said} {company}” remembers "
                     "it.")
    if command.role is None:
        return set_field(turn, c.SetField(c.PersonRef(contact_id=contact.id), "company",
                                          company))
    return _new_job(turn, contact.id, contact.name, company, command.role)


def _new_job(turn: Turn, contact_id: int, name: str, company: str, role: str) -> Reply:
    """Company and role set together, as one change `undo` reverses whole."""
    session, user_id = turn.session, turn.user.user_id
    was = {field: queries.contact_value(session, user_id, contact_id,
                                        c.PERSON_FIELDS[field].column)
           for field in ("company", "role")}
    if was == {"company": company, "role": role}:
        return error(f"{name} is already {role} at {company}. Nothing changed.")
    change = Change(turn)
    change.before_update("contacts", [contact_id], (c.PERSON_FIELDS["company"].column,
                                                    c.PERSON_FIELDS["role"].column))
    queries.update_contact(session, user_id, contact_id,
                           **{c.PERSON_FIELDS["company"].column: company,
                              c.PERSON_FIELDS["role"].column: role})
    change.save(f"set {name}'s company to {company} and role to {role}")
    role_was, company_was = was["role"], was["company"]
    before = " ".join(part for part in (role_was, f"at {company_was}" if company_was else None)
                      if part)
    earlier = f" (was {before})" if before else ""
    return Reply(c.full_stop(f"{name} is now {role} at {company}{earlier}"), changed=True)


def set_field(turn: Turn, command: c.SetField) -> Reply:
    session, user_id = turn.session, turn.user.user_id
    spec = c.PERSON_FIELDS.get(command.field)
    if spec is None:
        return error(f"Which field? One of: {', '.join(c.PERSON_FIELDS)}.")
    result = resolve_person(turn, command.person, offer_add=False)
    if not isinstance(result, Resolved):
        return error(result.message)
    contact = result.contact
    current = queries.contact_value(session, user_id, contact.id, spec.column)
    if current == command.value:
        return error(f"{contact.name}'s {spec.label} is already "
                     f"{command.value if command.value is not None else 'empty'}. "
                     "Nothing changed.")
    change = Change(turn)
    change.before_update("contacts", [contact.id], (spec.column,))
    queries.update_contact(session, user_id, contact.id, **{spec.column: command.value})
    was = f" (was {current})" if current not in (None, "") else ""
    if command.value is None:
        change.save(f"cleared {contact.name}'s {spec.label}")
        return Reply(f"Cleared {contact.name}'s {spec.label}{was}.", changed=True)
    change.save(f"set {contact.name}'s {spec.label} to {command.value}")
    return Reply(c.full_stop(f"{contact.name}'s {spec.label} is now {command.value}{was}"),
                 changed=True)
