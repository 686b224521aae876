"""A slash command while PostgreSQL fails under it, both found by an operator test.

Silent (a proxy whose backend hung): the command waited a minute for asyncpg's connect, long
after Slack's 3 s, and was answered with HTTP 500. Now the request's first unit (the replay
guard's claim, under the command's deadline) gives up connecting at the deadline and the
person gets the busy answer inside Slack's time; nothing was stored.

Refusing (the server stopped): the command was answered with HTTP 500 at once. The replay
guard let only SQLAlchemy's errors through as "replay check unavailable", and a refused
connection reaches it as the driver's plain OSError (ConnectionRefusedError). Now any
database trouble there is a warning, the command goes on, and the person gets the same
"can't reach my database" answer as any other outage.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import TRY_AGAIN
from rapport.bot.core.rapport import BUSY
from rapport.bot.platforms.slack import SLACK_KEY
from rapport.storage import db
from tests.conftest import PG_SKIP_REASON, PG_URL, truncate_all
from tests.fakes.database_faults import DatabaseProxy
from tests.slack.conftest import SlackHarness

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)]

# Hang guard only: without bounded connects asyncpg waits 60 s.
HANG_GUARD_SECONDS = 30


@pytest.fixture
async def engine(proxy: DatabaseProxy) -> AsyncIterator[AsyncEngine]:
    """The Slack harness's database: the test PostgreSQL, through `proxy`."""
    engine = db.create_engine(proxy.url(), pool_size=2, connect_timeout=2.0)
    await truncate_all(engine)
    yield engine
    await engine.dispose()


async def test_a_slash_command_answers_busy_in_time_when_the_database_goes_silent(
        slack: SlackHarness, proxy: DatabaseProxy) -> None:
    status, body = await slack.command("add Dana")
    assert status == 200 and "Dana" in json.loads(body)["text"]
    platform = slack.extra["app"][SLACK_KEY]
    # Slack's 3 s shrunk so the test need not wait them out (the connect timeout is 2 s).
    platform.command_start_budget = 0.5
    await proxy.fail("silent")

    async with asyncio.timeout(HANG_GUARD_SECONDS):
        status, body = await slack.command("log Dana coffee")

    assert status == 200
    answer = json.loads(body)
    assert answer == {"response_type": "ephemeral", "text": BUSY}
    metrics = slack.runtime.metrics.render().decode()
    assert 'rapport_busy_total{platform="slack"} 1.0' in metrics


async def test_a_slash_command_gets_the_database_answer_when_connections_are_refused(
        slack: SlackHarness, proxy: DatabaseProxy, caplog: pytest.LogCaptureFixture) -> None:
    status, body = await slack.command("add Dana")
    assert status == 200 and "Dana" in json.loads(body)["text"]
    await proxy.fail("refuse")

    with caplog.at_level(logging.WARNING):
        status, body = await slack.command("log Dana coffee")

    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    assert TRY_AGAIN in answer["text"]
    assert [record.error for record in caplog.records  # type: ignore[attr-defined]
            if record.getMessage() == "replay check unavailable"] == ["ConnectionRefusedError"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
