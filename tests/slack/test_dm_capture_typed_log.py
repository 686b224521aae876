"""A day of Slack DMs logged as a chat, and the person's own `log` of that contact that day,
are one conversation (as a meeting the calendar logged is): the typed words complete the
chat's touchpoint (their kind and summary, theirs from then on), and `undo` gives it back."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.views import StatsView
from rapport.storage.models import Touchpoint
from tests.conftest import Clock
from tests.slack.conftest import ALEX, DANA, HarnessFactory, SlackHarness
from tests.slack.test_dm_capture import DM, _add_dana, _body, _count, _harness, _opt_in, _send, _ts


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The Slack harness on SQLite and, when configured, on PostgreSQL."""
    return any_engine


async def _touches(slack: SlackHarness) -> list[tuple[int, str, str | None, str]]:
    async with slack.runtime.sessions() as session:
        rows = await session.execute(
            select(Touchpoint.id, Touchpoint.kind, Touchpoint.summary, Touchpoint.source)
            .order_by(Touchpoint.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def _text(slack: SlackHarness, line: str) -> str:
    reply = await slack.runtime.rapport.handle_text(slack.actor(ALEX), line)
    assert reply.ok, (line, reply.text)
    return reply.text


async def _chatted_today(slack: SlackHarness, clock: Clock) -> int:
    """Alex, opted in, exchanges DMs with Dana: the chat's touchpoint id."""
    await _add_dana(slack)
    await _opt_in(slack)
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock)))
    await slack.until(lambda: _count(slack, 1))
    [(chat, kind, summary, source)] = await _touches(slack)
    assert (kind, summary, source) == ("chat", None, "slack_dm")
    return chat


async def test_a_typed_log_on_a_day_of_dms_completes_the_chat(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    chat = await _chatted_today(slack, clock)
    clock.advance(minutes=20)

    assert await _text(slack, f"log <@{DANA}> call: budget") == \
        "Logged call with Dana Scully."
    # One conversation: the chat, with the person's kind and words, now theirs.
    assert await _touches(slack) == [(chat, "call", "budget", "command")]
    show = await _text(slack, f"show <@{DANA}>")
    assert f"  t{chat} today, call: budget\n" in show
    assert "logged from your Slack DMs" not in show
    recent = await _text(slack, "recent")
    assert recent.startswith("1 conversation with Dana Scully") and \
        f"  t{chat} today, Dana Scully: call: budget" in recent
    stats = await slack.runtime.rapport.handle_text(slack.actor(ALEX), "stats")
    assert isinstance(stats.view, StatsView)
    assert stats.text.splitlines()[0] == (
        "Conversations logged: 1 in the last 7 days (1 person), 1 in 30 days.")

    # Undo gives the day back to the DMs as they logged it.
    assert (await _text(slack, "undo")).startswith("Undone: logged call with Dana Scully")
    assert await _touches(slack) == [(chat, "chat", None, "slack_dm")]


async def test_a_log_without_a_kind_keeps_the_chat_and_another_day_stands_alone(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    chat = await _chatted_today(slack, clock)

    await _text(slack, f"log <@{DANA}>: the Q3 plan")
    assert await _touches(slack) == [(chat, "chat", "the Q3 plan", "command")]

    # A log of another day is another conversation, and so is a day's second log.
    clock.advance(days=1)
    await _text(slack, f"log <@{DANA}> yesterday coffee: again")
    await _text(slack, f"log <@{DANA}> call: today's")
    touches = await _touches(slack)
    assert [(kind, summary, source) for _, kind, summary, source in touches] == [
        ("chat", "the Q3 plan", "command"), ("coffee", "again", "command"),
        ("call", "today's", "command")]
