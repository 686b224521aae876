"""Dates in `log` and `note` through the real core and database: a date that cannot be read
is asked about and stores nothing; a time before the day and words before "after ... on
Friday" keep the reminder."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Note, Touchpoint
from tests.conftest import console_user

ALEX = console_user("alex")


async def _touchpoints(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [tuple(row) for row in (await session.execute(
            select(Touchpoint.happened_at, Touchpoint.summary).order_by(Touchpoint.id))).all()]


async def test_log_with_a_date_it_cannot_read_stores_nothing_and_says_why(
        rapport: Rapport, engine: AsyncEngine) -> None:
    assert (await rapport.handle_text(ALEX, "add Lee Park client")).ok
    assert (await rapport.handle_text(ALEX, "add Dana Scully")).ok
    for line, answer in (("log Lee on 2026-13-45", "couldn't read “2026-13-45”"),
                         ("log Dana Scully 100 years ago", "more than ten years ago")):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and answer in reply.text, (line, reply.text)
    assert await _touchpoints(engine) == []
    reply = await rapport.handle_text(ALEX, "log Dana Scully 0 days ago")
    assert reply.ok and "Dana Scully" in reply.text, reply.text
    [(happened_at, summary)] = await _touchpoints(engine)
    assert summary is None and happened_at.date() == date(2026, 11, 23)  # the frozen clock's



async def _notes(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [tuple(row) for row in (await session.execute(
            select(Note.text, Note.follow_up_on, Note.event_on).order_by(Note.id))).all()]


async def test_a_time_before_the_day_keeps_the_reminder(rapport: Rapport, engine: AsyncEngine
                                                       ) -> None:
    # The clock is Mon Nov 23: tomorrow is Tue Nov 24.
    assert (await rapport.handle_text(ALEX, "add Dana Scully")).ok
    for line in ("note Dana Scully: demo at 3pm tomorrow",
                 "note Dana Scully: standup at 9:30 tomorrow"):
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok and "I'll remind you tomorrow" in reply.text, (line, reply.text)
    tomorrow = date(2026, 11, 24)
    assert await _notes(engine) == [("demo at 3pm", tomorrow, tomorrow),
                                    ("standup at 9:30", tomorrow, tomorrow)]


async def test_an_after_clause_before_on_friday_asks_the_day_after(rapport: Rapport,
                                                                   engine: AsyncEngine) -> None:
    # The clock is Mon Nov 23: Friday is Nov 27, the day after it Sat Nov 28.
    assert (await rapport.handle_text(ALEX, "add Zoë")).ok
    reply = await rapport.handle_text(ALEX, "note Zoë: moving house after the offsite on Friday")
    assert reply.ok and "I'll remind you on Mon Nov 30" in reply.text \
        and "Sat Nov 28 is not one of your working days" in reply.text, reply.text
    assert await _notes(engine) == [
        ("moving house after the offsite", date(2026, 11, 28), date(2026, 11, 27))]


async def test_log_on_a_day_counted_from_another_keeps_no_date_words(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """"log Lee 2 weeks from today" was logged today "about" “2 weeks from”."""
    assert (await rapport.handle_text(ALEX, "add Lee Park client")).ok
    for line in ("log Lee 2 weeks from today", "log Lee a week from today",
                 "log Lee a couple of weeks from today", "log Lee: coffee 2 weeks from tomorrow"):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and "already happened" in reply.text, (line, reply.text)
    assert await _touchpoints(engine) == []
    # The clock is Mon Nov 23: two weeks before is Mon Nov 9, the day before yesterday Sat 21.
    for line in ("log Lee 2 weeks before today", "log Lee the day before yesterday: coffee",
                 "log Lee a couple of weeks before today"):
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok, (line, reply.text)
    assert [(happened_at.date(), summary) for happened_at, summary
            in await _touchpoints(engine)] == [(date(2026, 11, 9), None),
                                               (date(2026, 11, 21), None),
                                               (date(2026, 11, 9), None)]


async def test_a_note_counted_from_a_day_reminds_on_the_counted_day(
        rapport: Rapport, engine: AsyncEngine) -> None:
    # The clock is Mon Nov 23: Friday is Nov 27, two weeks later Fri Dec 11.
    assert (await rapport.handle_text(ALEX, "add Priya Natarajan")).ok
    reply = await rapport.handle_text(ALEX, "note Priya: back 2 weeks from Friday")
    assert reply.ok and "Fri Dec 11" in reply.text, reply.text
    assert await _notes(engine) == [("back", date(2026, 12, 11), date(2026, 12, 11))]
