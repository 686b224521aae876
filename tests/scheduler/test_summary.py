"""The weekly summary DM: right day, inside the window, once a week, opt-out respected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.jobs import build_scheduler
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.scheduler.summary import send_weekly_summaries, summary_day, summary_text
from rapport.storage import db
from rapport.storage.models import User
from tests.conftest import MONDAY_10_UTC, Clock, console_user

NY = "America/New_York"
# Friday 2026-11-27; the New York window 09:00-17:00 is 14:00-22:00 UTC.
FRIDAY_9AM_NY = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


class Recorder:
    platform = "console"

    def __init__(self) -> None:
        self.delivered: list[OutgoingMessage] = []
        self.script: list[DeliveryResult] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if self.script:
            return self.script.pop(0)
        self.delivered.append(message)
        return DeliveryResult.sent(ref=f"r{len(self.delivered)}")


async def _week_of_history(rapport: Rapport, clock: Clock, tz: str = NY) -> None:
    actor = console_user(tz=tz)
    clock.set(MONDAY_10_UTC - timedelta(days=14))
    await rapport.handle_text(actor, "add Sam Lee every 1 week")
    await rapport.handle_text(actor, "add Lee Park every 1 week")
    await rapport.handle_text(actor, "add Dana Scully")
    await rapport.handle_text(actor, "add Kim Wu")
    clock.set(MONDAY_10_UTC)
    for command in ("log Dana Scully coffee", "log Kim Wu call"):
        assert (await rapport.handle_text(actor, command)).ok


async def test_friday_in_window_once_a_week(rapport: Rapport, clock: Clock) -> None:
    await _week_of_history(rapport, clock)
    messenger = Recorder()
    messengers = {"console": messenger}
    for moment in (datetime(2026, 11, 26, 15, tzinfo=UTC),  # Thursday in the window
                   FRIDAY_9AM_NY - timedelta(minutes=1)):   # Friday 08:59 in New York
        assert (await send_weekly_summaries(rapport.sessions, messengers, moment)).sent == 0
    assert (await send_weekly_summaries(rapport.sessions, messengers, FRIDAY_9AM_NY)).sent == 1
    later = FRIDAY_9AM_NY + timedelta(hours=3)
    assert (await send_weekly_summaries(rapport.sessions, messengers, later)).sent == 0
    [message] = messenger.delivered
    assert message.kind == "summary" and message.recipient.user_external_id == "alex"
    assert message.text.startswith(
        "In the last 7 days you reconnected with 2 people; 2 are overdue: Lee Park and "
        "Sam Lee.")
    assert "settings summary off" in message.text
    async with rapport.sessions() as session:
        sent_on = await session.scalar(select(User.summary_sent_on))
    assert sent_on == FRIDAY_9AM_NY.date()
    # The next Friday brings the next summary.
    next_friday = FRIDAY_9AM_NY + timedelta(days=7, hours=1)
    assert (await send_weekly_summaries(rapport.sessions, messengers, next_friday)).sent == 1
    assert messenger.delivered[-1].text.startswith(
        "In the last 7 days you did not log a conversation;")


async def test_someone_due_today_is_not_overdue_in_the_summary(rapport: Rapport, clock: Clock
                                                                ) -> None:
    """Overdue by the user's calendar, as `people` and `stats` count: not the hour, not UTC."""
    actor = console_user(tz=NY)
    clock.set(FRIDAY_9AM_NY - timedelta(days=14))
    for command in ("add Ivy Vo every 1 week", "add Kim Wu every 1 week"):
        assert (await rapport.handle_text(actor, command)).ok
    # Ivy: a week before Thursday 23:30 in New York (Friday 04:30 UTC): overdue since yesterday.
    clock.set(FRIDAY_9AM_NY - timedelta(days=7, hours=9, minutes=30))
    assert (await rapport.handle_text(actor, "log Ivy Vo call")).ok
    # Kim: a week before Friday 08:00 in New York: due an hour ago, today, so not overdue.
    clock.set(FRIDAY_9AM_NY - timedelta(days=7, hours=1))
    assert (await rapport.handle_text(actor, "log Kim Wu call")).ok
    clock.set(FRIDAY_9AM_NY)
    messenger = Recorder()
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        FRIDAY_9AM_NY)).sent == 1
    [message] = messenger.delivered
    assert message.text.startswith("In the last 7 days you did not log a conversation; 1 is "
                                   "overdue: Ivy Vo.")
    people = (await rapport.handle_text(actor, "people")).text
    assert "due today" in people and "overdue 1 day" in people


async def test_opt_out_pause_and_unknown_platform(rapport: Rapport, clock: Clock) -> None:
    await _week_of_history(rapport, clock)
    actor = console_user(tz=NY)
    messenger = Recorder()
    reply = await rapport.handle_text(actor, "settings summary off")
    assert reply.ok, reply.text
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        FRIDAY_9AM_NY)).sent == 0
    await rapport.handle_text(actor, "settings summary on")
    await rapport.handle_text(actor, "pause")
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        FRIDAY_9AM_NY)).sent == 0
    await rapport.handle_text(actor, "resume")
    assert (await send_weekly_summaries(rapport.sessions, {"slack": messenger},
                                        FRIDAY_9AM_NY)).sent == 0
    assert messenger.delivered == []
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        FRIDAY_9AM_NY)).sent == 1


async def test_sunday_to_thursday_week_gets_it_on_thursday(rapport: Rapport, clock: Clock
                                                           ) -> None:
    await _week_of_history(rapport, clock, tz="Asia/Jerusalem")
    await rapport.handle_text(console_user(tz="Asia/Jerusalem"), "settings days Sun-Thu")
    messenger = Recorder()
    thursday_10_local = datetime(2026, 11, 26, 8, tzinfo=UTC)  # UTC+2
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        thursday_10_local)).sent == 1
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        FRIDAY_9AM_NY)).sent == 0


async def test_retry_gives_the_week_back_and_gone_stops(rapport: Rapport, clock: Clock) -> None:
    await _week_of_history(rapport, clock)
    messenger = Recorder()
    messenger.script = [DeliveryResult.retry("rate limited", 1.0)]
    report = await send_weekly_summaries(rapport.sessions, {"console": messenger}, FRIDAY_9AM_NY)
    assert (report.sent, report.retry) == (0, 1)
    report = await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                         FRIDAY_9AM_NY + timedelta(minutes=15))
    assert report.sent == 1 and len(messenger.delivered) == 1
    messenger.script = [DeliveryResult.gone("account_inactive")]
    next_friday = FRIDAY_9AM_NY + timedelta(days=7)
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        next_friday)).failed == 1
    async with rapport.sessions() as session:
        user = await session.scalar(select(User))
    assert user is not None and user.active is False
    assert user.inactive_reason == "account_inactive"


async def test_user_without_contacts_gets_no_summary(rapport: Rapport) -> None:
    await rapport.user_context(console_user(tz=NY))
    messenger = Recorder()
    assert (await send_weekly_summaries(rapport.sessions, {"console": messenger},
                                        FRIDAY_9AM_NY)).sent == 0
    assert messenger.delivered == []


async def test_two_replicas_at_once_send_one_summary(any_engine: AsyncEngine, clock: Clock
                                                     ) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    await _week_of_history(rapport, clock)
    messenger = Recorder()
    reports = await asyncio.gather(*(
        send_weekly_summaries(db.session_factory(any_engine), {"console": messenger},
                              FRIDAY_9AM_NY) for _ in range(3)))
    assert sum(r.sent for r in reports) == 1
    assert len(messenger.delivered) == 1


def test_summary_text_variants() -> None:
    assert summary_text(1, []).startswith("In the last 7 days you reconnected with 1 person; "
                                          "nobody is overdue.")
    assert summary_text(4, ["Dana"]).startswith("In the last 7 days you reconnected with 4 "
                                                "people; 1 is overdue: Dana.")
    assert summary_text(0, ["A", "B", "C", "D", "E"]).startswith(
        "In the last 7 days you did not log a conversation; 5 are overdue: A, B, C and 2 more.")


def test_summary_day() -> None:
    monday = MONDAY_10_UTC.date()
    assert summary_day(monday, 0b0011111) == monday + timedelta(days=4)
    assert summary_day(monday + timedelta(days=6), 0b1001111) == monday + timedelta(days=3)
    assert summary_day(monday, 0b1100000) is None  # works weekends only


async def test_scheduler_runs_summary_and_retention_jobs(rapport: Rapport, clock: Clock) -> None:
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": Recorder()}, clock=clock)
    scheduler = build_scheduler(sweeper=sweeper, sweep_seconds=60)
    jobs = scheduler.get_jobs()
    names = {getattr(job.func, "__qualname__", "") for job in jobs}
    assert any(name.startswith("summary_job") for name in names)
    assert any(name.startswith("retention_job") for name in names)
    # A forgotten person's undo copy is dropped within a minute of its 15 minutes.
    [undo_purge] = [job for job in jobs
                    if getattr(job.func, "__qualname__", "").startswith("undo_purge_job")]
    assert undo_purge.trigger.interval.total_seconds() == 60
    # Reminders delivered about someone forgotten are cleared within a minute.
    [redactions] = [job for job in jobs
                    if getattr(job.func, "__qualname__", "").startswith("redaction_job")]
    assert redactions.trigger.interval.total_seconds() == 30
