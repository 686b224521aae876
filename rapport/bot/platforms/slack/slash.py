"""`/rapport <text>`: fast commands answer inside the ack, slow ones right after it."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core.commands import revokes_a_grant
from rapport.bot.core.context import Actor
from rapport.bot.core.views import Reply, StatsView
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.imports import HOW_TO_IMPORT, is_import_command
from rapport.bot.platforms.slack.incoming import plain_text
from rapport.bot.platforms.slack.install import PLATFORM
from rapport.bot.platforms.slack.platform import (
    FIRST_PROFILE_SECONDS,
    RECEIVED_AT_KEY,
    Ack,
    Respond,
    SlackPlatform,
)

logger = logging.getLogger(__name__)

# Verbs that may take longer than Slack's 3 s: acknowledged first, answered through respond.
# `admin` asks users.info who is an admin, which must not delay the ack.
SLOW_VERBS = frozenset({"draft", "export", "stats", "admin", "disconnect"})
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass
class SlashCommand:
    platform: SlackPlatform

    def is_slow(self, text: str, team_id: str) -> bool:
        """Commands that may outlast the ack: slow verbs, or @mentions not in the cache."""
        words = text.strip().split(maxsplit=1)
        if (words and words[0].lower() in SLOW_VERBS) or revokes_a_grant(text):
            return True
        return any(self.platform.cache.get(team_id, uid) is None
                   for uid in _MENTION.findall(text))

    async def on_command(self, ack: Ack, command: dict[str, Any], respond: Respond,
                         client: AsyncWebClient, context: dict[str, Any]) -> None:
        """Run the typed text; answer in the ack, or ack first and answer after."""
        platform = self.platform
        # Slack's 3 s count from when the request arrived (set by the HTTP transport); in
        # Socket Mode, from when this listener started.
        arrived = context.get(RECEIVED_AT_KEY)
        received = float(arrived) if isinstance(arrived, float) else time.monotonic()
        team_id, user_id = str(command.get("team_id", "")), str(command.get("user_id", ""))
        text = plain_text(str(command.get("text") or ""))
        if not team_id or not user_id:
            # Without both ids there is nobody to act for; never create rows for "".
            logger.warning("command refused", extra={"reason": "malformed"})
            await ack(response_type="ephemeral", text="Sorry, I couldn't tell who you are.")
            return

        def acting() -> Actor:
            return platform.actor(team_id, user_id, name=str(command.get("user_name") or ""),
                                  workspace_name=str(command.get("team_domain") or ""))

        directory = platform.directory(client, team_id)
        metrics = platform.runtime.metrics
        if self.is_slow(text, team_id):
            await ack(response_type="ephemeral", text="Working on it…")
            metrics.ack_seconds.labels(PLATFORM).observe(_since(received))
            verb = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
            editor = platform.draft_editor
            # First: the trigger id expires 3 s after the command.
            opened = await editor.open_loading(client, str(command.get("trigger_id") or "")) \
                if verb == "draft" and editor is not None else None
            await platform.profile_of_newcomer(client, team_id, user_id,
                                           budget=FIRST_PROFILE_SECONDS)
            started = time.monotonic()
            reply = await platform.rapport.handle_text(acting(), text, directory=directory,
                                                       admins=directory)
            metrics.command_seconds.labels(PLATFORM).observe(_since(started))
            if opened is not None and editor is not None:
                await editor.show_draft(client, opened, reply, answer=lambda shown: (
                    platform.send_pages(respond, shown, skip_first=False, client=client,
                                        user_id=user_id)))
            elif reply.attachment is not None and reply.ok and await platform.upload(
                    client, user_id, reply.text, reply.attachment):
                await respond(text="I've sent the file to our direct messages.",
                              response_type="ephemeral", replace_original=False)
            else:
                await platform.send_pages(respond, reply, skip_first=False, client=client,
                                          user_id=user_id)
                if isinstance(reply.view, StatsView) and reply.view.goals \
                        and platform.goal_charts is not None:
                    # The goal trend chart goes to the DM as a file (Slack shows no images
                    # from bytes in an ephemeral answer).
                    await platform.goal_charts.share(client, team_id, user_id,
                                                     reply.view.goals)
        else:
            deadline = platform.deadline(context)
            await platform.profile_of_newcomer(client, team_id, user_id, budget=min(
                FIRST_PROFILE_SECONDS, (deadline - time.monotonic()) / 2), deadline=deadline)
            # In Slack a file is uploaded to the bot, never named (docs/slack.md).
            started = time.monotonic()
            reply = Reply(HOW_TO_IMPORT) if is_import_command(text) \
                else await platform.rapport.handle_text(acting(), text, directory=directory,
                                                        deadline=deadline)
            if reply.busy:
                metrics.busy.labels(PLATFORM).inc()
            else:
                metrics.command_seconds.labels(PLATFORM).observe(_since(started))
            rendered = b.reply_pages(reply)
            await ack(text=rendered.text, blocks=rendered.pages[0], response_type="ephemeral")
            metrics.ack_seconds.labels(PLATFORM).observe(_since(received))
            await platform.send_pages(respond, reply, skip_first=True, rendered=rendered,
                                      client=client, user_id=user_id)
        if reply.changed:
            # After a forget, Home must not show them a moment longer (docs/data.md).
            await platform.refresh_home(client, team_id, user_id, at_once=reply.erased)
        await platform.warm_profile(client, team_id, user_id)


def _since(moment: float) -> float:
    """Seconds from `moment` (time.monotonic()) to now."""
    return time.monotonic() - moment


def register(platform: SlackPlatform) -> None:
    platform.app.command(b.SLASH_COMMAND)(answered_at_ack(SlashCommand(platform).on_command))
