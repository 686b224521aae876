"""Message shortcut "Log touchpoint": a modal prefilled with the author, the message's day and
its text, saved as a typed `Log` command; the modal then shows the person's card saying what
was logged, as the card's own Log form does.

The touchpoint's source stays the typed one (`command`): a source of its own would need the
`Log` command to carry it into the core, and a new constant there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.core.context import UserContext
from rapport.bot.core.views import PersonView
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.incoming import plain_text, unnamed_mentions
from rapport.bot.platforms.slack.modals import open_modal
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform, team_of
from rapport.scheduler import planner

logger = logging.getLogger(__name__)

# A view_submission must be answered within 3 s, including a users.info for the author.
LOOKUP_BUDGET_SECONDS = 1.5
# The modal must open within the trigger id's 3 s, after users.info for the author, the
# clicker (their zone) and the people the message mentions, asked together.
PREFILL_LOOKUP_SECONDS = 1.0
# A message naming more people shows the rest by id rather than cost Slack's rate limit.
MAX_MENTIONS_LOOKED_UP = 10
# The core logs no conversation further back than this (people.log): an older message's day
# is not offered, today is.
OLDEST_LOGGABLE = timedelta(days=3650)


def message_day(ts: object, tz: str, today: date) -> date:
    """The day a message was posted (its `ts`, seconds since the epoch) in the user's zone;
    `today` for a ts that is no moment, or one past today or too old to log."""
    try:
        seconds = float(str(ts))
        if not math.isfinite(seconds):
            return today
        day = planner.local_date(datetime.fromtimestamp(seconds, UTC), tz)
    except (ValueError, OverflowError, OSError):
        return today
    return day if today - OLDEST_LOGGABLE <= day <= today else today


async def _loaded(ctx: UserContext) -> UserContext:
    return ctx


def log_command(values: dict[str, Any]) -> c.Log | dict[str, str]:
    """The modal's state as a typed command, or the errors to show per block."""
    def value(block: str) -> dict[str, Any]:
        found = (values.get(block) or {}).get("value") or {}
        return found if isinstance(found, dict) else {}

    contact = value("contact").get("selected_user")
    kind = str((value("kind").get("selected_option") or {}).get("value") or "chat")
    picked = value("day").get("selected_date")
    try:
        day = date.fromisoformat(str(picked)) if picked else None
    except ValueError:
        return {"day": "Pick a day."}
    # Cleaned as typed text is: a NUL (which PostgreSQL refuses), an RTL override or a
    # zero-width space never reaches the core.
    summary = c.clean_text(str(value("summary").get("value") or ""))
    if not contact:
        return {"contact": "Pick who you talked to."}
    if len(summary) > c.MAX_SUMMARY_CHARS:
        return {"summary": f"Keep the summary under {c.MAX_SUMMARY_CHARS:,} characters."}
    if kind.lower() not in c.KNOWN_KINDS:
        return {"kind": "Pick how you talked."}
    return c.Log(c.PersonRef(mention_id=str(contact)), day, kind.lower(), summary or None)


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
        raw_text = str(message.get("text") or "")
        author = self.author_to_prefill(team_id, user_id, message)
        # Who the author is (a bot, deactivated, or someone Slack can't find) decides whether
        # to offer them; the clicker's profile gives their zone; the people mentioned are
        # shown by name. Asked together: past the budget the author is offered (the submit
        # checks), a mention shows its id, and the day is counted in the zone known.
        others = [who for who in dict.fromkeys(
            [author or "", *unnamed_mentions(raw_text)[:MAX_MENTIONS_LOOKED_UP]])
            if who and who != user_id and self.platform.cache.get(team_id, who) is None]
        stored = asyncio.ensure_future(self.stored_zone(team_id, user_id))
        lookups = [asyncio.ensure_future(self.platform.warm_profile(client, team_id, user_id)),
                   *(asyncio.ensure_future(self.look_up(client, team_id, who))
                     for who in others)]
        _, pending = await asyncio.wait([stored, *lookups], timeout=PREFILL_LOOKUP_SECONDS)
        for task in pending:
            task.cancel()
        author = self.author_to_prefill(team_id, user_id, message)
        profile = self.platform.cache.get(team_id, user_id)
        zone = (stored.result() if stored.done() and not stored.cancelled()
                and stored.exception() is None else None) \
            or (profile.tz if profile is not None and profile.tz else None) or "UTC"
        day = message_day(message.get("ts"), zone,
                          planner.local_date(self.platform.rapport.clock(), zone))

        def name_of(mentioned: str) -> str | None:
            profile = self.platform.cache.get(team_id, mentioned)
            return profile.display_name if profile is not None and profile.display_name \
                else None

        # The summary box shows the message as its reader saw it, not Slack's markup.
        text = plain_text(raw_text, name_of=name_of)
        await open_modal(client, str(body.get("trigger_id") or ""),
                         b.log_touchpoint_view(author_id=author, summary=text,
                                               day=day.isoformat()),
                         respond=respond if body.get("response_url") else None)

    async def look_up(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """Cache someone's profile; a failure leaves them unnamed (the prefill is a nicety)."""
        try:
            await self.platform.directory(client, team_id).profile(user_id)
        except Exception as failure:
            logger.info("profile lookup failed", extra={"error": type(failure).__name__})

    async def stored_zone(self, team_id: str, user_id: str) -> str | None:
        """The zone Rapport counts the user's days in (their `settings tz`, else the one Slack
        reported), or None when Rapport keeps no rows for them (opening a form creates none)
        or the database can't be reached."""
        if not await self.platform.kept(team_id, user_id):
            return None
        ctx = await self.platform.rapport.with_user(self.platform.actor(team_id, user_id),
                                                    _loaded)
        return ctx.tz if ctx is not None else None

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
        actor = self.platform.actor(team_id, user_id)
        reply = await self.platform.rapport.execute(actor, command, directory=directory)
        if not reply.ok:
            field = "day" if reply.refused == "day" else "contact"
            await ack(response_action="errors", errors={field: b.clip(reply.text, 150)})
            return
        # What was logged shows in the modal, on the person's card as the card's Log form
        # shows it; without the card (the database gone meanwhile), on its own.
        card = await self.platform.rapport.execute(actor, c.ShowPerson(command.person),
                                                   directory=directory)
        await ack(response_action="update", view=b.person_modal(card.view, notice=reply.text)
                  if isinstance(card.view, PersonView)
                  else b.notice_view("Log touchpoint", reply.text))
        await self.platform.refresh_home(client, team_id, user_id)


def register(platform: SlackPlatform) -> None:
    shortcut = LogShortcut(platform)
    platform.app.shortcut(b.CALLBACK_LOG_TOUCHPOINT)(answered_at_ack(shortcut.on_log_shortcut))
    platform.app.view(b.CALLBACK_LOG_TOUCHPOINT)(answered_at_ack(shortcut.on_log_submit))
