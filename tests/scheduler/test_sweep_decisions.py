"""What one claim decides, user by user, pinned on tricky inputs: who gets a message now, which
nudges it carries, and when the rest is looked at again.

Users here share their delivery settings but not today's count, sit in other zones, are
paused, capped, unreachable or on a platform this replica does not serve; the sweep decides
for a whole batch at once, and each of them must still be decided on their own.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.scheduler.delivery import RECORD_EVERY, Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, User, Workspace

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
TODAY = date(2026, 11, 23)


class Recorder:
    platform = "console"

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.messages.append(message)
        return DeliveryResult.sent(ref=f"ref-{len(self.messages)}")


# name: (workspace, settings, [(status, hours before now that it fell due)])
USERS: dict[str, tuple[int, dict[str, Any], list[tuple[str, int]]]] = {
    # Same settings as "fresh" below, but today's cap is used up: tomorrow's window.
    "capped": (1, dict(sent_day=TODAY, sent_day_count=3), [("planned", 5)]),
    # Capped yesterday, not today: one message per nudge.
    "fresh": (1, dict(sent_day=TODAY - timedelta(days=1), sent_day_count=3),
              [("planned", 5), ("snoozed", 3)]),
    # One message left today and two nudges: one digest.
    "one_left": (1, dict(sent_day=TODAY, sent_day_count=2), [("planned", 2), ("planned", 4)]),
    # 05:00 in New York: when the window opens there.
    "new_york": (1, dict(tz="America/New_York"), [("planned", 1), ("snoozed", 2)]),
    "inactive": (1, dict(active=False), [("snoozed", 1)]),
    "paused": (1, dict(paused_until=NOW + timedelta(days=2)), [("planned", 1)]),
    # Twelve at once: a digest of the ten oldest, the rest after the digest spacing.
    "many": (1, dict(digest=True), [("planned", hours) for hours in
                                    (9, 1, 12, 3, 7, 2, 11, 4, 8, 5, 10, 6)]),
    # A platform this replica has no messenger for: left alone, for a replica that has one.
    "elsewhere": (2, {}, [("planned", 1)]),
}


async def _seed(engine: AsyncEngine) -> dict[str, list[int]]:
    """The users and their due nudges; nudge ids by user name, in insertion order."""
    nudges: dict[str, list[int]] = {}
    async with engine.begin() as connection:
        for workspace_id, platform in ((1, "console"), (2, "teams")):
            await connection.execute(insert(Workspace).values(
                id=workspace_id, platform=platform, external_id=f"T{workspace_id}",
                name=platform, ai_enabled=True, disclosure_policy="optional", active=True,
                created_at=NOW))
        for index, (name, (workspace_id, settings, due)) in enumerate(USERS.items()):
            user_id = index + 1
            await connection.execute(insert(User).values({
                "id": user_id, "workspace_id": workspace_id, "external_id": name,
                "display_name": name, "tz": "UTC", "tz_from_platform": True,
                "window_start_minute": 9 * 60, "window_end_minute": 17 * 60,
                "working_days": 0b0011111, "daily_cap": 3, "digest": False,
                "ai_enabled": True, "tone": "warm", "weekly_summary": True, "active": True,
                "sent_day_count": 0, "created_at": NOW, **settings}))
            nudges[name] = []
            for number, (status, hours) in enumerate(due):
                contact_id = (await connection.execute(insert(Contact).values(
                    workspace_id=workspace_id, user_id=user_id, name=f"{name} {number}",
                    name_key=f"{name} {number}", kind="colleague", cadence_days=14,
                    created_at=NOW).returning(Contact.id))).scalar_one()
                at = NOW - timedelta(hours=hours)
                nudges[name].append((await connection.execute(insert(Nudge).values(
                    workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
                    reason="cadence", dedupe_key=f"cadence:{contact_id}", due_at=at,
                    deliver_after=at, status=status, snooze_count=0, attempts=0,
                    created_at=NOW).returning(Nudge.id))).scalar_one())
    return nudges


async def test_each_user_is_decided_on_their_own_settings_and_count(
        any_engine: AsyncEngine) -> None:
    ids = await _seed(any_engine)
    recorder = Recorder()
    sweeper = Sweeper(sessions=db.session_factory(any_engine),
                      messengers={"console": recorder}, owner="a", clock=lambda: NOW)
    report = await sweeper.sweep(NOW)

    sent = sorted((message.recipient.user_external_id, message.kind,
                   tuple(item.nudge_id for item in message.items))
                  for message in recorder.messages)
    hours = [hours for _status, hours in USERS["many"][2]]
    oldest_first = [ids["many"][i] for i in sorted(range(12), key=lambda i: -hours[i])]
    assert sent == sorted([
        ("fresh", "nudge", (ids["fresh"][0],)), ("fresh", "nudge", (ids["fresh"][1],)),
        ("one_left", "digest", (ids["one_left"][1], ids["one_left"][0])),
        ("many", "digest", tuple(oldest_first[:10])),
    ])
    assert all(item.headline for message in recorder.messages for item in message.items)

    async with any_engine.connect() as connection:
        rows = {nudge_id: (status, after) for nudge_id, status, after in await connection.execute(
            select(Nudge.id, Nudge.status, Nudge.deliver_after))}
        counts = {name: (day, count) for name, day, count in await connection.execute(
            select(User.external_id, User.sent_day, User.sent_day_count))}
    tomorrow_nine = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    later = {
        ids["capped"][0]: ("planned", tomorrow_nine),
        ids["new_york"][0]: ("planned", datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),
        ids["new_york"][1]: ("snoozed", datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),
        ids["inactive"][0]: ("snoozed", NOW + timedelta(hours=1)),
        ids["paused"][0]: ("planned", NOW + timedelta(days=2)),
        # After the digest spacing, on the same day: a second message is allowed.
        oldest_first[10]: ("planned", NOW + timedelta(hours=3)),
        oldest_first[11]: ("planned", NOW + timedelta(hours=3)),
    }
    for nudge_id, (status, after) in later.items():
        assert rows[nudge_id][0] == status
        assert rows[nudge_id][1].astimezone(UTC) == after
    delivered = {n for message in recorder.messages for n in
                 (item.nudge_id for item in message.items)}
    assert {n for n, (status, _after) in rows.items() if status == "sent"} == delivered
    assert report.sent == len(delivered) == 14 and report.deferred == len(later)
    assert rows[ids["elsewhere"][0]][0] == "planned"
    assert rows[ids["elsewhere"][0]][1].astimezone(UTC) == NOW - timedelta(hours=1)
    assert counts["fresh"] == (TODAY, 2) and counts["one_left"] == (TODAY, 3)
    assert counts["many"] == (TODAY, 1) and counts["capped"] == (TODAY, 3)


class Refusing(Recorder):
    """Sends, except to the users named: their messages come back as retry later."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = refused

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if message.recipient.user_external_id in self.refused:
            return DeliveryResult.retry("ratelimited")
        return await super().deliver(message)


async def _day_counts(engine: AsyncEngine) -> dict[str, tuple[date | None, int]]:
    async with engine.connect() as connection:
        return {name: (day, count) for name, day, count in await connection.execute(
            select(User.external_id, User.sent_day, User.sent_day_count))}


async def test_a_message_that_did_not_go_out_gives_its_place_in_the_day_back(
        any_engine: AsyncEngine) -> None:
    # The claim counts each message in its user's day; a retry must hand that back, or the
    # user would lose a message of their cap to every failed attempt.
    await _seed(any_engine)
    sweeper = Sweeper(sessions=db.session_factory(any_engine),
                      messengers={"console": Refusing({"one_left", "fresh"})}, owner="a",
                      clock=lambda: NOW)
    report = await sweeper.sweep(NOW)
    assert report.retried == 3 and report.messages == 1
    counts = await _day_counts(any_engine)
    assert counts["one_left"] == (TODAY, 2)
    assert counts["fresh"][1] == 0 and counts["many"] == (TODAY, 1)


async def _one_nudge_each(engine: AsyncEngine, users: int) -> None:
    """`users` users with one due nudge each: more than one wave of messages."""
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace).values(
            id=1, platform="console", external_id="T1", name="console", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW))
        for user_id in range(1, users + 1):
            await connection.execute(insert(User).values(
                id=user_id, workspace_id=1, external_id=f"u{user_id}", display_name="u",
                tz="UTC", tz_from_platform=True, window_start_minute=9 * 60,
                window_end_minute=17 * 60, working_days=0b0011111, daily_cap=3, digest=False,
                ai_enabled=True, tone="warm", weekly_summary=True, active=True,
                sent_day_count=0, created_at=NOW))
            contact_id = (await connection.execute(insert(Contact).values(
                workspace_id=1, user_id=user_id, name="Ana", name_key="ana", kind="colleague",
                cadence_days=14, created_at=NOW).returning(Contact.id))).scalar_one()
            await connection.execute(insert(Nudge).values(
                workspace_id=1, user_id=user_id, contact_id=contact_id, reason="cadence",
                dedupe_key=f"cadence:{contact_id}", due_at=NOW, deliver_after=NOW,
                status="planned", snooze_count=0, attempts=0, created_at=NOW))


async def test_messages_released_at_shutdown_give_their_places_back(
        any_engine: AsyncEngine) -> None:
    # Twenty users with one nudge each: the first wave goes out, then the sweeper is told to
    # stop and hands the rest back; only what was sent stays counted.
    await _one_nudge_each(any_engine, 20)

    class StoppingRecorder(Recorder):
        async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
            sweeper.stop()
            return await super().deliver(message)

    recorder = StoppingRecorder()
    sweeper = Sweeper(sessions=db.session_factory(any_engine), messengers={"console": recorder},
                      owner="a", clock=lambda: NOW)
    report = await sweeper.sweep(NOW)
    assert report.messages == len(recorder.messages) == RECORD_EVERY
    counts = await _day_counts(any_engine)
    assert sorted(count for _day, count in counts.values()) == [0] * 4 + [1] * RECORD_EVERY
    async with any_engine.connect() as connection:
        statuses = sorted((await connection.scalars(select(Nudge.status))).all())
    assert statuses == ["planned"] * 4 + ["sent"] * RECORD_EVERY


async def test_a_wave_that_finds_the_database_locked_is_recorded_once_it_is_free(
        engine: AsyncEngine) -> None:
    """On a SQLite file a wave is recorded on the event loop's own connection, which never
    waits for a lock: when another process is writing, the wave goes to the database thread
    and is recorded after that write, once, with nothing lost or sent twice."""
    await _one_nudge_each(engine, 20)
    path = engine.url.database
    assert path is not None
    other_process = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    class LockingRecorder(Recorder):
        async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
            if not self.messages:
                # Another process takes the write lock while the first wave goes out, and
                # holds it until after the wave's record has found it locked.
                other_process.execute("BEGIN IMMEDIATE")
                asyncio.get_running_loop().call_later(
                    0.05, lambda: other_process.execute("COMMIT"))
            return await super().deliver(message)

    recorder = LockingRecorder()
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": recorder},
                      owner="a", clock=lambda: NOW)
    try:
        report = await sweeper.sweep(NOW)
    finally:
        other_process.close()
    assert sweeper.db._inline is not None and sweeper.db._inline.handed_over >= 1
    assert report.messages == report.sent == 20 and report.retried == 0
    delivered = [item.nudge_id for message in recorder.messages for item in message.items]
    assert len(delivered) == len(set(delivered)) == 20
    async with engine.connect() as connection:
        rows = (await connection.execute(select(Nudge.id, Nudge.status, Nudge.lease_owner,
                                                Nudge.message_key))).all()
    assert sorted(nudge_id for nudge_id, *_ in rows) == sorted(delivered)
    assert {(status, owner) for _id, status, owner, _key in rows} == {("sent", None)}
    assert len({key for *_rest, key in rows}) == 20
    counts = await _day_counts(engine)
    assert set(counts.values()) == {(TODAY, 1)}
