"""An offer to add someone met is withdrawn once their address is one of your people's: `set
Sam email ...` on the contact you already had made "You met Sam Lee (Globex) twice this
month. Add to your people?" stale, yet it stayed in `suggestions`, in the stats' count of
offers waiting, and in the way of new suggestions. The meetings held with the address are
Sam's from the next sync on, and so are later ones; undoing the `set` brings the offer back
as it stood."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.scheduler import suggestions as rules
from rapport.storage.models import Contact, Touchpoint
from tests.connectors.helpers import connected
from tests.connectors.test_attendee_offers import (
    ALEX,
    FRI_10,
    OFFER,
    SAM,
    THU_14,
    _dana_at_globex,
    _evaluate,
    _met,
    _offers,
    _say,
    _suggestions,
    _sync,
)
from tests.fakes.calendar_fixtures import CalendarApp


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _sams(app: CalendarApp) -> list[tuple[str, object]]:
    """(contact, moment) of every touchpoint, oldest first."""
    async with app.runtime.sessions() as session:
        return [(row.name, row.happened_at) for row in await session.execute(
            select(Contact.name, Touchpoint.happened_at)
            .join(Contact, Contact.id == Touchpoint.contact_id)
            .order_by(Touchpoint.happened_at))]


async def _waiting_line(app: CalendarApp) -> str:
    reply = await app.runtime.rapport.handle_text(ALEX, "stats")
    return next(line for line in reply.text.splitlines() if line.startswith("Suggestions:"))


@pytest.mark.parametrize("provider", ["google", "microsoft"])
async def test_setting_the_address_of_someone_offered_withdraws_the_offer(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    await _dana_at_globex(app)
    await _say(app, "add Sam")  # known by first name only: the calendar can't tell it's Sam
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    assert await _offers(app) == [OFFER]
    assert await _waiting_line(app) == \
        "Suggestions: 1 made, 0 accepted, 1 waiting for your answer."

    await _say(app, "set Sam email Sam.Lee@Globex.com")
    # At once, before any sync: the offer is not shown or counted as waiting any more.
    assert await _offers(app) == []
    assert await _waiting_line(app) == "Suggestions: 1 made, 0 accepted, 1 expired."
    # The next sync logs the meetings held with the address as Sam's...
    await _sync(app)
    assert await _sams(app) == [("Sam", THU_14), ("Sam", FRI_10)]
    assert await _met(app) == []
    # ...and every later one; nothing is offered again.
    calendar.add(start=app.clock.now - timedelta(hours=2), attendees=[SAM])
    await _sync(app)
    assert [name for name, _ in await _sams(app)] == ["Sam"] * 3
    assert await _evaluate(app) == 0
    assert await _offers(app) == []
    # A button left on an old message says so and changes nothing else.
    [offer] = await _suggestions(app)
    reply = await app.runtime.rapport.handle_text(ALEX, f"accept {offer.id}")
    assert reply.text == (f"Suggestion {offer.id} was withdrawn: sam.lee@globex.com is the "
                          "address of one of your people now, so I left everything as it is.")
    async with app.runtime.sessions() as session:
        assert (await session.scalars(select(Contact.name).order_by(Contact.id))).all() == [
            "Dana Scully", "Sam"]


async def test_undoing_the_address_brings_the_offer_back_and_it_still_counts(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await _dana_at_globex(app)
    await _say(app, "add Sam")
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    await _say(app, "set Sam email sam.lee@globex.com")
    assert await _offers(app) == []
    await _say(app, "undo")
    assert await _offers(app) == [OFFER]
    assert await _waiting_line(app) == \
        "Suggestions: 1 made, 0 accepted, 1 waiting for your answer."
    # Open again, it is the one offer for Sam: the rules make no second.
    calendar.add(start=app.clock.now - timedelta(hours=2), attendees=[SAM])
    await _sync(app)
    await _evaluate(app)
    assert [s.attendee_email for s in await _suggestions(app)
            if s.kind == rules.ADD_PERSON] == ["sam.lee@globex.com"]
