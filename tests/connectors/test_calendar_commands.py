"""`connect calendar`, `disconnect calendar`, `export` and `forget me` as a person types them,
through the real runtime, web callbacks and the Google/Microsoft fakes."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from rapport.scheduler.messenger import OutgoingMessage
from rapport.storage.models import CalendarConnection
from tests.conftest import console_user
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
LINK = re.compile(r"https?://\S+")


async def _connections(app: CalendarApp) -> int:
    async with app.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(CalendarConnection))
                   or 0)


async def test_connect_gives_a_private_link_that_connects_and_disconnect_removes_it(
        calendar_app: CalendarApp) -> None:
    rapport = calendar_app.runtime.rapport
    which = await rapport.handle_text(ALEX, "connect calendar")
    assert not which.ok and "connect google calendar" in which.text  # two are set up: ask

    reply = await rapport.handle_text(ALEX, "connect google calendar")
    assert reply.ok and "read-only" in reply.text
    [link] = LINK.findall(reply.text)
    status, page = await calendar_app.consent(link, "alex@example.com")
    assert status == 200 and "Connected" in page
    assert await _connections(calendar_app) == 1

    done = await rapport.handle_text(ALEX, "disconnect calendar")
    assert done.ok and "Disconnected your Google calendar" in done.text
    async with calendar_app.runtime.sessions() as session:
        connection = await session.scalar(select(CalendarConnection))
    assert connection is not None and connection.refresh_token_encrypted is None
    # The grant is revoked at the provider: undo says so rather than undo something older.
    undo = await rapport.handle_text(ALEX, "undo")
    assert not undo.ok and undo.text == ("Your last change (disconnected your calendar) can't "
                                         "be undone. Nothing changed.")
    again = await rapport.handle_text(ALEX, "disconnect calendar")
    assert again.text == "No calendar is connected."


async def test_export_lists_the_connection_without_tokens_and_forget_me_revokes_it(
        calendar_app: CalendarApp) -> None:
    rapport = calendar_app.runtime.rapport
    await calendar_app.connect("alex", "google", "alex@example.com")
    exported = await rapport.handle_text(ALEX, "export")
    assert exported.attachment is not None
    data = json.loads(exported.attachment.data)
    [connection] = data["calendar_connections"]
    assert connection["provider"] == "google"
    assert "token" not in json.dumps(connection)

    revoked_before = len(calendar_app.google.revocations)
    assert (await rapport.handle_text(ALEX, "forget me confirm")).ok
    assert len(calendar_app.google.revocations) > revoked_before
    assert await _connections(calendar_app) == 0


async def test_a_refused_grant_is_told_once_by_direct_message(calendar_app: CalendarApp) -> None:
    sent: list[OutgoingMessage] = []

    class Recorder:
        platform = "console"

        async def deliver(self, message: OutgoingMessage) -> object:
            sent.append(message)
            from rapport.scheduler.messenger import DeliveryResult
            return DeliveryResult.sent("recorded")

    calendar_app.runtime.add_messenger(Recorder())  # type: ignore[arg-type]
    _, user_id = await calendar_app.user("alex")
    from rapport.bot.connectors.calendars.sync import PausedConnection

    told = await calendar_app.runtime.tell_calendar_paused(PausedConnection(
        user_id=user_id, workspace_id=1, provider="google", reason="grant_refused"))
    assert told
    [message] = sent
    assert message.recipient.user_id == user_id and "connect google calendar" in message.text
