"""Lines as people type them, through the real core and database on a Friday (Dec 4 2026):
amounts in words, past days however said, punctuation after a day, a reaction after a new
name, a search word ending a sentence, a goal deleted by name, a day before its month."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Contact, ImportantDate, Note, Tag, Touchpoint
from tests.conftest import Clock, console_user, snapshot

ALEX = console_user("alex")
# Friday Dec 4 2026, 16:00 UTC: inside the default window, on a working day.
FRIDAY = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


@pytest.fixture
async def friday(rapport: Rapport, clock: Clock) -> Rapport:
    """Rapport on a Friday, with Dana Scully and Lee Park."""
    clock.set(FRIDAY)
    for line in ("add Dana Scully", "add Lee Park"):
        assert (await rapport.handle_text(ALEX, line)).ok
    return rapport


async def _answer(rapport: Rapport, line: str) -> str:
    reply = await rapport.handle_text(ALEX, line)
    assert reply.ok, (line, reply.text)
    return reply.text


async def _notes(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [tuple(row) for row in (await session.execute(
            select(Note.text, Note.follow_up_on).order_by(Note.id))).all()]


async def _touchpoints(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [(happened_at.date(), kind, summary) for happened_at, kind, summary in (
            await session.execute(select(Touchpoint.happened_at, Touchpoint.kind,
                                         Touchpoint.summary).order_by(Touchpoint.id))).all()]


async def test_an_amount_in_words_gets_a_reminder_on_its_day(friday: Rapport,
                                                              engine: AsyncEngine) -> None:
    """"in two weeks" was noted with no reminder and nothing said."""
    for line, answer in (("note Dana: call her in two weeks", "on Fri Dec 18"),
                         ("note Dana: call her in a fortnight", "on Fri Dec 18"),
                         ("note Dana: call her in a few days", "on Mon Dec 7"),
                         ("remind me to call Dana in two weeks", "on Fri Dec 18")):
        assert f"I'll remind you {answer}" in await _answer(friday, line), line
    assert await _notes(engine) == [("call her", date(2026, 12, 18)),
                                    ("call her", date(2026, 12, 18)),
                                    ("call her", date(2026, 12, 7)),
                                    ("call", date(2026, 12, 18))]
    unread = await _answer(friday, "note Dana: call her in several weeks")
    assert "“in several weeks” looks like a date, but I couldn't read it" in unread


async def test_a_past_day_however_said_is_logged_on_that_day(friday: Rapport,
                                                             engine: AsyncEngine) -> None:
    """Each was logged today with the date words as the summary ("on Mon", "2 days ago")."""
    for line in ("log Lee a fortnight ago", "log Lee a few days ago", "log Lee on Mon",
                 "log Lee on Sat", "log Lee: coffee 2 days ago", "log Lee a couple of days ago",
                 "log Dana: coffee on Dec 1", "log Lee: coffee 2026-02-25",
                 "log Dana yesterday!", "log Dana (last Friday)", "log Dana 3 days ago!!",
                 "log Dana on Monday!"):
        await _answer(friday, line)
    assert await _touchpoints(engine) == [
        (date(2026, 11, 20), "chat", None), (date(2026, 12, 1), "chat", None),
        (date(2026, 11, 30), "chat", None), (date(2026, 11, 28), "chat", None),
        (date(2026, 12, 2), "coffee", None), (date(2026, 12, 2), "chat", None),
        (date(2026, 12, 1), "coffee", None), (date(2026, 2, 25), "coffee", None),
        (date(2026, 12, 3), "chat", None), (date(2026, 11, 27), "chat", None),
        (date(2026, 12, 1), "chat", None), (date(2026, 11, 30), "chat", None)]


async def test_a_day_that_cannot_be_logged_is_refused_and_stores_nothing(
        friday: Rapport, engine: AsyncEngine) -> None:
    before = await snapshot(engine)
    for line, answer in (("log Lee in November", "Say which day, for example “Nov 12”"),
                         ("log Lee: coffee next Monday", "already happened"),
                         ("log Dana: coffee tomorrow!", "already happened")):
        reply = await friday.handle_text(ALEX, line)
        assert not reply.ok and answer in reply.text, (line, reply.text)
    assert await snapshot(engine) == before


async def test_punctuation_after_a_day_is_not_kept_in_a_note(friday: Rapport,
                                                             engine: AsyncEngine) -> None:
    """"demo next Tuesday!!" was kept whole ("ask Dana about the demo next Tuesday"), and
    "call her tomorrow!" kept as "call her !"; "remind me … tomorrow!" asked when."""
    assert "about the demo (n1)" in await _answer(friday, "note Dana: demo next Tuesday!!")
    await _answer(friday, "note Dana: call her tomorrow!")
    assert "I'll remind you on Mon Dec 7 to call Dana (n3): Sat Dec 5 is not" in await _answer(
        friday, "remind me to call Dana tomorrow!")
    tomorrow = date(2026, 12, 5)
    assert await _notes(engine) == [("demo", date(2026, 12, 8)), ("call her", tomorrow),
                                    ("call", tomorrow)]


async def test_next_saturday_said_on_a_friday_is_not_tomorrow(friday: Rapport,
                                                              engine: AsyncEngine) -> None:
    assert "Sat Dec 12 is not one of your working days" in await _answer(
        friday, "note Dana: hiking trip next Saturday")
    assert "Sat Dec 5 is not one of your working days" in await _answer(
        friday, "note Dana: hiking trip this Saturday")


async def test_a_fortnight_and_a_goal_deleted_by_its_name(friday: Rapport,
                                                          engine: AsyncEngine) -> None:
    assert await _answer(friday, "pause for a fortnight") == "Paused until Fri Dec 18."
    await _answer(friday, "resume")
    await _answer(friday, "tag Lee clients")
    await _answer(friday, "goal clients every month")
    for line in ("delete goal clients", "remove the clients goal"):
        reply = await friday.handle_text(ALEX, line)
        assert "goal clients" not in reply.text and "I don't know anyone" not in reply.text
    async with db.session_factory(engine)() as session:
        assert (await session.scalar(select(Tag.goal_cadence_days))) is None


async def test_a_reaction_after_a_name_adds_nobody_new(friday: Rapport,
                                                       engine: AsyncEngine) -> None:
    """"add Dana Scully 🎉" added a second Dana, and "show Dana" asked which."""
    reply = await friday.handle_text(ALEX, "add Dana Scully 🎉")
    assert not reply.ok and reply.text == "You already keep in touch with Dana Scully."
    async with db.session_factory(engine)() as session:
        assert sorted(await session.scalars(select(Contact.name))) == ["Dana Scully",
                                                                        "Lee Park"]


async def test_search_words_ending_a_sentence_are_found(friday: Rapport) -> None:
    await _answer(friday, "log Lee: the Initech renewal contract")
    for line in ("search renewal!", "search contract?", "search initech."):
        assert "t1 today, Lee Park" in await _answer(friday, line), line


async def test_a_birthday_said_day_first(friday: Rapport, engine: AsyncEngine) -> None:
    """"13/5" was refused; no month is the 13th."""
    assert "Thu May 13 2027" in await _answer(friday, "date Dana birthday 13/5")
    async with db.session_factory(engine)() as session:
        assert [tuple(row) for row in (await session.execute(
            select(ImportantDate.month, ImportantDate.day))).all()] == [(5, 13)]


async def test_done_keeps_the_kind_said_after_its_colon(friday: Rapport,
                                                        engine: AsyncEngine) -> None:
    """"done Dana: coffee, her new team" logged a chat "about" “coffee, her new team”."""
    assert await _answer(friday, "done Dana: coffee, her new team") == (
        "Logged coffee with Dana Scully.")
    assert await _touchpoints(engine) == [(date(2026, 12, 4), "coffee", "her new team")]
