"""Import keeps one email address on one person (`set` refuses a second holder): a row naming
one contact with an address another already has leaves the address where it is, and the rest
of the row, and the file, import as usual."""

from __future__ import annotations

from sqlalchemy import select

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply
from rapport.storage.models import Contact
from tests.conftest import console_user, say


async def _import(rapport: Rapport, data: bytes) -> Reply:
    ctx = await rapport.user_context(console_user())
    return await rapport.import_contacts(ctx, "contacts.csv", data, dry_run=False)


async def _emails(rapport: Rapport) -> list[tuple[str, str | None, str | None]]:
    async with rapport.sessions() as session:
        return [tuple(r) for r in (await session.execute(  # type: ignore[misc]
            select(Contact.name, Contact.email, Contact.company)
            .order_by(Contact.name_key))).all()]


async def test_an_imported_address_another_contact_has_stays_with_them(
        rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully dana@acme.com")
    await say(rapport, "add Dan Brown")
    reply = await _import(rapport, b"name,email,company\nDan Brown,DANA@acme.com,Acme\n"
                                   b"Lee Park,lee@acme.com,\nKim Lee,lee@acme.com,\n")
    assert reply.ok, reply.text
    assert await _emails(rapport) == [
        ("Dan Brown", None, "Acme"), ("Dana Scully", "dana@acme.com", None),
        ("Lee Park", "lee@acme.com", None)]
