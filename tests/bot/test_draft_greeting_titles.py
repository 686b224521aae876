"""A draft greets someone by their given name, past any title a name starts with: "Dr. Jane
Doe" is "Hi Jane!", never "Hi Dr.!"; the AI is told the same first name."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from rapport.scheduler import wording
from tests.conftest import Clock, console_user, say
from tests.fakes.openai_api import FakeOpenAI

ALEX = console_user("alex")


def _draft_text(reply: str) -> str:
    return reply.split("\n\n", 1)[1]


@pytest.mark.parametrize(("name", "greeting"), [
    ("Dr. Jane Doe", "Hi Jane!"),
    ("Dr Jane Doe", "Hi Jane!"),
    ("Prof. Ada Lovelace", "Hi Ada!"),
    ("Mrs. Mx. Kim Lee", "Hi Kim!"),
    ("Miss Ellie Park", "Hi Ellie!"),
    ("Ms Dana Scully", "Hi Dana!"),
])
async def test_a_template_greets_by_the_given_name(
        name: str, greeting: str, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await say(rapport, f"add {name}", ALEX)
    drafted = _draft_text(await say(rapport, f"draft {name}", ALEX))
    assert drafted.startswith(f"{greeting} "), drafted
    finished = await rapport.drafter.finish(ALEX, 1, "Edited: " + drafted, "copy")
    assert finished.message == f"Here is your message to copy and send to {greeting[3:-1]}:"


async def test_the_ai_is_told_the_given_name(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, provider=provider_from_settings(Settings()),
                                   clock=clock)
    await say(rapport, "add Dr. Jane Doe", ALEX)
    await say(rapport, "draft Dr. Jane Doe", ALEX)
    prompt = fake_openai_env.last_request.messages[1]["content"]
    assert "Contact's first name: Jane" in prompt.splitlines(), prompt


@pytest.mark.parametrize(("name", "given"), [
    ("Dr. Jane Doe", "Jane"), ("dr jane doe", "jane"), ("Jane Doe", "Jane"),
    ("Dr.", "Dr."), ("Dr", "Dr"), ("Miss", "Miss"), ("", ""),
    ("Drew Barrymore", "Drew"), ("Mister Rogers", "Mister"), ("Prof. Dr. Hans Weber", "Hans"),
    ("Dr. Zoë", "Zoë"), ("Mrs.Jane Doe", "Mrs.Jane"), ("Sir Ian Wood", "Ian"),
])
def test_first_name_skips_titles_but_never_the_whole_name(name: str, given: str) -> None:
    assert wording.first_name(name) == given
