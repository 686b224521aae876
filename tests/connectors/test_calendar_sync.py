"""The calendar sync against the Google and Microsoft fakes, through the real runtime: what
is logged, when, once, and how it follows the calendar (moves, cancellations, resyncs)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from rapport.bot.connectors.calendars.briefs import briefs_due, upcoming_meetings
from rapport.bot.connectors.calendars.sync import RESYNC_DAYS, PausedConnection
from rapport.storage.models import CapturedEvent, MetPerson
from tests.conftest import console_user, snapshot
from tests.connectors.helpers import (
    RecordingSleep,
    captured,
    connected,
    connection,
    last_touch,
    touch_summary,
    touchpoints,
)
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.calendar_store import FakeAttendee

PROVIDERS = ["google", "microsoft"]
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
TUE_15 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def _requests(app: CalendarApp, provider: str) -> list[dict[str, str]]:
    if provider == "google":
        return [r.query for r in app.google.events_requests()]
    return [r.query for r in app.microsoft.graph_requests]


async def _next_run(app: CalendarApp, **delta: float):  # type: ignore[no-untyped-def]
    app.clock.advance(**({"minutes": 5, "seconds": 1} if not delta else delta))
    return await app.sync.run_once()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_ended_meetings_the_user_attended_are_logged_once_per_contact(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "Dana.Scully@Acme.com")
    lee = await app.add_contact("alex", "Lee Park", "lee@acme.com")
    await app.add_contact("alex", "Sam Lee", None)
    calendar.add(start=THU_14, attendees=["dana.scully@acme.com", "stranger@else.com"],
                 organizer="dana.scully@acme.com")
    calendar.add(start=TUE_15, attendees=["dana.scully@acme.com", "lee@acme.com"])
    calendar.add(start=FRI_10, attendees=["stranger@else.com"])
    calendar.add(start=FRI_10, attendees=["lee@acme.com"], organizer="lee@acme.com",
                 owner_response="declined")
    calendar.cancel(calendar.add(start=FRI_10, attendees=["lee@acme.com"],
                                 organizer="lee@acme.com").id)
    calendar.add(start=FRI_10 + timedelta(hours=2),
                 attendees=[FakeAttendee("lee@acme.com", response="declined")])
    calendar.add(start=datetime(2026, 11, 18, tzinfo=UTC), minutes=24 * 60, all_day=True,
                 attendees=["lee@acme.com"])
    calendar.add(start=FRI_10 - timedelta(days=40), attendees=["lee@acme.com"])  # too old

    report = await app.sync.run_once()

    assert (report.synced, report.full_syncs, report.failed) == (1, 1, 0)
    assert await touch_summary(app) == [(dana, THU_14)]
    [touch] = await touchpoints(app)
    assert (touch.kind, touch.source, touch.summary) == ("meeting", "calendar", None)
    assert await last_touch(app, dana) == THU_14
    # Seen again (incremental sync, nothing changed) or re-run: still once.
    assert (await app.sync.run_once()).claimed == 0  # not due yet
    again = await _next_run(app)
    assert again.synced == 1 and again.full_syncs == 0
    assert await touch_summary(app) == [(dana, THU_14)]
    # Tuesday's meeting is stored ahead, for a brief, with both contacts.
    _, user_id = await app.user("alex")
    async with app.runtime.sessions() as session:
        upcoming = await upcoming_meetings(session, start=app.clock.now,
                                           end=app.clock.now + timedelta(days=7),
                                           user_id=user_id)
    [meeting] = upcoming
    assert (meeting.start_at, set(meeting.contact_ids), meeting.provider) == \
        (TUE_15, {dana, lee}, provider)
    assert briefs_due(upcoming, TUE_15 - timedelta(minutes=31)) == []
    assert briefs_due(upcoming, TUE_15 - timedelta(minutes=30)) == [meeting]
    # Once it has ended it is logged, with no change at the provider.
    app.clock.set(TUE_15 + timedelta(minutes=31))
    report = await app.sync.run_once()
    assert report.logged == 2
    assert await touch_summary(app) == [(dana, THU_14), (dana, TUE_15), (lee, TUE_15)]


@pytest.mark.parametrize("pages", [1, 3])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_first_sync_stores_the_owners_address_in_one_page_or_several(
        calendar_app: CalendarApp, provider: str, pages: int) -> None:
    """A page marks the owner's address: a round of one page stores it with the round's
    outcome, a longer round with the page that marked it; stored either way, and never held
    as someone met."""
    app = calendar_app
    calendar = await connected(app, provider)
    if pages > 1:
        (app.google if provider == "google" else app.microsoft).page_limit = 2
    for hour in range(2 * pages - 1):
        calendar.add(start=THU_14 + timedelta(hours=hour), attendees=["pat@initech.com"],
                     organizer="pat@initech.com" if hour % 2 else "alex@example.com")
    assert (await connection(app, provider)).account_email is None

    report = await app.sync.run_once()

    assert (report.synced, report.pages, report.failed) == (1, pages, 0)
    assert (await connection(app, provider)).account_email == "alex@example.com"
    _, user_id = await app.user("alex")
    async with app.runtime.sessions() as session:
        held = set(await session.scalars(select(MetPerson.email)
                                         .where(MetPerson.user_id == user_id)))
    assert held == {"pat@initech.com"}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_someone_met_who_becomes_a_contact_has_their_meetings_logged_next_round(
        calendar_app: CalendarApp, provider: str) -> None:
    """The next round logs the meetings held with someone met who has become a contact
    since: with nothing new at the provider, and with a page of changes that do not name
    them (the round asks about the people held when it began; a first sync, which held
    nobody, asks nothing)."""
    app = calendar_app
    calendar = await connected(app, provider)
    for start in (THU_14, FRI_10):
        calendar.add(start=start, attendees=["sam.lee@globex.com", "kim@initech.com"])
    await app.sync.run_once()
    assert await touch_summary(app) == []
    sam = await app.add_contact("alex", "Sam Lee", "Sam.Lee@Globex.com")
    await _next_run(app)
    assert await touch_summary(app) == [(sam, THU_14), (sam, FRI_10)]

    kim = await app.add_contact("alex", "Kim Ito", "kim@initech.com")
    calendar.add(start=FRI_10 + timedelta(hours=1), attendees=["pat@initech.com"])
    report = await _next_run(app)

    assert (report.synced, report.full_syncs, report.events, report.logged) == (1, 0, 1, 2)
    assert sorted(await touch_summary(app)) == sorted(
        [(sam, THU_14), (sam, FRI_10), (kim, THU_14), (kim, FRI_10)])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_incremental_sync_across_pages(calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    fake = app.google if provider == "google" else app.microsoft
    fake.page_limit = 2
    starts = [THU_14 + timedelta(hours=hour) for hour in range(5)]
    for start in starts:
        calendar.add(start=start, attendees=["dana@acme.com"])

    report = await app.sync.run_once()

    assert report.pages == 3 and report.logged == 5
    first, second, third = _requests(app, provider)
    if provider == "google":
        assert "timeMin" in first and "syncToken" not in first
        assert first["singleEvents"] == "true"
        assert "pageToken" in second and "pageToken" in third
    else:
        assert {"startDateTime", "endDateTime"} <= set(first)
        assert "$skiptoken" in second and "$skiptoken" in third
        prefer = app.microsoft.graph_requests[0].prefer or ""
        assert "odata.maxpagesize=100" in prefer and 'outlook.timezone="UTC"' in prefer
    later = THU_14 + timedelta(days=1)
    calendar.add(start=later, attendees=["dana@acme.com"])
    report = await _next_run(app)
    incremental = _requests(app, provider)[3]
    if provider == "google":
        assert set(incremental) == {"singleEvents", "maxResults", "syncToken"}
    else:
        assert set(incremental) == {"$deltatoken"}
    assert report.logged == 1 and report.full_syncs == 0
    assert await touch_summary(app) == [(dana, start) for start in [*starts, later]]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_expired_cursor_means_a_bounded_full_resync(calendar_app: CalendarApp,
                                                          provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    gone = calendar.add(start=THU_14, attendees=["dana@acme.com"])
    calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    await app.sync.run_once()
    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]
    # While our cursor is dead, one meeting is deleted and another added.
    calendar.expire_cursors()
    calendar.delete(gone.id)
    added = calendar.add(start=FRI_10 + timedelta(hours=3), attendees=["dana@acme.com"])

    report = await _next_run(app)

    assert (report.resyncs, report.full_syncs, report.synced) == (1, 1, 1)
    assert await touch_summary(app) == [(dana, FRI_10), (dana, added.start)]
    requests = _requests(app, provider)
    fake_statuses = [r.status for r in (app.google.events_requests() if provider == "google"
                                        else app.microsoft.graph_requests)]
    assert fake_statuses[-2:] == [410, 200]
    resync = requests[-1]
    bound = (app.clock.now - timedelta(days=RESYNC_DAYS)).isoformat().replace("+00:00", "Z")
    assert resync["timeMin" if provider == "google" else "startDateTime"] == bound
    assert await last_touch(app, dana) == added.start


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_each_recurring_instance_counts_and_follows_its_changes(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    first = datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN)
    weekly = calendar.add(start=first, weekly_count=5, attendees=["dana@acme.com"],
                          time_zone="Europe/Berlin")
    weeks = [first + timedelta(weeks=n) for n in range(5)]  # the last is next Monday

    await app.sync.run_once()
    assert await touch_summary(app) == [(dana, w.astimezone(UTC)) for w in weeks[:4]]
    if provider == "microsoft":
        ids = {row.event_id for row in await captured(app)}
        assert len(ids) == 5  # one captured row per occurrence
    # One instance cancelled, one moved a day later.
    calendar.cancel(weekly.id, instance=weeks[1])
    moved_to = weeks[2] + timedelta(days=1)
    calendar.move(weekly.id, moved_to, instance=weeks[2])
    report = await _next_run(app)
    assert report.removed == 1 and report.moved == 1
    assert await touch_summary(app) == [(dana, weeks[0].astimezone(UTC)),
                                        (dana, moved_to.astimezone(UTC)),
                                        (dana, weeks[3].astimezone(UTC))]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_moved_and_cancelled_after_logging_are_corrected(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    lee = await app.add_contact("alex", "Lee Park", "lee@acme.com")
    with_dana = calendar.add(start=THU_14, attendees=["dana@acme.com"])
    with_lee = calendar.add(start=FRI_10, attendees=["lee@acme.com"])
    await app.sync.run_once()
    assert await touch_summary(app) == [(dana, THU_14), (lee, FRI_10)]

    earlier = THU_14 - timedelta(days=1)
    calendar.move(with_dana.id, earlier)
    tomorrow = TUE_15 - timedelta(hours=3)
    calendar.move(with_lee.id, tomorrow)  # postponed: it has not happened after all
    report = await _next_run(app)
    assert (report.moved, report.removed) == (1, 1)
    assert await touch_summary(app) == [(dana, earlier)]
    assert await last_touch(app, dana) == earlier and await last_touch(app, lee) is None

    calendar.cancel(with_dana.id)
    await _next_run(app)
    assert await touch_summary(app) == []
    assert await last_touch(app, dana) is None
    # The postponed meeting is logged once it has happened at its new time.
    app.clock.set(tomorrow + timedelta(minutes=31))
    await app.sync.run_once()
    assert await touch_summary(app) == [(lee, tomorrow)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_time_zones_and_a_typed_touchpoint_of_that_day(
        calendar_app: CalendarApp, provider: str) -> None:
    """A Friday-afternoon meeting in Los Angeles is Saturday night in Berlin, where the user
    lives: it is logged at its real instant, and a touchpoint the user typed on that Berlin
    day keeps the calendar from adding a second one."""
    app = calendar_app
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    lee = await app.add_contact("alex", "Lee Park", "lee@acme.com")
    friday_la = datetime(2026, 11, 20, 16, 30, tzinfo=LOS_ANGELES)  # Sat 01:30 in Berlin
    thursday_la = datetime(2026, 11, 19, 16, 30, tzinfo=LOS_ANGELES)  # Fri 01:30 in Berlin
    calendar.add(start=friday_la, attendees=["dana@acme.com"], time_zone="America/Los_Angeles")
    calendar.add(start=thursday_la, attendees=["lee@acme.com"],
                 time_zone="America/Los_Angeles")
    alex = console_user("alex", tz="Europe/Berlin")
    assert (await app.runtime.rapport.handle_text(alex, "log Dana 2026-11-21: coffee")).ok
    assert (await app.runtime.rapport.handle_text(alex, "log Lee 2026-11-19: call")).ok

    await app.sync.run_once()

    automatic = [(t.contact_id, t.happened_at) for t in await touchpoints(app)
                 if t.source == "calendar"]
    assert automatic == [(lee, datetime(2026, 11, 20, 0, 30, tzinfo=UTC))]
    if provider == "google":
        [first, *_] = app.google.events_requests()
        assert first.status == 200  # and the fake rendered "...-08:00" with the LA zone
    typed = {t.contact_id: t.kind for t in await touchpoints(app) if t.source != "calendar"}
    assert typed == {dana: "coffee", lee: "call"}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_tokens_are_refreshed_and_stored_encrypted(calendar_app: CalendarApp,
                                                         provider: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    fake = app.google if provider == "google" else app.microsoft
    before = await connection(app, provider)
    old_refresh = app.cipher.decrypt(before.refresh_token_encrypted or "")
    # What the sync decrypts: the refresh token, the long-lived secret, only to refresh.
    opened: list[str] = []
    decrypt = app.cipher.decrypt

    def recording_decrypt(ciphertext: str) -> str:
        opened.append(ciphertext)
        return decrypt(ciphertext)

    app.cipher.decrypt = recording_decrypt  # type: ignore[method-assign]
    await app.sync.run_once()
    assert [r.grant_type for r in fake.oauth.token_requests] == ["authorization_code"]
    assert opened == [before.access_token_encrypted]

    app.clock.advance(hours=2)  # the access token has expired by our clock
    calendar.add(start=app.clock.now - timedelta(hours=1), attendees=["dana@acme.com"])
    opened.clear()
    report = await app.sync.run_once()

    assert report.synced == 1 and report.logged == 1
    assert [r.grant_type for r in fake.oauth.token_requests] == [
        "authorization_code", "refresh_token"]
    assert opened.count(before.refresh_token_encrypted) == 1
    after = await connection(app, provider)
    assert after.access_token_expires_at == app.clock.now + timedelta(seconds=3599)
    new_refresh = app.cipher.decrypt(after.refresh_token_encrypted or "")
    [grant] = fake.oauth.grants
    assert new_refresh == grant.refresh_token
    # Microsoft rotates refresh tokens on use; Google keeps the one it gave.
    assert (new_refresh != old_refresh) == (provider == "microsoft")
    assert new_refresh not in (after.refresh_token_encrypted or "")

    # An access token the provider stopped accepting early: one refresh, then on.
    fake.oauth.expire_access_tokens()
    report = await _next_run(app)
    assert report.synced == 1
    assert [r.grant_type for r in fake.oauth.token_requests][-1] == "refresh_token"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_revoked_grant_pauses_the_connection_and_tells_the_user_once(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    told: list[PausedConnection] = []

    async def tell(paused: PausedConnection) -> bool:
        told.append(paused)
        return True

    app.sync.on_paused = tell
    await connected(app, provider)
    await app.sync.run_once()
    fake = app.google if provider == "google" else app.microsoft
    fake.oauth.revoke_account("alex@example.com")

    report = await _next_run(app)  # 401 with the access token, then invalid_grant

    assert (report.paused, report.notified) == (1, 1)
    workspace_id, user_id = await app.user("alex")
    assert told == [PausedConnection(user_id=user_id, workspace_id=workspace_id,
                                     provider=provider, reason="grant_refused")]
    paused = await connection(app, provider)
    assert paused.status == "paused" and paused.paused_notified_at == app.clock.now
    assert paused.refresh_token_encrypted is None and paused.access_token_encrypted is None
    for _ in range(3):
        report = await _next_run(app, hours=2)
        assert report.claimed == 0
    assert len(told) == 1
    # Connecting again resumes.
    status, _ = await app.connect("alex", provider, "alex@example.com")
    assert status == 200 and (await connection(app, provider)).status == "active"
    assert (await app.sync.run_once()).synced == 1


async def test_telling_about_a_pause_is_retried_until_it_works(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    attempts: list[datetime] = []

    async def flaky(paused: PausedConnection) -> bool:
        attempts.append(app.clock.now)
        if len(attempts) == 1:
            raise RuntimeError("Slack is down")
        return len(attempts) > 2

    app.sync.on_paused = flaky
    await connected(app, "google")
    app.google.oauth.revoke_account("alex@example.com")
    app.clock.advance(hours=2)  # expired by our clock: the refresh itself is refused
    report = await app.sync.run_once()
    assert (report.paused, report.notified) == (1, 0)
    assert (await _next_run(app, minutes=59)).claimed == 0
    assert (await _next_run(app, minutes=2)).notified == 0  # answered False
    assert (await _next_run(app, hours=1, minutes=1)).notified == 1
    assert len(attempts) == 3
    assert (await _next_run(app, hours=3)).claimed == 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rate_limits_wait_at_least_retry_after(calendar_app: CalendarApp,
                                                     provider: str) -> None:
    app = calendar_app
    sleep = RecordingSleep()
    app.sync.sleep = sleep
    calendar = await connected(app, provider)
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    calendar.add(start=THU_14, attendees=["dana@acme.com"])
    fake = app.google if provider == "google" else app.microsoft
    fake.fail_next(429, retry_after="2")

    report = await app.sync.run_once()

    # A short Retry-After is waited out in place and the same request repeated.
    assert sleep.waits == [2.0]
    statuses = [r.status for r in (app.google.events_requests() if provider == "google"
                                   else app.microsoft.graph_requests)]
    assert statuses == [429, 200]
    assert report.synced == 1 and await touch_summary(app) == [(dana, THU_14)]
    cursor = (await connection(app, provider)).sync_cursor

    # A long one ends the run; the connection waits at least that long, cursor kept.
    calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    fake.fail_next(429, retry_after="120")
    report = await _next_run(app)
    assert report.rate_limited == 1 and sleep.waits == [2.0]
    limited = await connection(app, provider)
    assert limited.next_sync_at == app.clock.now + timedelta(seconds=120)
    assert limited.sync_cursor == cursor
    assert (await _next_run(app, seconds=119)).claimed == 0
    assert (await _next_run(app, seconds=2)).synced == 1
    assert await touch_summary(app) == [(dana, THU_14), (dana, FRI_10)]


async def test_google_quota_403_is_a_rate_limit_and_5xx_backs_off(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    sleep = RecordingSleep()
    app.sync.sleep = sleep
    await connected(app, "google")
    app.google.fail_next(403, reason="userRateLimitExceeded", retry_after="3")
    assert (await app.sync.run_once()).synced == 1 and sleep.waits == [3.0]
    app.google.fail_next(503, retry_after=None)
    report = await _next_run(app)
    assert report.failed == 1
    failing = await connection(app, "google")
    assert failing.failures == 1 and failing.last_error == "HTTP 503"
    assert failing.next_sync_at == app.clock.now + timedelta(minutes=5)
    assert (await _next_run(app)).synced == 1
    assert (await connection(app, "google")).failures == 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_no_meeting_title_description_or_location_is_stored_or_logged(
        calendar_app: CalendarApp, provider: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = calendar_app
    calendar = await connected(app, provider)
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    secrets = ("Layoffs discussion", "Severance numbers for the Berlin office",
               "Lawyer's office, 5th floor")
    calendar.add(start=THU_14, attendees=["dana@acme.com"], title=secrets[0],
                 description=secrets[1], location=secrets[2])
    calendar.add(start=TUE_15, attendees=["dana@acme.com"], title=secrets[0],
                 description=secrets[1], location=secrets[2])
    await app.sync.run_once()
    assert len(await touchpoints(app)) == 1

    rows = await snapshot(app.runtime.engine)
    dumped = repr(rows)
    assert all(secret not in dumped for secret in secrets)
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert all(secret not in logged for secret in secrets)
    async with app.runtime.sessions() as session:
        assert len((await session.scalars(select(CapturedEvent))).all()) == 2


async def test_an_automatic_touchpoint_the_person_deleted_does_not_come_back(
        calendar_app: CalendarApp) -> None:
    from rapport.bot.core.touchpoints import delete_touchpoint

    app = calendar_app
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    meeting = calendar.add(start=THU_14, attendees=["dana@acme.com"])
    await app.sync.run_once()
    [touch] = await touchpoints(app)
    async with app.runtime.sessions() as session, session.begin():
        await session.run_sync(lambda sync: delete_touchpoint(sync, touch.id))
    calendar.move(meeting.id, THU_14 + timedelta(hours=1))  # seen again, changed
    await _next_run(app)
    app.google.calendar("alex@example.com").expire_cursors()  # and again in a full resync
    await _next_run(app)
    assert await touchpoints(app) == []
