"""The disclosure line written by the person themselves: it is no edit (an AI draft sent as
it was, with the line typed under it, is still refused), and a disclosed message carries the
line once, however the person spelled it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.drafts import DISCLOSURE_LINE, UNCHANGED
from rapport.bot.core.rapport import Rapport
from rapport.storage.models import Draft
from tests.bot.test_drafts import ALEX, _ai_draft
from tests.conftest import Clock
from tests.fakes.openai_api import FakeOpenAI

EDITED = "Hi Dana! It's been a while, how did the Yosemite trip go?"


@pytest.mark.parametrize("written", [
    f"\n{DISCLOSURE_LINE}",
    f"\n\n  {DISCLOSURE_LINE.upper()}  ",
    "\n(Drafted with AI help - edited by me.)",
    "\ndrafted with AI help, edited by me",
    f" {DISCLOSURE_LINE}",
])
async def test_the_draft_with_the_line_typed_under_it_is_still_unchanged(
        written: str, fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    service, draft_id, text = await _ai_draft(fake_openai_env, rapport, sessions, clock,
                                              "required")
    refused = await service.finish(ALEX, draft_id, text + written, "post")
    assert not refused.ok and refused.retry and refused.message == UNCHANGED
    above = await service.finish(ALEX, draft_id, written.strip() + "\n" + text, "post")
    assert not above.ok and above.message == UNCHANGED
    alone = await service.finish(ALEX, draft_id, written, "post")
    assert not alone.ok and alone.retry and "nothing to send" in alone.message
    async with sessions() as session:
        assert (await session.scalars(select(Draft))).one().outcome is None


@pytest.mark.parametrize("policy", ["required", "optional"])
async def test_a_disclosed_message_carries_the_line_once(
        policy: str, fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    service, draft_id, _ = await _ai_draft(fake_openai_env, rapport, sessions, clock, policy)
    done = await service.finish(ALEX, draft_id, f"{EDITED}\n(Drafted with AI help, edited by "
                                "me.)", "post")
    assert done.ok and done.disclosed
    assert done.text == f"{EDITED}\n{DISCLOSURE_LINE}"
    async with sessions() as session:
        draft = (await session.scalars(select(Draft))).one()
    assert draft.final_text == done.text and draft.disclosure is True
