"""Two Rapport Teams bots (replicas) on one database, Activity JSON over HTTP into each: after
Dana's `forget me` at the first, Fox starts there and (SQLite hands a deleted row's id to the
next one) gets Dana's old user id, with his personal chat stored for it. The second bot still
holds Dana's cached ids: what Dana says there must neither store her chat as Fox's (his
reminders would reach her) nor send her private answers into Fox's chat. On PostgreSQL no id
is reused; the same turns then act on Dana's new rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.teams.downloads import FileHostPolicy
from rapport.storage import db
from rapport.storage.models import ConversationRef, User
from tests.conftest import Clock
from tests.fakes.bot_connector import BotConnectorFake
from tests.teams.test_pending_across_replicas import (
    DANA,
    DELETED,
    FOX,
    FOX_PERSONAL,
    FOXS,
    PERSONAL,
    Replica,
    _cluster,
    _until,
)


@dataclass
class Stale:
    engine: AsyncEngine
    connector: BotConnectorFake
    first: Replica
    second: Replica
    fox_user_id: int

    async def chats(self) -> dict[str, str]:
        """The personal chat stored for each user, by their AAD object id."""
        async with db.session_factory(self.engine)() as session:
            rows = await session.execute(
                select(User.external_id, ConversationRef.conversation_id)
                .join(ConversationRef, ConversationRef.user_id == User.id))
            return {user: conversation for user, conversation in rows}

    def texts(self, conversation: str) -> list[str]:
        return [activity.text or "" for activity in self.connector.sent_to(conversation)]


@pytest.fixture
async def stale(any_engine: AsyncEngine, clock: Clock,
                bot_connector: BotConnectorFake) -> AsyncIterator[Stale]:
    async with _cluster(any_engine, clock, bot_connector, FileHostPolicy()) as cluster:
        first, second = await cluster.start(), await cluster.start()
        await second.say("people")  # the second bot caches Dana's ids
        dana = await second.runtime.rapport.user_context(DANA)
        await first.say("forget me confirm")
        await _until(lambda: any(a.text == DELETED for a in bot_connector.sent_to(PERSONAL)),
                     "Dana forgotten")
        await first.say("people", **FOX)
        fox = await first.runtime.rapport.user_context(FOXS)
        assert (fox.user_id == dana.user_id) is (any_engine.dialect.name == "sqlite")
        bot_connector.reset()
        stale = Stale(any_engine, bot_connector, first, second, fox.user_id)
        assert await stale.chats() == {FOXS.user_external_id: FOX_PERSONAL}
        yield stale


async def test_a_turn_on_a_stale_replica_stores_the_chat_for_its_sender_only(
        stale: Stale) -> None:
    await stale.second.say("disconnect calendar")
    await _until(lambda: len(stale.texts(PERSONAL)) == 2, "the answer after the turn")

    assert await stale.chats() == {FOXS.user_external_id: FOX_PERSONAL,
                                   DANA.user_external_id: PERSONAL}
    assert stale.texts(FOX_PERSONAL) == []


async def test_a_private_answer_from_a_stale_replica_never_reaches_another_s_chat(
        stale: Stale) -> None:
    await stale.second.say("forget me confirm", conversation_type="channel", mentions_bot=True)
    await _until(lambda: any(a.text == DELETED for a in stale.connector.activities),
                 "the answer after the turn")

    assert stale.texts(FOX_PERSONAL) == []
    assert await stale.chats() == {FOXS.user_external_id: FOX_PERSONAL}
