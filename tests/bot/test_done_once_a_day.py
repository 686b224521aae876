"""`done` logs a conversation once a day per person (README): with no nudge open, a second
plain `done` that day logs nothing and says so."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage.models import Touchpoint
from tests.bot.test_actions import count
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")


async def test_a_second_done_the_same_day_logs_nothing(rapport: Rapport,
                                                       engine: AsyncEngine) -> None:
    await say(rapport, "add Lee Park")
    assert await say(rapport, "done Lee") == "Logged a chat with Lee Park."
    before = await snapshot(engine)
    for _ in range(2):
        again = await rapport.handle_text(ALEX, "done Lee")
        assert not again.ok and again.text == (
            "Today's conversation with Lee Park is logged already (“log Lee Park: …” logs "
            "another). Nothing changed.")
    assert await snapshot(engine) == before
    assert await count(engine, Touchpoint) == 1
    # Saying what it was about is another conversation, logged as asked.
    assert await say(rapport, "done Lee: coffee, the roadmap") == "Logged coffee with Lee Park."
    assert await count(engine, Touchpoint) == 2
    assert await say(rapport, "undo") == "Undone: logged coffee with Lee Park on Mon Nov 23."
    assert await say(rapport, "undo") == "Undone: logged chat with Lee Park on Mon Nov 23."


async def test_done_after_a_log_today_is_the_same_conversation(rapport: Rapport,
                                                               engine: AsyncEngine) -> None:
    await say(rapport, "add Lee Park")
    await say(rapport, "log Lee: call")
    refused = await rapport.handle_text(ALEX, "done Lee")
    assert not refused.ok and "logged already" in refused.text
    assert await count(engine, Touchpoint) == 1
