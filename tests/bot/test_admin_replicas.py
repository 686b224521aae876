"""Two Rapport processes on one database, each with its own cache of the acting users' ids:
after one of them purges a workspace, the other acts on the workspace as it is now, never on
the purged one, nor on another workspace that took its ids (SQLite hands a deleted row's id
to the next one; PostgreSQL never does, so a dead id there is a workspace that is gone).

Admin commands, ordinary ones and imports; and admin answers that count 0, 1 or many."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.users import CONTEXT_TTL_SECONDS
from rapport.storage import db
from rapport.storage.models import Contact, User, Workspace
from tests.bot import seed
from tests.bot.test_admin import ADMIN, ADMINS, MEMBER
from tests.conftest import Clock

CAROL = Actor(platform="console", workspace_external_id="elsewhere", user_external_id="carol",
              display_name="Carol")


@dataclass
class Seconds:
    """A replica's monotonic clock, moved by hand to age its cached settings."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Replicas:
    sessions: async_sessionmaker[AsyncSession]
    first: Rapport
    second: Rapport
    second_seconds: Seconds


@pytest.fixture
async def replicas(any_engine: AsyncEngine, clock: Clock) -> AsyncIterator[Replicas]:
    sessions = db.session_factory(any_engine)
    seconds = Seconds()
    second = Rapport(sessions=sessions, clock=clock)
    second.users.monotonic = seconds
    yield Replicas(sessions, Rapport(sessions=sessions, clock=clock), second, seconds)


async def _contacts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    """Each workspace's contacts, by the workspace's external id."""
    async with sessions() as session:
        rows = (await session.execute(
            select(Workspace.external_id, Contact.name)
            .join(Contact, Contact.workspace_id == Workspace.id)
            .order_by(Contact.name))).all()
    found: dict[str, list[str]] = {}
    for workspace, name in rows:
        found.setdefault(workspace, []).append(name)
    return found


async def _policies(sessions: async_sessionmaker[AsyncSession]
                    ) -> dict[str, tuple[bool, int | None]]:
    async with sessions() as session:
        rows = (await session.execute(select(Workspace.external_id, Workspace.ai_enabled,
                                             Workspace.retention_months))).all()
    return {workspace: (ai, months) for workspace, ai, months in rows}


async def _purged_by_the_first(replicas: Replicas) -> None:
    """Bob adds Lee at the first replica, Ada looks at the settings at the second (which
    keeps her ids), then purges the workspace at the first; Carol then starts in another
    workspace, which on SQLite takes the purged one's ids."""
    assert (await replicas.first.handle_text(MEMBER, "add Lee Park")).ok
    assert (await replicas.second.handle_text(ADMIN, "admin", admins=ADMINS)).ok
    purged = await replicas.first.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)
    assert purged.ok and "Deleted everything" in purged.text
    assert (await replicas.first.handle_text(CAROL, "add Ann Lee")).ok


async def test_a_stale_replica_s_admin_commands_act_on_the_workspace_as_it_is_now(
        replicas: Replicas) -> None:
    await _purged_by_the_first(replicas)
    # Bob starts again at the second replica: the workspace is a new row.
    assert (await replicas.second.handle_text(MEMBER, "add Kim Lee")).ok

    status = await replicas.second.handle_text(ADMIN, "admin", admins=ADMINS)
    assert status.ok and "AI drafts: on" in status.text
    off = await replicas.second.handle_text(ADMIN, "admin ai off", admins=ADMINS)
    assert off.ok and "AI drafts: off" in off.text
    kept = await replicas.second.handle_text(ADMIN, "admin retention 6 months", admins=ADMINS)
    assert kept.ok and "6 months, then deleted" in kept.text
    assert await _policies(replicas.sessions) == {"local": (False, 6),
                                                  "elsewhere": (True, None)}

    preview = await replicas.second.handle_text(ADMIN, "admin purge", admins=ADMINS)
    assert "people using Rapport: 2, contacts: 1" in preview.text
    done = await replicas.second.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)
    assert done.ok and "(2 people's data)" in done.text
    assert await _contacts(replicas.sessions) == {"elsewhere": ["Ann Lee"]}


async def test_a_stale_replica_s_admin_purge_deletes_the_workspace_it_names_now(
        replicas: Replicas) -> None:
    await _purged_by_the_first(replicas)
    # Nobody is left in the workspace: the admin's own purge finds just their new rows.
    done = await replicas.second.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)
    assert done.ok and "(1 person's data)" in done.text
    assert await _contacts(replicas.sessions) == {"elsewhere": ["Ann Lee"]}
    assert set(await _policies(replicas.sessions)) == {"elsewhere"}


@pytest.mark.parametrize("aged", [False, True], ids=["cached", "settings-aged"])
async def test_a_stale_replica_s_ordinary_commands_reach_the_actor_s_own_rows(
        replicas: Replicas, aged: bool) -> None:
    # Bob's ids are cached by the second replica before the purge.
    assert (await replicas.second.handle_text(MEMBER, "add Lee Park")).ok
    assert (await replicas.first.handle_text(ADMIN, "admin", admins=ADMINS)).ok
    assert (await replicas.first.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)).ok
    assert (await replicas.first.handle_text(CAROL, "add Ann Lee")).ok
    if aged:  # the second replica reads Bob's settings again by the ids it keeps
        replicas.second_seconds.now += CONTEXT_TTL_SECONDS + 1

    people = await replicas.second.handle_text(MEMBER, "people")
    assert "Ann Lee" not in people.text
    assert (await replicas.second.handle_text(MEMBER, "add Kim Lee")).ok
    ctx = await replicas.second.user_context(MEMBER)
    assert (ctx.workspace_external_id, ctx.user_external_id) == ("local", "bob")
    assert await _contacts(replicas.sessions) == {"elsewhere": ["Ann Lee"], "local": ["Kim Lee"]}


async def test_a_stale_replica_s_import_reaches_the_actor_s_own_rows(replicas: Replicas) -> None:
    assert (await replicas.second.handle_text(MEMBER, "people")).ok
    assert (await replicas.first.handle_text(ADMIN, "admin", admins=ADMINS)).ok
    assert (await replicas.first.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)).ok
    assert (await replicas.first.handle_text(CAROL, "add Ann Lee")).ok

    imported = await replicas.second.handle_import(
        MEMBER, "contacts.csv", b"name,cadence\nKim Lee,2 weeks\n", dry_run=False)
    assert imported.ok, imported.text
    assert await _contacts(replicas.sessions) == {"elsewhere": ["Ann Lee"], "local": ["Kim Lee"]}
    async with replicas.sessions() as session:
        owners = (await session.execute(
            select(User.external_id).join(Contact, Contact.user_id == User.id)
            .order_by(User.external_id))).scalars().all()
    assert owners == ["bob", "carol"]


# ------------------------------------------------------------------------------ wording
@pytest.mark.parametrize(("people", "says"), [
    (0, "No one in this workspace has contacts yet"),
    (1, "Only 1 user in this workspace has contacts"),
    (3, "Only 3 users in this workspace have contacts")])
async def test_a_too_small_team_report_says_how_many_in_words_that_agree(
        any_engine: AsyncEngine, clock: Clock, people: int, says: str) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    ctx = await rapport.user_context(ADMIN)
    for index in range(people):
        member = await rapport.user_context(Actor(
            platform="console", workspace_external_id="local",
            user_external_id=f"member{index}"))
        await seed.seed_team_member(sessions, (ctx.workspace_id, member.user_id), clock.now,
                                    index)
    reply = await rapport.handle_text(ADMIN, "admin report", admins=ADMINS)
    assert not reply.ok and reply.text.startswith(says)
    assert "Only 0" not in reply.text


@pytest.mark.parametrize(("members", "says"), [
    (0, "(1 person's data)"), (2, "(3 people's data)")])
async def test_the_purge_answer_counts_people_in_words_that_agree(
        any_engine: AsyncEngine, clock: Clock, members: int, says: str) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    for index in range(members):
        await rapport.user_context(Actor(platform="console", workspace_external_id="local",
                                         user_external_id=f"member{index}"))
    done = await rapport.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)
    assert done.ok and says in done.text
