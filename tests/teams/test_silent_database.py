"""A Teams message while PostgreSQL accepts connections and never answers.

Found by an operator test: one message waited for three connects in a row (the sender's
tenant looked up, then the command, then the personal chat stored), each until its own
connect timeout, about 15 s before "I can't reach my database", past Bot Framework's
patience. Now the first connect the database leaves unanswered decides the turn: the person
hears the database answer after that one wait, and nothing else in the turn connects again.

Activity JSON over HTTP into the real botbuilder adapter, answers at the BotConnectorFake;
the runtime's engine reaches the test PostgreSQL through a DatabaseProxy made silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import TRY_AGAIN
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.registry import installers_for
from rapport.bot.platforms.teams.handler import MESSAGE_RESPONSE
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from tests.conftest import PG_SKIP_REASON, PG_URL, Clock, truncate_all
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.database_faults import DatabaseProxy
from tests.fakes.teams_activities import (
    default_conversation_id,
    teams_card_action_invoke,
    teams_message_activity,
)

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)]

PERSONAL = default_conversation_id("personal")
CHANNEL = default_conversation_id("channel")
# Short, so the test need not wait out the production 5 s; the count is what is asserted.
CONNECT_TIMEOUT_SECONDS = 0.5
# Hang guard only.
HANG_GUARD_SECONDS = 30


@dataclass
class SilentTeams:
    """A Rapport Teams bot whose engine reaches PostgreSQL through `proxy`."""

    runtime: Runtime
    client: TestClient[Any, Any]
    connector: BotConnectorFake
    proxy: DatabaseProxy
    # One entry per connection the engine tried to open (the timeout it handed asyncpg).
    connects: list[Any]

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            response = await self.client.post("/api/messages", json=activity)
            body = await response.json() \
                if response.content_type == "application/json" else None
        return response.status, body

    async def say(self, text: str, **kwargs: Any) -> int:
        status, _ = await self.post(teams_message_activity(
            text, service_url=self.connector.service_url, **kwargs))
        return status

    async def go_silent(self) -> None:
        """The database hangs: open connections are dropped, new ones never answered."""
        await self.proxy.fail("silent")
        self.connector.reset()
        self.connects.clear()


def _record_connects(engine: AsyncEngine) -> list[Any]:
    seen: list[Any] = []

    @event.listens_for(engine.sync_engine, "do_connect")
    def record(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.append(cparams.get("timeout"))

    return seen


@pytest.fixture
async def teams(proxy: DatabaseProxy, clock: Clock,
                bot_connector: BotConnectorFake) -> AsyncIterator[SilentTeams]:
    engine = db.create_engine(proxy.url(), pool_size=2,
                              connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        await truncate_all(engine)
        await engine.dispose()  # the bot starts with no connection open
        settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1",
                            teams_enabled=True)
        sessions = db.session_factory(engine)
        runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                          rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
        app = await build_web_app(runtime, installers=installers_for(settings))
        async with TestClient(TestServer(app)) as client:
            yield SilentTeams(runtime=runtime, client=client, connector=bot_connector,
                              proxy=proxy, connects=_record_connects(engine))
    finally:
        await engine.dispose()


async def test_a_message_waits_for_one_connect_when_the_database_never_answered(
        teams: SilentTeams) -> None:
    # No connection open yet (a replica started, or its pool recycled, during the outage).
    await teams.go_silent()

    assert await teams.say("log Dana coffee") == 201

    assert len(teams.connects) == 1
    [answer] = teams.connector.sent_to(PERSONAL)
    assert answer.text == TRY_AGAIN


async def test_a_message_waits_for_one_connect_when_the_database_hangs_mid_way(
        teams: SilentTeams) -> None:
    assert await teams.say("add Dana") == 201
    # The pooled connections are dropped with the rest: the first unit finds its connection
    # dead (no wait), and the fresh one it needs is the wait.
    await teams.go_silent()

    assert await teams.say("log Dana coffee") == 201

    assert len(teams.connects) == 1
    [answer] = teams.connector.sent_to(PERSONAL)
    assert answer.text == TRY_AGAIN


async def test_a_mention_in_a_channel_waits_for_one_connect(teams: SilentTeams) -> None:
    await teams.go_silent()

    assert await teams.say("due", conversation_type="channel", mentions_bot=True) == 201

    assert len(teams.connects) == 1
    # Nothing of anyone's data is posted there; the outage is no secret.
    [answer] = teams.connector.sent_to(CHANNEL)
    assert answer.text == TRY_AGAIN


async def test_a_card_click_waits_for_one_connect(teams: SilentTeams) -> None:
    await teams.go_silent()

    status, body = await teams.post(teams_card_action_invoke(
        {"rapport": "nudge", "nudge_id": 7}, verb="done",
        service_url=teams.connector.service_url, reply_to_id="1690000000001"))

    assert status == 200
    assert body == {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": TRY_AGAIN}
    assert len(teams.connects) == 1
    assert teams.connector.updates() == []


async def test_a_message_naming_no_tenant_waits_for_one_connect(teams: SilentTeams) -> None:
    # The Emulator names no tenant: the command is the turn's first connect, and the chat is
    # not stored after it.
    await teams.go_silent()

    assert await teams.say("log Dana coffee", tenant_id="") == 201

    assert len(teams.connects) == 1
    [answer] = teams.connector.sent_to(PERSONAL)
    assert answer.text == TRY_AGAIN


async def test_a_card_click_naming_no_tenant_waits_for_one_connect(teams: SilentTeams) -> None:
    await teams.go_silent()

    status, body = await teams.post(teams_card_action_invoke(
        {"rapport": "nudge", "nudge_id": 7}, verb="done", tenant_id="",
        service_url=teams.connector.service_url, reply_to_id="1690000000001"))

    assert status == 200
    assert body == {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": TRY_AGAIN}
    assert len(teams.connects) == 1


async def test_dropped_pooled_connections_are_no_outage(teams: SilentTeams) -> None:
    assert await teams.say("add Dana") == 201
    # A restart of the proxy: every open connection dropped, the database itself fine.
    await teams.go_silent()
    teams.proxy.mode = "forward"

    assert await teams.say("log Dana coffee") == 201

    [answer] = teams.connector.sent_to(PERSONAL)
    assert answer.text == "Logged coffee with Dana."
