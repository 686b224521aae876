"""Use cases on nudges: done, snooze, dismiss (typed or clicked) and drafting a message."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn, UserContext
from rapport.bot.core.people import find_contact
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
    if nudge is None and person is not None:
        # Nothing open: "done Dana" still means "I talked to Dana".
        record_touchpoint(turn.session, workspace_id=user.workspace_id, user_id=user.user_id,
                          contact_id=person.id, happened_at=turn.now, kind="chat",
                          summary=command.summary, source="command", now=turn.now)
        return Reply(f"Logged a chat with {person.name}.", changed=True)
    if nudge is None:
        return error(problem or "Nothing to mark done.")
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    queries.set_nudge_status(turn.session, nudge.id, NudgeStatus.DONE, turn.now)
    record_touchpoint(turn.session, workspace_id=user.workspace_id, user_id=user.user_id,
                      contact_id=nudge.contact_id, happened_at=turn.now, kind="chat",
                      summary=command.summary, source="nudge", now=turn.now)
    if nudge.note_id is not None:
        queries.set_note_plan(turn.session, nudge.note_id, None)
    return Reply(f"Nice. Logged that you reached out to {_contact_name(turn, nudge.contact_id)}.",
                 changed=True, view=NudgeActed(nudge.id, NudgeStatus.DONE))


def dismiss(turn: Turn, command: c.Dismiss) -> Reply:
    nudge, problem = _open_nudge(turn, command.target)
    if nudge is None:
        return error(problem or "Nothing to dismiss.")
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    queries.set_nudge_status(turn.session, nudge.id, NudgeStatus.DISMISSED, turn.now)
    return Reply(f"Dismissed the nudge about {_contact_name(turn, nudge.contact_id)}.",
                 changed=True, view=NudgeActed(nudge.id, NudgeStatus.DISMISSED))


def snooze(turn: Turn, command: c.Snooze) -> Reply:
    today = turn.today
    until = command.until or today + timedelta(days=command.days or 1)
    if c.snooze_problem(until, today) is not None:
        # Typed text was checked by the grammar; this is a date picker or a button.
        return error("Pick a day after today, within a year.")
    nudge, problem = _open_nudge(turn, command.target)
    if nudge is None:
        return error(problem or "Nothing to snooze.")
    if nudge.status not in OPEN_NUDGE_STATUSES:
        return error(f"That nudge is already {nudge.status}.")
    queries.snooze_nudge(turn.session, nudge.id, planner.local_moment(
        until, turn.user.prefs.window_start_minute, turn.user.tz))
    return Reply(f"Snoozed the nudge about {_contact_name(turn, nudge.contact_id)} until "
                 f"{wording.friendly_day(until, today)}.", changed=True,
                 view=NudgeActed(nudge.id, NudgeStatus.SNOOZED, until))


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
