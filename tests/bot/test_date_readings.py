"""Dates and zones as an exploratory tester typed them at the console: a `log` of a time still
to come, of a span or of an ISO timestamp; a note whose date phrase is not read; a numeric
date whose two readings are both days; a zone typed with its accents. Each is read, refused
or asked about, never stored wrong without a word."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.dates import read_zone
from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Note, Touchpoint
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")
# The frozen clock is Mon Nov 23 2026, 10:00 UTC.
TODAY = date(2026, 11, 23)


async def _touchpoints(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [(happened_at.date(), summary) for happened_at, summary in (await session.execute(
            select(Touchpoint.happened_at, Touchpoint.summary).order_by(Touchpoint.id))).all()]


async def _notes(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [tuple(row) for row in (await session.execute(
            select(Note.text, Note.follow_up_on).order_by(Note.id))).all()]


async def test_a_log_of_a_time_still_to_come_is_refused(rapport: Rapport,
                                                        engine: AsyncEngine) -> None:
    """"log Dana in 2 hours" was logged now with the summary "in 2 hours"."""
    await say(rapport, "add Dana Scully")
    before = await snapshot(engine)
    for line in ("log Dana in 2 hours", "log Dana in 30 minutes", "log Dana: call in an hour",
                 "log Dana in 2 days", "log Dana in 11 years"):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and "already happened" in reply.text, (line, reply.text)
    assert await snapshot(engine) == before


async def test_a_log_at_a_clock_time_still_to_come_today_is_refused(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """"log Dana 23:00: coffee" at 10:00 was logged today: a day to come was refused, a time
    to come today was not."""
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Lee Park")
    before = await snapshot(engine)
    for line, at in (("log Dana 23:00: coffee", "23:00"), ("log Dana today 18:30 coffee", "18:30"),
                     ("log Dana at 11pm", "23:00"), ("met Dana at 2pm today", "14:00"),
                     ("log Dana 2026-11-23T23:00", "23:00"), ("log Dana at 10:01", "10:01"),
                     ("log Dana and Lee 7pm lunch", "19:00"),
                     ("today's call with Lee at noon", "12:00")):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and reply.text.startswith(
            f"You can only log conversations that already happened: {at} today is still to "
            "come (it is 10:00 now). To be reminded of it: “remind me to meet "), (line, reply.text)
    assert await snapshot(engine) == before
    # Earlier today, and any time on a day gone by, are logged; so is the reminder offered.
    for line in ("log Dana 9am coffee", "log Dana at 10: the plan", "log Dana yesterday 23:00",
                 "log Lee 2026-11-20T23:00", "yesterday's call with Lee at 11pm"):
        await say(rapport, line)
    assert await _touchpoints(engine) == [
        (TODAY, None), (TODAY, "the plan"), (date(2026, 11, 22), None), (date(2026, 11, 20), None),
        (date(2026, 11, 22), None)]
    assert "remind you today" in await say(rapport, "remind me to meet Dana today")


async def test_a_clock_time_is_read_in_the_users_zone(rapport: Rapport,
                                                      engine: AsyncEngine) -> None:
    """10:00 UTC is 19:00 in Tokyo and 02:00 in Los Angeles (still Nov 23 in both)."""
    tokyo = console_user("kenji", tz="Asia/Tokyo")
    los_angeles = console_user("sam", tz="America/Los_Angeles")
    for actor in (tokyo, los_angeles):
        await say(rapport, "add Dana Scully", actor)
    await say(rapport, "log Dana 18:30 coffee", tokyo)
    refused = await rapport.handle_text(tokyo, "log Dana 23:00: coffee")
    assert not refused.ok and "23:00 today is still to come (it is 19:00 now)" in refused.text
    await say(rapport, "log Dana 1am", los_angeles)
    refused = await rapport.handle_text(los_angeles, "log Dana 9am coffee")
    assert not refused.ok and "09:00 today is still to come (it is 02:00 now)" in refused.text
    assert len(await _touchpoints(engine)) == 2


async def test_a_log_of_a_span_asks_for_the_day(rapport: Rapport, engine: AsyncEngine) -> None:
    """"log Dana this week" was logged today with the summary "this week"."""
    await say(rapport, "add Dana Scully")
    before = await snapshot(engine)
    for line in ("log Dana this week", "log Dana this month", "log Dana: coffee this month",
                 "log Dana earlier this week"):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and "kept by its day" in reply.text \
            and "Say which day" in reply.text, (line, reply.text)
    assert await snapshot(engine) == before
    # After other words a span is what was talked about, as docs/people.md says.
    await say(rapport, "log Dana: went over the plan for this week")
    assert await _touchpoints(engine) == [(TODAY, "went over the plan for this week")]


async def test_a_log_with_an_iso_timestamp_is_of_its_day(rapport: Rapport,
                                                         engine: AsyncEngine) -> None:
    """"log Dana 2026-12-04T23:00" was logged today with the timestamp as its summary."""
    await say(rapport, "add Dana Scully")
    await say(rapport, "log Dana 2026-11-20T23:00")
    await say(rapport, "log Dana: coffee 2026-11-19T08:30:00")
    assert await _touchpoints(engine) == [(date(2026, 11, 20), None),
                                          (date(2026, 11, 19), None)]
    reply = await rapport.handle_text(ALEX, "log Dana 2026-12-04T23:00")
    assert not reply.ok and "already happened" in reply.text, reply.text
    assert len(await _touchpoints(engine)) == 2


@pytest.mark.parametrize("note", [
    "call in 3 hours", "call at 3pm", "call in January", "call after Christmas",
    "call early March", "call sat",
])
async def test_a_date_phrase_a_note_cannot_read_is_said_to_look_like_one(
        rapport: Rapport, engine: AsyncEngine, note: str) -> None:
    """Each answered only "Noted for Dana Scully (n1).", with no reminder and no word why."""
    await say(rapport, "add Dana Scully")
    answer = await say(rapport, f"note Dana: {note}")
    assert "looks like a date, but I couldn't read it" in answer, answer
    assert await _notes(engine) == [(note, None)]


@pytest.mark.parametrize(("note", "text", "day"), [
    ("call this afternoon", "call", TODAY),
    ("call mon", "call", date(2026, 11, 30)),
    ("call Mon.", "call", date(2026, 11, 30)),
    ("ping her next wk", "ping her", date(2026, 11, 30)),
    ("call in 2 wks", "call", date(2026, 12, 7)),
    ("call in 11 months", "call", date(2027, 10, 23)),
])
async def test_a_day_said_the_short_way_in_a_note_sets_its_reminder(
        rapport: Rapport, engine: AsyncEngine, note: str, text: str, day: date) -> None:
    await say(rapport, "add Dana Scully")
    answer = await say(rapport, f"note Dana: {note}")
    assert "I'll remind you" in answer, answer
    assert await _notes(engine) == [(text, day)]


async def test_a_note_more_than_ten_years_away_is_refused(rapport: Rapport,
                                                          engine: AsyncEngine) -> None:
    """"call in 11 years" was noted without a reminder, though "on Dec 4 2037" is refused."""
    await say(rapport, "add Dana Scully")
    before = await snapshot(engine)
    for line in ("note Dana: call in 11 years", "note Dana: call on Dec 4 2037"):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and "more than ten years away" in reply.text, (line, reply.text)
    assert await snapshot(engine) == before


async def test_a_numeric_date_of_two_readings_is_asked_about(rapport: Rapport,
                                                             engine: AsyncEngine) -> None:
    """"call on 11/12" was a reminder on Fri Nov 12 2027 and "log Lee 12/11" a conversation on
    Thu Dec 11 2025, silently, when Dec 11 and Nov 12 were days away."""
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Lee Park")
    before = await snapshot(engine)
    for line, choices in (
            # Each reading the nearest such day (a year away from neither).
            ("note Dana: call on 11/12", ("Thu Nov 12", "Fri Dec 11")),
            ("note Dana: call 12/11", ("Fri Dec 11", "Thu Nov 12")),
            ("log Lee 12/11", ("Fri Dec 11", "Thu Nov 12")),
            ("log Lee: coffee 11/12", ("Thu Nov 12", "Fri Dec 11")),
            ("log Lee 11/12/2026", ("Thu Nov 12", "Fri Dec 11"))):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and f"Did you mean {choices[0]} or {choices[1]}?" in reply.text \
            and "month as a word" in reply.text, (line, reply.text)
    assert await snapshot(engine) == before
    # One reading only (no 20th month), or both the same day: read without a question.
    await say(rapport, "log Lee 11/20")
    await say(rapport, "log Lee 20/11")
    await say(rapport, "log Lee 11/11")
    await say(rapport, "note Dana: call on 12/24")
    assert await _touchpoints(engine) == [(date(2026, 11, 20), None), (date(2026, 11, 20), None),
                                          (date(2026, 11, 11), None)]
    assert await _notes(engine) == [("call", date(2026, 12, 24))]


@pytest.mark.parametrize(("typed", "zone"), [
    ("São Paulo", "America/Sao_Paulo"), ("Zürich", "Europe/Zurich"),
    ("Bogotá", "America/Bogota"), ("Asunción", "America/Asuncion"),
    ("MONTRÉAL", "America/Montreal"), ("Ciudad Juárez", "America/Ciudad_Juarez"),
])
def test_a_city_typed_with_its_accents_names_its_zone(typed: str, zone: str) -> None:
    assert read_zone(typed).zone == zone


async def test_settings_tz_with_accents_saves_the_zone(rapport: Rapport) -> None:
    answer = await say(rapport, "settings tz São Paulo")
    assert "Time zone: America/Sao_Paulo" in answer, answer
