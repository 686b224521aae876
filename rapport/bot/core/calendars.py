"""Use cases on calendar connections: connect (a private consent link), disconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapport.bot.core import commands as c
from rapport.bot.core.context import UserContext
from rapport.bot.core.views import Reply, error

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

NAMES = {"google": "Google", "microsoft": "Microsoft 365"}
NOT_SET_UP = ("Calendars are not set up on this Rapport server. An operator can turn them on "
              "(docs/calendars.md).")


async def connect(core: Rapport, ctx: UserContext, command: c.Connect) -> Reply:
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
    link = await calendars.start(ctx.user_id, ctx.workspace_id, provider)
    return Reply(f"Open this private link to connect your {NAMES.get(provider, provider)} "
                 "calendar (read-only; it works once, for 10 minutes):\n"
                 f"{link}\n"
                 "Rapport then logs the meetings you attend with your people (who and when, "
                 "never what was said) and can brief you before the next one. "
                 "“disconnect calendar” undoes it.")


async def disconnect(core: Rapport, ctx: UserContext, command: c.Disconnect) -> Reply:
    calendars = core.calendars
    if calendars is None:
        return error(NOT_SET_UP)
    done = await calendars.disconnect(ctx.user_id, command.provider)
    if not done:
        return Reply("No calendar is connected.")
    lines = []
    for item in done:
        name = NAMES.get(item.provider, item.provider)
        lines.append(f"Disconnected your {name} calendar; its tokens are deleted."
                     + ("" if item.revoked_at_provider else
                        f" Remove Rapport's access in your {name} account settings too "
                        "(the provider could not be told)."))
    return Reply("\n".join(lines), changed=True)
