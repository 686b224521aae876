"""The rows of a Slack message that carry buttons (a digest's nudges, a weekly summary's
suggestions), redrawn after a click from what the server holds.

A click hands back the clicker's copy of the message, which may be stale: another device,
two quick clicks, or a copy from before an earlier click or a forget still shows buttons
that were answered since, and rows about someone forgotten. Each row's end is therefore
decided by the stored state of its item, never by the copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapport.bot.core.context import Actor, Turn
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import RowStatus
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.incoming import row_id


@dataclass(frozen=True, slots=True)
class RowBlocks:
    """How a message marks the rows of one kind of item by block ids: `<prefix>text_<id>`
    starts a row (its headline), `<prefix><id>` (its buttons) or `<prefix>outcome_<id>`
    (what replaced them) ends it; the blocks between (a context line) belong to it."""

    prefix: str

    @property
    def start(self) -> str:
        return f"{self.prefix}text_"

    @property
    def outcome(self) -> str:
        return f"{self.prefix}outcome_"

    def row_start(self, block_id: str) -> int | None:
        """The item id when the block starts a row (its headline)."""
        return row_id(block_id.removeprefix(self.start)) if block_id.startswith(self.start) \
            else None

    def row_end(self, block_id: str) -> int | None:
        """The item id when the block ends a row (its buttons or their outcome)."""
        if block_id.startswith(self.outcome):
            return row_id(block_id.removeprefix(self.outcome))
        if block_id.startswith(self.prefix) and not block_id.startswith(self.start):
            return row_id(block_id.removeprefix(self.prefix))
        return None

    def ids(self, message_blocks: Sequence[dict[str, Any]]) -> list[int]:
        """The ids of the items whose rows a message shows, in order."""
        found: dict[int, None] = {}
        for block in message_blocks:
            block_id = str(block.get("block_id") or "")
            item_id = self.row_start(block_id)
            if item_id is None:
                item_id = self.row_end(block_id)
            if item_id is not None:
                found[item_id] = None
        return list(found)


@dataclass(frozen=True, slots=True)
class RowNow:
    """What a row's item is now: `buttons` (its actions block) while it waits for an answer,
    else None, and `handled`: what the row says became of it."""

    buttons: dict[str, Any] | None
    handled: str = ""


Redraw = Callable[[Sequence[dict[str, Any]], int, str, Mapping[int, RowStatus]],
                  list[dict[str, Any]]]


async def redrawn_from_state(rapport: Rapport, actor: Actor, rows: RowBlocks,
                             statuses_of: Callable[[Turn, Sequence[int]],
                                                   Mapping[int, RowStatus]],
                             redraw: Redraw, message_blocks: Sequence[dict[str, Any]],
                             acted: int, outcome: str) -> list[dict[str, Any]] | None:
    """The clicked message's blocks after the click: the state of the items its `rows` show,
    read for the clicker (`statuses_of`), drawn by `redraw`; None when that state can't be
    read (the outcome is then told, not drawn)."""
    ids = rows.ids(message_blocks)
    statuses = await rapport.with_user(actor, lambda ctx: rapport.read(
        ctx, lambda turn: statuses_of(turn, ids)))
    return None if statuses is None else redraw(message_blocks, acted, outcome, statuses)


def redrawn_blocks(rows: RowBlocks, message_blocks: Sequence[dict[str, Any]], acted: int,
                   outcome: str, now: Mapping[int, RowNow]) -> list[dict[str, Any]]:
    """The message after a click on item `acted`, each row's end decided by `now` (the
    server's state), never by the clicker's copy.

    The clicked item shows `outcome`; an item still waiting keeps its buttons; one answered
    meanwhile keeps the outcome the message showed, or says what became of it; an item not
    in `now` (not the clicker's, or no longer stored) loses its whole row. The rest (a
    heading, text, each row's headline and context line as delivered) stays as it was."""
    result: list[dict[str, Any]] = []
    drawn: set[int] = set()
    # The row being read: its item and its blocks so far (headline, context line).
    current: int | None = None
    row: list[dict[str, Any]] = []

    def finish(item_id: int, end: dict[str, Any] | None) -> None:
        state = now.get(item_id)
        if state is not None and item_id not in drawn:
            drawn.add(item_id)
            result.extend([*row, _row_end_block(rows, item_id, state, acted, outcome, end)])

    for block in message_blocks:
        block_id = str(block.get("block_id") or "")
        start, end = rows.row_start(block_id), rows.row_end(block_id)
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
        result.append(b.outcome_block(acted, outcome, prefix=rows.prefix))
    return _tidy(result)[:b.MAX_MESSAGE_BLOCKS]


def _row_end_block(rows: RowBlocks, item_id: int, state: RowNow, acted: int, outcome: str,
                   shown: dict[str, Any] | None) -> dict[str, Any]:
    """What ends a row now: its buttons while its item waits, else what happened."""
    if item_id == acted:
        return b.outcome_block(item_id, outcome, prefix=rows.prefix)
    if state.buttons is not None:
        return state.buttons
    if shown is not None and str(shown.get("block_id")) == f"{rows.outcome}{item_id}":
        return shown  # the outcome an earlier click wrote, in its own words
    return b.outcome_block(item_id, state.handled, prefix=rows.prefix)


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
