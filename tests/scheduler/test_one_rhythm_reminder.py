"""One keep-in-touch reminder per person at a time: a rhythm left unanswered asks once per
period, and the new period's nudge replaces the one still open (closed as expired, which
`stats` counts as left unanswered), so `due`, a digest after a pause and `stats` see one; a
snoozed one holds the rhythm until it comes back. Through the real sweep and commands, and
row by row on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.planning import NudgePlanner
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, User, Workspace
from rapport.storage.uow import Database
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say


def _sweeper(rapport: Rapport, inbox: Inbox, clock: Clock) -> Sweeper:
    return Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                   clock=clock)


async def _cadence_nudges(rapport: Rapport) -> list[tuple[int, str, bool]]:
    """(id, status, delivered) of every rhythm nudge, oldest first."""
    async with rapport.sessions() as session:
        rows = (await session.execute(select(Nudge.id, Nudge.status, Nudge.delivered_at)
                                      .where(Nudge.reason == "cadence")
                                      .order_by(Nudge.id))).all()
    return [(nudge_id, status, delivered is not None) for nudge_id, status, delivered in rows]


async def test_an_ignored_weekly_rhythm_keeps_one_reminder_out_and_done_counts_once(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    alex = console_user()
    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))  # a Monday
    await say(rapport, "add Dana Scully every week", alex)
    await say(rapport, "log Dana", alex)
    inbox = Inbox()
    sweeper = _sweeper(rapport, inbox, clock)
    for week in range(1, 5):  # four Mondays, never answered
        clock.set(datetime(2027, 1, 4, 10, 1, tzinfo=UTC) + timedelta(weeks=week))
        assert (await sweeper.sweep()).sent == 1
    newest = inbox.delivered[-1].items[0].nudge_id
    due = await say(rapport, "due", alex)
    assert due == ("Due now:\n"
                   f"  #{newest} It has been 4 weeks since you talked to Dana Scully\n"
                   "Reply “done #N”, “snooze #N 1 week” or “dismiss #N”.")
    # The three earlier weeks' reminders reached Alex and were left: expired, not open.
    assert await _cadence_nudges(rapport) == [
        (newest - 3, "expired", True), (newest - 2, "expired", True),
        (newest - 1, "expired", True), (newest, "sent", True)]
    await say(rapport, "done Dana", alex)
    stats = await say(rapport, "stats", alex)
    assert ("Nudges: 1 acted on within 48 hours, 0 snoozed, 0 dismissed, 3 left unanswered "
            "(acted-on rate 25%).") in stats
    assert "done later" not in stats


async def test_after_a_pause_the_digest_holds_one_reminder_per_person(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    alex = console_user()
    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))  # a Monday
    await say(rapport, "add Dana Scully every week", alex)
    await say(rapport, "add Lee Park every week", alex)
    await say(rapport, "log Dana", alex)
    await say(rapport, "log Lee", alex)
    await say(rapport, "pause until Jan 20", alex)
    inbox = Inbox()
    sweeper = _sweeper(rapport, inbox, clock)
    for day in (11, 18):  # each week's rhythm comes due during the pause
        clock.set(datetime(2027, 1, day, 10, 1, tzinfo=UTC))
        assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2027, 1, 20, 12, 0, tzinfo=UTC))
    report = await sweeper.sweep()
    assert (report.sent, report.messages) == (2, 1)
    [digest] = inbox.delivered
    assert [item.contact_name for item in digest.items] == ["Dana Scully", "Lee Park"]
    # The first week's nudges never reached Alex: expired, and they say nothing in stats.
    assert [status for _, status, _ in await _cadence_nudges(rapport)] == [
        "expired", "expired", "sent", "sent"]
    stats = await say(rapport, "stats", alex)
    assert "0 left unanswered, 2 waiting for you" in stats


async def test_a_snoozed_reminder_holds_the_rhythm_until_it_comes_back(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    alex = console_user()
    clock.set(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))  # a Monday
    await say(rapport, "add Lee Park client every 4 weeks", alex)
    inbox = Inbox()
    sweeper = _sweeper(rapport, inbox, clock)
    clock.set(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    first = inbox.delivered[-1].items[0].nudge_id
    clock.set(datetime(2027, 2, 26, 12, 0, tzinfo=UTC))
    await say(rapport, "snooze Lee 1 week", alex)  # until Fri Mar 5
    # Mon Mar 1 is the next period's day: the snoozed reminder holds it.
    clock.set(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0
    assert await _cadence_nudges(rapport) == [(first, "snoozed", True)]
    clock.set(datetime(2027, 3, 5, 12, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    assert inbox.delivered[-1].items[0].nudge_id == first
    due = await say(rapport, "due", alex)
    assert due.count("Lee Park") == 1 and f"#{first} " in due
    # The period after that asks again, and replaces the one still out.
    clock.set(datetime(2027, 3, 29, 12, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    second = inbox.delivered[-1].items[0].nudge_id
    assert await _cadence_nudges(rapport) == [(first, "expired", True),
                                              (second, "sent", True)]


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


async def test_planning_replaces_open_reminders_of_earlier_periods_row_by_row(
        any_engine: AsyncEngine) -> None:
    due = NOW - timedelta(days=1)
    earlier = due - timedelta(days=14)
    async with any_engine.begin() as connection:
        await connection.execute(insert(Workspace).values(
            id=1, platform="console", external_id="T1", name="console", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW))
        await connection.execute(insert(User).values(
            id=1, workspace_id=1, external_id="u1", display_name="u", tz="UTC",
            tz_from_platform=True, window_start_minute=9 * 60, window_end_minute=17 * 60,
            working_days=0b0011111, daily_cap=3, digest=False, ai_enabled=True, tone="warm",
            weekly_summary=True, active=True, sent_day_count=0, created_at=NOW))
        contacts: dict[str, int] = {}
        for name in ("sent", "planned", "snooze_over", "snoozed", "claimed", "this_period",
                     "answered"):
            contacts[name] = int((await connection.execute(insert(Contact).values(
                workspace_id=1, user_id=1, name=name, name_key=name, kind="colleague",
                cadence_days=14, next_due_at=due, plan_at=due,
                created_at=NOW - timedelta(days=400)).returning(Contact.id))).scalar_one())

        async def nudge(name: str, status: str, deliver_after: datetime, *,
                        at: datetime = earlier, **columns: Any) -> None:
            contact = contacts[name]
            await connection.execute(insert(Nudge).values(
                workspace_id=1, user_id=1, contact_id=contact, reason="cadence",
                dedupe_key=f"cadence:{contact}:{at:%Y%m%d%H%M}", due_at=at,
                deliver_after=deliver_after, status=status, snooze_count=0, attempts=0,
                created_at=at, **columns))

        await nudge("sent", "sent", earlier, delivered_at=earlier)
        await nudge("planned", "planned", earlier)  # held back (a pause): never delivered
        await nudge("snooze_over", "snoozed", NOW - timedelta(hours=1), delivered_at=earlier)
        await nudge("snoozed", "snoozed", NOW + timedelta(days=3), delivered_at=earlier)
        # Being delivered by another replica right now: its delivery records it as sent.
        await nudge("claimed", "claimed", NOW + timedelta(minutes=5), lease_owner="b")
        # This very period's nudge, planned before (an undo put plan_at back): kept as is.
        await nudge("this_period", "sent", due, at=due, delivered_at=due)
        await nudge("answered", "done", earlier, delivered_at=earlier)

    planner = NudgePlanner(Database(db.session_factory(any_engine)), batch_size=3)
    assert await planner.plan(NOW, lambda: False) == 5
    assert await planner.plan(NOW, lambda: False) == 0

    async with any_engine.connect() as connection:
        rows = (await connection.execute(select(
            Nudge.contact_id, Nudge.dedupe_key, Nudge.status).order_by(Nudge.id))).all()
        plans = dict((await connection.execute(select(Contact.id, Contact.plan_at))).all())
    by_contact: dict[int, list[tuple[str, str]]] = {}
    for contact_id, key, status in rows:
        by_contact.setdefault(contact_id, []).append((key, status))
    old, new = f"{earlier:%Y%m%d%H%M}", f"{due:%Y%m%d%H%M}"
    expected = {
        "sent": [(old, "expired"), (new, "planned")],
        "planned": [(old, "expired"), (new, "planned")],
        "snooze_over": [(old, "expired"), (new, "planned")],
        "snoozed": [(old, "snoozed")],  # held: nothing new before the snooze ends
        "claimed": [(old, "claimed"), (new, "planned")],
        "this_period": [(new, "sent")],
        "answered": [(old, "done"), (new, "planned")],
    }
    assert {name: [(key.rsplit(":", 1)[1], status) for key, status in
                   by_contact[contact]] for name, contact in contacts.items()} == expected
    # Every rhythm, held or not, asks again a period later.
    assert {plan.astimezone(UTC) if plan is not None else None for plan in plans.values()} \
        == {due + timedelta(days=14)}
