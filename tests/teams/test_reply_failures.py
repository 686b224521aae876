"""An answer Teams throttles (429 with Retry-After) or fails (5xx) is sent again, as proactive
nudges are (messenger.with_retries), waiting what Retry-After asks. When it still cannot be
sent after the command saved a change, the person is told it is saved, never to try again (a
`log` sent again was logged twice); and a busy Connector is not "add Rapport as a personal
app": only Teams saying there is no chat (403/404) means that."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams.app import install_teams
from rapport.bot.platforms.teams.handler import (
    NOT_SHOWN,
    PRIVATE_FAILED,
    PRIVATE_NOT_SENT,
    PRIVATE_SAVED_NOT_SENT,
    PRIVATE_SENT,
    SAVED_NOT_SHOWN,
)
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from rapport.storage.models import Touchpoint
from tests.conftest import Clock
from tests.fakes.bot_connector import BotConnectorFake
from tests.teams.test_teams_bot import CHANNEL, PERSONAL, RecordingSleep, TeamsHarness, _install

TRY_AGAIN = ("try again", "ask again")


class GarbledOnce(BotConnectorFake):
    """The Connector fake, answering the next reply with a body botbuilder cannot read once
    told to: a failure no retry is for, which reaches the adapter's turn error handler."""

    garble_next_reply = False

    async def _reply(self, request: web.Request) -> web.Response:
        if self.garble_next_reply:
            self.garble_next_reply = False
            self._log(request, 201, request.match_info["cid"])
            return web.Response(status=201, text="[1, 2", content_type="application/json")
        return await super()._reply(request)


@pytest_asyncio.fixture
async def bot_connector() -> AsyncIterator[GarbledOnce]:
    async with GarbledOnce() as connector:
        yield connector


@pytest_asyncio.fixture
async def teams(engine: AsyncEngine, clock: Clock,
                bot_connector: GarbledOnce) -> AsyncIterator[TeamsHarness]:
    """The Teams endpoint as production wires it, its waits for Teams recorded, not slept."""
    settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1",
                        teams_enabled=True)
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    sleep = RecordingSleep()
    app = await build_web_app(runtime, installers=[functools.partial(install_teams,
                                                                     sleep=sleep)])
    async with TestClient(TestServer(app)) as client:
        yield TeamsHarness(runtime=runtime, client=client, connector=bot_connector,
                           engine=engine, clock=clock, sleep=sleep)


async def _ready(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    teams.connector.reset()


def _texts(teams: TeamsHarness, conversation_id: str) -> list[str]:
    return [a.text or "" for a in teams.connector.sent_to(conversation_id)]


async def test_a_throttled_answer_waits_as_asked_and_arrives_once(teams: TeamsHarness) -> None:
    await _ready(teams)
    teams.connector.fail_next(status=429, retry_after=2, conversation_id=PERSONAL)

    assert await teams.say("log Dana coffee") == 201

    assert _texts(teams, PERSONAL) == ["Logged coffee with Dana."]
    assert teams.sleep.waits == [2.0]
    assert [r.status for r in teams.connector.requests] == [429, 201]
    assert len(await teams.rows(Touchpoint)) == 1


async def test_an_answer_teams_keeps_refusing_says_the_change_is_saved(
        teams: TeamsHarness) -> None:
    await _ready(teams)
    teams.connector.fail_next(status=503, retry_after=1, count=3, conversation_id=PERSONAL)

    assert await teams.say("log Dana coffee") == 201

    assert _texts(teams, PERSONAL) == [SAVED_NOT_SHOWN]
    assert not any(words in SAVED_NOT_SHOWN.lower() for words in TRY_AGAIN)
    assert len(await teams.rows(Touchpoint)) == 1
    # A question that changed nothing may simply be asked again.
    teams.connector.fail_next(status=503, retry_after=1, count=3, conversation_id=PERSONAL)
    assert await teams.say("due") == 201
    assert _texts(teams, PERSONAL)[-1] == NOT_SHOWN


async def test_a_turn_that_fails_after_a_change_does_not_ask_for_it_again(
        teams: TeamsHarness) -> None:
    await _ready(teams)
    assert isinstance(teams.connector, GarbledOnce)
    teams.connector.garble_next_reply = True

    assert await teams.say("log Dana coffee") == 201

    assert _texts(teams, PERSONAL) == [SAVED_NOT_SHOWN]
    assert len(await teams.rows(Touchpoint)) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_a_channel_command_whose_private_answer_is_throttled_once_gets_it(
        teams: TeamsHarness, status: int) -> None:
    await _ready(teams)
    teams.connector.fail_next(status=status, retry_after=1, conversation_id=PERSONAL)

    assert await teams.say("log Dana coffee", conversation_type="channel",
                           mentions_bot=True) == 201

    assert _texts(teams, PERSONAL) == ["Logged coffee with Dana."]
    assert _texts(teams, CHANNEL) == [PRIVATE_SENT]
    assert teams.sleep.waits == [1.0]
    assert len(await teams.rows(Touchpoint)) == 1


async def test_a_channel_command_when_teams_is_down_is_not_advice_to_install(
        teams: TeamsHarness) -> None:
    await _ready(teams)
    teams.connector.fail_next(status=503, retry_after=1, count=6, conversation_id=PERSONAL)

    assert await teams.say("log Dana coffee", conversation_type="channel",
                           mentions_bot=True) == 201
    assert await teams.say("due", conversation_type="channel", mentions_bot=True) == 201

    assert _texts(teams, CHANNEL) == [PRIVATE_SAVED_NOT_SENT, PRIVATE_NOT_SENT]
    assert all("personal app" not in text for text in _texts(teams, CHANNEL))
    assert teams.connector.created_conversations == []  # the chat exists; Teams is busy
    assert len(await teams.rows(Touchpoint)) == 1


async def test_a_chat_teams_says_cannot_be_had_still_gets_the_advice(
        teams: TeamsHarness) -> None:
    await _ready(teams)
    teams.connector.fail_next(status=404, conversation_id=PERSONAL)  # the stored chat is gone
    teams.connector.fail_next(status=403)  # and a new one is refused

    assert await teams.say("due", conversation_type="channel", mentions_bot=True) == 201

    assert _texts(teams, CHANNEL) == [PRIVATE_FAILED]
