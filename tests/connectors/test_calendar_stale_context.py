"""Two Rapport processes on one database with the calendar connector: after Alex's `forget me`
at the first, Bea starts there and (SQLite hands a deleted row's id to the next one) gets
Alex's old user id, then connects her Google calendar. The second process still holds Alex's
cached ids: whatever Alex types there withdraws, exports or links Alex's own calendar rows,
never Bea's. On PostgreSQL no id is reused; the same commands then act on Alex's new rows.

Through the real runtime, web callbacks and the Google fake (tests/fakes/calendar_fixtures)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import UserContext
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.users import StaleUser
from rapport.storage.models import CalendarConnection, OAuthState
from tests.conftest import Clock, console_user
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
BEA = console_user("bea", tz="Europe/Berlin")
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """`calendar_app` on SQLite and, when configured, on PostgreSQL."""
    return any_engine


@dataclass
class Stale:
    """The second process, Alex's ids cached there, Bea's calendar connected at the first."""

    app: CalendarApp
    second: Rapport
    alex_before: UserContext
    bea_user_id: int
    bea_refresh_token: str

    async def connections(self) -> list[tuple[int, str, str, bool]]:
        """(user id, provider, status, holds a token) of every calendar connection."""
        async with self.app.runtime.sessions() as session:
            rows = await session.execute(
                select(CalendarConnection.user_id, CalendarConnection.provider,
                       CalendarConnection.status,
                       CalendarConnection.refresh_token_encrypted.is_not(None))
                .order_by(CalendarConnection.user_id))
            return [(user_id, provider, status, bool(token))
                    for user_id, provider, status, token in rows]

    def bea_connected(self) -> tuple[int, str, str, bool]:
        return self.bea_user_id, "google", "active", True


@pytest.fixture
async def stale(calendar_app: CalendarApp, clock: Clock) -> AsyncIterator[Stale]:
    first = calendar_app.runtime.rapport
    second = Rapport(sessions=calendar_app.runtime.sessions, clock=clock)
    second.calendars = calendar_app.connections
    assert (await second.handle_text(ALEX, "add Lee Park")).ok  # the second caches Alex's ids
    alex_before = await second.user_context(ALEX)
    assert (await first.handle_text(ALEX, "forget me confirm")).ok
    await calendar_app.connect("bea", "google", "bea@example.com")
    _, bea_user_id = await calendar_app.user("bea")
    if calendar_app.runtime.engine.dialect.name == "sqlite":
        assert bea_user_id == alex_before.user_id  # the case the cache must not fall for
    else:
        assert bea_user_id != alex_before.user_id
    [grant] = calendar_app.google.oauth.grants
    assert grant.refresh_token is not None
    yield Stale(calendar_app, second, alex_before, bea_user_id, grant.refresh_token)


async def test_disconnect_from_a_stale_cache_leaves_the_other_user_s_calendar(
        stale: Stale) -> None:
    done = await stale.second.handle_text(ALEX, "disconnect calendar")

    assert done.text == "No calendar is connected."
    assert await stale.connections() == [stale.bea_connected()]
    assert stale.bea_refresh_token not in stale.app.google.revocations


async def test_forget_me_from_a_stale_cache_revokes_nothing_of_the_other_user(
        stale: Stale) -> None:
    done = await stale.second.handle_text(ALEX, "forget me confirm")

    assert done.ok and done.text == "Done. Everything Rapport stored for you is deleted."
    assert await stale.connections() == [stale.bea_connected()]
    assert stale.app.google.revocations == []
    # Bea's rows are hers still: she sees her calendar.
    settings = await stale.app.runtime.rapport.handle_text(BEA, "settings")
    assert "• Calendars: Google (connected)" in settings.text


async def test_export_from_a_stale_cache_holds_none_of_the_other_user_s_calendar(
        stale: Stale) -> None:
    exported = await stale.second.handle_text(ALEX, "export")

    assert exported.attachment is not None
    data = json.loads(exported.attachment.data)
    assert data["calendar_connections"] == [] and data["contacts"] == []
    assert data["user"]["external_id"] == "alex"


async def test_connect_from_a_stale_cache_links_the_actor_s_own_rows(stale: Stale) -> None:
    reply = await stale.second.handle_text(ALEX, "connect google calendar")

    assert reply.ok and reply.text.startswith("Open this private link")
    alex_now = await stale.second.user_context(ALEX)
    assert (alex_now.user_external_id, alex_now.user_id != stale.bea_user_id) == ("alex", True)
    async with stale.app.runtime.sessions() as session:
        states = (await session.scalars(select(OAuthState.user_id))).all()
    assert states == [alex_now.user_id]
    [link] = LINK.findall(reply.text)
    status, page = await stale.app.consent(link, "alex@example.com")
    assert status == 200 and "Connected" in page
    assert sorted(await stale.connections()) == sorted(
        [stale.bea_connected(), (alex_now.user_id, "google", "active", True)])


async def test_a_consent_link_is_never_stored_for_ids_that_are_no_longer_the_actor_s(
        stale: Stale) -> None:
    """The connector checks the ids in the very transaction that stores the link's state, so
    a `forget me` elsewhere between the command's read and the link changes nothing."""
    known = stale.alex_before
    with pytest.raises(StaleUser):
        await stale.app.connections.start(known.user_id, known.workspace_id, "google",
                                          owner=known)
    async with stale.app.runtime.sessions() as session:
        assert (await session.scalars(select(OAuthState))).all() == []
