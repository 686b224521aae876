"""A name said alone that is nobody yet ("Dana?") is answered as a name, as the welcome and
`help` promise ("“Dana?” shows Dana"); a near miss of a command and a lower-case question
still answer as the command they more likely are."""

from __future__ import annotations

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user

ALEX = console_user("alex")


async def _refused(rapport: Rapport, line: str) -> str:
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok, (line, reply.text)
    return reply.text


async def test_a_name_asked_about_that_is_nobody_yet_is_answered_as_a_name(
        rapport: Rapport) -> None:
    assert await _refused(rapport, "Dana?") == (
        "I don't know anyone called “Dana” yet. Add them with “add Dana”, or type “help” to "
        "see what I can do.")
    assert await _refused(rapport, "Dana Scully?") == (
        "I don't know anyone called “Dana Scully” yet. Add them with “add Dana Scully”, or "
        "type “help” to see what I can do.")
    assert await _refused(rapport, "Walter Skinner") == (
        "I don't know anyone called “Walter Skinner” yet. Add them with “add Walter "
        "Skinner”, or type “help” to see what I can do.")


async def test_commands_and_sentences_still_answer_as_commands(rapport: Rapport) -> None:
    assert "Did you mean “log”?" in await _refused(rapport, "Lgo?")
    assert await _refused(rapport, "Coffee soon?") == (
        "I don't know the command “coffee”. Type “help” to see what I can do.")
    assert (await _refused(rapport, "dana")).startswith("I don't know the command")


async def test_a_name_known_is_still_shown(rapport: Rapport) -> None:
    await rapport.handle_text(ALEX, "add Dana Scully")
    reply = await rapport.handle_text(ALEX, "Dana?")
    assert reply.ok and reply.text.startswith("Dana Scully"), reply.text
