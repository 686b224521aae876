"""A full name followed by the end of a sentence (`forget Dana Scully.`) is that person: it
answered "I don't know anyone called “Dana Scully.”". A name that ends in a period ("Priya N.")
is still found as typed, with or without its period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

ALEX = console_user()


async def test_a_period_after_a_full_name_ends_the_sentence(rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully")

    assert (await say(rapport, "forget Dana Scully.")).startswith("This deletes Dana Scully.")
    assert "Write to Dana in your own words" in await say(rapport, "draft Dana Scully.")
    assert (await say(rapport, "show Dana Scully!")).startswith("Dana Scully: colleague")
    assert await say(rapport, "every Dana Scully. 2 weeks") == \
        "I'll remind you to talk to Dana Scully every 2 weeks (next: Mon Dec 7)."
    # The whole name, not "Dana" with "Scully." said about the conversation.
    assert await say(rapport, "log Dana Scully.") == "Logged chat with Dana Scully."
    assert "Scully." not in (await say(rapport, "show Dana Scully")).split("Last conversations")[1]


async def test_a_name_that_ends_in_a_period_is_found_as_typed(rapport: Rapport) -> None:
    await say(rapport, "add Priya N.")

    assert (await say(rapport, "show Priya N.")).startswith("Priya N.: colleague")
    assert (await say(rapport, "show Priya N.?")).startswith("Priya N.: colleague")
    assert (await say(rapport, "forget Priya N.")).startswith("This deletes Priya N.")


async def test_nobody_by_that_name_is_named_without_the_period(rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully")

    reply = await rapport.handle_text(console_user(), "forget Nobody.")
    assert not reply.ok and reply.text.startswith("I don't know anyone called “Nobody”.")


async def test_a_name_that_ends_in_a_period_ends_a_sentence_once(rapport: Rapport) -> None:
    """"forget Priya N." asked “This deletes Priya N.. To go ahead…”: the name's period is
    the sentence's, in every answer that ends with the name."""
    await say(rapport, "add Priya N.")
    await say(rapport, "add Lee Park")

    assert await say(rapport, "forget Priya N.") == \
        "This deletes Priya N. To go ahead, type “forget Priya N. confirm”."
    assert await say(rapport, "log Priya N. coffee") == "Logged coffee with Priya N."
    assert await say(rapport, "log Lee and Priya N. lunch") == \
        "Logged lunch with Lee Park and Priya N."
    assert await say(rapport, "every Priya N. off") == \
        "No more keep-in-touch reminders for Priya N."
    await say(rapport, "set Priya N. ai off")
    assert await say(rapport, "set Priya N. ai on") == "AI drafts are allowed again for Priya N."
    refused = await rapport.handle_text(console_user(), "add Priya N.")
    assert not refused.ok and refused.text == "You already keep in touch with Priya N."
    # A name without a period still gets one.
    assert await say(rapport, "log Lee coffee") == "Logged coffee with Lee Park."
    assert (await say(rapport, "forget Lee")).startswith("This deletes Lee Park with 2 ")


async def test_no_answer_about_a_name_with_a_period_doubles_it(
        rapport: Rapport, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
        clock: Clock) -> None:
    """Answers that end a sentence with the name ("Took clients off Priya N..", "There is no
    open nudge for Priya N..", "Template draft for Priya N.. Edit it…") put the period once,
    refusals included."""
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await say(rapport, "add Priya N.")
    await say(rapport, "add Lee Park")
    await say(rapport, "log Lee coffee")
    answers: list[str] = []

    async def answer(text: str) -> None:
        answers.append((await rapport.handle_text(ALEX, text)).text)

    await answer("rename Lee Park to Priya N.")  # refused: the name is taken
    drafted = await rapport.handle_text(ALEX, "draft Priya N.")
    assert drafted.draft is not None
    answers.append(drafted.text)
    assert rapport.drafter is not None
    answers.append((await rapport.drafter.reopen(ALEX, drafted.draft.draft_id)).text)
    await answer("tag Priya N. clients")
    await answer("untag Priya N. clients")
    await answer("date Priya N. birthday off")  # refused: there is none
    await answer("who haven't I talked to lately?")  # Priya has no conversation yet
    await answer("dismiss Priya N.")  # refused: no nudge out
    await answer("snooze Priya N. 1 week")  # refused: no nudge out, no rhythm to hold
    await answer("done Priya N.")  # nothing open: logs a chat

    # A keep-in-touch nudge out, dismissed, brought back and then answered.
    await say(rapport, "every Priya N. 1 week")
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1
    await answer("dismiss Priya N.")
    await say(rapport, "undo")
    await answer("done Priya N.")

    assert len(answers) == 12 and all("Priya N." in text for text in answers), answers
    assert [text for text in answers if "N.." in text] == []
    assert answers[-1] == "Nice. Logged that you reached out to Priya N."
