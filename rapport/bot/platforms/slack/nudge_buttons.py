"""The buttons (and the date picker) on a nudge: act, then update the message in place."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.core.overview import OUT_STATUSES, nudge_statuses
from rapport.bot.core.views import RowStatus
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.home import (
    clicked_on_home,
    tell_home_click,
    tell_refused_click,
)
from rapport.bot.platforms.slack.incoming import row_id
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
from rapport.scheduler import wording

logger = logging.getLogger(__name__)

# A digest's rows: each nudge's headline, then its context line, then its buttons or the
# outcome that replaced them (see blocks.nudge_item_blocks).
NUDGE_ROWS = RowBlocks(b.NUDGE_BLOCK_PREFIX)
# What a row whose buttons the person's copy still showed says once its nudge was handled
# (from another copy of the message, a typed command, or App Home).
HANDLED = {"done": "Marked done.", "snoozed": "Snoozed.", "dismissed": "Dismissed."}
CLOSED = "Closed: nothing left to do."


def redrawn_digest(message_blocks: Sequence[dict[str, Any]], acted: int, outcome: str,
                   statuses: Mapping[int, RowStatus]) -> list[dict[str, Any]]:
    """The message after a click on nudge `acted`, its rows decided by `statuses` (the
    server's state; see `message_rows.redrawn_blocks`): a nudge still out keeps its buttons,
    one handled meanwhile says so, one that is not the clicker's or no longer stored (a
    forgotten person's) loses its row, and a digest's heading counts the people whose rows
    are left."""
    now = {nudge_id: RowNow(b.nudge_actions(nudge_id).to_dict()
                            if status.status in OUT_STATUSES else None,
                            HANDLED.get(status.status, CLOSED))
           for nudge_id, status in statuses.items()}
    redrawn = redrawn_blocks(NUDGE_ROWS, message_blocks, acted, outcome, now)
    people = len({statuses[nudge_id].contact_id for nudge_id in NUDGE_ROWS.ids(redrawn)
                  if nudge_id in statuses})
    return [b.digest_heading_block(people)
            if block.get("block_id") == b.DIGEST_HEADING_BLOCK and people else block
            for block in redrawn]


def handled_meanwhile(statuses: Mapping[int, RowStatus], nudge_id: int) -> str | None:
    """What a row says of a nudge handled since its message was sent (see `HANDLED`); None
    while it is still out, or not the clicker's."""
    status = statuses.get(nudge_id)
    if status is None or status.status in OUT_STATUSES:
        return None
    return HANDLED.get(status.status, CLOSED)


@dataclass
class NudgeButtons:
    platform: SlackPlatform

    async def on_nudge_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                              client: AsyncWebClient, respond: Respond,
                              context: dict[str, Any]) -> None:
        await ack()
        platform = self.platform
        team_id, user_id = team_of(body), str(body.get("user", {}).get("id", ""))
        action_id = str(action.get("action_id", ""))
        raw_id = action.get("value") or str(action.get("block_id", "")).removeprefix(
            b.NUDGE_BLOCK_PREFIX)
        can_respond = bool(body.get("response_url"))
        # Home has no response_url: what a click there did shows as Home republished, at
        # once, and what it could not do in a modal as well (home.tell_home_click).
        on_home = clicked_on_home(body)
        nudge_id = row_id(raw_id)
        if team_id != context.get("team_id") or nudge_id is None \
                or action_id not in b.NUDGE_ACTIONS:
            logger.warning("nudge action refused", extra={"reason": "malformed"})
            return
        if not await platform.owns_nudge(team_id, user_id, nudge_id):
            gone = not await platform.nudge_exists(nudge_id)
            # A button left on an old message after "forget": the owner's own nudge, and
            # after "forget me" nothing of the owner's at all.
            nothing_kept = gone and not await platform.keeps_rows_for(team_id, user_id)
            logger.warning("nudge action refused", extra={
                "reason": "nothing kept" if nothing_kept else "gone" if gone
                else "not the owner"})
            why = NOTHING_KEPT if nothing_kept \
                else f"I can't find nudge #{nudge_id} among yours." if gone \
                else "That nudge isn't yours."
            await tell_refused_click(platform, client, body, respond, team_id, user_id, why)
            return
        actor = platform.actor(team_id, user_id)
        name = b.NUDGE_ACTIONS[action_id]
        if name == "draft":
            if platform.draft_editor is not None:
                await platform.draft_editor.open_draft(
                    client, body, actor, nudge_id, respond=respond if can_respond else None)
            return
        picked = None
        if name == "snooze":
            try:
                picked = date.fromisoformat(str(action.get("selected_date")))
            except ValueError:
                return
        command = c.nudge_button(name, nudge_id, picked)
        if command is None:
            return
        reply = await platform.rapport.execute(actor, command)
        message = body.get("message") or {}
        # Only the bot's message in the clicker's own DM is edited; an ephemeral one (the
        # `due` answer) can't be, so its outcome follows it, as anywhere else.
        clicked = await platform.clicked_message(client, body, team_id, user_id) \
            if message.get("blocks") else None
        told = reply.text

        def redraw_refused(blocks: Sequence[dict[str, Any]], acted: int, _refusal: str,
                           statuses: Mapping[int, RowStatus]) -> list[dict[str, Any]]:
            # Refused because it was handled elsewhere meanwhile (a typed `done`, Home,
            # another copy): the clicked copy still shows live buttons, so it is redrawn as
            # it stands. Refused for another reason: nothing to redraw, the refusal is told.
            nonlocal told
            handled = handled_meanwhile(statuses, acted)
            if handled is None:
                return []
            # The message's `text` names whom the row is about, as a first click's does.
            headline = b.nudge_headline(blocks, acted)
            told = f"{headline} — {wording.lower_first(handled)}" if headline else handled
            return redrawn_digest(blocks, acted, handled, statuses)

        redrawn = await redrawn_from_state(
            platform.rapport, actor, NUDGE_ROWS, nudge_statuses,
            redrawn_digest if reply.ok else redraw_refused,
            message["blocks"], nudge_id, reply.text) if clicked is not None else None
        if redrawn and clicked is not None:
            channel, ts = clicked
            try:
                await client.chat_update(channel=channel, ts=ts, text=b.fallback(told),
                                         blocks=redrawn)
            except SlackApiError as failure:
                logger.info("chat.update failed", extra={"error": failure.response.get("error")})
        elif can_respond:
            await respond(text=b.fallback(reply.text), response_type="ephemeral",
                          replace_original=False)
        elif on_home and not reply.ok:
            await tell_home_click(platform, client, body, user_id, reply.text)
        await platform.refresh_home(client, team_id, user_id, at_once=on_home)


def register(platform: SlackPlatform) -> None:
    platform.app.action(re.compile(
        r"^nudge_(done|snooze_1d|snooze_1w|snooze_pick|draft|dismiss)$"))(
        answered_at_ack(NudgeButtons(platform).on_nudge_action))
