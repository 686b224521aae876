"""Use cases on nudges: done, snooze, dismiss (typed or clicked) and drafting a message."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn, UserContext
from rapport.bot.core.journal import NUDGE_OUTCOME, NUDGE_SNOOZE, Change
from rapport.bot.core.people import find_contact, touch_clock
from rapport.bot.core.resolve import Resolved, resolve
from rapport.bot.core.touchpoints import record_touchpoint
from rapport.bot.core.views import NudgeActed, Reply, error
from rapport.scheduler import planner, wording
from rapport.storage import queries
from rapport.storage.models import OPEN_NUDGE_STATUSES, NudgeStatus
from rapport.storage.queries import NudgeRow

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

# "done Dana" means the nudge about Dana that is out, or about to be (today's window).
OPEN_NUDGE_LOOKAHEAD = timedelta(days=1)


def _open_nudge(turn: Turn, target: c.Target) -> tuple[NudgeRow | None, str | None]:
    if isinstance(target, c.NudgeRef):
        nudge = queries.nudge_of_user(turn.session, turn.user.user_id, turn.user.workspace_id,
                                      target.nudge_id)
        if nudge is None:
            # The same answer for "missing" and "someone else's": nothing leaks.
            return None, f"I can't find nudge #{target.nudge_id} among yours."
        return nudge, None
    result = resolve(turn.session, turn.user.user_id, target)
    if not isinstance(result, Resolved):
        return None, result.message
    nudge = queries.open_nudge_for_contact(turn.session, turn.user.user_id, result.contact.id,
                                           turn.now + OPEN_NUDGE_LOOKAHEAD)
    if nudge is None:
        return None, f"There is no open nudge for {result.contact.name}."
    return nudge, None


def _contact_name(turn: Turn, contact_id: int) -> str:
    state = queries.contact_state(turn.session, turn.user.user_id, contact_id)
    return state.name if state is not None else "them"


def done(turn: Turn, command: c.Done) -> Reply:
    user = turn.user
    person = None
    if isinstance(command.target, c.PersonRef):
        result = resolve(turn.session, user.user_id, command.target)
        if not isinstance(result, Resolved):
            return error(result.message)
        person = result.contact
    nudge, problem = _open_nudge(turn, command.target)
    change = Change(turn)
    if nudge is None and person is not None:
        # Nothing open: "done Dana" still means "I talked to Dana".
        state = touch_clock(turn, change, person.id)
        touchpoint_id = record_touchpoint(
            turn.session, workspace_id=user.workspace_id, user_id=user.user_id,
            contact_id=person.id, happened_at=turn.now, kind="chat", summary=command.summary,
            source="command", now=turn.now, state=state)
        change.inserted_row("touchpoints", touchpoint_id)
        change.save(f"logged chat with {person.name} on {wording.short_date(turn.today)}")
        return Reply(f"Logged a chat with {person.name}.", changed=True)
    if nudge is None:
        return error(problem or "Nothing to mark done.")
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    change.before_update("nudges", [nudge.id], NUDGE_OUTCOME)
    state = touch_clock(turn, change, nudge.contact_id)
    if nudge.note_id is not None:
        change.before_update("notes", [nudge.note_id], ("plan_at",))
    queries.set_nudge_status(turn.session, nudge.id, NudgeStatus.DONE, turn.now)
    touchpoint_id = record_touchpoint(
        turn.session, workspace_id=user.workspace_id, user_id=user.user_id,
        contact_id=nudge.contact_id, happened_at=turn.now, kind="chat",
        summary=command.summary, source="nudge", now=turn.now, state=state)
    change.inserted_row("touchpoints", touchpoint_id)
    if nudge.note_id is not None:
        queries.set_note_plan(turn.session, nudge.note_id, None)
    name = _contact_name(turn, nudge.contact_id)
    change.save(f"marked nudge #{nudge.id} about {name} done")
    return Reply(f"Nice. Logged that you reached out to {name}.",
                 changed=True, view=NudgeActed(nudge.id, NudgeStatus.DONE))


def dismiss(turn: Turn, command: c.Dismiss) -> Reply:
    nudge, problem = _open_nudge(turn, command.target)
    if nudge is None:
        return error(problem or "Nothing to dismiss.")
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    change = Change(turn)
    change.before_update("nudges", [nudge.id], NUDGE_OUTCOME)
    queries.set_nudge_status(turn.session, nudge.id, NudgeStatus.DISMISSED, turn.now)
    name = _contact_name(turn, nudge.contact_id)
    change.save(f"dismissed nudge #{nudge.id} about {name}")
    return Reply(f"Dismissed the nudge about {name}.",
                 changed=True, view=NudgeActed(nudge.id, NudgeStatus.DISMISSED))


def snooze(turn: Turn, command: c.Snooze) -> Reply:
    today = turn.today
    until = command.until or today + timedelta(days=command.days or 1)
    if command.minutes is None and c.snooze_problem(until, today) is not None:
        # Typed text was checked by the grammar; this is a date picker or a button.
        return error("Pick a day after today, within a year.")
    nudge, problem = _open_nudge(turn, command.target)
    if nudge is None and isinstance(command.target, c.PersonRef) and problem is not None \
            and problem.startswith("There is no open nudge"):
        return _hold_next(turn, command.target, until, command.minutes)
    if nudge is None:
        return error(problem or "Nothing to snooze.")
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    change = Change(turn)
    change.before_update("nudges", [nudge.id], NUDGE_SNOOZE)
    name = _contact_name(turn, nudge.contact_id)
    if command.minutes is not None:
        back = turn.now + timedelta(minutes=command.minutes)
        queries.snooze_nudge(turn.session, nudge.id, back)
        length = _length(command.minutes)
        clock = back.astimezone(planner.zone(turn.user.tz))
        day = "" if clock.date() == today else " " + wording.friendly_day(clock.date(), today)
        change.save(f"snoozed nudge #{nudge.id} about {name} for {length}")
        return Reply(f"Snoozed the nudge about {name} for {length} (until {clock:%H:%M}{day}"
                     "; it comes back inside your delivery window).", changed=True,
                     view=NudgeActed(nudge.id, NudgeStatus.SNOOZED, clock.date()))
    queries.snooze_nudge(turn.session, nudge.id, planner.local_moment(
        until, turn.user.prefs.window_start_minute, turn.user.tz))
    change.save(f"snoozed nudge #{nudge.id} about {name} until {wording.short_date(until)}")
    return Reply(f"Snoozed the nudge about {name} until "
                 f"{wording.friendly_day(until, today)}.", changed=True,
                 view=NudgeActed(nudge.id, NudgeStatus.SNOOZED, until))


def _length(minutes: int) -> str:
    if minutes % 60:
        return wording.counted(minutes, "minute")
    return wording.counted(minutes // 60, "hour")


def _hold_next(turn: Turn, person: c.PersonRef, until: date, minutes: int | None) -> Reply:
    """"snooze Dana 1 week" with no nudge out: the next rhythm nudge waits until then."""
    result = resolve(turn.session, turn.user.user_id, person)
    if not isinstance(result, Resolved):
        return error(result.message)
    contact = result.contact
    state = queries.contact_state(turn.session, turn.user.user_id, contact.id)
    if state is None or not state.cadence_days or minutes is not None:
        return error(f"There is no open nudge for {contact.name}.")
    hold = planner.local_moment(until, turn.user.prefs.window_start_minute, turn.user.tz)
    if state.plan_at is not None and state.plan_at >= hold:
        return error(f"No nudge about {contact.name} is due before "
                     f"{wording.friendly_day(until, turn.today)} anyway.")
    change = Change(turn)
    change.before_update("contacts", [contact.id], ("plan_at",))
    queries.update_contact(turn.session, turn.user.user_id, contact.id, plan_at=hold)
    change.save(f"held the next nudge about {contact.name} until {wording.short_date(until)}")
    return Reply(f"No nudge about {contact.name} is out; the next one waits until "
                 f"{wording.friendly_day(until, turn.today)}.", changed=True)


async def draft(core: Rapport, ctx: UserContext, command: c.Draft) -> Reply:
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

    contact_id, name, problem, current = await core.read(ctx, contact_of)
    if contact_id is None:
        return error(problem or "Who do you mean?")
    if core.drafter is None:
        who = f"to {wording.first_name(name)} " if name else ""
        return Reply(f"AI drafts are not set up yet. Write {who}in your own words.")
    nudge_id = target.nudge_id if isinstance(target, c.NudgeRef) else None
    return await core.drafter.draft_for(current, contact_id, nudge_id)
