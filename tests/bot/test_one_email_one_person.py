"""One email address is one person: a calendar meeting with it is logged for whoever has it,
so two contacts sharing one would each count every meeting. Giving a contact an address
another of the user's contacts has already (`set`, `add`, said as a fact) is refused, naming
who has it, whatever the letter case; another user's contacts are theirs alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Contact
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")
SAM = console_user("sam")
TAKEN = ("Dana Scully has dana@acme.com already: one address is one person, or every meeting "
         "with it would count for both. If it is {who}'s now, clear Dana Scully's first "
         "(“set Dana Scully email none”). Nothing changed.")


async def _emails(engine: AsyncEngine) -> dict[str, str | None]:
    async with db.session_factory(engine)() as session:
        return {name: email for name, email in (await session.execute(
            select(Contact.name, Contact.email).order_by(Contact.name))).all()}


@pytest.mark.parametrize("line", [
    "set Dan email dana@acme.com",
    "set Dan email DANA@Acme.com",
    "Dan's email is dana@acme.com",
])
async def test_an_address_another_contact_has_is_refused(rapport: Rapport, engine: AsyncEngine,
                                                         line: str) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "set Dana email dana@acme.com")
    await say(rapport, "add Dan Brown")
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok
    assert reply.text == TAKEN.format(who="Dan Brown")
    assert await snapshot(engine) == before


async def test_an_address_stored_in_another_case_is_found(rapport: Rapport,
                                                          engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Dan Brown")
    async with db.session_factory(engine)() as session, session.begin():
        await session.execute(update(Contact).where(Contact.name == "Dana Scully")
                              .values(email="Dana@ACME.com"))
    reply = await rapport.handle_text(ALEX, "set Dan email dana@acme.com")
    assert not reply.ok and reply.text.startswith("Dana Scully has dana@acme.com already: ")


async def test_a_new_contact_with_that_address_is_refused(rapport: Rapport,
                                                          engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully dana@acme.com")
    reply = await rapport.handle_text(ALEX, "add Dan Brown DANA@acme.com")
    assert not reply.ok
    assert reply.text == TAKEN.format(who="Dan Brown")
    assert await _emails(engine) == {"Dana Scully": "dana@acme.com"}


async def test_the_same_contact_and_other_users_are_not_in_the_way(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "set Dana email dana@acme.com")
    again = await rapport.handle_text(ALEX, "set Dana email dana@acme.com")
    assert not again.ok and "already dana@acme.com" in again.text
    # Sam keeps their own Dana.
    await say(rapport, "add Dana Scully", SAM)
    assert await say(rapport, "set Dana email dana@acme.com", SAM) == \
        "Dana Scully's email is now dana@acme.com."
    # Cleared first, the address can move to someone else.
    await say(rapport, "add Dan Brown")
    await say(rapport, "set Dana email none")
    assert await say(rapport, "set Dan email dana@acme.com") == \
        "Dan Brown's email is now dana@acme.com."
