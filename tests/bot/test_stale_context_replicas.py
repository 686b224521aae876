"""Two Rapport processes on one database, each with its own cache of the acting users' ids:
after Alex's `forget me` at the first, Blake starts there and (SQLite hands a deleted row's id
to the next one) takes Alex's old ids. What the second process still caches for Alex must
then reach Alex's own rows, never Blake's: App Home and the welcome (platform work run through
`with_user`), and a draft whose AI answer comes after the `forget me`. On PostgreSQL no id is
reused; the same work then finds Alex's rows afresh instead of failing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from rapport.storage import db
from rapport.storage.models import Contact, Draft
from tests.conftest import Clock, console_user
from tests.fakes.openai_api import FakeOpenAI

ALEX = console_user("alex")
BLAKE = console_user("blake")


@dataclass
class Replicas:
    sessions: async_sessionmaker[AsyncSession]
    first: Rapport
    second: Rapport
    sqlite: bool


@pytest.fixture
async def replicas(any_engine: AsyncEngine, clock: Clock) -> AsyncIterator[Replicas]:
    sessions = db.session_factory(any_engine)
    yield Replicas(sessions, Rapport(sessions=sessions, clock=clock),
                   Rapport(sessions=sessions, clock=clock),
                   any_engine.dialect.name == "sqlite")


async def _taken_over(replicas: Replicas) -> int:
    """Alex's ids cached at the second, Alex forgotten at the first, Blake started there with
    his contact Kim Lee; Blake's user id (Alex's old one on SQLite)."""
    assert (await replicas.second.handle_text(ALEX, "add Dana Scully")).ok
    alex = await replicas.second.user_context(ALEX)
    assert (await replicas.first.handle_text(ALEX, "forget me confirm")).ok
    assert (await replicas.first.handle_text(BLAKE, "add Kim Lee")).ok
    blake = await replicas.first.user_context(BLAKE)
    assert (blake.user_id == alex.user_id) is replicas.sqlite
    return blake.user_id


async def test_app_home_from_a_stale_cache_shows_the_actor_s_own_rows(
        replicas: Replicas) -> None:
    await _taken_over(replicas)

    home = await replicas.second.home(ALEX)

    assert home is not None and home.people.people == ()
    assert "Kim Lee" not in home.people_text
    alex = await replicas.second.user_context(ALEX)
    assert alex.user_external_id == "alex"


async def test_the_welcome_from_a_stale_cache_greets_the_actor_again(replicas: Replicas) -> None:
    blake_id = await _taken_over(replicas)

    welcome = await replicas.second.welcome(ALEX)

    assert welcome is not None and "Alex" in welcome
    alex = await replicas.second.user_context(ALEX)
    assert alex.user_id != blake_id


async def test_a_draft_finished_after_a_forget_me_elsewhere_is_stored_for_no_one_else(
        replicas: Replicas, fake_openai_env: FakeOpenAI, clock: Clock) -> None:
    """The provider answers after Alex's `forget me` at the first process and Blake's first
    contact there (on SQLite, Alex's user and contact ids both): the draft, which quotes
    what was sent about Dana, must not become Blake's."""
    replicas.second.drafter = DraftService(
        sessions=replicas.sessions, provider=provider_from_settings(Settings()), clock=clock)
    assert (await replicas.second.handle_text(ALEX, "add Dana Scully")).ok
    assert (await replicas.second.handle_text(ALEX, "note Dana: hiking trip in Yosemite")).ok
    alex = await replicas.second.user_context(ALEX)
    taken: list[int] = []

    async def answer_after_a_forget_me(body: dict[str, Any]) -> str:
        del body
        if not taken:
            assert (await replicas.first.handle_text(ALEX, "forget me confirm")).ok
            assert (await replicas.first.handle_text(BLAKE, "add Kim Lee")).ok
            taken.append((await replicas.first.user_context(BLAKE)).user_id)
        return "Hi Dana, how was Yosemite?"

    fake_openai_env.reply_with(answer_after_a_forget_me)

    reply = await replicas.second.handle_text(ALEX, "draft Dana")

    assert not reply.ok and "Dana" in reply.text  # Alex's rows are new: no Dana among them
    assert (taken[0] == alex.user_id) is replicas.sqlite
    async with replicas.sessions() as session:
        assert (await session.scalars(select(Draft))).all() == []
        assert (await session.scalars(select(Contact.name))).all() == ["Kim Lee"]
    exported = await replicas.first.handle_text(BLAKE, "export")
    assert exported.attachment is not None and b"Yosemite" not in exported.attachment.data
