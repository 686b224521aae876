"""A kind typed before the name without "with" ("log chat Dana", "log coffee Lee Park") logs
that kind with that person, whatever the name's length; a contact whose name starts with a
kind word ("Chat Smith", "Call Me Maybe") is still found when named in full, and a line that
is a kind word alone followed by someone unknown asks rather than guess."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Contact, Touchpoint
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")
MONDAY = date(2026, 11, 23)  # the test clock's day


async def _logged(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [(name, happened_at.date(), kind, summary)
                for name, happened_at, kind, summary in (await session.execute(
                    select(Contact.name, Touchpoint.happened_at, Touchpoint.kind,
                           Touchpoint.summary)
                    .join(Contact, Contact.id == Touchpoint.contact_id)
                    .order_by(Touchpoint.id))).all()]


async def _people(rapport: Rapport, *names: str) -> None:
    for name in names:
        await say(rapport, f"add {name}", ALEX)


async def test_a_kind_before_the_name_is_the_kind_logged(rapport: Rapport,
                                                         engine: AsyncEngine) -> None:
    await _people(rapport, "Dana Scully", "Lee Park", "Chat Smith", "Call Me Maybe")
    answers = [await say(rapport, line, ALEX) for line in (
        "log chat Dana", "log coffee Dana", "log call with Dana",
        "log a call with Dana yesterday", "log Dana chat", "log chat Dana Scully",
        "log coffee Lee Park", "log call Lee Park yesterday", "log email Lee Park: budget",
        "log Chat Smith", "log Call Me Maybe", "log chat Smith")]
    assert answers == [
        "Logged chat with Dana Scully.", "Logged coffee with Dana Scully.",
        "Logged call with Dana Scully.", "Logged call with Dana Scully (yesterday).",
        "Logged chat with Dana Scully.", "Logged chat with Dana Scully.",
        "Logged coffee with Lee Park.", "Logged call with Lee Park (yesterday).",
        "Logged email with Lee Park.", "Logged chat with Chat Smith.",
        "Logged chat with Call Me Maybe.", "Logged chat with Chat Smith."]
    yesterday = date(2026, 11, 22)
    assert await _logged(engine) == [
        ("Dana Scully", MONDAY, "chat", None), ("Dana Scully", MONDAY, "coffee", None),
        ("Dana Scully", MONDAY, "call", None), ("Dana Scully", yesterday, "call", None),
        ("Dana Scully", MONDAY, "chat", None),
        # Not a chat with Chat Smith about "Dana Scully".
        ("Dana Scully", MONDAY, "chat", None),
        ("Lee Park", MONDAY, "coffee", None), ("Lee Park", yesterday, "call", None),
        ("Lee Park", MONDAY, "email", "budget"),
        ("Chat Smith", MONDAY, "chat", None), ("Call Me Maybe", MONDAY, "chat", None),
        ("Chat Smith", MONDAY, "chat", None)]


async def test_a_name_in_full_wins_over_a_kind_and_a_shorter_name(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """"log Chat Smith" reads two ways when Smith is someone too: the whole name wins; a
    call with Me Maybe is still one when said so."""
    await _people(rapport, "Chat Smith", "Smith", "Call Me Maybe", "Me Maybe")
    for line in ("log Chat Smith", "log Call Me Maybe", "log chat with Smith",
                 "log call with Me Maybe"):
        await say(rapport, line, ALEX)
    assert [(name, kind) for name, _day, kind, _summary in await _logged(engine)] == [
        ("Chat Smith", "chat"), ("Call Me Maybe", "chat"), ("Smith", "chat"),
        ("Me Maybe", "call")]


async def test_a_kind_word_alone_is_not_taken_for_someone_it_starts(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """With Chat Smith known and nobody called Dana Scully, "log chat Dana Scully" logged a
    chat with Chat Smith about "Dana Scully"; it asks, and saves nothing."""
    await _people(rapport, "Chat Smith")
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, "log chat Dana Scully")
    assert reply.text.startswith("I'm not sure who you mean"), reply.text
    assert "If you meant Chat Smith" in reply.text and reply.text.endswith("Nothing was saved.")
    assert await snapshot(engine) == before


async def test_a_kind_before_several_names_is_logged_with_each(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Dana Scully", "Lee Park", "Chat Smith")
    assert await say(rapport, "log coffee Dana and Lee Park", ALEX) == \
        "Logged coffee with Dana Scully and Lee Park."
    # A name in full that starts with a kind word is still that person.
    assert await say(rapport, "log Chat Smith and Lee", ALEX) == \
        "Logged chat with Chat Smith and Lee Park."
    assert [(name, kind) for name, _day, kind, _summary in await _logged(engine)] == [
        ("Dana Scully", "coffee"), ("Lee Park", "coffee"), ("Chat Smith", "chat"),
        ("Lee Park", "chat")]
