"""Suggest, never add: people met in calendar meetings who are not contacts, offered once
after two meetings in 30 days (Add / Not now / Never), through the real sync against the
Google and Microsoft fakes and the real suggestion rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from rapport.bot.core.views import SuggestionsView
from rapport.scheduler import suggestions as rules
from rapport.scheduler.retention import apply_retention
from rapport.storage import met
from rapport.storage.models import Contact, ForgottenAddress, MetPerson, Suggestion, Touchpoint
from tests.conftest import console_user
from tests.connectors.helpers import connected, said
from tests.connectors.seed import seed_met_twice
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.calendar_store import FakeAttendee, FakeCalendar

PROVIDERS = ["google", "microsoft"]
ALEX = console_user("alex", tz="Europe/Berlin")
# The clock starts on Monday 2026-11-23 10:00 UTC.
WED_11 = datetime(2026, 11, 11, 14, 0, tzinfo=UTC)
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SAM = FakeAttendee("Sam.Lee@Globex.com", name="Sam Lee")
OFFER = "You met Sam Lee (Globex) twice this month. Add to your people?"


async def _dana_at_globex(app: CalendarApp) -> int:
    """A contact at Globex, so Sam's company is known from the email domain."""
    dana = await app.add_contact("alex", "Dana Scully", "dana@globex.com")
    async with app.runtime.sessions() as session, session.begin():
        await session.execute(update(Contact).where(Contact.id == dana)
                              .values(company="Globex"))
    return dana


async def _sam_offered(app: CalendarApp, provider: str) -> tuple[FakeCalendar, Suggestion]:
    """Sam, at Globex as Dana is, met twice in `provider`'s calendar and offered once."""
    calendar = await connected(app, provider)
    await _dana_at_globex(app)
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    [offer] = await _suggestions(app)
    return calendar, offer


async def _evaluate(app: CalendarApp) -> int:
    """One daily evaluation of the suggestion rules (the clock moves a day first)."""
    app.clock.advance(days=1)
    return await rules.make_suggestions(app.runtime.rapport.db, app.clock.now)


async def _sync(app: CalendarApp) -> None:
    app.clock.advance(minutes=5, seconds=1)
    report = await app.sync.run_once()
    assert report.failed == 0


async def _offers(app: CalendarApp) -> list[str]:
    reply = await app.runtime.rapport.handle_text(ALEX, "suggestions")
    assert isinstance(reply.view, SuggestionsView)
    return [item.text for item in reply.view.items]


async def _suggestions(app: CalendarApp) -> list[Suggestion]:
    async with app.runtime.sessions() as session:
        return list((await session.scalars(select(Suggestion).order_by(Suggestion.id))).all())


async def _met(app: CalendarApp) -> list[tuple[str, str | None]]:
    """(email, display name) for each meeting held with someone met."""
    async with app.runtime.sessions() as session:
        return [(row.email, row.display_name) for row in await session.execute(
            select(MetPerson.email, MetPerson.display_name, MetPerson.meetings)
            .order_by(MetPerson.id)) for _ in met.meetings(row.meetings)]


async def _sams_meetings(app: CalendarApp) -> list[datetime]:
    """When the touchpoints logged with the contact Sam Lee happened, oldest first."""
    async with app.runtime.sessions() as session:
        return list((await session.scalars(select(Touchpoint.happened_at).join(
            Contact, Contact.id == Touchpoint.contact_id).where(Contact.name == "Sam Lee")
            .order_by(Touchpoint.happened_at))).all())


async def _last_touch(app: CalendarApp, name: str) -> datetime | None:
    async with app.runtime.sessions() as session:
        return await session.scalar(select(Contact.last_touch_at).where(Contact.name == name))


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_two_meetings_with_a_stranger_make_one_offer_and_add_logs_them(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    await _dana_at_globex(app)
    # Sam twice (once in a meeting Sam organised); Pat once; Quinn declined one of two;
    # Robin's second meeting was cancelled; Kim's meetings the user declined.
    calendar.add(start=THU_14, attendees=[SAM, "pat@initech.com", "quinn@initech.com",
                                          "robin@initech.com"])
    calendar.add(start=FRI_10, attendees=[SAM, FakeAttendee("quinn@initech.com", "declined")],
                 organizer="sam.lee@globex.com")
    calendar.cancel(calendar.add(start=FRI_10 + timedelta(hours=2),
                                 attendees=["robin@initech.com"]).id)
    for start in (THU_14 + timedelta(hours=2), FRI_10 + timedelta(hours=3)):
        calendar.add(start=start, attendees=["kim@initech.com"], organizer="kim@initech.com",
                     owner_response="declined")
    await app.sync.run_once()
    # Only the minimum is kept, and never the user's own address or a declined meeting.
    assert sorted(set(email for email, _ in await _met(app))) == [
        "pat@initech.com", "quinn@initech.com", "robin@initech.com", "sam.lee@globex.com"]

    assert await _evaluate(app) == 1
    assert await _offers(app) == [OFFER]
    # Offered once: nothing new while it is open, even after a third meeting.
    calendar.add(start=app.clock.now - timedelta(hours=3), attendees=[SAM])
    await _sync(app)
    assert await _evaluate(app) == 0
    assert await _offers(app) == [OFFER]

    [offer] = await _suggestions(app)
    answer = await _say(app, f"accept {offer.id}")
    assert answer.startswith("Added Sam Lee (colleague at Globex)")
    async with app.runtime.sessions() as session:
        sam = (await session.scalars(select(Contact).where(Contact.name == "Sam Lee"))).one()
    assert (sam.email, sam.company) == ("sam.lee@globex.com", "Globex")
    # The next sync logs the meetings held with Sam, from the calendar.
    await _sync(app)
    async with app.runtime.sessions() as session:
        logged = (await session.execute(
            select(Touchpoint.happened_at, Touchpoint.source, Touchpoint.kind)
            .where(Touchpoint.contact_id == sam.id).order_by(Touchpoint.happened_at))).all()
    assert [(at, source) for at, source, _ in logged][:2] == [
        (THU_14, "calendar"), (FRI_10, "calendar")]
    assert len(logged) == 3 and {kind for *_, kind in logged} == {"meeting"}
    assert "sam.lee@globex.com" not in {email for email, _ in await _met(app)}
    # A new meeting with Sam is logged like any contact's.
    calendar.add(start=app.clock.now - timedelta(hours=1), attendees=[SAM])
    await _sync(app)
    async with app.runtime.sessions() as session:
        assert len((await session.scalars(
            select(Touchpoint.id).where(Touchpoint.contact_id == sam.id))).all()) == 4
    assert await _evaluate(app) == 0  # Sam is a contact: never offered again


async def test_an_existing_contact_by_email_is_never_offered(calendar_app: CalendarApp
                                                            ) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Sam Lee", "SAM.LEE@globex.com")
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _met(app) == []
    assert await _evaluate(app) == 0


async def test_one_meeting_or_meetings_older_than_a_month_make_no_offer(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=THU_14 - timedelta(days=32), attendees=[SAM])
    await app.sync.run_once()
    assert await _evaluate(app) == 0
    assert await _offers(app) == []


async def test_never_is_for_that_person_only_and_holds_after_more_meetings(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    calendar.add(start=WED_11, attendees=[SAM, FakeAttendee("pat@initech.com", name="Pat Kim")])
    calendar.add(start=THU_14, attendees=[SAM, FakeAttendee("pat@initech.com", name="Pat Kim")])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    [first] = await _suggestions(app)
    who = "Sam Lee" if "Sam" in first.text else "Pat Kim"
    assert await _say(app, f"silence {first.id}") == (
        f"I won't suggest adding {who} again. (“suggestions off met” stops these offers for "
        "everyone; “undo” takes this back.)")
    # The other person is still offered: Never silenced one person, not the kind.
    assert await _evaluate(app) == 1
    other = (await _suggestions(app))[-1]
    assert who not in other.text and other.status == "open"
    await _say(app, f"silence {other.id}")
    for day in range(3):
        calendar.add(start=app.clock.now - timedelta(hours=2 + day), attendees=[SAM])
    await _sync(app)
    assert await _evaluate(app) == 0
    assert await _evaluate(app) == 0


async def test_not_now_waits_for_two_new_meetings(calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar, offer = await _sam_offered(app, "microsoft")
    assert offer.text == OFFER
    assert await _say(app, f"keep {offer.id}") == (
        "Not now. I'll ask about Sam Lee again only if you meet twice more. (“undo” takes "
        "this back.)")
    calendar.add(start=app.clock.now + timedelta(hours=1), attendees=[SAM])
    app.clock.advance(hours=2)
    await _sync(app)
    assert await _evaluate(app) == 0  # one new meeting is not enough
    calendar.add(start=app.clock.now + timedelta(hours=1), attendees=[SAM])
    app.clock.advance(hours=2)
    await _sync(app)
    assert await _evaluate(app) == 1
    assert await _offers(app) == [OFFER]


async def test_suggestions_off_met_stops_every_offer(calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _say(app, "suggestions off met") == "No more suggestions about people you met."
    assert await _evaluate(app) == 0


async def test_people_met_are_exported_and_gone_after_disconnect(calendar_app: CalendarApp
                                                                ) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    calendar.add(start=THU_14, attendees=[SAM], title="Secret merger talk")
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    reply = await app.runtime.rapport.handle_text(ALEX, "export")
    assert reply.attachment is not None
    data = json.loads(reply.attachment.data)
    met = data["calendar_people_met"]
    assert [(row["email"], row["display_name"]) for row in met] == [
        ("sam.lee@globex.com", "Sam Lee")] * 2
    assert set(met[0]) == {"id", "provider", "event_id", "series_id", "email", "display_name",
                           "start_at", "end_at"}
    assert "Secret merger" not in reply.attachment.data.decode()
    assert [s["attendee_email"] for s in data["suggestions"]] == ["sam.lee@globex.com"]

    await _say(app, "disconnect calendar")
    assert await _met(app) == []
    assert await _suggestions(app) == []  # the open offer came from the calendar


async def test_forget_me_deletes_people_met(calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    calendar.add(start=THU_14, attendees=[SAM])
    await app.sync.run_once()
    assert await _met(app) != []
    await _say(app, "forget me confirm")
    assert await _met(app) == []


async def test_the_retention_job_prunes_people_met_after_45_days(calendar_app: CalendarApp
                                                                 ) -> None:
    app = calendar_app
    workspace_id, user_id = await app.user("casey")
    await seed_met_twice(app.runtime.sessions, user_id, workspace_id, THU_14)
    assert len(await _met(app)) == 2
    report = await apply_retention(app.runtime.sessions, THU_14 + timedelta(days=30))
    assert report.met_pruned == 0 and len(await _met(app)) == 2
    report = await apply_retention(app.runtime.sessions, THU_14 + timedelta(days=46))
    assert report.met_pruned == 2 and await _met(app) == []


async def _forgotten_addresses(app: CalendarApp) -> int:
    async with app.runtime.sessions() as session:
        return len((await session.scalars(select(ForgottenAddress.id))).all())


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_forgotten_person_is_never_offered_again(calendar_app: CalendarApp,
                                                         provider: str) -> None:
    app = calendar_app
    calendar, offer = await _sam_offered(app, provider)
    await _say(app, f"accept {offer.id}")
    assert (await _say(app, "forget Sam confirm")).startswith("Forgot Sam Lee")
    # Two more meetings with Sam: before, the next sync met her address as someone who is
    # not a contact and offered "You met Sam Lee (Globex) twice this month" again.
    for hours in (4, 2):
        calendar.add(start=app.clock.now - timedelta(hours=hours), attendees=[SAM])
    await _sync(app)
    assert await _met(app) == []  # nothing about Sam is kept as someone met either
    assert await _evaluate(app) == 0
    assert await _offers(app) == []
    # What is kept is a salted hash, not the address or the name: the export names neither
    # (the offer Sam was added from went with Sam).
    reply = await app.runtime.rapport.handle_text(ALEX, "export")
    assert reply.attachment is not None
    exported = reply.attachment.data.decode()
    assert "sam.lee" not in exported.lower() and "Sam Lee" not in exported
    assert await _suggestions(app) == []
    assert await _forgotten_addresses(app) == 1


async def test_undo_of_forget_takes_the_hash_back_and_forget_me_leaves_nothing(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Sam Lee", "sam.lee@globex.com")
    await _say(app, "add Pat Kim")  # no email: nothing to keep
    await _say(app, "forget Pat confirm")
    assert await _forgotten_addresses(app) == 0
    await _say(app, "forget Sam confirm")
    assert await _forgotten_addresses(app) == 1
    assert (await _say(app, "undo")).startswith("Undone: forgot Sam Lee")
    assert await _forgotten_addresses(app) == 0
    # Sam is a contact again: meetings with her are logged, never held as someone met.
    calendar.add(start=THU_14, attendees=[SAM, "robin@initech.com"])
    await app.sync.run_once()
    assert await _met(app) == [("robin@initech.com", None)]
    await _say(app, "forget Sam confirm")
    await _say(app, "forget me confirm")
    assert await _met(app) == [] and await _forgotten_addresses(app) == 0


async def test_add_not_now_and_never_are_each_undone(calendar_app: CalendarApp) -> None:
    app = calendar_app
    _, offer = await _sam_offered(app, "google")
    added = await _say(app, f"accept {offer.id}")
    assert "“undo” takes this back" in added
    assert "Sam Lee" in await _say(app, "people")
    # Undo takes Sam back out and the offer is open again, as the docs promise.
    assert await _say(app, "undo") == f"Undone: added Sam Lee from suggestion {offer.id}."
    assert "Sam Lee" not in await _say(app, "people")
    assert await _offers(app) == [OFFER]
    await _say(app, f"silence {offer.id}")
    assert await _say(app, "undo") == "Undone: said never to adding Sam Lee."
    assert await _offers(app) == [OFFER]
    await _say(app, f"keep {offer.id}")
    assert await _say(app, "undo") == "Undone: said not now to adding Sam Lee."
    assert await _offers(app) == [OFFER]
    # And after all that, Add still works and the calendar logs the meetings held.
    assert (await _say(app, f"accept {offer.id}")).startswith("Added Sam Lee")
    await _sync(app)
    async with app.runtime.sessions() as session:
        logged = (await session.scalars(select(Touchpoint.happened_at).join(
            Contact, Contact.id == Touchpoint.contact_id).where(Contact.name == "Sam Lee")
            .order_by(Touchpoint.happened_at))).all()
    assert list(logged) == [THU_14, FRI_10]


async def test_an_offer_for_a_namesake_or_a_bare_address_says_what_to_do(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await _say(app, "add Sam Lee")  # someone else called Sam Lee, without an email
    pat = FakeAttendee("pat@initech.com")  # the calendar shows no name
    calendar.add(start=THU_14, attendees=[SAM, pat])
    calendar.add(start=FRI_10, attendees=[SAM, pat])
    await app.sync.run_once()
    assert await _evaluate(app) == 1 and await _evaluate(app) == 1
    offers = {offer.attendee_email: offer for offer in await _suggestions(app)}
    offer, pat_offer = offers["sam.lee@globex.com"], offers["pat@initech.com"]
    refused = await app.runtime.rapport.handle_text(ALEX, f"accept {offer.id}")
    assert not refused.ok and refused.text == (
        "You already keep in touch with Sam Lee. If that's who you met, “set Sam Lee email "
        f"sam.lee@globex.com” links them (then the calendar logs your meetings); if it's "
        f"someone else, “silence {offer.id}”.")
    assert pat_offer.text == "You met pat@initech.com twice this month. Add to your people?"
    added = await _say(app, f"accept {pat_offer.id}")
    assert "The calendar shows no name for them: “rename pat@initech.com to …” gives them " \
        "one." in added
    assert (await _say(app, "rename pat@initech.com to Pat Kim")).startswith("Renamed")


async def test_add_synced_then_undone_then_added_again_logs_the_meetings_again(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    _, offer = await _sam_offered(app, "google")
    assert (await _say(app, f"accept {offer.id}")).startswith("Added Sam Lee")
    await _sync(app)  # the sync hands Sam's meetings over and logs them
    assert await _sams_meetings(app) == [THU_14, FRI_10]
    assert await _met(app) == []
    await _say(app, "undo")
    assert await _sams_meetings(app) == []
    # Sam is someone met again, with the meetings held.
    assert await _met(app) == [("sam.lee@globex.com", "Sam Lee")] * 2
    assert await _offers(app) == [OFFER]
    assert (await _say(app, f"accept {offer.id}")).startswith("Added Sam Lee")
    await _sync(app)
    assert await _sams_meetings(app) == [THU_14, FRI_10]
    assert await _met(app) == []


async def test_undo_of_set_email_gives_the_meetings_back_to_someone_met(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await _dana_at_globex(app)
    await _say(app, "add Sam Lee")  # known by name only, so the calendar holds Sam as met
    calendar.add(start=THU_14, attendees=[SAM])
    calendar.add(start=FRI_10, attendees=[SAM])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    assert await _offers(app) == [OFFER]

    await _say(app, "set Sam Lee email sam.lee@globex.com")
    await _sync(app)  # the sync hands the meetings with that address over and logs them
    assert await _sams_meetings(app) == [THU_14, FRI_10]
    assert await _met(app) == []
    assert await _say(app, "undo") == "Undone: set Sam Lee's email to sam.lee@globex.com."
    # As before the change: the meetings are held with the address again, nothing is logged
    # with Sam (whose clock goes back), and the offer still stands.
    assert await _sams_meetings(app) == []
    assert await _met(app) == [("sam.lee@globex.com", "Sam Lee")] * 2
    assert await _last_touch(app, "Sam Lee") is None
    assert await _offers(app) == [OFFER]
    await _sync(app)
    assert await _sams_meetings(app) == [] and len(await _met(app)) == 2
    # Setting it again logs each meeting once.
    await _say(app, "set Sam Lee email sam.lee@globex.com")
    await _sync(app)
    await _sync(app)
    assert await _sams_meetings(app) == [THU_14, FRI_10]
    await _say(app, "undo")

    # Another address: only its meetings are Sam's; undoing a second address leaves what
    # the first one logged.
    calendar.add(start=WED_11, attendees=["sam@lee.family"])
    await _say(app, "set Sam Lee email sam@lee.family")
    await _sync(app)
    assert await _sams_meetings(app) == [WED_11]
    assert await _met(app) == [("sam.lee@globex.com", "Sam Lee")] * 2
    await _say(app, "set Sam Lee email sam.lee@globex.com")
    await _sync(app)
    assert await _sams_meetings(app) == [WED_11, THU_14, FRI_10]
    assert await _say(app, "undo") == "Undone: set Sam Lee's email to sam.lee@globex.com."
    assert await _sams_meetings(app) == [WED_11]
    assert await _met(app) == [("sam.lee@globex.com", "Sam Lee")] * 2
    assert await _last_touch(app, "Sam Lee") == WED_11


async def test_undo_of_set_email_to_another_contacts_address_holds_nobody_as_met(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    pat = await app.add_contact("alex", "Pat Kim", None)
    await _say(app, "add Sam Lee")
    await _say(app, "set Sam Lee email pat@initech.com")  # a shared team address
    # Pat's too, as two contacts could share one before `set` refused a second holder.
    async with app.runtime.sessions() as session, session.begin():
        await session.execute(update(Contact).where(Contact.id == pat)
                              .values(email="pat@initech.com"))
    calendar.add(start=THU_14, attendees=["pat@initech.com"])
    await _sync(app)
    assert await _sams_meetings(app) == [THU_14]
    await _say(app, "undo")
    assert await _sams_meetings(app) == []
    assert await _last_touch(app, "Pat Kim") == THU_14
    assert await _met(app) == []  # still Pat's address: the calendar logs it with Pat
    await _sync(app)
    assert await _sams_meetings(app) == [] and await _met(app) == []
    async with app.runtime.sessions() as session:
        assert (await session.scalars(select(Touchpoint.contact_id))).all() == [pat]


async def test_disconnecting_one_of_two_calendars_keeps_offers_the_other_still_holds(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    google = await connected(app, "google")
    microsoft = await connected(app, "microsoft")
    await _dana_at_globex(app)
    # Sam is met in both calendars; Pat only in Google.
    google.add(start=THU_14, attendees=[SAM])
    google.add(start=FRI_10, attendees=[SAM])
    microsoft.add(start=FRI_10 + timedelta(hours=3), attendees=[SAM])
    google.add(start=WED_11, attendees=["pat@initech.com"])
    google.add(start=WED_11 + timedelta(days=1), attendees=["pat@initech.com"])
    await app.sync.run_once()
    assert await _evaluate(app) == 1
    assert await _evaluate(app) == 1
    offers = await _offers(app)
    assert len(offers) == 2 and any(text.startswith("You met Sam Lee") for text in offers)

    assert "are forgotten (unless your other calendar has them too);" in await _say(
        app, "disconnect calendar google")
    # Pat's offer came from Google alone; Sam is still met in Microsoft 365.
    assert [s.attendee_email for s in await _suggestions(app)] == ["sam.lee@globex.com"]
    assert "open offers to add them, are forgotten; a “Never”" in await _say(
        app, "disconnect calendar microsoft")
    assert await _suggestions(app) == []
