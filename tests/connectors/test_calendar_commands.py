"""`connect calendar`, `disconnect calendar`, `export` and `forget me` as a person types them,
through the real runtime, web callbacks and the Google/Microsoft fakes."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select, update

from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
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
    assert done.ok and done.text == (
        "Disconnected your Google calendar: Rapport no longer reads it, and its tokens are "
        "deleted.\nMeetings already logged stay as conversations (“show <name>” lists them, "
        "“delete t7” removes one). People you met who aren't among your people, and open "
        "offers to add them, are forgotten; a “Never” you gave still holds.")
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


class Recorder:
    """A console messenger that records what it is asked to deliver."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.sent.append(message)
        return DeliveryResult.sent("recorded")


async def test_a_refused_grant_is_told_once_by_direct_message(calendar_app: CalendarApp) -> None:
    recorder = Recorder()
    sent = recorder.sent
    calendar_app.runtime.add_messenger(recorder)  # type: ignore[arg-type]
    _, user_id = await calendar_app.user("alex")
    from rapport.bot.connectors.calendars.sync import PausedConnection

    told = await calendar_app.runtime.tell_calendar_paused(PausedConnection(
        user_id=user_id, workspace_id=1, provider="google", reason="grant_refused"))
    assert told
    [message] = sent
    assert message.recipient.user_id == user_id and "connect google calendar" in message.text


async def test_connecting_again_says_so_and_settings_show_each_calendar(
        calendar_app: CalendarApp) -> None:
    rapport = calendar_app.runtime.rapport
    settings = await rapport.handle_text(ALEX, "settings")
    assert "• Calendars: none connected (“connect calendar”)" in settings.text
    await calendar_app.connect("alex", "google", "alex@example.com")
    assert "• Calendars: Google (connected)" in (await rapport.handle_text(ALEX, "settings")).text
    again = await rapport.handle_text(ALEX, "connect google calendar")
    assert again.ok and again.text.startswith(
        "Your Google calendar is connected already; this link replaces its grant (with the "
        "same or another account), and no meeting is logged twice. Open this private link")
    first = await rapport.handle_text(ALEX, "connect microsoft calendar")
    assert first.text.startswith("Open this private link to connect your Microsoft 365")
    # A calendar that stopped answering is named, with what to type.
    async with calendar_app.runtime.sessions() as session, session.begin():
        await session.execute(update(CalendarConnection).values(status="paused"))
    assert ("• Calendars: Google (stopped: it no longer lets Rapport read; type “connect "
            "google calendar” again)") in (await rapport.handle_text(ALEX, "settings")).text
    assert (await rapport.handle_text(ALEX, "connect google calendar")).text.startswith(
        "Your Google calendar stopped letting Rapport read it; this link connects it again.")
    # Disconnecting it does not ask the person to withdraw an access that is gone already.
    async with calendar_app.runtime.sessions() as session, session.begin():
        await session.execute(update(CalendarConnection).values(
            refresh_token_encrypted=None, access_token_encrypted=None))
    done = await rapport.handle_text(ALEX, "disconnect google calendar")
    assert done.text.startswith("Disconnected your Google calendar (it had stopped letting "
                                "Rapport read it already).\nMeetings already logged stay")


async def test_disconnecting_microsoft_says_where_to_remove_the_consent(
        calendar_app: CalendarApp) -> None:
    rapport = calendar_app.runtime.rapport
    await calendar_app.connect("alex", "microsoft", "alex@example.com")
    nothing = await rapport.handle_text(ALEX, "disconnect google calendar")
    assert nothing.text == "Your Google calendar is not connected."
    done = await rapport.handle_text(ALEX, "disconnect outlook")
    assert done.ok and done.text.startswith(
        "Disconnected your Microsoft 365 calendar: Rapport no longer reads it, and its tokens "
        "are deleted. Microsoft gives Rapport no way to withdraw its access: remove Rapport at "
        "https://myapps.microsoft.com (work or school account) or "
        "https://account.live.com/consent/Manage (personal account).\n")


async def test_connect_and_disconnect_read_the_way_people_type_them(
        calendar_app: CalendarApp) -> None:
    rapport = calendar_app.runtime.rapport
    google = await rapport.handle_text(ALEX, "connect google")
    assert google.ok and "connect your Google calendar" in google.text
    what = await rapport.handle_text(ALEX, "disconnect")
    assert not what.ok and what.text.startswith(
        "Disconnect what? For example “disconnect calendar” or “disconnect google calendar”.")
    slack = await rapport.handle_text(ALEX, "connect slack")
    assert not slack.ok and slack.text.startswith(
        "Slack DMs are logged with “settings capture slack on”")


async def test_forget_me_says_the_calendar_is_disconnected_first(
        calendar_app: CalendarApp) -> None:
    rapport = calendar_app.runtime.rapport
    assert "calendar" not in (await rapport.handle_text(ALEX, "forget me")).text
    await calendar_app.connect("alex", "google", "alex@example.com")
    warning = await rapport.handle_text(ALEX, "forget me")
    assert ("people, notes, conversations, nudges and drafts. Before that, Rapport "
            "disconnects your Google calendar and withdraws its access. It cannot be undone."
            ) in warning.text


async def test_forget_me_says_where_microsoft_access_is_removed_as_disconnect_does(
        calendar_app: CalendarApp) -> None:
    """Rapport cannot withdraw its access at Microsoft: `forget me` says so in the words
    `disconnect calendar` uses, rather than promising it withdraws it."""
    rapport = calendar_app.runtime.rapport
    remove = ("Microsoft gives Rapport no way to withdraw its access: remove Rapport at "
              "https://myapps.microsoft.com (work or school account) or "
              "https://account.live.com/consent/Manage (personal account).")
    await calendar_app.connect("alex", "microsoft", "alex@contoso.com")
    warning = (await rapport.handle_text(ALEX, "forget me")).text
    assert ("drafts. Before that, Rapport disconnects your Microsoft 365 calendar and deletes "
            f"its tokens. {remove} It cannot be undone.") in warning
    assert "withdraws its access." not in warning

    await calendar_app.connect("alex", "google", "alex@example.com")
    warning = (await rapport.handle_text(ALEX, "forget me")).text
    assert ("drafts. Before that, Rapport disconnects your Google calendar and your Microsoft "
            f"365 calendar and withdraws its access where it can. {remove} It cannot be "
            "undone.") in warning
    # The same sentence `disconnect calendar` gives for Microsoft.
    done = (await rapport.handle_text(ALEX, "disconnect microsoft calendar")).text
    assert remove in done


async def test_undo_sets_the_meeting_brief_lead_back(calendar_app: CalendarApp) -> None:
    """`settings prep` then `undo` answered "I can't reach my database" and undid nothing."""
    rapport = calendar_app.runtime.rapport
    assert (await rapport.handle_text(ALEX, "settings prep 1h")).ok
    assert (await rapport.handle_text(ALEX, "undo")).text == \
        "Undone: changed settings (meeting briefs)."
    assert "Briefs before meetings (connected calendars): 30 min before" in \
        (await rapport.handle_text(ALEX, "settings")).text


async def test_a_consent_is_confirmed_in_the_chat_too(calendar_app: CalendarApp) -> None:
    """The person comes back to the chat, not to the browser tab: it says what happens next."""
    recorder = Recorder()
    calendar_app.runtime.add_messenger(recorder)  # type: ignore[arg-type]
    _, user_id = await calendar_app.user("alex")
    await calendar_app.connect("alex", "microsoft", "alex@example.com")
    [message] = recorder.sent
    assert message.recipient.user_id == user_id
    assert message.text == (
        "Your Microsoft 365 calendar is connected. Within a few minutes Rapport reads the last "
        "30 days and logs the meetings you attended with your people (who and when, never "
        "what was said); “show <name>” marks them “logged from your calendar”. “disconnect "
        "calendar” stops it.")
    # A refused consent sends nothing.
    calendar_app.google.oauth.consent = "deny"
    status, _ = await calendar_app.connect("alex", "google", "alex@example.com")
    assert status == 400 and len(recorder.sent) == 1


async def test_settings_name_the_account_connected_and_the_link_says_keep_it_private(
        calendar_app: CalendarApp) -> None:
    """A consent link connects the calendar of whoever opens it: the answer says so, and once
    the first sync has learnt the account, `settings` names it, so a wrong one shows."""
    rapport = calendar_app.runtime.rapport
    reply = await rapport.handle_text(ALEX, "connect google calendar")
    assert ("(read-only; it works once, for 10 minutes, and connects the calendar of whoever "
            "opens it to your Rapport, so keep it to yourself)") in reply.text
    [link] = LINK.findall(reply.text)
    await calendar_app.consent(link, "sam@example.com")  # forwarded, opened by Sam
    calendar_app.google.calendar("sam@example.com").add(
        start=calendar_app.clock.now - timedelta(days=1), attendees=["lee@acme.com"])
    await calendar_app.sync.run_once()
    settings = await rapport.handle_text(ALEX, "settings")
    assert "• Calendars: Google (connected as sam@example.com)" in settings.text
