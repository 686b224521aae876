"""A draft for a birthday or work-anniversary nudge says where the day stands, as the nudge
does: early wishes before it, "Happy birthday!" on it, belated ones after it (a nudge held by
a pause reaches the person late), in the template and in what the AI is asked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from rapport.scheduler.delivery import Sweeper
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say
from tests.fakes.openai_api import FakeOpenAI

ALEX = console_user("alex")


def _draft_text(reply: str) -> str:
    """The draft itself, after the line that introduces it."""
    return reply.split("\n\n", 1)[1]


async def _nudge_on(rapport: Rapport, clock: Clock, kind: str, sweep_day: int) -> int:
    """Zoë's birthday (or work anniversary) is Tue Nov 3 2026; nudges are paused until the
    sweep's day, so the reminder arrives on Nov `sweep_day`: its id."""
    clock.set(datetime(2026, 10, 26, 10, 0, tzinfo=UTC))  # a Monday
    await say(rapport, "add Zoë Martin", ALEX)
    await say(rapport, f"date Zoë {kind} Nov 3", ALEX)
    await say(rapport, f"pause until Nov {sweep_day}", ALEX)
    inbox = Inbox()
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                      clock=clock)
    clock.set(datetime(2026, 11, sweep_day, 10, 0, tzinfo=UTC))
    await sweeper.sweep()
    [message] = inbox.delivered
    return message.items[0].nudge_id


@pytest.mark.parametrize(("tone", "expected"), [
    ("warm", "Hi Zoë! Belated happy birthday! Hope it was a good one."),
    ("brief", "Hi Zoë, belated happy birthday!"),
    ("formal", "Hello Zoë, I wanted to wish you a belated happy birthday."),
])
async def test_a_template_after_the_birthday_wishes_a_belated_one(
        tone: str, expected: str, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    nudge_id = await _nudge_on(rapport, clock, "birthday", 4)  # Wed Nov 4
    if tone != "warm":
        await say(rapport, f"settings tone {tone}", ALEX)
    assert "Zoë's birthday was on Tue Nov 3 (yesterday)" in await say(rapport, "due", ALEX)
    drafted = _draft_text(await say(rapport, f"draft #{nudge_id}", ALEX))
    assert drafted == expected
    assert "coming up" not in drafted and "early" not in drafted


async def test_a_template_on_the_day_says_happy_birthday(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    nudge_id = await _nudge_on(rapport, clock, "birthday", 3)  # Tue Nov 3, the day
    assert _draft_text(await say(rapport, f"draft #{nudge_id}", ALEX)) == \
        "Hi Zoë! Happy birthday! Hope it's a great day."


async def test_a_template_after_the_work_anniversary_is_belated_too(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    nudge_id = await _nudge_on(rapport, clock, "anniversary", 5)  # Thu Nov 5
    assert _draft_text(await say(rapport, f"draft #{nudge_id}", ALEX)) == \
        "Hi Zoë! Belated happy work anniversary! Hope it was a good one."


async def test_a_template_before_the_day_still_wishes_early(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    nudge_id = await _nudge_on(rapport, clock, "birthday", 2)  # Mon Nov 2, the day before
    assert _draft_text(await say(rapport, f"draft #{nudge_id}", ALEX)) == \
        "Hi Zoë! Your birthday is coming up, so an early happy birthday! Hope it's a good one."


@pytest.mark.parametrize(("sweep_day", "topic"), [
    (4, "Topic to ask about: their birthday, which was on Tue Nov 3"),
    (3, "Topic to ask about: their birthday, which is today"),
    (2, "Topic to ask about: their upcoming birthday"),
])
async def test_the_ai_is_told_where_the_birthday_stands(
        sweep_day: int, topic: str, fake_openai_env: FakeOpenAI, rapport: Rapport,
        clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, provider=provider_from_settings(Settings()),
                                   clock=clock)
    nudge_id = await _nudge_on(rapport, clock, "birthday", sweep_day)
    await say(rapport, f"draft #{nudge_id}", ALEX)
    prompt = fake_openai_env.last_request.messages[1]["content"]
    assert topic in prompt.splitlines(), prompt
    if sweep_day != 2:
        assert "upcoming" not in prompt
