"""Many users with connected calendars, without the browser: rows inserted in bulk and grants
issued by the fake directly. Shared by the replica tests and bench/calendar_sync.py."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars.capture import ConnectionRef
from rapport.bot.connectors.cipher import TokenCipher
from rapport.storage.models import CalendarConnection, Contact, User, Workspace
from tests.fakes import google_api, microsoft_api
from tests.fakes.google_api import FakeGoogle
from tests.fakes.microsoft_api import FakeMicrosoft


@dataclass
class Seeded:
    users: int
    events: int
    # Touchpoints a correct sync writes: one per (ended event, contact attending).
    expected_touchpoints: int
    accounts: list[str]
    access_tokens: list[str]


async def seed_calendars(engine: AsyncEngine, fake: FakeGoogle | FakeMicrosoft,
                         cipher: TokenCipher, now: datetime, *, users: int,
                         events_per_user: int, contacts_per_user: int = 12,
                         colleagues: int = 40, upcoming_per_user: int = 0,
                         seed: int = 7, prefix: str = "") -> Seeded:
    """`users` users, each with contacts (a share of their colleagues, by email) and a
    calendar of `events_per_user` meetings over the last week with 1-4 colleagues each, plus
    `upcoming_per_user` meetings in the next two days."""
    rng = random.Random(seed)
    provider = "google" if isinstance(fake, FakeGoogle) else "microsoft"
    client_id = google_api.CLIENT_ID if provider == "google" else microsoft_api.CLIENT_ID
    async with engine.begin() as connection:
        workspace_id = await connection.scalar(
            select(Workspace.id).where(Workspace.platform == "console",
                                       Workspace.external_id == "seed"))
        if workspace_id is None:
            workspace_id = (await connection.execute(insert(Workspace).values(
                platform="console", external_id="seed", name="seed", ai_enabled=True,
                disclosure_policy="optional", active=True, created_at=now)
                .returning(Workspace.id))).scalar_one()
        user_ids = list((await connection.execute(insert(User).returning(User.id), [dict(
            workspace_id=workspace_id, external_id=f"{prefix}{provider}-user-{n}",
            display_name=f"User {n}", tz="UTC", tz_from_platform=True,
            window_start_minute=540, window_end_minute=1020, working_days=31, daily_cap=3,
            digest=True, ai_enabled=True, tone="warm", weekly_summary=True, active=True,
            sent_day_count=0, created_at=now - timedelta(days=90))
            for n in range(users)])).scalars())
        contacts = []
        for user_id in user_ids:
            for j in rng.sample(range(colleagues), contacts_per_user):
                contacts.append(dict(
                    workspace_id=workspace_id, user_id=user_id, name=f"Colleague {j}",
                    name_key=f"colleague {j}", kind="colleague", email=f"colleague{j}@acme.com",
                    cadence_days=rng.choice((14, 28, None)), created_at=now - timedelta(days=90)))
        if contacts:
            await connection.execute(insert(Contact), contacts)
        known = {(c["user_id"], c["email"]) for c in contacts}
        rows = []
        accounts = []
        tokens = []
        expected = 0
        for n, user_id in enumerate(user_ids):
            account = f"{prefix}{provider}-user-{n}@example.com"
            accounts.append(account)
            grant, access = fake.oauth.issue_grant(client_id, account, "seeded")
            tokens.append(access)
            assert grant.refresh_token is not None
            rows.append(dict(
                workspace_id=workspace_id, user_id=user_id, provider=provider,
                status="active", refresh_token_encrypted=cipher.encrypt(grant.refresh_token),
                access_token_encrypted=cipher.encrypt(access),
                access_token_expires_at=now + timedelta(minutes=59), next_sync_at=now,
                failures=0, connected_at=now, updated_at=now))
            calendar = fake.calendar(account)
            for e in range(events_per_user + upcoming_per_user):
                start = now - timedelta(days=7) + timedelta(
                    minutes=30 * rng.randrange(7 * 24 * 2 - 2)) if e < events_per_user \
                    else now + timedelta(minutes=30 * rng.randrange(1, 2 * 24 * 2))
                people = [f"colleague{j}@acme.com" for j in
                          rng.sample(range(colleagues), rng.randint(1, 4))]
                calendar.add(start=start, attendees=people, organizer=rng.choice(
                    [account, people[0]]), title=f"Meeting {e}")
                if start + timedelta(minutes=30) <= now:
                    expected += sum((user_id, p) in known for p in people)
        await connection.execute(insert(CalendarConnection), rows)
    return Seeded(users=users, events=users * (events_per_user + upcoming_per_user),
                  expected_touchpoints=expected, accounts=accounts, access_tokens=tokens)


async def seed_met_twice(sessions: object, user_id: int, workspace_id: int, now: datetime,
                         email: str = "sam.lee@globex.com", name: str = "Sam Lee") -> None:
    """A Google connection whose sync met `email` (not a contact) in two meetings last week,
    as rapport.bot.connectors.calendars.capture stores them; for platform tests of the
    "add person" offer that need no calendar fake."""
    from rapport.storage import met
    from rapport.storage.models import MetPerson

    async with sessions() as session, session.begin():  # type: ignore[operator]
        connection = (await session.execute(insert(CalendarConnection).values(
            workspace_id=workspace_id, user_id=user_id, provider="google", status="active",
            connected_at=now, updated_at=now).returning(CalendarConnection.id))).scalar_one()
        meetings = met.ordered(met.entry(f"evt{day}", None, now - timedelta(days=day),
                                         now - timedelta(days=day, minutes=-30))
                               for day in (3, 5))
        await session.execute(insert(MetPerson).values(
            connection_id=connection, workspace_id=workspace_id, user_id=user_id, email=email,
            display_name=name, meetings=met.encode(meetings),
            first_start_at=met.first_day(meetings)))


async def seed_meeting(sessions: object, user_id: int, workspace_id: int, contact_id: int,
                       start: datetime) -> None:
    """A connected calendar holding one upcoming meeting with `contact_id`, as the sync
    stores it; for platform tests of meeting briefs that need no calendar fake."""
    from rapport.storage.models import CapturedAttendee, CapturedEvent

    async with sessions() as session, session.begin():  # type: ignore[operator]
        # A second meeting goes into the same calendar (one connection per provider).
        connection = await session.scalar(select(CalendarConnection.id).where(
            CalendarConnection.user_id == user_id, CalendarConnection.provider == "google"))
        if connection is None:
            connection = (await session.execute(insert(CalendarConnection).values(
                workspace_id=workspace_id, user_id=user_id, provider="google",
                status="active", connected_at=start, updated_at=start)
                .returning(CalendarConnection.id))).scalar_one()
        event = (await session.execute(insert(CapturedEvent).values(
            connection_id=connection, workspace_id=workspace_id, user_id=user_id,
            event_id=f"upcoming-{contact_id}-{start.isoformat()}", start_at=start,
            end_at=start + timedelta(minutes=30),
            updated_at=start).returning(CapturedEvent.id))).scalar_one()
        await session.execute(insert(CapturedAttendee).values(captured_event_id=event,
                                                              contact_id=contact_id))


def connected_user(session: Session, key: str, now: datetime, tz: str) -> ConnectionRef:
    """A workspace and a user named `key`, with a Google calendar connected (in a unit)."""
    workspace = session.execute(insert(Workspace).values(
        platform="console", external_id=key, name=key, ai_enabled=True,
        disclosure_policy="optional", active=True, created_at=now)
        .returning(Workspace.id)).scalar_one()
    user = session.execute(insert(User).values(
        workspace_id=workspace, external_id=key, display_name=key, tz=tz,
        tz_from_platform=True, window_start_minute=540, window_end_minute=1020,
        working_days=31, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
        weekly_summary=True, active=True, sent_day_count=0, created_at=now)
        .returning(User.id)).scalar_one()
    connection = session.execute(insert(CalendarConnection).values(
        workspace_id=workspace, user_id=user, provider="google", status="active",
        connected_at=now, updated_at=now).returning(CalendarConnection.id)).scalar_one()
    return ConnectionRef(connection_id=connection, workspace_id=workspace, user_id=user, tz=tz)
