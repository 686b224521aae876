"""Message shortcut "Log touchpoint": a modal prefilled with the author and the text, saved as
a typed `Log` command."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.incoming import plain_text
from rapport.bot.platforms.slack.modals import open_modal
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform, team_of

# A view_submission must be answered within 3 s, including a users.info for the author.
LOOKUP_BUDGET_SECONDS = 1.5
# The modal must open within the trigger id's 3 s, after a users.info for the author.
PREFILL_LOOKUP_SECONDS = 1.0


def log_command(values: dict[str, Any]) -> c.Log | dict[str, str]:
    """The modal's state as a typed command, or the errors to show per block."""
    def value(block: str) -> dict[str, Any]:
        found = (values.get(block) or {}).get("value") or {}
        return found if isinstance(found, dict) else {}

    contact = value("contact").get("selected_user")
    kind = str((value("kind").get("selected_option") or {}).get("value") or "chat")
    summary = " ".join(str(value("summary").get("value") or "").split())
    if not contact:
        return {"contact": "Pick who you talked to."}
    if len(summary) > c.MAX_SUMMARY_CHARS:
        return {"summary": f"Keep the summary under {c.MAX_SUMMARY_CHARS:,} characters."}
    if kind.lower() not in c.KNOWN_KINDS:
        return {"kind": "Pick how you talked."}
    return c.Log(c.PersonRef(mention_id=str(contact)), None, kind.lower(), summary or None)


@dataclass
class LogShortcut:
    platform: SlackPlatform

    async def on_log_shortcut(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient,
                              respond: Respond) -> None:
        await ack()
        team_id = team_of(body)
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        message = body.get("message") or {}
        author = self.author_to_prefill(team_id, user_id, message)
        if author is not None and self.platform.cache.get(team_id, author) is None:
            # Who the author is (a bot, deactivated, or someone Slack can't find) decides
            # whether to offer them; past the budget they are offered, the submit checks.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.platform.warm_profile(client, team_id, author),
                                       PREFILL_LOOKUP_SECONDS)
            author = self.author_to_prefill(team_id, user_id, message)

        def name_of(mentioned: str) -> str | None:
            profile = self.platform.cache.get(team_id, mentioned)
            return profile.display_name if profile is not None else None

        # The summary box shows the message as its reader saw it, not Slack's markup.
        text = plain_text(str(message.get("text") or ""), name_of=name_of)
        await open_modal(client, str(body.get("trigger_id") or ""),
                         b.log_touchpoint_view(author_id=author, summary=text),
                         respond=respond if body.get("response_url") else None)

    def author_to_prefill(self, team_id: str, user_id: str,
                          message: dict[str, Any]) -> str | None:
        """Who the modal offers as the person talked to: the message's author, unless the
        message is the user's own (logging a talk with yourself is refused) or a bot's
        (Rapport's own, an app's, a workflow's: Slack marks each with a `bot_id`), or the
        author is known to be a bot, deactivated, or someone Slack can't find (another
        organisation's, say). Then nobody is offered, and the person picks someone."""
        author = message.get("user")
        if not author or author == user_id or message.get("bot_id") \
                or message.get("subtype") == "bot_message":
            return None
        profile = self.platform.cache.get(team_id, str(author))
        if profile is not None and profile.not_a_person is not None:
            return None
        return str(author)

    async def on_log_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                            client: AsyncWebClient) -> None:
        team_id, user_id = team_of(body), str(body["user"]["id"])
        command = log_command(view.get("state", {}).get("values", {}))
        if isinstance(command, dict):
            await ack(response_action="errors", errors=command)
            return
        directory = self.platform.directory(client, team_id)
        assert command.person.mention_id is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(directory.profile(command.person.mention_id),
                                   LOOKUP_BUDGET_SECONDS)
        reply = await self.platform.rapport.execute(self.platform.actor(team_id, user_id),
                                                    command, directory=directory)
        if not reply.ok:
            await ack(response_action="errors", errors={"contact": b.clip(reply.text, 150)})
            return
        await ack()
        await self.platform.refresh_home(client, team_id, user_id)


def register(platform: SlackPlatform) -> None:
    shortcut = LogShortcut(platform)
    platform.app.shortcut(b.CALLBACK_LOG_TOUCHPOINT)(answered_at_ack(shortcut.on_log_shortcut))
    platform.app.view(b.CALLBACK_LOG_TOUCHPOINT)(answered_at_ack(shortcut.on_log_submit))
