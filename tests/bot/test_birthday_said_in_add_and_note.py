"""A birthday said with `add …, birthday March 3` or as a note (`note Lee: birthday March 3`,
"her birthday is March 3", "bday 3/3") is their yearly birthday, set as "Dana's birthday is
March 3" sets it: a reminder every year, and the answer says so. Before, `add` kept it as a
note and `note` as a one-off "ask Lee about the birthday" on Mar 3."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from rapport.bot.core import commands as c
from rapport.bot.core.rapport import Rapport
from rapport.storage.models import Contact, ImportantDate, Note
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


async def _birthdays(rapport: Rapport) -> dict[str, tuple[object, ...]]:
    async with rapport.sessions() as session:
        rows = (await session.execute(
            select(Contact.name, ImportantDate.kind, ImportantDate.month, ImportantDate.day,
                   ImportantDate.year, ImportantDate.plan_at)
            .join(ImportantDate, ImportantDate.contact_id == Contact.id))).all()
    return {name: tuple(rest) for name, *rest in rows}


async def _notes(rapport: Rapport) -> list[tuple[object, ...]]:
    async with rapport.sessions() as session:
        return [tuple(row) for row in (await session.execute(
            select(Note.text, Note.follow_up_on).order_by(Note.id))).all()]


async def test_a_birthday_said_in_add_is_their_yearly_birthday(rapport: Rapport,
                                                               clock: Clock) -> None:
    clock.set(SATURDAY)
    assert await say(rapport, "add Dana Scully, client at Acme, birthday March 3, likes hiking",
                     ALEX) == (
        "Added Dana Scully (client at Acme). Set how often with “every Dana Scully 2 weeks”. "
        "I'll remind you of Dana's birthday (Wed Mar 3 2027) a few days before. I kept “likes "
        "hiking” as a note.")
    await say(rapport, "add Lee Park", ALEX)
    await say(rapport, "lee's birthday is march 3", ALEX)
    # The same yearly date, as "Lee's birthday is March 3" sets it.
    birthdays = await _birthdays(rapport)
    assert birthdays["Dana Scully"] == birthdays["Lee Park"]
    assert birthdays["Dana Scully"][:4] == ("birthday", 3, 3, None)
    assert await _notes(rapport) == [("likes hiking", None)]
    assert "birthday Wed Mar 3 2027" in await say(rapport, "show Dana", ALEX)
    # One step undoes the whole `add`, birthday and all.
    await say(rapport, "undo", ALEX)  # Lee's birthday
    await say(rapport, "undo", ALEX)  # Lee
    await say(rapport, "undo", ALEX)  # Dana
    assert await _birthdays(rapport) == {}


async def test_a_birthday_said_in_add_with_its_year_counts_from_it(rapport: Rapport,
                                                                   clock: Clock) -> None:
    clock.set(SATURDAY)
    assert "I'll remind you of Dana's birthday (Wed Mar 3 2027, since 1985) a few days " \
        "before." in await say(rapport, "add Dana Scully, bday March 3 1985", ALEX)
    assert (await _birthdays(rapport))["Dana Scully"][:4] == ("birthday", 3, 3, 1985)
    assert await _notes(rapport) == []


async def test_a_note_that_is_a_birthday_sets_the_birthday(rapport: Rapport,
                                                           clock: Clock) -> None:
    clock.set(SATURDAY)
    for name in ("Lee Park", "Dana Scully", "Sam Okafor", "Mei Chen"):
        await say(rapport, f"add {name}", ALEX)
    assert await say(rapport, "note Lee: birthday March 3", ALEX) == (
        "I'll remind you of Lee's birthday (Wed Mar 3 2027) a few days before.")
    assert await say(rapport, "note Dana: her birthday is March 3rd", ALEX) == (
        "I'll remind you of Dana's birthday (Wed Mar 3 2027) a few days before.")
    assert await say(rapport, "note Sam: bday 3/3", ALEX) == (
        "I'll remind you of Sam's birthday (Wed Mar 3 2027) a few days before.")
    await say(rapport, "mei's birthday is march 3", ALEX)
    birthdays = await _birthdays(rapport)
    assert birthdays["Lee Park"] == birthdays["Dana Scully"] == birthdays["Sam Okafor"] \
        == birthdays["Mei Chen"]
    assert await _notes(rapport) == []  # no one-off "ask Lee about the birthday"
    # A note about a birthday that says more is a note, as before.
    assert (await say(rapport, "note Lee: birthday party on Friday", ALEX)).startswith(
        "Noted. I'll remind you on Fri Dec 11 to ask Lee about the birthday party (n1)")
    assert await _notes(rapport) == [("birthday party", date(2026, 12, 11))]


async def test_a_birthday_typed_into_the_cards_note_form_sets_the_birthday(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(SATURDAY)
    await say(rapport, "add Lee Park", ALEX)
    reply = await rapport.execute(ALEX, c.AddNote(c.PersonRef(text="Lee Park"),
                                                  "birthday March 3", None, dates_unread=True))
    assert reply.ok and reply.text == (
        "I'll remind you of Lee's birthday (Wed Mar 3 2027) a few days before.")
    assert (await _birthdays(rapport))["Lee Park"][:4] == ("birthday", 3, 3, None)
    assert await _notes(rapport) == []
