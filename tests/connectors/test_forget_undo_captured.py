"""`undo` of `forget Dana` brings back everything the forget deleted, the calendar's and Slack
DM capture's rows about her included: her meetings follow the calendar again (a cancellation
takes its touchpoint back, a meeting still to come is briefed, listed and logged once it has
happened), and a day of DMs already logged is not logged a second time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from rapport.bot.connectors.chats.capture import ChatOwner, log_chat_day
from rapport.scheduler import suggestions as rules
from rapport.storage.models import (
    SLACK_DM_SOURCE,
    CapturedChat,
    Contact,
    ForgottenAddress,
    MetPerson,
    Suggestion,
)
from tests.conftest import console_user
from tests.connectors.helpers import captured, connected, said, touch_summary
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _sync(app: CalendarApp, **delta: float) -> None:
    app.clock.advance(**(delta or {"minutes": 5, "seconds": 1}))
    report = await app.sync.run_once()
    assert report.failed == 0, report


async def test_undo_of_forget_gives_her_meetings_back_to_the_calendar(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    thursday = calendar.add(start=THU_14, attendees=["dana@acme.com"])
    calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    soon = calendar.add(start=app.clock.now + timedelta(hours=3), attendees=["dana@acme.com"])
    await app.sync.run_once()
    held = await captured(app)
    assert len(held) == 3

    await _say(app, "forget Dana confirm")
    assert await captured(app) == []
    await _sync(app)  # the calendar meanwhile: nothing of hers is captured
    assert "Undone: forgot Dana Scully" in await _say(app, "undo")

    assert await captured(app) == held
    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]
    assert "Dana Scully" in await _say(app, "meetings")
    # Followed again: a cancellation takes its touchpoint back ...
    calendar.cancel(thursday.id)
    await _sync(app)
    assert await touch_summary(app) == [(dana, FRI_10)]
    # ... and the meeting still to come is logged once it has happened.
    await _sync(app, hours=4)
    assert await touch_summary(app) == [(dana, FRI_10), (dana, soon.start)]


async def test_undo_of_forget_is_whole_when_her_meeting_was_cancelled_meanwhile(
        calendar_app: CalendarApp) -> None:
    """A meeting cancelled while she was forgotten is gone from the calendar: undo brings back
    the rest (her, her other meetings), not that one's link, nor the conversation the
    calendar logged for it, which the cancellation would have taken back."""
    app = calendar_app
    calendar = await connected(app, "google")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    thursday = calendar.add(start=THU_14, attendees=["dana@acme.com", "lee@acme.com"])
    calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    await app.add_contact("alex", "Lee Park", "lee@acme.com")
    await app.sync.run_once()

    await _say(app, "forget Dana confirm")
    calendar.cancel(thursday.id)
    await _sync(app)
    assert "Undone: forgot Dana Scully" in await _say(app, "undo")

    assert [(start, contact) for _, start, contact, _ in await captured(app)] == [
        (FRI_10, dana)]
    assert [row for row in await touch_summary(app) if row[0] == dana] == [(dana, FRI_10)]


async def test_undo_of_forget_brings_back_her_address_held_as_someone_met_and_her_offers(
        calendar_app: CalendarApp) -> None:
    """Her meetings held by address (an email set since the last sync) and an offer naming
    her address go with the forget, and come back with the undo."""
    app = calendar_app
    calendar = await connected(app, "google")
    calendar.add(start=THU_14, attendees=["dana@acme.com"])
    calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    await app.sync.run_once()
    app.clock.advance(days=1)
    assert await rules.make_suggestions(app.runtime.rapport.db, app.clock.now) == 1
    async with app.runtime.sessions() as session:
        offer = (await session.scalars(select(Suggestion.id))).one()
    await _say(app, f"keep {offer}")  # Not now
    await _say(app, "add Dana Scully")
    await _say(app, "set Dana email dana@acme.com")

    async def held() -> tuple[list[str], list[str | None]]:
        async with app.runtime.sessions() as session:
            return (list(await session.scalars(select(MetPerson.email))),
                    list(await session.scalars(select(Suggestion.attendee_email))))

    before = await held()
    assert before == (["dana@acme.com"], ["dana@acme.com"])
    await _say(app, "forget Dana confirm")
    assert await held() == ([], [])
    await _say(app, "undo")

    assert await held() == before
    async with app.runtime.sessions() as session:
        assert list(await session.scalars(select(ForgottenAddress.id))) == []
    # The next sync hands her meetings held by address to her, as it would have.
    await _sync(app)
    [dana] = await _contacts(app)
    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]


async def _contacts(app: CalendarApp) -> list[int]:
    async with app.runtime.sessions() as session:
        return list(await session.scalars(select(Contact.id)))


async def test_undo_of_forget_gives_back_a_day_of_dms_already_logged(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    rapport = app.runtime.rapport
    dana = await app.add_contact("alex", "Dana Scully", None)
    async with app.runtime.sessions() as session, session.begin():
        await session.execute(update(Contact).where(Contact.id == dana)
                              .values(platform_user_id="U0DANA"))
    workspace_id, user_id = await app.user("alex")
    owner = ChatOwner(workspace_id=workspace_id, user_id=user_id, tz="Europe/Berlin")

    async def message(minutes: int) -> int:
        return await rapport.db.run(lambda session: log_chat_day(
            session, owner, counterpart_external_id="U0DANA",
            at=app.clock.now + timedelta(minutes=minutes), source=SLACK_DM_SOURCE,
            provider="slack", now=app.clock.now))

    assert await message(0) == 1
    await _say(app, "forget Dana confirm")
    await _say(app, "undo")

    async with app.runtime.sessions() as session:
        days = list(await session.scalars(select(CapturedChat.contact_id)))
    assert days == [dana]
    # Another DM the same day: the day is logged already, once.
    assert await message(30) == 0
    assert len(await touch_summary(app)) == 1



async def test_undo_of_forget_links_her_meetings_to_her_conversations_under_new_ids(
        calendar_app: CalendarApp) -> None:
    """A conversation the calendar logged while she was forgotten may take the id one of
    hers had (SQLite hands the highest id out again): hers comes back under a new id, and her
    meeting follows it, not the other one."""
    app = calendar_app
    calendar = await connected(app, "google")
    lee = await app.add_contact("alex", "Lee Park", "lee@acme.com")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    thursday = calendar.add(start=THU_14, attendees=["dana@acme.com"])
    await app.sync.run_once()

    await _say(app, "forget Dana confirm")
    calendar.add(start=FRI_10, attendees=["lee@acme.com"])
    await _sync(app)
    [(_, _, _, lees)] = await captured(app)
    await _say(app, "undo")

    held = {contact: touchpoint for _, _, contact, touchpoint in await captured(app)}
    assert held[lee] == lees and held[dana] not in (None, lees)
    calendar.cancel(thursday.id)
    await _sync(app)
    assert await touch_summary(app) == [(lee, FRI_10)]
