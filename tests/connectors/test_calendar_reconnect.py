"""Connecting a calendar again (a new grant, with the same account or another): the meetings
already logged are the person's history and stay; the new grant's first sync speaks only for
what was not logged yet. And the account the new grant reads is the one `settings` names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rapport.storage.models import CapturedAttendee, CapturedEvent
from tests.conftest import console_user
from tests.connectors.helpers import connected, connection, last_touch, touch_summary
from tests.fakes.calendar_fixtures import CalendarApp

PROVIDERS = ["google", "microsoft"]
ALEX = console_user("alex", tz="Europe/Berlin")
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _next_run(app: CalendarApp) -> None:
    app.clock.advance(minutes=5, seconds=1)
    report = await app.sync.run_once()
    assert report.failed == 0, report


async def _held_event_ids(app: CalendarApp) -> set[str]:
    async with app.runtime.sessions() as session:
        return set(await session.scalars(select(CapturedEvent.event_id)))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_reconnecting_with_another_account_keeps_the_meetings_already_logged(
        calendar_app: CalendarApp, provider: str) -> None:
    """The new account's calendar does not list the old account's meetings: the ones logged
    stay logged (with the contact's clock), and are never logged again, even when the old
    account is connected once more; one still to come, which the old account alone named,
    goes (nothing was logged for it)."""
    app = calendar_app
    work = await connected(app, provider, "alex@work.com")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    work.add(start=THU_14, attendees=["dana@acme.com"])
    coming = work.add(start=app.clock.now + timedelta(days=2), attendees=["dana@acme.com"])
    await app.sync.run_once()
    assert await touch_summary(app) == [(dana, THU_14)]

    status, _ = await app.connect("alex", provider, "alex@personal.com")
    assert status == 200
    personal = (app.google if provider == "google" else app.microsoft).calendar(
        "alex@personal.com")
    personal.add(start=FRI_10, attendees=["dana@acme.com"])
    await _next_run(app)

    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]
    assert await last_touch(app, dana) == FRI_10
    held = await _held_event_ids(app)
    assert len(held) == 2  # Thursday's (history) and Friday's; the coming one went
    assert all(coming.id not in event_id for event_id in held)

    # Later full syncs of the new grant (an expired cursor) leave the history alone too.
    personal.expire_cursors()
    await _next_run(app)
    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]

    # Back to the first account: Thursday's meeting is listed again, and not logged twice.
    status, _ = await app.connect("alex", provider, "alex@work.com")
    assert status == 200
    await _next_run(app)
    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_logged_meeting_let_go_by_a_reconnect_is_followed_by_nothing(
        calendar_app: CalendarApp, provider: str) -> None:
    """A meeting the new grant's calendar does not list keeps its touchpoint, which no
    captured row follows any more: the person's history, like one typed."""
    app = calendar_app
    work = await connected(app, provider, "alex@work.com")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    work.add(start=THU_14, attendees=["dana@acme.com"])
    await app.sync.run_once()

    await app.connect("alex", provider, "alex@personal.com")
    await _next_run(app)

    async with app.runtime.sessions() as session:
        rows = (await session.execute(select(CapturedAttendee.touchpoint_id,
                                             CapturedAttendee.logged_at))).all()
    [(touchpoint_id, logged_at)] = rows
    assert touchpoint_id is None and logged_at is not None


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_reconnecting_with_the_same_account_changes_nothing_logged(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    work = await connected(app, provider, "alex@work.com")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    work.add(start=THU_14, attendees=["dana@acme.com"])
    await app.sync.run_once()

    await app.connect("alex", provider, "alex@work.com")
    await _next_run(app)

    assert await touch_summary(app) == [(dana, THU_14)]
    async with app.runtime.sessions() as session:
        linked = list(await session.scalars(select(CapturedAttendee.touchpoint_id)))
    assert linked != [None]  # still followed: a move or cancellation still reaches it


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_settings_names_the_account_of_the_new_grant(calendar_app: CalendarApp,
                                                           provider: str) -> None:
    app = calendar_app
    work = await connected(app, provider, "alex@work.com")
    work.add(start=THU_14, attendees=["pat@initech.com"], organizer="alex@work.com")
    await app.sync.run_once()
    assert (await connection(app, provider)).account_email == "alex@work.com"

    await app.connect("alex", provider, "alex@personal.com")
    # Until the new grant's first sync has learnt it, no account is named at all.
    assert (await connection(app, provider)).account_email is None
    personal = (app.google if provider == "google" else app.microsoft).calendar(
        "alex@personal.com")
    personal.add(start=FRI_10, attendees=["pat@initech.com"], organizer="alex@personal.com")
    await _next_run(app)

    settings = (await app.runtime.rapport.handle_text(ALEX, "settings")).text
    [line] = [line for line in settings.splitlines() if "Calendar" in line]
    assert "alex@personal.com" in line and "alex@work.com" not in line
