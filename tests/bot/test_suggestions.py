"""The four suggestion rules on histories built command by command over weeks, with the real
sweep delivering the nudges, and the person's answer applied (or not) exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply, StatsView, SuggestionsView
from rapport.bot.platforms.console.chat import ConsoleMessenger, render_message
from rapport.scheduler import suggestions as rules
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage import db
from rapport.storage.models import Contact, Suggestion, User
from tests.conftest import MONDAY_10_UTC, Clock, console_user, snapshot

ALEX = console_user("alex")
SAM = console_user("sam")


async def _say(rapport: Rapport, *lines: str, actor: object = ALEX) -> Reply:
    reply = Reply("")
    for line in lines:
        reply = await rapport.handle_text(actor, line)  # type: ignore[arg-type]
        assert reply.ok, (line, reply.text)
    return reply


def _sweeper(rapport: Rapport, clock: Clock) -> tuple[Sweeper, ConsoleMessenger]:
    messenger = ConsoleMessenger(write=lambda text: None)
    return Sweeper(sessions=rapport.sessions, messengers={"console": messenger},
                   owner="suggestions-test", clock=clock), messenger


async def _open(rapport: Rapport, actor: object = ALEX) -> SuggestionsView:
    reply = await rapport.handle_text(actor, "suggestions")  # type: ignore[arg-type]
    assert isinstance(reply.view, SuggestionsView)
    return reply.view


async def _rows(rapport: Rapport) -> list[Suggestion]:
    async with rapport.sessions() as session:
        return list((await session.scalars(select(Suggestion).order_by(Suggestion.id))).all())


async def _contact(rapport: Rapport, name: str) -> Contact:
    async with rapport.sessions() as session:
        found = await session.scalar(select(Contact).where(Contact.name == name))
    assert found is not None
    return found


# ------------------------------------------------------------------------------ rule 4
async def _put_off_lee(rapport: Rapport, clock: Clock) -> None:
    """Lee every 4 weeks: the first rhythm nudge snoozed a week then dismissed, the next
    one dismissed; both delivered by the real sweep."""
    await _say(rapport, "settings window 0:00-24:00", "settings days all",
               "add Lee Park client at Initech every 4 weeks")
    sweeper, messenger = _sweeper(rapport, clock)
    clock.advance(days=28, minutes=1)
    assert (await sweeper.sweep()).sent == 1
    await _say(rapport, "snooze Lee 1 week")
    clock.advance(days=7, minutes=1)
    assert (await sweeper.sweep()).sent == 1
    await _say(rapport, "dismiss Lee")
    clock.set(MONDAY_10_UTC + timedelta(days=56, minutes=2))
    assert (await sweeper.sweep()).sent == 1
    await _say(rapport, "dismiss Lee")
    assert [m.items[0].contact_name for m in messenger.delivered] == ["Lee Park"] * 3


async def test_put_off_three_times_suggests_a_longer_rhythm_and_accept_sets_it(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _put_off_lee(rapport, clock)
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    view = await _open(rapport)
    [item] = view.items
    assert (item.kind, item.text) == (rules.PUT_OFF,
                                      "You've put off Lee three times. Every 8 weeks instead?")
    listed = await rapport.handle_text(ALEX, "suggestions")
    assert listed.text == (
        f"💡 Suggestion {item.suggestion_id}: You've put off Lee three times. Every 8 weeks "
        f"instead?\n   Reply “accept {item.suggestion_id}”, “keep {item.suggestion_id}” or "
        f"“silence {item.suggestion_id}” (no more suggestions like this).")
    # Nothing changes before the person says yes.
    assert (await _contact(rapport, "Lee Park")).cadence_days == 28
    stats = await rapport.handle_text(ALEX, "stats")
    assert "Suggestions: 1 made, 0 accepted, 1 waiting for your answer." in stats.text
    assert isinstance(stats.view, StatsView) and stats.view.suggestions == (item,)
    reply = await rapport.handle_text(ALEX, f"accept {item.suggestion_id}")
    assert reply.ok and reply.text == "Done. Lee Park is now every 8 weeks."
    lee = await _contact(rapport, "Lee Park")
    assert lee.cadence_days == 56 and lee.next_due_at == (
        lee.created_at + timedelta(days=56)).replace(hour=0)
    [row] = await _rows(rapport)
    assert (row.status, row.answered_at, row.proposed_days, row.current_value) == (
        "accepted", clock.now, 56, 28)
    stats = await rapport.handle_text(ALEX, "stats")
    assert "Suggestions: 1 made, 1 accepted." in stats.text
    again = await rapport.handle_text(ALEX, f"accept {item.suggestion_id}")
    assert not again.ok and again.text == (f"You already answered suggestion "
                                           f"{item.suggestion_id} (accepted).")
    # The same put-offs never make a second suggestion.
    clock.advance(days=2)
    assert await rules.make_suggestions(rapport.db, clock.now) == 0


async def test_an_out_of_date_suggestion_changes_nothing(rapport: Rapport,
                                                         clock: Clock) -> None:
    await _put_off_lee(rapport, clock)
    await rules.make_suggestions(rapport.db, clock.now)
    [item] = (await _open(rapport)).items
    await _say(rapport, "every Lee 3 weeks")
    reply = await rapport.handle_text(ALEX, f"accept {item.suggestion_id}")
    assert reply.text == ("That suggestion is out of date (things changed since I made it), so "
                          "I left everything as it is.")
    assert (await _contact(rapport, "Lee Park")).cadence_days == 21
    assert [r.status for r in await _rows(rapport)] == ["expired"]


async def test_undoing_forget_brings_the_persons_suggestions_back(rapport: Rapport,
                                                                  clock: Clock) -> None:
    # Forget deleted them (a foreign key cascade) but its undo entry did not keep them.
    await _put_off_lee(rapport, clock)
    await rules.make_suggestions(rapport.db, clock.now)
    [item] = (await _open(rapport)).items
    await _say(rapport, "forget Lee Park confirm")
    assert await _rows(rapport) == []
    await _say(rapport, "undo")
    assert (await _open(rapport)).items == (item,)
    reply = await rapport.handle_text(ALEX, f"accept {item.suggestion_id}")
    assert reply.text == "Done. Lee Park is now every 8 weeks."


async def test_someone_elses_suggestion_cannot_be_answered(any_engine: AsyncEngine,
                                                           clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _put_off_lee(rapport, clock)
    await rules.make_suggestions(rapport.db, clock.now)
    [item] = (await _open(rapport)).items
    await _say(rapport, "add Lee Park every 4 weeks", actor=SAM)
    before = await snapshot(any_engine)
    for answer in ("accept", "keep", "silence"):
        foreign = await rapport.handle_text(SAM, f"{answer} {item.suggestion_id}")
        missing = await rapport.handle_text(SAM, f"{answer} {item.suggestion_id + 1000}")
        assert not foreign.ok and foreign.text == (
            f"I can't find suggestion {item.suggestion_id} among yours;"
            " it may have been withdrawn (“suggestions” lists the open ones).")
        assert missing.text == (
            f"I can't find suggestion {item.suggestion_id + 1000} among yours;"
            " it may have been withdrawn (“suggestions” lists the open ones).")
    assert (await _open(rapport, SAM)).items == ()
    assert await snapshot(any_engine) == before


# ------------------------------------------------------------------------------ rule 5
async def test_talking_far_more_often_suggests_the_real_rhythm_and_keep_is_respected(
        rapport: Rapport, clock: Clock) -> None:
    await _say(rapport, "add Priya Nair every 1 month")
    for _week in range(9):
        clock.advance(days=7)
        await _say(rapport, "log Priya coffee")
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    [item] = (await _open(rapport)).items
    assert item.text == ("You talk to Priya about weekly. Set every week, so I notice when it "
                         "slips?")
    kept = await rapport.handle_text(ALEX, f"keep {item.suggestion_id}")
    assert kept.text == "Kept as it is. I won't suggest this again until something changes."
    assert (await _contact(rapport, "Priya Nair")).cadence_days == 30
    # The same evidence never asks again; two fresh months of it may.
    for _week in range(4):
        clock.advance(days=7)
        await _say(rapport, "log Priya coffee")
        assert await rules.make_suggestions(rapport.db, clock.now) == 0
    for _week in range(5):
        clock.advance(days=7)
        await _say(rapport, "log Priya coffee")
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    assert [(r.status, r.kind) for r in await _rows(rapport)] == [
        ("kept", rules.MORE_OFTEN), ("open", rules.MORE_OFTEN)]


# ------------------------------------------------------------------------------ rule 6
async def test_acted_on_mornings_suggest_moving_the_window(any_engine: AsyncEngine,
                                                          clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _say(rapport, "add Amy Oh", "add Bo Li")
    sweeper, messenger = _sweeper(rapport, clock)
    day = MONDAY_10_UTC.replace(hour=0)
    worked = 0
    while worked < 12:
        if day.weekday() < 5:
            worked += 1
            clock.set(day.replace(hour=9, minute=30))
            await _say(rapport, f"note Amy: standup topic {worked} on today")
            clock.advance(minutes=1)
            assert (await sweeper.sweep()).sent == 1
            if worked not in (4, 9):  # two mornings left unanswered
                await _say(rapport, f"done #{messenger.delivered[-1].items[0].nudge_id}")
            clock.set(day.replace(hour=15, minute=30))
            await _say(rapport, f"note Bo: afternoon topic {worked} on today")
            clock.advance(minutes=1)
            assert (await sweeper.sweep()).sent == 1
            if worked in (2, 5, 7):
                await _say(rapport, f"done #{messenger.delivered[-1].items[0].nudge_id}")
        day += timedelta(days=1)
    clock.set(day.replace(hour=8))
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    [item] = (await _open(rapport)).items
    # 10 of 12 mornings; 3 of the 10 afternoons older than 48 hours (the last two still wait).
    assert item.text == ("You act on 83% of nudges that arrive before 11:00 and 30% of those "
                         "that arrive later. Move your window to 9:00-11:00?")
    reply = await rapport.handle_text(ALEX, f"accept {item.suggestion_id}")
    assert reply.text == "Done. Your nudges now arrive between 9:00 and 11:00."
    settings = await rapport.handle_text(ALEX, "settings")
    assert "• Delivery window: 09:00-11:00 on Mon-Fri" in settings.text
    async with rapport.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == "alex"))
    assert user is not None and (user.window_start_minute, user.window_end_minute) == (540, 660)


def test_days_rule_words_and_threshold() -> None:
    now = datetime(2026, 12, 14, 8, tzinfo=UTC)
    monday = datetime(2026, 11, 2, 10, tzinfo=UTC)
    delivered = []
    for week in range(4):
        for day in range(5):
            at = monday + timedelta(weeks=week, days=day)
            # Fridays: 1 of 4 acted on; other days: 13 of 16.
            acted = (day == 4 and week == 0) or (day != 4 and (week, day) not in (
                (0, 0), (1, 1), (2, 2)))
            delivered.append(rules.Delivered(at, acted))
    history = rules.History(now=now, tz="UTC", window=(540, 1020), working_days=0b0011111,
                            people={}, delivered=delivered)
    [proposal] = list(rules.better_days(history))
    assert proposal.text == ("You act on 25% of nudges that arrive on Fridays and 81% on other "
                             "days. Leave Fridays out of your nudge days?")
    assert proposal.working_days == 0b0001111
    # Not enough history: nothing.
    history.delivered = delivered[:19]
    assert list(rules.better_days(history)) == []


# ------------------------------------------------------------------------------ rule 7
async def test_notes_waiting_a_month_suggest_a_coffee_silence_and_turn_back_on(
        rapport: Rapport, clock: Clock) -> None:
    await _say(rapport, "add Marco Polo", "log Marco lunch")
    for text in ("the new baby", "moving to Lisbon", "the Q3 budget"):
        clock.advance(days=1)
        await _say(rapport, f"note Marco: {text}")
    clock.advance(days=29)
    # The job's own clock: real time, frozen by time-machine.
    with time_machine.travel(clock.now, tick=False):
        await rules.suggestion_job(rapport.db)()
        assert (await _rows(rapport)) == []  # 29 days: not yet a month
    clock.advance(days=1, hours=1)
    with time_machine.travel(clock.now, tick=False):
        await rules.suggestion_job(rapport.db)()
    [item] = (await _open(rapport)).items
    assert item.text == "Three things to ask Marco about are waiting. Plan a coffee?"
    silenced = await rapport.handle_text(ALEX, f"silence {item.suggestion_id}")
    assert silenced.text == ("No more suggestions about notes waiting. (“suggestions on coffee” "
                             "turns them back on.)")
    listed = await rapport.handle_text(ALEX, "suggestions")
    assert listed.text.splitlines()[-1] == ("Silenced: notes waiting (“suggestions on coffee” "
                                            "turns one back on).")
    await _say(rapport, "add Nina Ray", "log Nina call")
    clock.advance(hours=1)
    await _say(rapport, "note Nina: her marathon", "note Nina: the new team")
    clock.advance(days=31)
    assert await rules.make_suggestions(rapport.db, clock.now) == 0
    back = await rapport.handle_text(ALEX, "suggestions on coffee")
    assert back.text == "Suggestions about notes waiting are back on."
    clock.advance(days=1)
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    view = await _open(rapport)
    [nina] = view.items
    assert nina.text == "Two things to ask Nina about are waiting. Plan a coffee?"
    accepted = await rapport.handle_text(ALEX, f"accept {nina.suggestion_id}")
    assert accepted.text == "Done. I'll remind you tomorrow to ask Nina for a coffee."
    assert [r.status for r in await _rows(rapport)] == ["silenced", "accepted"]
    # Tomorrow's nudge, through the real sweep, inside the window.
    sweeper, messenger = _sweeper(rapport, clock)
    clock.set(clock.now.replace(hour=0) + timedelta(days=1, hours=9, minutes=1))
    while clock.now.weekday() >= 5:
        clock.advance(days=1)
    await sweeper.sweep()
    [message] = messenger.delivered
    assert message.items[0].headline.startswith(
        "Ask Nina about a coffee to catch up on what you noted")


# ------------------------------------------------------------------------------ limits
async def test_once_a_day_one_at_a_time_at_most_three_open_and_expiry(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _say(rapport, *(f"add {name} Smith" for name in ("Ann", "Bea", "Cat", "Dee", "Eve")))
    for name in ("Ann", "Bea", "Cat", "Dee", "Eve"):
        await _say(rapport, f"note {name}: one thing", f"note {name}: another thing")
    clock.advance(days=31)
    # Two replicas at once: the daily check is claimed once, one suggestion is made.
    made = await asyncio.gather(rules.make_suggestions(rapport.db, clock.now),
                                rules.make_suggestions(rapport.db, clock.now))
    assert sorted(made) == [0, 1]
    assert await rules.make_suggestions(rapport.db, clock.now + timedelta(hours=23)) == 0
    for day in (1, 2, 3):
        assert await rules.make_suggestions(rapport.db, clock.now + timedelta(days=day)) == \
            (1 if day < 3 else 0)
    assert [r.status for r in await _rows(rapport)] == ["open"] * 3
    assert [i.text.split(" about")[0] for i in (await _open(rapport)).items] == [
        "Two things to ask Ann", "Two things to ask Bea", "Two things to ask Cat"]
    # Unanswered for 30 days: expired, and the next check may suggest again.
    assert await rules.make_suggestions(rapport.db, clock.now + timedelta(days=33)) == 1
    assert [r.status for r in await _rows(rapport)] == ["expired"] * 3 + ["open"]


async def test_weekly_summary_carries_goals_and_open_suggestions(rapport: Rapport,
                                                                 clock: Clock) -> None:
    await _put_off_lee(rapport, clock)
    await _say(rapport, "tag Lee clients", "goal clients every month")
    await rules.make_suggestions(rapport.db, clock.now)
    [item] = (await _open(rapport)).items
    friday = datetime(2027, 1, 22, 10, tzinfo=UTC)
    messenger = ConsoleMessenger(write=lambda text: None)
    report = await send_weekly_summaries(rapport.sessions, {"console": messenger}, friday)
    assert report.sent == 1
    [message] = messenger.delivered
    assert message.suggestions == (item,)
    assert message.text.splitlines()[1:] == [
        "Clients: 0 of 1 within a month (0%), no change", "I have a suggestion for you below.",
        "Type “stats” for more, or “settings summary off” to stop these summaries."]
    shown = render_message(message)
    assert shown.endswith(f"💡 Suggestion {item.suggestion_id}: You've put off Lee three times. "
                          f"Every 8 weeks instead?\n   Reply “accept {item.suggestion_id}”, "
                          f"“keep {item.suggestion_id}” or “silence {item.suggestion_id}” (no "
                          "more suggestions like this).")
