"""Use cases on chat capture: `settings capture slack on|off` (issue 16).

The consent itself is the platform's (a private, single-use OAuth link); the core only asks
for it, explains what is and is not read, and reports the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapport.bot.core import commands as c
from rapport.bot.core.context import Directory, UserContext
from rapport.bot.core.views import Reply, error
from rapport.storage import queries

if TYPE_CHECKING:
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
