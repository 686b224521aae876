"""A nudge's headline counts the days on the person's own calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.scheduler.items import items_of_rows
from rapport.storage import db
from rapport.storage.uow import Database


def _cadence_row(last_touch_at: datetime, tz: str) -> tuple[object, ...]:
    # queries.NUDGE_ITEM_COLUMNS, for a cadence nudge about someone with no touchpoints held
    return (1, "cadence", 999_999, last_touch_at, "Ingrid Bergström", "Volvo", 14,
            last_touch_at, None, None, None, None, None, tz, None, None)


async def test_days_since_are_the_persons_calendar_days(engine: AsyncEngine) -> None:
    # Logged "10 days ago" in Auckland on Thu Dec 3: Mon Nov 23 at noon there (Nov 22,
    # 23:00 UTC); the sweep runs on Thu Dec 3 at 09:00 there, 22 hours short of 10 whole days.
    logged = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    now = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)

    def work(session: Session) -> str:
        return items_of_rows(session, [_cadence_row(logged, "Pacific/Auckland")], now)[1]\
            .headline

    headline = await Database(db.session_factory(engine)).run(work, write=False)
    assert headline == "It has been 10 days since you talked to Ingrid Bergström (Volvo)"
