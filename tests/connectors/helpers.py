"""Shared steps of the calendar sync tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from rapport.bot.core.context import Actor
from rapport.storage.models import (
    CalendarConnection,
    CapturedAttendee,
    CapturedEvent,
    Contact,
    Touchpoint,
)
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.calendar_store import FakeCalendar


class RecordingSleep:
    """Stands in for asyncio.sleep: records what the sync waited, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def touchpoints(app: CalendarApp, user: str = "alex") -> list[Touchpoint]:
    _, user_id = await app.user(user)
    async with app.runtime.sessions() as session:
        return list((await session.scalars(
            select(Touchpoint).where(Touchpoint.user_id == user_id)
            .order_by(Touchpoint.happened_at, Touchpoint.contact_id))).all())


async def touch_summary(app: CalendarApp, user: str = "alex") -> list[tuple[int, datetime]]:
    """(contact id, happened_at) of the user's touchpoints, oldest first."""
    return [(t.contact_id, t.happened_at) for t in await touchpoints(app, user)]


async def connection(app: CalendarApp, provider: str, user: str = "alex"
                     ) -> CalendarConnection:
    _, user_id = await app.user(user)
    async with app.runtime.sessions() as session:
        return (await session.scalars(select(CalendarConnection).where(
            CalendarConnection.user_id == user_id,
            CalendarConnection.provider == provider))).one()


async def captured(app: CalendarApp) -> list[Any]:
    async with app.runtime.sessions() as session:
        return list((await session.execute(
            select(CapturedEvent.event_id, CapturedEvent.start_at, CapturedAttendee.contact_id,
                   CapturedAttendee.touchpoint_id)
            .join(CapturedAttendee, CapturedAttendee.captured_event_id == CapturedEvent.id)
            .order_by(CapturedEvent.start_at))).all())


async def last_touch(app: CalendarApp, contact_id: int) -> datetime | None:
    async with app.runtime.sessions() as session:
        return await session.scalar(select(Contact.last_touch_at)
                                    .where(Contact.id == contact_id))


async def connected(app: CalendarApp, provider: str, account: str = "alex@example.com",
                    user: str = "alex") -> FakeCalendar:
    """Connect `user` to `provider` through the real consent flow; the account's calendar."""
    status, page = await app.connect(user, provider, account)
    assert status == 200, page
    fake = app.google if provider == "google" else app.microsoft
    return fake.calendar(account)


async def said(app: CalendarApp, actor: Actor, line: str) -> str:
    """What Rapport answers `actor` typing `line`, which it must have understood."""
    reply = await app.runtime.rapport.handle_text(actor, line)
    assert reply.ok, (line, reply.text)
    return reply.text
