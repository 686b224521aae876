"""Use cases on calendar connections: connect (a private consent link), disconnect."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from rapport.bot.core import commands as c
from rapport.bot.core.chat_capture import complete_logged_chat
from rapport.bot.core.context import Directory, Turn, UserContext
from rapport.bot.core.touchpoints import calendar_touch_on, complete_calendar_touch
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner
from rapport.storage import queries

if TYPE_CHECKING:
    from rapport.bot.core.journal import Change
    from rapport.bot.core.rapport import Rapport

NAMES = {"google": "Google", "microsoft": "Microsoft 365"}
NOT_SET_UP = ("Calendars are not set up on this Rapport server. An operator can turn them on "
              "(docs/calendars.md).")


async def connect(core: Rapport, ctx: UserContext, command: c.Connect,
                  directory: Directory | None) -> Reply:
    del directory  # nobody is named by @mention here
    calendars = core.calendars
    if calendars is None or not calendars.available:
        return error(NOT_SET_UP)
    provider = command.provider
    if provider is None:
        if len(calendars.available) > 1:
            names = " or ".join(f"“connect {p} calendar”" for p in calendars.available)
            return error(f"Which calendar? Type {names}.")
        provider = calendars.available[0]
    if provider not in calendars.available:
        return error(f"{NAMES.get(provider, provider)} calendars are not set up here; "
                     f"{', '.join(NAMES.get(p, p) for p in calendars.available)} is.")
    states = {state[0]: state[1] for state in await core.read(
        ctx, lambda turn: queries.calendar_states(turn.session, ctx.user_id))}
    name = NAMES.get(provider, provider)
    # The state is stored only while the ids are still the actor's (see `Calendars.start`):
    # whoever opens the link connects their calendar to these rows.
    link = await calendars.start(ctx.user_id, ctx.workspace_id, provider, owner=ctx)
    again = {"active": f"Your {name} calendar is connected already; this link replaces its "
                       "grant (with the same or another account), and no meeting is logged "
                       "twice. ",
             "paused": f"Your {name} calendar stopped letting Rapport read it; this link "
                       "connects it again. "}.get(states.get(provider, ""), "")
    return Reply(f"{again}Open this private link to connect your {name} "
                 "calendar (read-only; it works once, for 10 minutes, and connects the calendar "
                 "of whoever opens it to your Rapport, so keep it to yourself):\n"
                 f"{link}\n"
                 "Rapport then logs the meetings you attend with your people (who and when, "
                 "never what was said) and can brief you before the next one. "
                 "“disconnect calendar” undoes it.")


# Where a person removes Rapport's access themselves when the provider can't be told.
REMOVE_ACCESS = {
    "microsoft": "Microsoft gives Rapport no way to withdraw its access: remove Rapport at "
                 "https://myapps.microsoft.com (work or school account) or "
                 "https://account.live.com/consent/Manage (personal account)."}


async def disconnect(core: Rapport, ctx: UserContext, command: c.Disconnect,
                     directory: Directory | None) -> Reply:
    del directory  # nobody is named by @mention here
    calendars = core.calendars
    if calendars is None:
        return error(NOT_SET_UP)
    # Read again first: a cached id may be another user's since a `forget me` elsewhere.
    ctx = await core.recheck(ctx)
    done = await calendars.disconnect(ctx.user_id, command.provider)
    if not done:
        if command.provider is not None:
            return Reply(f"Your {NAMES.get(command.provider, command.provider)} calendar is "
                         "not connected.")
        return Reply("No calendar is connected.")
    lines = []
    for item in done:
        name = NAMES.get(item.provider, item.provider)
        if not item.had_grant:
            # Paused: the provider refused the grant already, so there is nothing to withdraw.
            lines.append(f"Disconnected your {name} calendar (it had stopped letting Rapport "
                         "read it already).")
            continue
        lines.append(f"Disconnected your {name} calendar: Rapport no longer reads it, and its "
                     "tokens are deleted."
                     + ("" if item.revoked_at_provider else " " + REMOVE_ACCESS.get(
                         item.provider, f"{name} could not be told: remove Rapport's access "
                                        f"in your {name} account settings too.")))
    still_connected = await core.read(
        ctx, lambda turn: queries.calendar_states(turn.session, ctx.user_id))
    # Offers another connected calendar still backs stay (queries.delete_attendee_offers).
    elsewhere = " (unless your other calendar has them too)" if still_connected else ""
    lines.append("Meetings already logged stay as conversations (“show <name>” lists them, "
                 "“delete t7” removes one). People you met who aren't among your people, and "
                 f"open offers to add them, are forgotten{elsewhere}; a “Never” you gave "
                 "still holds.")
    return Reply("\n".join(lines), changed=True)


def complete_logged_meeting(turn: Turn, change: Change, contact_id: int, day: date,
                            state: queries.TouchState | None, *, kind: str | None,
                            summary: str | None) -> str | None:
    """A `log` of someone on a day the calendar logged a meeting with them (the user's local
    day): the meeting is the conversation they mean, so their words complete its touchpoint
    rather than count it twice (the way round, a day they logged first gets no meeting from
    the calendar: capture's `log_ended`). One change for `undo`, which gives the touchpoint
    back to the calendar as it was. `state`: the contact as the log read it (None: not the
    user's). `kind`: the one the user said, None when they said none (the meeting's stays).
    Without a meeting, a chat logged from the user's DMs that day is completed the same way
    (`chat_capture.complete_logged_chat`). The kind the touchpoint has now; None when there
    is no such meeting or chat to complete."""
    if state is None:
        return None
    session, user = turn.session, turn.user
    newest = state.calendar_touch_at
    meeting = None
    if newest is not None and planner.local_date(newest, user.tz) >= day:
        meeting = calendar_touch_on(session, user.user_id, contact_id, day, user.tz)
    if meeting is None:
        return complete_logged_chat(turn, change, contact_id, day, state, kind=kind,
                                    summary=summary)
    touchpoint_id, kept = meeting
    change.before_update("touchpoints", [touchpoint_id], ("kind", "summary", "source"))
    let_go = complete_calendar_touch(session, user_id=user.user_id, contact_id=contact_id,
                                     touchpoint_id=touchpoint_id, kind=kind, summary=summary,
                                     now=turn.now)
    change.let_go_captured(let_go, touchpoint_id)
    return kept if kind is None else kind
