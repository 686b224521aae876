"""A slash command while PostgreSQL refuses connections (the server stopped).

Found by an operator test: the command was answered with HTTP 500 at once. The replay guard
(the request's first unit of work) let only SQLAlchemy's errors through as "replay check
unavailable", and a refused connection reaches it as the driver's plain OSError
(ConnectionRefusedError). Now any database trouble there is a warning, the command goes on,
and the person gets the same "can't reach my database" answer as any other outage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import TRY_AGAIN
from rapport.storage import db
from tests.conftest import PG_SKIP_REASON, PG_URL, truncate_all
from tests.fakes.database_faults import DatabaseProxy
from tests.slack.conftest import SlackHarness

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)]


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
