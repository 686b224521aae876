"""The sweep on a real database: idempotent planning, one delivery per nudge, respectful timing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, User
from tests.conftest import Clock, console_user


class RecordingMessenger:
    """A console-platform messenger that records and can fail on demand."""

    platform = "console"

    def __init__(self) -> None:
        self.delivered: list[OutgoingMessage] = []
        self.script: list[DeliveryResult] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if self.script:
            result = self.script.pop(0)
            if result.status != "sent":
                return result
        self.delivered.append(message)
        return DeliveryResult.sent(ref=f"ref-{len(self.delivered)}")

    def nudge_ids(self) -> list[int]:
        return [item.nudge_id for message in self.delivered for item in message.items]


async def _setup(engine: AsyncEngine, clock: Clock) -> tuple[Rapport, RecordingMessenger]:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    return rapport, RecordingMessenger()


def _sweeper(engine: AsyncEngine, messenger: object, clock: Clock, owner: str = "a") -> Sweeper:
    return Sweeper(sessions=db.session_factory(engine), messengers={"console": messenger},
                   owner=owner, clock=clock)  # type: ignore[dict-item]


async def test_follow_up_note_is_delivered_once_with_a_human_sentence(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "add Dana Scully colleague")
    reply = await rapport.handle_text(user, "note Dana: hiking trip in Yosemite after Saturday")
    assert reply.ok, reply.text
    sweeper = _sweeper(any_engine, messenger, clock)
    assert (await sweeper.sweep()).sent == 0  # not due yet
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday after the trip
    first = await sweeper.sweep()
    second = await sweeper.sweep()
    assert first.sent == 1 and second.sent == 0 and second.planned == 0
    [message] = messenger.delivered
    assert message.items[0].headline == (
        # Issue 14 (item 9): one date format across messages, with the weekday.
        "Ask Dana about the hiking trip in Yosemite (you noted it on Mon Nov 23)")


async def test_two_sweepers_at_once_deliver_each_nudge_once(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    for index in range(30):
        user = console_user(f"user{index}")
        await rapport.handle_text(user, f"add Person{index} every 1 week")
        await rapport.handle_text(user, f"note Person{index}: the launch on today")
    clock.advance(days=8)
    clock.set(clock.now.replace(hour=10))
    while clock.now.weekday() >= 5:
        clock.advance(days=1)
    sweepers = [_sweeper(any_engine, messenger, clock, owner=name) for name in ("a", "b", "c")]
    reports = await asyncio.gather(*(s.sweep() for s in sweepers))
    again = await asyncio.gather(*(s.sweep() for s in sweepers))
    ids = messenger.nudge_ids()
    assert len(ids) == len(set(ids)) == 60
    assert sum(r.sent for r in reports) == 60 and sum(r.sent for r in again) == 0
    async with db.session_factory(any_engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Nudge)) == 60
        statuses = set((await session.scalars(select(Nudge.status))).all())
    assert statuses == {"sent"}


async def test_nothing_outside_the_window_and_one_digest_after_downtime(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    for name in ("Ana", "Ben", "Cleo", "Dev", "Eli"):
        await rapport.handle_text(user, f"add {name} every 2 weeks")
    clock.set(datetime(2026, 12, 12, 10, 0, tzinfo=UTC))  # a Saturday: not a working day
    sweeper = _sweeper(any_engine, messenger, clock)
    report = await sweeper.sweep()
    assert report.planned == 5 and report.sent == 0
    clock.set(datetime(2026, 12, 14, 7, 0, tzinfo=UTC))  # Monday before the window
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2026, 12, 14, 9, 0, tzinfo=UTC))
    report = await sweeper.sweep()
    assert report.messages == 1 and report.sent == 5
    [digest] = messenger.delivered
    assert digest.kind == "digest" and len(digest.items) == 5


async def test_daily_cap_and_pause_hold_nudges_back(any_engine: AsyncEngine,
                                                    clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "settings digest off")
    await rapport.handle_text(user, "settings cap 2")
    for name in ("Ana", "Ben", "Cleo"):
        await rapport.handle_text(user, f"add {name}")
        await rapport.handle_text(user, f"note {name}: the offsite on today")
    await rapport.handle_text(user, "pause until Wednesday")
    sweeper = _sweeper(any_engine, messenger, clock)
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # Wednesday
    report = await sweeper.sweep()
    # Three due but a cap of two with digests off: catching up is one digest, not a flood.
    assert report.messages == 1 and report.sent == 3
    assert messenger.delivered[0].kind == "digest"


async def test_cap_limits_single_messages(any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "settings digest off")
    await rapport.handle_text(user, "settings cap 1")
    await rapport.handle_text(user, "add Ana")
    await rapport.handle_text(user, "note Ana: the offsite on today")
    sweeper = _sweeper(any_engine, messenger, clock)
    assert (await sweeper.sweep()).messages == 1
    await rapport.handle_text(user, "add Ben")
    await rapport.handle_text(user, "note Ben: the demo on today")
    clock.advance(hours=1)
    assert (await sweeper.sweep()).messages == 0  # cap reached today
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).messages == 1


async def test_snoozed_nudge_comes_back_and_done_moves_the_cadence(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "add Lee client at Acme every 6 weeks")
    clock.advance(days=43)  # Monday 2027-01-04 10:00
    sweeper = _sweeper(any_engine, messenger, clock)
    assert (await sweeper.sweep()).sent == 1
    headline = messenger.delivered[0].items[0].headline
    assert "Lee (Acme)" in headline
    nudge_id = messenger.delivered[0].items[0].nudge_id
    reply = await rapport.handle_text(user, f"snooze #{nudge_id} 1 day")
    assert reply.ok, reply.text
    assert (await sweeper.sweep()).sent == 0
    clock.advance(days=1)
    assert (await sweeper.sweep()).sent == 1
    assert messenger.nudge_ids() == [nudge_id, nudge_id]
    reply = await rapport.handle_text(user, f"done #{nudge_id}")
    assert reply.ok, reply.text
    again = await rapport.handle_text(user, f"done #{nudge_id}")
    assert not again.ok and "already done" in again.text
    async with db.session_factory(any_engine)() as session:
        contact = await session.scalar(select(Contact))
        assert contact is not None and contact.last_touch_at == clock.now
        # Due from the start of the day six weeks on (UTC user).
        assert contact.next_due_at == (clock.now + timedelta(days=42)).replace(hour=0)


async def test_backdated_log_restarts_the_clock_from_that_day_but_never_backwards(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, _ = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "add Dana every 2 weeks")
    await rapport.handle_text(user, "log Dana yesterday: coffee")
    async with db.session_factory(any_engine)() as session:
        contact = await session.scalar(select(Contact))
        assert contact is not None
        yesterday_noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        assert contact.last_touch_at == yesterday_noon
        assert contact.next_due_at == datetime(2026, 12, 6, tzinfo=UTC)  # its day, not noon
    await rapport.handle_text(user, "log Dana 5 days ago: call")
    async with db.session_factory(any_engine)() as session:
        contact = await session.scalar(select(Contact))
        assert contact is not None and contact.last_touch_at == yesterday_noon


async def test_failed_delivery_is_retried_and_gone_user_is_paused(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "add Ana")
    await rapport.handle_text(user, "note Ana: the offsite on today")
    messenger.script = [DeliveryResult.retry("ratelimited", retry_after=30)]
    sweeper = _sweeper(any_engine, messenger, clock)
    report = await sweeper.sweep()
    assert report.sent == 0 and report.retried == 1
    clock.advance(seconds=31)
    assert (await sweeper.sweep()).sent == 1
    await rapport.handle_text(user, "add Ben")
    await rapport.handle_text(user, "note Ben: the demo on today")
    messenger.script = [DeliveryResult.gone("user_not_found")]
    report = await sweeper.sweep()
    assert report.gone_users == 1
    async with db.session_factory(any_engine)() as session:
        account = await session.scalar(select(User))
        assert account is not None and not account.active
        pending = await session.scalar(select(func.count()).select_from(Nudge).where(
            Nudge.status == "planned"))
        assert pending == 1  # kept, not lost
    # Writing to Rapport again proves the user is reachable: active again, nudge delivered.
    assert (await rapport.handle_text(user, "due")).ok
    assert (await sweeper.sweep()).sent == 1


async def test_expired_lease_of_a_crashed_sweeper_is_taken_over(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport, messenger = await _setup(any_engine, clock)
    user = console_user()
    await rapport.handle_text(user, "add Ana")
    await rapport.handle_text(user, "note Ana: the offsite on today")
    crashed = _sweeper(any_engine, messenger, clock, owner="crashed")
    await crashed.plan(clock.now)
    async with db.session_factory(any_engine)() as session, session.begin():
        # What a replica leaves behind when killed after claiming.
        await session.execute(update(Nudge).values(
            status="claimed", lease_owner="crashed", deliver_after=clock.now + timedelta(
                seconds=300)))
    survivor = _sweeper(any_engine, messenger, clock, owner="survivor")
    assert (await survivor.sweep()).sent == 0
    clock.advance(seconds=301)
    assert (await survivor.sweep()).sent == 1


async def test_console_messenger_prints_the_nudge(engine: AsyncEngine, clock: Clock) -> None:
    printed: list[str] = []
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    user = console_user()
    await rapport.handle_text(user, "add Lee client at Acme every 6 weeks")
    clock.advance(days=42)
    sweeper = Sweeper(sessions=db.session_factory(engine),
                      messengers={"console": ConsoleMessenger(printed.append)}, clock=clock)
    await sweeper.sweep()
    assert any("It has been 6 weeks" in text for text in printed) or any(
        "keep in touch with Lee (Acme) every 6 weeks" in text for text in printed)


@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "Pacific/Honolulu"])
async def test_far_time_zones_get_nudges_in_their_own_morning(
        engine: AsyncEngine, clock: Clock, tz: str) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    messenger = RecordingMessenger()
    user = console_user(tz=tz)
    await rapport.handle_text(user, "add Ana")
    await rapport.handle_text(user, "note Ana: the offsite on tomorrow")
    sweeper = _sweeper(engine, messenger, clock)
    for _ in range(72):
        await sweeper.sweep()
        if messenger.delivered:
            break
        clock.advance(hours=1)
    local = clock.now.astimezone(__import__("zoneinfo").ZoneInfo(tz))
    assert messenger.delivered and local.hour == 9


async def test_an_idle_sweep_logs_at_debug_and_a_busy_one_at_info(
        engine: AsyncEngine, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    rapport, messenger = await _setup(engine, clock)
    sweeper = _sweeper(engine, messenger, clock)
    with caplog.at_level("DEBUG", logger="rapport.scheduler.delivery"):
        await sweeper.sweep()
        user = console_user()
        await rapport.handle_text(user, "add Dana")
        await rapport.handle_text(user, "note Dana: the launch on today")
        await sweeper.sweep()
        await sweeper.sweep()
    finished = [(r.levelname, r.__dict__["planned"], r.__dict__["sent"])
                for r in caplog.records if r.getMessage() == "sweep finished"]
    # Once a minute on every replica: only a sweep that did something is worth a line at INFO.
    assert finished == [("DEBUG", 0, 0), ("INFO", 1, 1), ("DEBUG", 0, 0)]
