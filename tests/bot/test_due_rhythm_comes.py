"""`due`'s "Coming up" says the day someone's rhythm reminder comes, as the sweep delivers
it and as `show` says it: a rhythm falling due on a day off comes on the next working day
(the line said the Saturday, a day nothing came), a pause holds it until the pause ends, and a
next nudge held by "snooze <name>" waits until then; a working day keeps its own."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from tests.bot.test_due_reminder_comes import _delivered
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _rhythm(card: str) -> str:
    """The card's "Rhythm: …" line."""
    [line] = [line for line in card.splitlines() if line.startswith("Rhythm: ")]
    return line


async def test_a_rhythm_falling_due_on_a_day_off_is_coming_up_on_the_working_day_it_comes(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Dana every 5 days", ALEX)  # due Sat Nov 28
    await say(rapport, "add Lee every 4 days", ALEX)  # due Fri Nov 27
    assert await say(rapport, "due", ALEX) == "\n".join([
        "Coming up:",
        "  Talk to Lee Fri Nov 27",
        "  Talk to Dana Mon Nov 30"])
    # As her card says it: due on the Saturday, reminded on the Monday.
    assert _rhythm(await say(rapport, "show Dana", ALEX)) == (
        "Rhythm: every 5 days · no conversation logged · due in 5 days · "
        "next nudge Mon Nov 30")
    # And those are the days they do come.
    keep_in_touch = "You wanted to keep in touch with {} every {} days, and you have not " \
        "logged a conversation yet"
    assert await _delivered(rapport, clock, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)) == [
        keep_in_touch.format("Lee", 4)]
    assert await _delivered(rapport, clock, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 30, 9, 5, tzinfo=UTC)) == [
        keep_in_touch.format("Dana", 5)]


async def test_working_days_of_the_users_own_decide_a_rhythms_coming_up_day(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "settings days tue-sat", ALEX)
    await say(rapport, "add Dana every 6 days", ALEX)  # due Sun Nov 29
    await say(rapport, "add Lee every 5 days", ALEX)  # due Sat Nov 28, a working day here
    assert await say(rapport, "due", ALEX) == "\n".join([
        "Coming up:",
        "  Talk to Lee Sat Nov 28",
        "  Talk to Dana Tue Dec 1"])
    assert await _delivered(rapport, clock, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == [
        "You wanted to keep in touch with Lee every 5 days, and you have not logged a "
        "conversation yet"]
    assert await _delivered(rapport, clock, datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 12, 1, 9, 5, tzinfo=UTC)) == [
        "You wanted to keep in touch with Dana every 6 days, and you have not logged a "
        "conversation yet"]


async def test_a_rhythm_falling_due_in_a_pause_is_coming_up_when_the_pause_ends(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Dana every 2 days", ALEX)  # due Wed Nov 25
    await say(rapport, "add Lee every 4 days", ALEX)  # due Fri Nov 27
    await say(rapport, "pause 3 days", ALEX)  # until Thu Nov 26
    due = await say(rapport, "due", ALEX)
    assert due.splitlines()[:3] == [
        "Coming up:",
        "  Talk to Dana Thu Nov 26",
        "  Talk to Lee Fri Nov 27"], due
    assert _rhythm(await say(rapport, "show Dana", ALEX)).endswith("nudges paused")
    assert await _delivered(rapport, clock, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 26, 9, 5, tzinfo=UTC)) == [
        "You wanted to keep in touch with Dana every 2 days, and you have not logged a "
        "conversation yet"]


async def test_a_next_nudge_held_by_a_snooze_is_coming_up_on_the_day_it_waits_for(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Dana every 2 days", ALEX)  # due Wed Nov 25
    held = await say(rapport, "snooze Dana until Friday", ALEX)
    assert "waits until" in held and "Fri Nov 27" in held, held
    assert await say(rapport, "due", ALEX) == "Coming up:\n  Talk to Dana Fri Nov 27"
    assert _rhythm(await say(rapport, "show Dana", ALEX)).endswith("next nudge Fri Nov 27")
    assert await _delivered(rapport, clock, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 27, 9, 5, tzinfo=UTC)) == [
        "You wanted to keep in touch with Dana every 2 days, and you have not logged a "
        "conversation yet"]
