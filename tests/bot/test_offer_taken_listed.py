"""An offer to add someone met whose address has since become one of the user's people's
(`set Dana email sam.lee@globex.com`) is withdrawn wherever open offers are listed, as a
click on it says ("Suggestion 1 was withdrawn: ..."), whatever the case or spacing either
address was stored in: `suggestions` showed it with its answers still, and stats counted it
as waiting. Undoing the `set` brings it back as it stood."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import SuggestionsView
from rapport.storage import db
from rapport.storage.models import Contact, Suggestion
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
OFFER = "You met Sam Lee (Globex) twice this month. Add to your people?"


async def _offered(rapport: Rapport, address: str) -> int:
    """Alex keeps Dana Scully; an open offer to add Sam Lee, met at `address`."""
    await say(rapport, "add Dana Scully", ALEX)
    async with rapport.sessions() as session, session.begin():
        dana = (await session.scalars(select(Contact))).one()
        offer = Suggestion(workspace_id=dana.workspace_id, user_id=dana.user_id,
                           kind="add_person", dedupe_key="met:sam", text=OFFER, status="open",
                           created_at=datetime(2026, 11, 22, tzinfo=UTC),
                           attendee_email=address, attendee_name="Sam Lee",
                           attendee_company="Globex")
        session.add(offer)
        await session.flush()
        return offer.id


async def _listed(rapport: Rapport) -> list[str]:
    reply = await rapport.handle_text(ALEX, "suggestions")
    assert isinstance(reply.view, SuggestionsView)
    return [item.text for item in reply.view.items]


async def _waiting(rapport: Rapport) -> str:
    return next(line for line in (await say(rapport, "stats", ALEX)).splitlines()
                if line.startswith("Suggestions:"))


@pytest.mark.parametrize(("offered", "set_to"), [
    ("sam.lee@globex.com", "sam.lee@globex.com"),
    ("Sam.Lee@Globex.com", "sam.lee@globex.com"),
    (" sam.lee@globex.com ", "SAM.LEE@GLOBEX.COM"),
])
async def test_an_offer_whose_address_became_a_contacts_is_not_listed_as_open(
        any_engine: AsyncEngine, clock: Clock, offered: str, set_to: str) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    offer = await _offered(rapport, offered)
    assert await _listed(rapport) == [OFFER]

    await say(rapport, f"set Dana email {set_to}", ALEX)

    assert await _listed(rapport) == []
    assert await _waiting(rapport) == "Suggestions: 1 made, 0 accepted, 1 expired."
    # As the answer to a click on it says.
    clicked = await rapport.handle_text(ALEX, f"accept {offer}")
    assert clicked.text.startswith(f"Suggestion {offer} was withdrawn: "), clicked.text
    # Undone, the offer is open again as it stood.
    await say(rapport, "undo", ALEX)
    assert await _listed(rapport) == [OFFER]
    assert await _waiting(rapport) == \
        "Suggestions: 1 made, 0 accepted, 1 waiting for your answer."
