"""A suggestion's buttons (accept, keep as it is, stop suggesting this): answer, then show
what happened in place of the buttons."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.core.overview import suggestion_statuses
from rapport.bot.core.views import RowStatus, SuggestionAnswered
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.home import (
    clicked_on_home,
    tell_home_click,
    tell_refused_click,
)
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.install import PLATFORM
from rapport.bot.platforms.slack.message_rows import (
    RowBlocks,
    RowNow,
    redrawn_blocks,
    redrawn_from_state,
)
from rapport.bot.platforms.slack.platform import (
    NOTHING_KEPT,
    Ack,
    Respond,
    SlackPlatform,
    team_of,
)
from rapport.scheduler import suggestions as rules
from rapport.scheduler.messenger import SuggestionItem
from rapport.storage import queries

logger = logging.getLogger(__name__)
# The same answer for someone else's and for one withdrawn since it was shown (disconnecting
# a calendar withdraws its offers): "isn't yours" would be wrong to the person it was for.
NOT_YOURS = ("I can't find that suggestion among yours; it may have been withdrawn "
             "(“/rapport suggestions” lists the open ones).")
# A message's suggestions (a weekly summary holds up to three): each one's sentence, then
# its buttons or the outcome that replaced them (see blocks.suggestion_blocks).
SUGGESTION_ROWS = RowBlocks(b.SUGGESTION_BLOCK_PREFIX)
# What a row whose buttons the person's copy still showed says once its suggestion was
# answered elsewhere: the answer, in its button's words ("Answered: Not now.").
_ANSWERS = (rules.ACCEPTED, rules.KEPT, rules.SILENCED)
# Withdrawn: silencing its kind, a change of plan, or nobody answering in time.
OUT_OF_DATE = "Out of date: nothing changed."


def _row_now(suggestion_id: int, status: RowStatus) -> RowNow:
    # The labels depend on the kind only ("Add / Not now / Never" for someone met).
    labels = SuggestionItem(suggestion_id, status.kind, text="", kind_label="").labels
    if status.status == rules.OPEN:
        return RowNow(b.suggestion_actions(suggestion_id, labels).to_dict())
    if status.status in _ANSWERS:
        return RowNow(None, f"Answered: {labels[_ANSWERS.index(status.status)]}.")
    return RowNow(None, OUT_OF_DATE)


def redrawn_suggestions(message_blocks: Sequence[dict[str, Any]], acted: int, outcome: str,
                        statuses: Mapping[int, RowStatus]) -> list[dict[str, Any]]:
    """The message after a click on suggestion `acted`, its rows decided by `statuses` (the
    server's state; see `message_rows.redrawn_blocks`), as a digest's are: an open
    suggestion keeps its buttons, one answered or withdrawn meanwhile (silencing a kind
    withdraws the others of that kind) says so, a forgotten person's loses its row."""
    now = {suggestion_id: _row_now(suggestion_id, status)
           for suggestion_id, status in statuses.items()}
    return redrawn_blocks(SUGGESTION_ROWS, message_blocks, acted, outcome, now)


@dataclass
class SuggestionButtons:
    platform: SlackPlatform

    async def owns(self, team_id: str, user_id: str, suggestion_id: int) -> bool:
        """True when the suggestion belongs to this Slack user (no rows created to find out)."""
        return await self.platform.rapport.db.run(lambda session: queries.suggestion_owned_by(
            session, suggestion_id, platform=PLATFORM, workspace_external_id=team_id,
            user_external_id=user_id), write=False)

    async def on_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, respond: Respond,
                        context: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = team_of(body), str(body.get("user", {}).get("id", ""))
        action_id = str(action.get("action_id", ""))
        raw_id = str(action.get("value") or "")
        suggestion_id = row_id(raw_id)
        can_respond = bool(body.get("response_url"))
        # Home has no response_url: what a click there did shows as Home republished, at
        # once, and what it could not do in a modal as well (home.tell_home_click).
        on_home = clicked_on_home(body)
        if team_id != context.get("team_id") or suggestion_id is None \
                or action_id not in b.SUGGESTION_ACTIONS or len(raw_id) > 12:
            logger.warning("suggestion action refused", extra={"reason": "malformed"})
            return
        if not await self.owns(team_id, user_id, suggestion_id):
            gone = not await self.platform.rapport.db.run(
                lambda session: queries.suggestion_exists(session, suggestion_id), write=False)
            # As a nudge's buttons do: after "forget me" nothing of the clicker's is kept, and
            # acting would enrol them again and redraw the cleared summary from the old copy.
            nothing_kept = gone and not await self.platform.keeps_rows_for(team_id, user_id)
            logger.warning("suggestion action refused", extra={
                "reason": "nothing kept" if nothing_kept else "gone" if gone
                else "not the owner"})
            # A button left on an old summary after "forget": the owner's own suggestion,
            # answered as Teams and the console answer it. Nothing is created either way.
            why = NOTHING_KEPT if nothing_kept \
                else f"I can't find suggestion {suggestion_id} among yours; it may have been " \
                "withdrawn (“/rapport suggestions” lists the open ones)." if gone else NOT_YOURS
            await tell_refused_click(self.platform, client, body, respond, team_id, user_id, why)
            return
        answer = b.SUGGESTION_ACTIONS[action_id]
        command = c.AnswerSuggestion(suggestion_id, answer)
        actor = self.platform.actor(team_id, user_id)
        reply = await self.platform.rapport.execute(actor, command)
        message = body.get("message") or {}
        # Refused because the suggestion was settled already (answered from another copy, a
        # typed answer, Home; or withdrawn): the clicked copy still shows live buttons, so
        # it is redrawn too, its row saying what became of the suggestion. Nothing changed.
        settled = not reply.ok and isinstance(reply.view, SuggestionAnswered)
        # Only the bot's message in the clicker's own DM is edited (see clicked_message).
        clicked = await self.platform.clicked_message(client, body, team_id, user_id) \
            if (reply.ok or settled) and message.get("blocks") else None
        redrawn = await redrawn_from_state(
            self.platform.rapport, actor, SUGGESTION_ROWS, suggestion_statuses,
            redrawn_suggestions, message["blocks"], suggestion_id, reply.text) \
            if clicked is not None else None
        if redrawn is not None and clicked is not None:
            channel, ts = clicked
            try:
                await client.chat_update(channel=channel, ts=ts, text=b.fallback(reply.text),
                                         blocks=redrawn)
            except SlackApiError as failure:
                logger.info("chat.update failed", extra={"error": failure.response.get("error")})
        elif can_respond:
            # An ephemeral answer (stats, suggestions) can't be edited: the outcome follows it.
            await respond(text=b.fallback(reply.text if reply.ok else f"⚠️ {reply.text}"),
                          response_type="ephemeral", replace_original=False)
        elif on_home and not reply.ok:
            await tell_home_click(self.platform, client, body, user_id, reply.text)
        await self.platform.refresh_home(client, team_id, user_id, at_once=on_home)


def register(platform: SlackPlatform) -> None:
    platform.app.action(re.compile(r"^suggestion_(accept|keep|silence)$"))(
        answered_at_ack(SuggestionButtons(platform).on_action))
