"""Use cases on chat capture: `settings capture slack on|off` (issue 16).

The consent itself is the platform's (a private, single-use OAuth link); the core only asks
for it, explains what is and is not read, and reports the result.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from rapport.bot.core import commands as c
from rapport.bot.core.context import Directory, Turn, UserContext
from rapport.bot.core.touchpoints import MAX_KIND_CHARS
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner
from rapport.storage import queries
from rapport.storage.models import SLACK_DM_SOURCE, TYPED_SOURCE, Touchpoint

if TYPE_CHECKING:
    from rapport.bot.core.journal import Change
    from rapport.bot.core.rapport import Rapport

NAMES = {"slack": "Slack"}
WHAT_IS_READ = (
    "What Rapport uses: who you exchanged a direct message with and when, only with people "
    "you added to Rapport, as one “chat” conversation per person per day. Slack sends each of "
    "your DMs to Rapport as it happens (that is what the permission means); Rapport looks only "
    "at the sender, the conversation and the time, and drops the rest unread: the text, files "
    "and reactions are never stored, logged or sent anywhere. Channels and group DMs are not "
    "sent at all. “settings capture slack off” stops it and deletes the grant.")


def needs_platform(platform: str, on: bool = True) -> str:
    name = NAMES.get(platform, platform)
    return (f"Logging {name} DMs works from {name}: type “settings capture {platform} "
            f"{'on' if on else 'off'}” to Rapport there (the /rapport command or your DM with "
            "Rapport).")


# Slack keeps one user grant per person and app: revoking it ends everything it allowed.
SHARED_GRANT = {"slack": " If you had let Rapport post your edited drafts as you, that ends "
                         "too until you allow it again (Slack keeps one grant per person)."}

NOT_SET_UP = ("Logging Slack DMs is not set up on this Rapport server: it needs the Slack "
              "app installed with OAuth and a public URL. An operator can turn it on "
              "(docs/slack.md).")


async def capture(core: Rapport, ctx: UserContext, command: c.CaptureChat,
                  directory: Directory | None) -> Reply:
    """Turn capture of the user's DMs on (a consent link) or off (revoke and delete)."""
    del directory  # nobody is named by @mention here
    if ctx.platform != command.platform:
        return error(needs_platform(command.platform, command.on))
    chats = core.chat_captures.get(command.platform)
    if chats is None:
        return error(NOT_SET_UP)
    name = NAMES.get(command.platform, command.platform)
    if command.on:
        link = await chats.start(ctx)
        already = command.platform in await core.read(
            ctx, lambda turn: queries.chat_capture_providers(turn.session, ctx.user_id))
        renew = (f"Logging your {name} DMs is already on; this link renews the grant. "
                 if already else "")
        return Reply(f"{renew}Open this private link to let Rapport log your {name} DMs with your "
                     "people as conversations (it works once, for 10 minutes; Slack asks you "
                     "to allow reading your direct messages, which is how Slack names this "
                     f"permission):\n{link}\n{WHAT_IS_READ}")
    # Read again first: a cached id may be another user's since a `forget me` elsewhere.
    ctx = await core.recheck(ctx)
    revoked = await chats.stop(ctx.user_id)
    if revoked is None:
        return Reply(f"Logging your {name} DMs is already off; Rapport holds no grant.")
    return Reply(f"Stopped logging your {name} DMs; the grant is deleted"
                 + (f" and revoked at {name}." if revoked else
                    f". {name} could not be told: remove Rapport's access in your {name} "
                    "settings too.")
                 + " Conversations logged so far stay (“show <name>” lists them, “delete t7” "
                 "removes one)." + SHARED_GRANT.get(command.platform, ""),
                 changed=True)


def complete_logged_chat(turn: Turn, change: Change, contact_id: int, day: date,
                         state: queries.TouchState, *, kind: str | None,
                         summary: str | None) -> str | None:
    """A `log` of someone on a day Rapport logged a chat from the user's DMs with them (the
    user's local day): that chat is the conversation they mean, so their words complete its
    touchpoint rather than count it twice, as for a meeting the calendar logged
    (`calendars.complete_logged_meeting`; the way round, a day they logged first gets no chat:
    `connectors.chats.capture`). It takes their kind when they said one (None: "chat" stays)
    and their words, and becomes theirs, no longer marked as logged from their DMs. One change
    for `undo`, which gives it back as it was. The kind the touchpoint has now; None when
    there is no such chat to complete."""
    tz = turn.user.tz
    last = state.clock.last_touch_at
    if turn.user.platform not in NAMES or last is None or planner.local_date(last, tz) < day:
        # No DMs of theirs are logged on this platform, or nothing was logged with them
        # since that day began: nothing more to read (a `log` costs no statement more).
        return None
    user_id = turn.user.user_id
    # The DMs' own chat of that day, untouched: one the person gave words (`edit t7: ...`) or
    # a day by hand is theirs already.
    chat = turn.session.execute(select(Touchpoint.id, Touchpoint.kind).where(
        Touchpoint.user_id == user_id, Touchpoint.contact_id == contact_id,
        Touchpoint.source == SLACK_DM_SOURCE,
        or_(Touchpoint.summary.is_(None), Touchpoint.summary == ""),
        Touchpoint.day_only.is_(False),
        Touchpoint.happened_at >= planner.local_moment(day, 0, tz),
        Touchpoint.happened_at < planner.local_moment(day + timedelta(days=1), 0, tz))
        .order_by(Touchpoint.happened_at.desc(), Touchpoint.id.desc()).limit(1)).first()
    if chat is None:
        return None
    touchpoint_id, kept = chat
    change.before_update("touchpoints", [touchpoint_id], ("kind", "summary", "source"))
    said = {} if kind is None else {"kind": kind[:MAX_KIND_CHARS]}
    queries.update_touchpoint(turn.session, user_id, touchpoint_id, summary=summary,
                              source=TYPED_SOURCE, **said)
    # As any logged conversation does (the chat closed those out then already; one sent
    # since is answered now).
    queries.close_cadence_nudges(turn.session, user_id, contact_id, turn.now)
    return str(kept) if kind is None else kind
