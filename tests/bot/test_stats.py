"""Stats from a seeded history match what a person counts by hand."""

from __future__ import annotations

from datetime import timedelta

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.stats import UserStats, classify_nudge, compute_user_stats, format_stats_text
from tests.bot import seed
from tests.conftest import Clock, console_user


async def _ids(rapport: Rapport, name: str = "alex") -> tuple[int, int]:
    ctx = await rapport.user_context(console_user(name))
    return ctx.workspace_id, ctx.user_id


async def test_seeded_history_matches_hand_count(rapport: Rapport, clock: Clock) -> None:
    now = clock.now
    ids = await _ids(rapport)
    other = await _ids(rapport, "sam")  # someone else's rows must not count
    async with rapport.sessions() as session, session.begin():
        dana = seed.contact(ids, "Dana Scully", now, cadence=14, next_due=now + timedelta(days=3))
        sam = seed.contact(ids, "Sam Lee", now, cadence=7, next_due=now - timedelta(days=10))
        lee = seed.contact(ids, "Lee Park", now, cadence=30, next_due=now - timedelta(days=2))
        kim = seed.contact(ids, "Kim Wu", now)
        ana = seed.contact(ids, "Ana Diaz", now, cadence=7, next_due=now - timedelta(hours=2))
        stranger = seed.contact(other, "Stranger", now, cadence=7,
                                next_due=now - timedelta(days=99))
        await seed.add_all(session, dana, sam, lee, kim, ana, stranger)
        d = timedelta(days=1)
        await seed.add_all(
            session,
            # 3 in the last 7 days (2 people), 5 in 30 days; the 31-day-old one is out.
            seed.touch(dana, now - 1 * d), seed.touch(dana, now - 2 * d),
            seed.touch(sam, now - 6 * d), seed.touch(lee, now - 8 * d),
            seed.touch(kim, now - 29 * d), seed.touch(kim, now - 31 * d),
            seed.touch(stranger, now - d),
            # acted on: done 1 h after delivery, and done before it was even delivered
            seed.nudge(dana, "done", now - 5 * d, delivered=now - 5 * d,
                       acted=now - 5 * d + timedelta(hours=1)),
            seed.nudge(sam, "done", now - 4 * d, acted=now - 4 * d),
            # done, but 49 hours after delivery: not "acted on"
            seed.nudge(lee, "done", now - 5 * d, delivered=now - 5 * d,
                       acted=now - 5 * d + timedelta(hours=49)),
            seed.nudge(kim, "dismissed", now - 3 * d, delivered=now - 3 * d, acted=now - 3 * d),
            seed.nudge(kim, "snoozed", now - 3 * d, delivered=now - 3 * d, snoozes=1),
            # snoozed twice, delivered again an hour ago: still counts as snoozed
            seed.nudge(sam, "sent", now - 9 * d, delivered=now - timedelta(hours=1), snoozes=2),
            seed.nudge(lee, "sent", now - 3 * d, delivered=now - 3 * d),  # ignored
            seed.nudge(ana, "sent", now - timedelta(hours=10),
                       delivered=now - timedelta(hours=10)),  # waiting, < 48 h
            seed.nudge(ana, "planned", now + d),  # not delivered: not counted
            seed.nudge(ana, "expired", now - 2 * d),  # expired before delivery: not counted
            seed.nudge(stranger, "sent", now - 9 * d, delivered=now - 9 * d),
            seed.draft(dana, "posted", 12, now), seed.draft(dana, "copied", 0, now),
            seed.draft(sam, "posted", 5, now), seed.draft(sam, "discarded", None, now),
            seed.draft(lee, None, None, now), seed.draft(stranger, "posted", 99, now),
        )
    async with rapport.sessions() as session:
        stats = await session.run_sync(compute_user_stats, ids[1], now, tz="UTC")
    assert (stats.touchpoints_week, stats.touchpoints_month, stats.people_reconnected_week) == \
        (3, 5, 2)
    assert (stats.nudges_acted_on, stats.nudges_done_late, stats.nudges_dismissed,
            stats.nudges_snoozed, stats.nudges_ignored, stats.nudges_waiting) == (2, 1, 1, 2, 1, 1)
    assert stats.nudges_resolved == 7
    assert stats.acted_on_rate == 2 / 7
    # Ana's rhythm came due two hours ago, today: due today, still within it.
    assert (stats.contacts_total, stats.contacts_with_cadence, stats.contacts_within_cadence) == \
        (5, 4, 2)
    assert stats.health_share == 0.5
    assert [(o.name, o.days_overdue) for o in stats.most_overdue] == [
        ("Sam Lee", 10), ("Lee Park", 2)]
    assert (stats.drafts_total, stats.drafts_used, stats.drafts_edited) == (5, 3, 2)
    assert stats.mean_edit_distance == 17 / 3
    assert stats.edited_share == 2 / 3
    text = format_stats_text(stats)
    assert "3 in the last 7 days (2 people), 5 in 30 days" in text
    assert "2 acted on within 48 hours, 1 done later, 2 snoozed, 1 dismissed, 1 left " \
           "unanswered, 1 waiting for you (acted-on rate 29%)" in text
    assert "2 of 4 people within their rhythm (50%)" in text
    assert "Slipped most: Sam Lee (10 days overdue)" in text
    # Issue 15 replaced the drafts line: drafts 12 and 5 characters off an 8-character
    # draft count as 100% and 62% rewritten, the copied one as 0%.
    assert "Drafts: 5 made, 3 sent after your edits (avg 54% rewritten), 1 discarded." in text
    assert "Stranger" not in text


async def test_stats_command_returns_text_and_stats_object(rapport: Rapport, clock: Clock
                                                           ) -> None:
    actor = console_user()
    await rapport.handle_text(actor, "add Dana Scully every 1 week")
    await rapport.handle_text(actor, "log Dana coffee")
    reply = await rapport.handle_text(actor, "stats")
    assert reply.ok
    stats = reply.view.stats
    assert isinstance(stats, UserStats)
    assert stats.touchpoints_week == 1 and stats.contacts_within_cadence == 1
    assert reply.text == format_stats_text(stats)


async def test_no_nudges_and_no_rhythms(rapport: Rapport) -> None:
    reply = await rapport.handle_text(console_user(), "stats")
    stats = reply.view.stats
    assert isinstance(stats, UserStats)
    assert stats.acted_on_rate is None and stats.health_share is None
    assert stats.mean_edit_distance is None and stats.most_overdue == ()
    assert "Nudges: none yet." in reply.text
    assert "no keep-in-touch rhythms set yet" in reply.text
    assert "Drafts" not in reply.text


async def test_all_snoozed_gives_zero_acted_on_rate(rapport: Rapport, clock: Clock) -> None:
    now = clock.now
    ids = await _ids(rapport)
    async with rapport.sessions() as session, session.begin():
        dana = seed.contact(ids, "Dana", now)
        await seed.add_all(session, dana)
        await seed.add_all(session, *[
            seed.nudge(dana, "snoozed", now - timedelta(days=i), delivered=now - timedelta(days=i),
                       snoozes=i) for i in (1, 2, 3)])
    reply = await rapport.handle_text(console_user(), "stats")
    stats = reply.view.stats
    assert isinstance(stats, UserStats)
    assert stats.nudges_snoozed == 3 and stats.nudges_resolved == 3
    assert stats.acted_on_rate == 0.0
    assert "0 acted on within 48 hours, 3 snoozed" in reply.text
    assert "(acted-on rate 0%)" in reply.text


async def test_cadence_change_moves_health(rapport: Rapport, clock: Clock) -> None:
    actor = console_user()
    await rapport.handle_text(actor, "add Ana Diaz every 1 week")
    clock.advance(days=10)
    stats = (await rapport.handle_text(actor, "stats")).view.stats
    assert isinstance(stats, UserStats)
    assert (stats.contacts_within_cadence, stats.overdue_count) == (0, 1)
    assert [(o.name, o.days_overdue) for o in stats.most_overdue] == [("Ana Diaz", 3)]
    await rapport.handle_text(actor, "every Ana 3 months")
    stats = (await rapport.handle_text(actor, "stats")).view.stats
    assert isinstance(stats, UserStats)
    assert (stats.contacts_within_cadence, stats.overdue_count) == (1, 0)
    assert stats.most_overdue == ()
    await rapport.handle_text(actor, "every Ana off")
    stats = (await rapport.handle_text(actor, "stats")).view.stats
    assert isinstance(stats, UserStats)
    assert stats.contacts_with_cadence == 0 and stats.health_share is None


def test_classification_boundaries(clock: Clock) -> None:
    now = clock.now
    at = now - timedelta(days=3)
    assert classify_nudge("done", 0, at, at + timedelta(hours=48), now) == "acted_on"
    assert classify_nudge("done", 0, at, at + timedelta(hours=48, seconds=1), now) == \
        "done_late"
    assert classify_nudge("done", 3, at, at, now) == "acted_on"  # done wins over snoozes
    assert classify_nudge("sent", 0, now - timedelta(hours=48), None, now) == "waiting"
    assert classify_nudge("sent", 0, now - timedelta(hours=49), None, now) == "ignored"
    assert classify_nudge("planned", 0, None, None, now) is None
    assert classify_nudge("failed", 0, None, None, now) is None
