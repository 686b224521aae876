"""A slash command while PostgreSQL accepts connections and never answers.

Found by an operator test (a proxy whose backend had hung): the command waited a minute for
asyncpg's connect, long after Slack's 3 s, and was answered with HTTP 500. Now the request's
first unit (the replay guard's claim, under the command's deadline) gives up connecting at the
deadline and the person gets the busy answer inside Slack's time; nothing was stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

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
async def proxy(postgres_ready: str) -> AsyncIterator[DatabaseProxy]:
    async with DatabaseProxy(postgres_ready) as running:
        yield running


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
