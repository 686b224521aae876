"""Important dates: a yearly nudge 3 days before, at the start of the user's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import ImportantDate, Nudge
from tests.conftest import Clock, console_user
from tests.scheduler.test_sweep import RecordingMessenger


def _sweeper(rapport: Rapport, messenger: RecordingMessenger, clock: Clock) -> Sweeper:
    return Sweeper(sessions=rapport.sessions, messengers={"console": messenger},  # type: ignore[dict-item]
                   clock=clock)


async def test_birthday_nudge_three_days_before_in_the_users_zone_every_year(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    actor = console_user(tz="America/New_York")
    await rapport.handle_text(actor, "add Dana Scully")
    reply = await rapport.handle_text(actor, "date Dana birthday Dec 4")
    # Issue 14 (item 9): one date format across messages, with the weekday.
    assert reply.ok and reply.text == ("I'll remind you of Dana's birthday (Fri Dec 4) a few "
                                       "days before.")
    messenger = RecordingMessenger()
    sweeper = _sweeper(rapport, messenger, clock)
    # Tuesday Dec 1, 09:00 in New York is 14:00 UTC.
    clock.set(datetime(2026, 12, 1, 13, 59, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    assert (await sweeper.sweep()).sent == 0
    [message] = messenger.delivered
    assert message.items[0].reason == "date"
    assert message.items[0].headline == "Dana's birthday is on Fri Dec 4 (in 3 days)"
    # Next year again, same local moment (Wednesday Dec 1, 2027), once.
    clock.set(datetime(2027, 12, 1, 13, 59, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2027, 12, 1, 14, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    assert (await sweeper.sweep()).sent == 0
    assert messenger.delivered[-1].items[0].headline == \
        "Dana's birthday is on Sat Dec 4 (in 3 days)"  # 2027: Dec 4 is a Saturday
    async with rapport.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Nudge)) == 2


async def test_feb_29_falls_on_feb_28_and_returns_in_leap_years(rapport: Rapport, clock: Clock
                                                                ) -> None:
    actor = console_user()
    await rapport.handle_text(actor, "add Sam Lee")
    reply = await rapport.handle_text(actor, "date Sam birthday Feb 29")
    assert reply.ok and "(Sun Feb 28 2027)" in reply.text
    messenger = RecordingMessenger()
    sweeper = _sweeper(rapport, messenger, clock)
    clock.set(datetime(2027, 2, 25, 8, 59, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2027, 2, 25, 9, 0, tzinfo=UTC))  # Thursday, 3 days before Feb 28
    assert (await sweeper.sweep()).sent == 1
    assert messenger.delivered[-1].items[0].headline == \
        "Sam's birthday is on Sun Feb 28 (in 3 days)"
    # 2028 is a leap year: Feb 29 itself; 3 days before is a Saturday, so Monday's window.
    clock.set(datetime(2028, 2, 26, 9, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2028, 2, 28, 9, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    assert messenger.delivered[-1].items[0].headline == \
        "Sam's birthday is on Tue Feb 29 (tomorrow)"


async def test_anniversary_off_removes_the_date(rapport: Rapport, clock: Clock) -> None:
    actor = console_user()
    await rapport.handle_text(actor, "add Lee Park")
    assert (await rapport.handle_text(actor, "date Lee anniversary 3 Dec")).ok
    reply = await rapport.handle_text(actor, "date Lee anniversary off")
    assert reply.ok and reply.text == "Forgot Lee Park's work anniversary."
    async with rapport.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ImportantDate)) == 0
    messenger = RecordingMessenger()
    clock.set(clock.now + timedelta(days=20))
    assert (await _sweeper(rapport, messenger, clock).sweep()).sent == 0
    bad = await rapport.handle_text(actor, "date Lee birthday Feb 30")
    assert not bad.ok and "Which day?" in bad.text
