"""A conversation logged for a day ("log Dana yesterday") stays on that day when the person's
time zone changes, by `settings tz` or because Slack or Teams says they travelled: it is kept at
noon of the day, which a move of more than 12 hours would otherwise carry into another day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.touchpoints import Met, record_touchpoints
from rapport.storage import db
from rapport.storage.models import CALENDAR_SOURCE, Contact, Touchpoint
from tests.conftest import Clock, console_user, say, snapshot

# Thursday Dec 3, 10:00 in Los Angeles (18:00 UTC; already Friday 03:00 in Tokyo).
THURSDAY_LA = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
IN_LA = console_user("alex", tz="America/Los_Angeles")
IN_TOKYO = console_user("alex", tz="Asia/Tokyo")


async def _conversations(rapport: Rapport, actor: object) -> list[str]:
    card = await say(rapport, "show Dana", actor)  # type: ignore[arg-type]
    return [line.strip() for line in card.splitlines() if line.startswith("  t")]


async def test_settings_tz_keeps_logged_days_and_undo_puts_them_back(
        any_engine: AsyncEngine, clock: Clock) -> None:
    clock.set(THURSDAY_LA)
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "settings tz America/Los_Angeles", IN_LA)
    await say(rapport, "add Dana Scully every 2 weeks", IN_LA)
    await say(rapport, "log Dana Monday: lunch", IN_LA)
    await say(rapport, "log Dana yesterday: coffee", IN_LA)
    await say(rapport, "log Dana: call", IN_LA)  # now: a moment, not a day
    assert await _conversations(rapport, IN_LA) == [
        "t3 today, call", "t2 yesterday, coffee", "t1 Mon Nov 30, lunch"]
    before = await snapshot(any_engine)
    async with db.session_factory(any_engine)() as session:
        call_at = await session.scalar(select(Touchpoint.happened_at).where(Touchpoint.id == 3))

    await say(rapport, "settings tz Asia/Tokyo", IN_LA)
    # Friday in Tokyo: Wednesday's coffee was the day before yesterday, Monday is Monday.
    assert await _conversations(rapport, IN_LA) == [
        "t3 today, call", "t2 Wed Dec 2, coffee", "t1 Mon Nov 30, lunch"]
    async with db.session_factory(any_engine)() as session:
        moments = dict((await session.execute(
            select(Touchpoint.id, Touchpoint.happened_at))).all())
        dana = (await session.scalars(select(Contact))).one()
    assert moments[1] == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # noon Monday in Tokyo
    assert moments[3] == call_at  # a moment stays where it was
    assert dana.last_touch_at == call_at

    await say(rapport, "undo", IN_LA)
    assert await snapshot(any_engine) == before


async def test_a_zone_the_platform_reports_keeps_logged_days(any_engine: AsyncEngine,
                                                             clock: Clock) -> None:
    clock.set(THURSDAY_LA)
    sessions = db.session_factory(any_engine)
    await say(Rapport(sessions=sessions, clock=clock), "add Dana Scully", IN_LA)
    await say(Rapport(sessions=sessions, clock=clock), "log Dana yesterday: coffee", IN_LA)
    # Next time the platform reports Tokyo (a new process reads the actor's zone afresh).
    traveller = Rapport(sessions=sessions, clock=clock)
    assert await _conversations(traveller, IN_TOKYO) == ["t1 Wed Dec 2, coffee"]
    async with sessions() as session:
        [(at, source)] = (await session.execute(
            select(Touchpoint.happened_at, Touchpoint.source))).all()
    assert at == datetime(2026, 12, 2, 3, 0, tzinfo=UTC) and source == "command"


async def _calendar_meetings(engine: AsyncEngine, *starts: datetime) -> None:
    """Meetings with Dana as the calendar sync records them (`record_touchpoints`)."""
    async with db.session_factory(engine)() as session, session.begin():
        dana = (await session.scalars(select(Contact))).one()
        await session.run_sync(lambda sync: record_touchpoints(
            sync, workspace_id=dana.workspace_id, user_id=dana.user_id,
            meetings=[Met(dana.id, start) for start in starts], kind="meeting",
            source=CALENDAR_SOURCE, now=THURSDAY_LA))


async def test_a_calendar_meeting_moved_to_a_day_by_hand_keeps_its_day_in_a_new_zone(
        any_engine: AsyncEngine, clock: Clock) -> None:
    clock.set(THURSDAY_LA)
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "settings tz America/Los_Angeles", IN_LA)
    await say(rapport, "add Dana Scully every 2 weeks", IN_LA)
    lunch_at_noon = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # Monday 12:00 in LA, a meeting
    await _calendar_meetings(any_engine, lunch_at_noon,
                             datetime(2026, 12, 1, 23, 0, tzinfo=UTC))  # Tuesday 15:00 LA
    # The second one was really yesterday: the person says the day, not a time.
    assert "Changed t2: meeting with Dana Scully (yesterday)" in await say(
        rapport, "edit t2 yesterday", IN_LA)
    before = await snapshot(any_engine)

    await say(rapport, "settings tz Asia/Tokyo", IN_LA)
    # Friday in Tokyo: the edited day is still Wednesday; the meeting keeps its moment.
    assert [line.split(", ")[0] for line in await _conversations(rapport, IN_LA)] == [
        "t2 Wed Dec 2", "t1 Tue Dec 1"]
    async with db.session_factory(any_engine)() as session:
        moments = dict((await session.execute(
            select(Touchpoint.id, Touchpoint.happened_at))).all())
    assert moments == {1: lunch_at_noon, 2: datetime(2026, 12, 2, 3, 0, tzinfo=UTC)}

    await say(rapport, "undo", IN_LA)
    assert await snapshot(any_engine) == before
    # Undoing the edit too gives back the calendar's moment, which no zone change moves.
    await say(rapport, "undo", IN_LA)
    await say(rapport, "settings tz Asia/Tokyo", IN_LA)
    async with db.session_factory(any_engine)() as session:
        moments = dict((await session.execute(
            select(Touchpoint.id, Touchpoint.happened_at))).all())
    assert moments == {1: lunch_at_noon, 2: datetime(2026, 12, 1, 23, 0, tzinfo=UTC)}
