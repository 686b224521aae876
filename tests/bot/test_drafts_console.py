"""The console draft editor, typed as a person would: draft, refusal, edit, text to copy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.drafts import DISCLOSURE_LINE, UNCHANGED, DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.console.chat import ConsoleChat
from rapport.bot.service.config import Settings
from rapport.storage.models import Draft
from tests.conftest import Clock, console_user
from tests.fakes.openai_api import DEFAULT_REPLY, FakeOpenAI

# Issue 14 (item 9): the trip is tomorrow, so the template wishes well instead of asking
# "How did it go?".
TEMPLATE_TEXT = ("Hi Dana! I've been thinking about the hiking trip in Yosemite you mentioned. "
                 "Hope it goes great!")


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def _chat(rapport: Rapport, *lines: str) -> str:
    output: list[str] = []
    setup = ("add Dana Scully every 2 weeks", "note Dana: hiking trip in Yosemite after tomorrow")
    await ConsoleChat(rapport=rapport, actor=console_user("alex"), lines=_lines(*setup, *lines),
                      write=output.append).run()
    return "".join(output)


async def _drafts(sessions: async_sessionmaker[AsyncSession]) -> list[Draft]:
    async with sessions() as session:
        return list((await session.scalars(select(Draft).order_by(Draft.id))).all())


async def test_template_draft_refused_unchanged_then_copied(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    edited = "Hi Dana, how was Yosemite? Any photos?"
    out = await _chat(rapport, "draft Dana", TEMPLATE_TEXT.lower(), edited, "people")
    assert f"Template draft for Dana Scully:\n\n  {TEMPLATE_TEXT}" in out
    assert out.count("Edit the message (or type a new one; empty line = discard):") == 2
    assert UNCHANGED in out
    assert f"Here is your message to copy and send to Dana:\n\n  {edited}\n" in out
    assert DISCLOSURE_LINE not in out  # a template is not AI
    assert "Your people:" in out  # back to commands afterwards
    [draft] = await _drafts(sessions)
    assert draft.outcome == "copied" and draft.final_text == edited
    assert draft.edit_distance and draft.edit_distance > 10


async def test_empty_line_discards(rapport: Rapport, clock: Clock,
                                   sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    out = await _chat(rapport, "draft Dana", "")
    assert "Discarded. Nothing was sent." in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "discarded" and draft.final_text is None


async def test_ai_draft_with_the_fake_provider(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    provider = provider_from_settings(Settings())
    rapport.drafter = DraftService(sessions=sessions, provider=provider, clock=clock)
    edited = "Hey Dana, it's been a while! How was the hiking trip?"
    out = await _chat(rapport, "draft Dana", DEFAULT_REPLY, edited, "")
    assert f"AI draft (openai-compatible, gpt-4o-mini) for Dana Scully:\n\n  {DEFAULT_REPLY}" \
        in out
    assert UNCHANGED in out
    assert f"Add “{DISCLOSURE_LINE}”? [Y/n]" in out
    assert f"  {edited}\n  {DISCLOSURE_LINE}\n" in out  # pre-checked: Enter keeps it
    assert len(fake_openai_env.requests) == 1
    [draft] = await _drafts(sessions)
    assert draft.outcome == "copied" and draft.disclosure is True
    assert draft.provider == "openai-compatible" and draft.sent_context is not None


async def test_a_command_typed_at_the_edit_prompt_is_not_taken_as_the_message(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    out = await _chat(rapport, "draft Dana", "undo", "", "people")
    assert "“undo” reads like a command. Use it as your message? [y/N]" in out
    assert "Type the command again at the prompt." in out
    assert "send to Dana" not in out
    assert "Your people:" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "discarded" and draft.final_text is None


async def test_a_message_that_reads_like_a_command_is_kept_when_confirmed(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    out = await _chat(rapport, "draft Dana", "due", "y")
    assert "Here is your message to copy and send to Dana:\n\n  due\n" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "copied" and draft.final_text == "due"


@pytest.mark.parametrize("message", ["Hi Dana! How was Yosemite?", "Coffee soon?", "Thanks!",
                                     "How's the new job going?",
                                     "Dana?"])
async def test_a_message_that_only_looks_like_a_name_or_small_talk_is_taken_as_written(
        message: str, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # A question ends in "?" as "Dana?" does: that guess at a name must not make the editor
    # ask whether the person meant a command.
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    out = await _chat(rapport, "draft Dana", message)
    assert "reads like a command" not in out
    assert f"Here is your message to copy and send to Dana:\n\n  {message}\n" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "copied" and draft.final_text == message
