"""The calendar owner's own address, which is never someone they met: on Microsoft 365 it is
read from the owner of the default calendar (Graph's `GET /me/calendar`, which the
Calendars.Read grant allows), since Graph lists the owner among the attendees of meetings
others organise without marking them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from rapport.scheduler import suggestions as rules
from rapport.storage.models import MetPerson, Suggestion
from tests.connectors.helpers import connected, connection, touch_summary
from tests.fakes.calendar_fixtures import CalendarApp

THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _met_emails(app: CalendarApp) -> set[str]:
    async with app.runtime.sessions() as session:
        return set(await session.scalars(select(MetPerson.email)))


async def test_microsoft_owner_who_organised_nothing_is_never_offered(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "microsoft", "Alex@Example.com")
    calendar.add(start=THU_14, attendees=["sam@globex.com"], organizer="sam@globex.com")
    calendar.add(start=FRI_10, attendees=["sam@globex.com"], organizer="sam@globex.com")

    report = await app.sync.run_once()

    assert report.failed == 0
    assert await _met_emails(app) == {"sam@globex.com"}
    assert (await connection(app, "microsoft")).account_email == "alex@example.com"
    app.clock.advance(days=1)
    await rules.make_suggestions(app.runtime.rapport.db, app.clock.now)
    async with app.runtime.sessions() as session:
        offered = [s.attendee_email for s in await session.scalars(select(Suggestion))]
    assert offered == ["sam@globex.com"]


async def test_microsoft_owner_is_asked_once_per_grant(calendar_app: CalendarApp) -> None:
    """Once learnt, the address is stored and not asked again; a new grant (possibly another
    account) asks again."""
    app = calendar_app
    calendar = await connected(app, "microsoft", "alex@example.com")
    calendar.add(start=THU_14, attendees=["sam@globex.com"], organizer="sam@globex.com")
    await app.sync.run_once()
    app.clock.advance(minutes=5, seconds=1)
    await app.sync.run_once()
    assert [r.path for r in app.microsoft.calendar_requests] == ["/v1.0/me/calendar"]

    await app.connect("alex", "microsoft", "alex@personal.com")
    app.microsoft.calendar("alex@personal.com").add(
        start=FRI_10, attendees=["sam@globex.com"], organizer="sam@globex.com")
    app.clock.advance(minutes=5, seconds=1)
    await app.sync.run_once()

    assert len(app.microsoft.calendar_requests) == 2
    assert (await connection(app, "microsoft")).account_email == "alex@personal.com"
    assert "alex@personal.com" not in await _met_emails(app)


async def test_an_owner_the_calendar_cannot_name_leaves_the_sync_going(
        calendar_app: CalendarApp) -> None:
    """Graph refusing the calendar's own properties (403) costs the offer filter its address,
    not the sync: meetings are still read, and the address is asked for at the next sync."""
    app = calendar_app
    calendar = await connected(app, "microsoft", "alex@example.com")
    calendar.add(start=THU_14, attendees=["sam@globex.com"], organizer="sam@globex.com")
    app.microsoft.calendar_status = 403

    report = await app.sync.run_once()

    assert (report.synced, report.failed) == (1, 0)
    assert (await connection(app, "microsoft")).account_email is None
    app.microsoft.calendar_status = 200
    app.clock.advance(minutes=5, seconds=1)
    await app.sync.run_once()
    assert (await connection(app, "microsoft")).account_email == "alex@example.com"
    # The owner held as someone met before the address was known goes once it is.
    assert await _met_emails(app) == {"sam@globex.com"}


async def test_microsoft_owner_kept_as_a_contact_is_not_met_in_their_own_meetings(
        calendar_app: CalendarApp) -> None:
    """Someone who keeps themselves among their people (their own address on a contact) has
    no meeting logged with themselves, as on Google, which marks the owner."""
    app = calendar_app
    calendar = await connected(app, "microsoft", "alex@example.com")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await app.add_contact("alex", "Alex Me", "ALEX@example.com")
    calendar.add(start=THU_14, attendees=["dana@acme.com"], organizer="dana@acme.com")

    await app.sync.run_once()

    assert await touch_summary(app) == [(dana, THU_14)]
