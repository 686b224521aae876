"""Purging a workspace withdraws what its people granted at the providers first, as `forget
me` does for one person: `admin purge` revokes every calendar grant (and says so before),
and the purge of a workspace uninstalled longer than its grace waits for the calendar job to
revoke them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from rapport.bot.core.calendars import REMOVE_ACCESS
from rapport.scheduler.lifecycle import GRANTS_WAIT, purge_uninstalled
from rapport.storage.models import CalendarConnection, Workspace
from tests.conftest import console_user
from tests.connectors.helpers import connected
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
SAM = console_user("sam", tz="Europe/Berlin")
GRACE = timedelta(days=30)


class ConsoleAdmins:
    """Everyone on the console is its admin (as the console platform answers)."""

    who = "the console's user"

    async def is_admin(self, user_external_id: str) -> bool:
        return True


async def _grants(app: CalendarApp) -> list[str]:
    """The refresh tokens the user's connections hold, as Google issued them."""
    async with app.runtime.sessions() as session:
        sealed = list(await session.scalars(select(
            CalendarConnection.refresh_token_encrypted)))
    return [app.cipher.decrypt(token) for token in sealed if token is not None]


async def _workspaces(app: CalendarApp) -> int:
    async with app.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Workspace)) or 0)


async def test_admin_purge_revokes_every_calendar_grant_first(calendar_app: CalendarApp
                                                              ) -> None:
    app = calendar_app
    rapport = app.runtime.rapport
    await connected(app, "google", "alex@example.com")
    await connected(app, "google", "sam@example.com", user="sam")
    await connected(app, "microsoft", "sam@example.com", user="sam")
    tokens = await _grants(app)
    google = [token for token in tokens if token in app.google.oauth.refresh_tokens]
    assert len(google) == 2

    preview = await rapport.handle_text(ALEX, "admin purge", admins=ConsoleAdmins())
    # Microsoft's access is not withdrawn (it gives no way to): said as `forget me` says it.
    assert ("Before that, Rapport disconnects the 3 calendars connected here and withdraws "
            f"its access where it can. {REMOVE_ACCESS['microsoft']} It cannot be undone."
            ) in preview.text
    assert app.google.revocations == []
    done = await rapport.handle_text(ALEX, "admin purge confirm", admins=ConsoleAdmins())

    assert done.ok and "Deleted everything" in done.text
    assert sorted(app.google.revocations) == sorted(google)
    assert await _workspaces(app) == 0


async def test_admin_purge_does_not_promise_to_withdraw_microsoft_access(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    await connected(app, "microsoft", "sam@example.com", user="sam")
    preview = (await app.runtime.rapport.handle_text(ALEX, "admin purge",
                                                     admins=ConsoleAdmins())).text
    assert ("Before that, Rapport disconnects the calendar connected here and deletes its "
            f"tokens. {REMOVE_ACCESS['microsoft']} It cannot be undone.") in preview
    assert "withdraws its access" not in preview.replace(REMOVE_ACCESS["microsoft"], "")

    await connected(app, "google", "alex@example.com")
    preview = (await app.runtime.rapport.handle_text(ALEX, "admin purge",
                                                     admins=ConsoleAdmins())).text
    assert ("disconnects the 2 calendars connected here and withdraws its access where it "
            f"can. {REMOVE_ACCESS['microsoft']} It cannot") in preview


async def test_admin_purge_of_google_calendars_alone_withdraws_their_access(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    await connected(app, "google", "alex@example.com")
    preview = (await app.runtime.rapport.handle_text(ALEX, "admin purge",
                                                     admins=ConsoleAdmins())).text
    assert ("Before that, Rapport disconnects the calendar connected here and withdraws its "
            "access. It cannot be undone.") in preview


async def test_the_purge_after_an_uninstall_waits_for_the_calendar_job_to_revoke(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    await connected(app, "google", "alex@example.com")
    [token] = await _grants(app)
    async with app.runtime.sessions() as session, session.begin():
        await session.execute(update(Workspace).values(
            active=False, uninstalled_at=app.clock.now - GRACE - timedelta(minutes=1)))

    # The housekeeping job, which does not see the connectors: the grant is still live.
    assert await purge_uninstalled(app.runtime.sessions, app.clock.now, GRACE) == []
    assert await _workspaces(app) == 1
    # The calendar job (every few minutes) revokes it; the next purge goes ahead.
    assert app.runtime.calendars is not None
    await app.runtime.calendars.job()()
    assert app.google.revocations == [token]
    assert await _grants(app) == []
    assert len(await purge_uninstalled(app.runtime.sessions, app.clock.now, GRACE)) == 1
    assert await _workspaces(app) == 0


async def test_a_workspace_within_its_grace_keeps_its_calendars(calendar_app: CalendarApp
                                                                ) -> None:
    app = calendar_app
    await connected(app, "google", "alex@example.com")
    async with app.runtime.sessions() as session, session.begin():
        await session.execute(update(Workspace).values(
            active=False, uninstalled_at=app.clock.now - GRACE + timedelta(hours=1)))
    assert app.runtime.calendars is not None
    await app.runtime.calendars.job()()
    assert app.google.revocations == [] and len(await _grants(app)) == 1


async def test_the_purge_does_not_wait_for_ever_for_a_calendar_job_that_never_runs(
        calendar_app: CalendarApp) -> None:
    """Calendars switched off on every replica since: after a day the workspace is purged
    with the grants no one could revoke (what Microsoft's are anyway)."""
    app = calendar_app
    await connected(app, "google", "alex@example.com")
    async with app.runtime.sessions() as session, session.begin():
        await session.execute(update(Workspace).values(
            active=False, uninstalled_at=app.clock.now - GRACE - GRANTS_WAIT))
    assert len(await purge_uninstalled(app.runtime.sessions, app.clock.now, GRACE)) == 1
    assert app.google.revocations == []
