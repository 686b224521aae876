"""The console's questions after a draft, answered as a person would, wrongly included: a
command or a goodbye typed at a yes/no prompt is never taken for a yes."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.drafts import DISCLOSURE_LINE, DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from tests.bot.test_drafts_console import _chat, _drafts
from tests.conftest import Clock
from tests.fakes.openai_api import FakeOpenAI

EDITED = "Hey Dana, it's been a while! How was the hiking trip?"
DISCLOSURE_PROMPT = f"Add “{DISCLOSURE_LINE}”? [Y/n]"
COPIED = "Here is your message to copy and send to Dana"


def _with_ai(rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, provider=provider_from_settings(Settings()),
                                   clock=clock)


@pytest.mark.parametrize("command", ["settings ai off", "admin ai off"])
async def test_turning_ai_off_at_the_disclosure_prompt_turns_it_off_and_copies_nothing(
        command: str, fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    _with_ai(rapport, clock, sessions)
    out = await _chat(rapport, "draft Dana", EDITED, command, "draft Dana", "")
    assert DISCLOSURE_PROMPT in out
    assert COPIED not in out
    first, second = await _drafts(sessions)
    assert first.outcome == "discarded" and first.final_text is None
    # The command ran: the next draft is a template, and nothing more went to the provider.
    assert second.provider == "template" and second.sent_context is None
    assert "Template draft for Dana Scully" in out
    assert len(fake_openai_env.requests) == 1


async def test_an_answer_that_is_neither_yes_nor_no_is_asked_again(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    _with_ai(rapport, clock, sessions)
    out = await _chat(rapport, "draft Dana", EDITED, "nope", "maybe", "n")
    assert out.count(DISCLOSURE_PROMPT) == 3
    assert f"{COPIED}:\n\n  {EDITED}\n" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "copied" and draft.disclosure is False
    assert draft.final_text == EDITED


async def test_end_of_input_at_the_disclosure_prompt_copies_nothing(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    _with_ai(rapport, clock, sessions)
    out = await _chat(rapport, "draft Dana", EDITED)
    assert DISCLOSURE_PROMPT in out and COPIED not in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "discarded" and draft.final_text is None


async def test_a_goodbye_at_the_disclosure_prompt_ends_the_chat_and_copies_nothing(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    _with_ai(rapport, clock, sessions)
    out = await _chat(rapport, "draft Dana", EDITED, "quit", "people")
    assert COPIED not in out
    assert "Your people:" not in out  # the chat ended at the goodbye
    [draft] = await _drafts(sessions)
    assert draft.outcome == "discarded"


async def test_a_goodbye_at_the_edit_prompt_is_not_taken_as_the_message(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    out = await _chat(rapport, "draft Dana", "quit", "", "people")
    assert "“quit” reads like a command. Use it as your message? [y/N]" in out
    assert COPIED not in out
    assert "Your people:" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "discarded" and draft.final_text is None


async def test_a_command_answered_to_use_it_as_your_message_runs_as_a_command(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    out = await _chat(rapport, "draft Dana", "undo", "settings ai off", "settings")
    assert "“undo” reads like a command. Use it as your message? [y/N]" in out
    assert COPIED not in out
    assert "• AI drafts: off" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "discarded" and draft.final_text is None


@pytest.mark.parametrize("answer", ["", "y", "Yes."])
async def test_yes_or_enter_at_the_disclosure_prompt_keeps_the_line(
        answer: str, fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    _with_ai(rapport, clock, sessions)
    out = await _chat(rapport, "draft Dana", EDITED, answer, "people")
    assert f"  {EDITED}\n  {DISCLOSURE_LINE}\n" in out
    assert "Your people:" in out
    [draft] = await _drafts(sessions)
    assert draft.outcome == "copied" and draft.disclosure is True
