"""Connecting a calendar again replaces its grant: the one replaced is revoked at Google, so
Rapport keeps no access it no longer uses (a later `disconnect calendar` only reaches the
grant it holds). Google keeps one grant per account and app, so revoking the replaced grant of
the same account would end the new one too: Rapport leaves it when the calendar says it is the
same account, and otherwise finds out at once and says so. Microsoft has no revocation
endpoint: the replaced tokens are simply no longer stored."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import CalendarConnection
from tests.conftest import console_user
from tests.connectors.helpers import connected, connection
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.oauth_server import Grant

ALEX = console_user("alex", tz="Europe/Berlin")
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


def _grants(app: CalendarApp, account: str) -> list[Grant]:
    return [grant for grant in app.google.oauth.grants if grant.account == account]


def _live(app: CalendarApp) -> list[str]:
    """The accounts whose grants to Rapport still work at Google, in consent order."""
    return [grant.account for grant in app.google.oauth.grants if not grant.revoked]


async def _stored_refresh_token(app: CalendarApp, provider: str) -> str | None:
    sealed = (await connection(app, provider)).refresh_token_encrypted
    return None if sealed is None else app.cipher.decrypt(sealed)


async def test_connecting_google_with_another_account_revokes_the_grant_it_replaces(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    await connected(app, "google", "alex@work.com")
    [work] = _grants(app, "alex@work.com")

    status, _ = await app.connect("alex", "google", "alex@personal.com")
    assert status == 200
    [personal] = _grants(app, "alex@personal.com")
    assert app.google.revocations == [work.refresh_token]
    assert _live(app) == ["alex@personal.com"]
    assert await _stored_refresh_token(app, "google") == personal.refresh_token
    assert (await connection(app, "google")).status == "active"

    # `disconnect calendar` then leaves Rapport no access at all.
    reply = await app.runtime.rapport.handle_text(ALEX, "disconnect calendar")
    assert reply.ok and _live(app) == []


async def test_two_links_opened_one_after_the_other_leave_only_the_second_grant(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    workspace_id, user_id = await app.user("alex")
    first = await app.connections.start(user_id, workspace_id, "google")
    second = await app.connections.start(user_id, workspace_id, "google")
    assert (await app.consent(first, "alex@work.com"))[0] == 200
    assert (await app.consent(second, "alex@personal.com"))[0] == 200
    assert _live(app) == ["alex@personal.com"]


async def test_a_revocation_that_fails_is_logged_and_the_connection_stands(
        calendar_app: CalendarApp, caplog: pytest.LogCaptureFixture) -> None:
    app = calendar_app
    await connected(app, "google", "alex@work.com")
    app.google.fail_next(503, revoke_endpoint=True)
    with caplog.at_level(logging.WARNING, logger="rapport.bot.connectors.calendars"):
        status, page = await app.connect("alex", "google", "alex@personal.com")
    assert status == 200 and "Connected." in page
    [personal] = _grants(app, "alex@personal.com")
    assert await _stored_refresh_token(app, "google") == personal.refresh_token
    [record] = [r for r in caplog.records if r.getMessage() == "replaced calendar grant "
                                                                "not revoked"]
    assert getattr(record, "provider", None) == "google"
    assert not any(grant.refresh_token and grant.refresh_token in r.getMessage()
                   for r in caplog.records for grant in app.google.oauth.grants)


async def test_the_same_google_account_again_keeps_its_one_grant(
        calendar_app: CalendarApp) -> None:
    """Once a sync has learnt the account, a consent with the same account is part of the
    grant Rapport holds already: nothing is revoked (that would end the new one too), and
    `disconnect calendar` later ends the whole grant."""
    app = calendar_app
    calendar = await connected(app, "google", "alex@example.com")
    calendar.add(start=THU_14, attendees=["pat@initech.com"], organizer="alex@example.com")
    assert (await app.sync.run_once()).failed == 0
    assert (await connection(app, "google")).account_email == "alex@example.com"

    status, page = await app.connect("alex", "google", "alex@example.com")
    assert status == 200 and "Connected." in page
    assert app.google.revocations == []
    newest = _grants(app, "alex@example.com")[-1]
    assert await _stored_refresh_token(app, "google") == newest.refresh_token
    assert (await connection(app, "google")).status == "active"

    assert (await app.runtime.rapport.handle_text(ALEX, "disconnect calendar")).ok
    assert _live(app) == []


async def test_the_same_google_account_not_yet_known_is_connected_on_the_next_try(
        calendar_app: CalendarApp) -> None:
    """Before any sync has learnt the account, Rapport cannot tell it is the same one: it
    revokes the replaced grant, which at Google ends the new one with it. It checks, says so
    on the page (no DM saying it is connected), and the next link connects it."""
    app = calendar_app
    await connected(app, "google", "alex@example.com")
    status, page = await app.connect("alex", "google", "alex@example.com")
    assert status == 400 and "Type “connect calendar” to Rapport once more" in page
    assert _live(app) == []
    held = await connection(app, "google")
    assert (held.status, held.refresh_token_encrypted, held.access_token_encrypted) == (
        "paused", None, None)
    answer = (await app.runtime.rapport.handle_text(ALEX, "connect google calendar")).text
    assert answer.startswith("Your Google calendar stopped letting Rapport read it")

    status, _ = await app.connect("alex", "google", "alex@example.com")
    assert status == 200 and _live(app) == ["alex@example.com"]
    assert (await connection(app, "google")).status == "active"
    assert (await app.sync.run_once()).failed == 0


async def test_microsoft_connected_again_keeps_no_token_of_the_grant_it_replaced(
        calendar_app: CalendarApp) -> None:
    """Microsoft has no revocation endpoint: nothing is called, and the replaced tokens are
    stored nowhere (the person removes old access in their account, as `disconnect` says)."""
    app = calendar_app
    await connected(app, "microsoft", "alex@work.com")
    work = [g for g in app.microsoft.oauth.grants if g.account == "alex@work.com"]
    status, _ = await app.connect("alex", "microsoft", "alex@personal.com")
    assert status == 200
    [personal] = [g for g in app.microsoft.oauth.grants if g.account == "alex@personal.com"]
    assert await _stored_refresh_token(app, "microsoft") == personal.refresh_token
    async with app.runtime.sessions() as session:
        rows = (await session.execute(select(CalendarConnection.refresh_token_encrypted,
                                             CalendarConnection.access_token_encrypted))).all()
    stored = {app.cipher.decrypt(sealed) for row in rows for sealed in row if sealed}
    assert not stored & {grant.refresh_token for grant in work}
    assert app.google.revocations == []
