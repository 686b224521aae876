"""Two Rapport Slack apps (replicas) on one database, signed requests into each: after Alex's
`forget me` at the first, Sam starts there and (SQLite hands a deleted row's id to the next
one) gets Alex's old user id, then lets Rapport log his DMs. The second app still holds Alex's
cached ids: Alex's `settings capture slack off|on` and `forget me` there reach Alex's own rows,
never Sam's grant or a consent link in Sam's name. On PostgreSQL no id is reused; the same
commands then act on Alex's new rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import ChatGrant, OAuthState
from tests.slack.conftest import ALEX, SAM, HarnessFactory, SlackHarness
from tests.slack.test_dm_capture import _harness, _opt_in, _say


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The Slack harness on SQLite and, when configured, on PostgreSQL."""
    return any_engine


@dataclass
class Stale:
    first: SlackHarness
    second: SlackHarness
    sam_user_id: int
    sam_token: str

    async def grants(self) -> list[tuple[int, str]]:
        async with self.first.runtime.sessions() as session:
            return [(user_id, external) for user_id, external in await session.execute(
                select(ChatGrant.user_id, ChatGrant.external_user_id))]

    def revoked(self) -> list[str | None]:
        return [call.token for call in self.first.fake.calls_to("auth.revoke")]


@pytest.fixture
async def stale(make_harness: HarnessFactory, engine: AsyncEngine) -> AsyncIterator[Stale]:
    first, second = await _harness(make_harness), await _harness(make_harness)
    await _say(second, "people")  # the second app caches Alex's ids
    alex = await second.runtime.rapport.user_context(second.actor(ALEX))
    assert "deleted" in await _say(first, "forget me confirm")
    token = await _opt_in(first, SAM)
    sam = await first.runtime.rapport.user_context(first.actor(SAM))
    assert (sam.user_id == alex.user_id) is (engine.dialect.name == "sqlite")
    yield Stale(first, second, sam.user_id, token)


async def test_capture_off_from_a_stale_cache_keeps_the_other_user_s_grant(
        stale: Stale) -> None:
    answer = await _say(stale.second, "settings capture slack off")

    assert answer == "Logging your Slack DMs is already off; Rapport holds no grant."
    assert await stale.grants() == [(stale.sam_user_id, SAM)]
    assert stale.revoked() == []
    assert not stale.first.fake.tokens[stale.sam_token].revoked


async def test_forget_me_from_a_stale_cache_keeps_the_other_user_s_grant(stale: Stale) -> None:
    assert "deleted" in await _say(stale.second, "forget me confirm")

    assert await stale.grants() == [(stale.sam_user_id, SAM)]
    assert stale.revoked() == []


async def test_capture_on_from_a_stale_cache_asks_consent_for_the_actor_s_own_rows(
        stale: Stale) -> None:
    answer = await _say(stale.second, "settings capture slack on")

    assert answer.startswith("Open this private link")
    alex = await stale.second.runtime.rapport.user_context(stale.second.actor(ALEX))
    async with stale.first.runtime.sessions() as session:
        states = (await session.scalars(select(OAuthState.user_id))).all()
    assert states == [alex.user_id] and alex.user_id != stale.sam_user_id
