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
from rapport.bot.core.context import Actor
from rapport.bot.core.overview import OUT_STATUSES, nudge_statuses
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform, team_of

logger = logging.getLogger(__name__)

# The blocks of one nudge's row in a message (see blocks.nudge_item_blocks): its headline,
# then its context line, then its buttons, or the outcome that replaced them.
_ROW_START = "nudge_text_"
_ROW_OUTCOME = f"{b.NUDGE_BLOCK_PREFIX}outcome_"
# What a row whose buttons the person's copy still showed says once its nudge was handled
# (from another copy of the message, a typed command, or App Home).
HANDLED = {"done": "Marked done.", "snoozed": "Snoozed.", "dismissed": "Dismissed."}
CLOSED = "Closed: nothing left to do."


def _row_end(block_id: str) -> int | None:
    """The nudge id when the block ends a nudge's row (its buttons or their outcome)."""
    if block_id.startswith(_ROW_OUTCOME):
        return row_id(block_id.removeprefix(_ROW_OUTCOME))
    if block_id.startswith(b.NUDGE_BLOCK_PREFIX) and not block_id.startswith(_ROW_START):
        return row_id(block_id.removeprefix(b.NUDGE_BLOCK_PREFIX))
    return None


def _row_start(block_id: str) -> int | None:
    """The nudge id when the block starts a nudge's row (its headline)."""
    return row_id(block_id.removeprefix(_ROW_START)) if block_id.startswith(_ROW_START) \
        else None


def message_nudge_ids(message_blocks: Sequence[dict[str, Any]]) -> list[int]:
    """The ids of the nudges whose rows a message shows, in order."""
    found: dict[int, None] = {}
    for block in message_blocks:
        block_id = str(block.get("block_id") or "")
        nudge_id = _row_start(block_id)
        if nudge_id is None:
            nudge_id = _row_end(block_id)
        if nudge_id is not None:
            found[nudge_id] = None
    return list(found)


def redrawn_blocks(message_blocks: Sequence[dict[str, Any]], acted: int, outcome: str,
                   statuses: Mapping[int, str]) -> list[dict[str, Any]]:
    """The message after a click on nudge `acted`, each nudge's buttons decided by
    `statuses` (the server's state), never by the clicker's copy, which may be stale: it
    still shows buttons that an earlier click replaced, and a forgotten person's row.

    The clicked nudge shows `outcome`; a nudge still out keeps its buttons; one handled
    meanwhile keeps the outcome the message showed, or says what became of it; a nudge that
    is not the clicker's or no longer stored loses its whole row. The rest (the heading,
    `due`'s text, each row's headline and context line as delivered) stays as it was."""
    result: list[dict[str, Any]] = []
    drawn: set[int] = set()
    # The row being read: its nudge and its blocks so far (headline, context line).
    current: int | None = None
    row: list[dict[str, Any]] = []

    def finish(nudge_id: int, end: dict[str, Any] | None) -> None:
        status = statuses.get(nudge_id)
        if status is not None and nudge_id not in drawn:
            drawn.add(nudge_id)
            result.extend([*row, _row_end_block(nudge_id, status, acted, outcome, end)])

    for block in message_blocks:
        block_id = str(block.get("block_id") or "")
        start, end = _row_start(block_id), _row_end(block_id)
        if start is not None:
            if current is not None:
                finish(current, None)  # a row without its end: given one
            current, row = start, [block]
        elif end is not None:
            if current is not None and current != end:
                finish(current, None)
                row = []
            finish(end, block)
            current, row = None, []
        elif current is not None:
            row.append(block)
        else:
            result.append(block)
    if current is not None:
        finish(current, None)
    if acted not in drawn:
        result.append(b.outcome_blocks([], acted, outcome)[0])
    return _tidy(result)[:b.MAX_MESSAGE_BLOCKS]


def _row_end_block(nudge_id: int, status: str, acted: int, outcome: str,
                   shown: dict[str, Any] | None) -> dict[str, Any]:
    """What ends a nudge's row now: its buttons while it is out, else what happened."""
    if nudge_id != acted and status in OUT_STATUSES:
        return b.nudge_actions(nudge_id).to_dict()
    if nudge_id != acted and shown is not None \
            and str(shown.get("block_id")) == f"{_ROW_OUTCOME}{nudge_id}":
        return shown  # the outcome an earlier click wrote, in its own words
    text = outcome if nudge_id == acted else HANDLED.get(status, CLOSED)
    [block] = b.outcome_blocks([b.nudge_actions(nudge_id).to_dict()], nudge_id, text)
    return block


def _tidy(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """No divider left at either end, after a heading or after another divider (where a
    dropped row was)."""
    tidy: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "divider" and (
                not tidy or tidy[-1].get("type") in ("divider", "header")):
            continue
        tidy.append(block)
    while tidy and tidy[-1].get("type") == "divider":
        tidy.pop()
    return tidy


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
        nudge_id = row_id(raw_id)
        if team_id != context.get("team_id") or nudge_id is None \
                or action_id not in b.NUDGE_ACTIONS:
            logger.warning("nudge action refused", extra={"reason": "malformed"})
            return
        if not await platform.owns_nudge(team_id, user_id, nudge_id):
            gone = not await platform.nudge_exists(nudge_id)
            logger.warning("nudge action refused",
                           extra={"reason": "gone" if gone else "not the owner"})
            if can_respond:
                # A button left on an old message after "forget": the owner's own nudge.
                await respond(text=f"I can't find nudge #{nudge_id} among yours." if gone
                              else "That nudge isn't yours.", response_type="ephemeral",
                              replace_original=False)
            return
        actor = platform.actor(team_id, user_id)
        name = b.NUDGE_ACTIONS[action_id]
        if name == "draft":
            if platform.draft_editor is not None:
                await platform.draft_editor.open_draft(client, body, actor, nudge_id)
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
        container = body.get("container") or {}
        message = body.get("message") or {}
        # An ephemeral message (the `due` answer) can't be edited: the outcome follows it.
        ephemeral = bool(container.get("is_ephemeral"))
        in_place = reply.ok and container.get("type") == "message" \
            and bool(message.get("blocks")) and not ephemeral
        redrawn = await self.redraw(actor, message["blocks"], nudge_id, reply.text) \
            if in_place else None
        if redrawn is not None:
            try:
                await client.chat_update(
                    channel=container["channel_id"], ts=container["message_ts"],
                    text=b.fallback(reply.text), blocks=redrawn)
            except SlackApiError as failure:
                logger.info("chat.update failed", extra={"error": failure.response.get("error")})
        elif can_respond and (ephemeral or not reply.ok or in_place):
            await respond(text=b.fallback(reply.text), response_type="ephemeral",
                          replace_original=False)
        await platform.refresh_home(client, team_id, user_id)

    async def redraw(self, actor: Actor, message_blocks: Sequence[dict[str, Any]],
                     acted: int, outcome: str) -> list[dict[str, Any]] | None:
        """The clicked message's blocks after the click (see `redrawn_blocks`), or None when
        the nudges' state can't be read (the outcome is then told, not drawn)."""
        rapport = self.platform.rapport
        ids = message_nudge_ids(message_blocks)
        statuses = await rapport.with_user(actor, lambda ctx: rapport.read(
            ctx, lambda turn: nudge_statuses(turn, ids)))
        return None if statuses is None \
            else redrawn_blocks(message_blocks, acted, outcome, statuses)


def register(platform: SlackPlatform) -> None:
    platform.app.action(re.compile(
        r"^nudge_(done|snooze_1d|snooze_1w|snooze_pick|draft|dismiss)$"))(
        answered_at_ack(NudgeButtons(platform).on_nudge_action))
