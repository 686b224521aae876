"""@mentions of bots in Teams (ids starting with "28:", and Rapport itself) are no one to keep
in touch with: refused with the same answer Slack gives, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

from rapport.bot.platforms.teams.handler import PRIVATE_SENT
from rapport.storage.models import Contact, Touchpoint
from tests.conftest import snapshot
from tests.fakes.teams_activities import DEFAULT_BOT_ID, DEFAULT_BOT_NAME
from tests.teams.test_teams_bot import CHANNEL, PERSONAL, TeamsHarness, _install
from tests.teams.test_teams_bot import teams as teams

# Another app's bot in the tenant, as Teams names it in a mention entity.
STANDUP_BOT = ("28:6b1e0f3a-2c4d-4e5f-8a9b-0c1d2e3f4a5b", "Standup Bot")
FOX = ("29:fox-mulder", "Fox Mulder")


async def _answer(teams: TeamsHarness, text: str, **kwargs: Any) -> str:
    """The bot's one answer in the personal chat to `text`."""
    teams.connector.reset()
    assert await teams.say(text, **kwargs) == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    answer: str = reply.body["text"]
    return answer


async def test_adding_or_logging_another_apps_bot_is_refused_and_stores_nothing(
        teams: TeamsHarness) -> None:
    before = await snapshot(teams.engine)
    for line in ("add <at>Standup Bot</at>", "log <at>Standup Bot</at> coffee",
                 "note <at>Standup Bot</at>: ships on Friday", "<at>Standup Bot</at>"):
        answer = await _answer(teams, line, mentions=[STANDUP_BOT])
        assert "Standup Bot is a bot, not a person" in answer, (line, answer)
    assert await teams.rows(Contact) == []
    assert await teams.rows(Touchpoint) == []
    # Talking to the bot stores the user and the chat's reference, nothing about the bot.
    after = await snapshot(teams.engine)
    assert after.get("contacts", []) == before.get("contacts", [])


async def test_a_colleagues_mention_still_adds_them(teams: TeamsHarness) -> None:
    answer = await _answer(teams, "add <at>Fox Mulder</at>", mentions=[FOX])
    assert "is a bot" not in answer
    [contact] = await teams.rows(Contact)
    assert (contact.name, contact.platform_user_id) == FOX[::-1]


async def test_rapport_itself_mentioned_as_the_person_is_refused(teams: TeamsHarness) -> None:
    # In the Bot Framework Emulator the bot's id has no "28:": the chat's own bot is a bot.
    emulator_bot = "rapport-emulator-bot"
    answer = await _answer(teams, f"add <at>{DEFAULT_BOT_NAME}</at>", bot_id=emulator_bot,
                           mentions=[(emulator_bot, DEFAULT_BOT_NAME)])
    assert "Rapport is a bot, not a person" in answer
    assert await teams.rows(Contact) == []


async def test_in_a_channel_the_mention_that_addresses_rapport_is_not_the_person(
        teams: TeamsHarness) -> None:
    await _install(teams)
    teams.connector.reset()
    # “@Rapport log @Rapport coffee”: the first mention addresses the bot, the second is
    # whom the line is about.
    assert await teams.say(f"log <at>{DEFAULT_BOT_NAME}</at> coffee",
                           conversation_type="channel", mentions_bot=True,
                           mentions=[(DEFAULT_BOT_ID, DEFAULT_BOT_NAME)]) == 201
    [private] = teams.connector.sent_to(PERSONAL)
    assert "Rapport is a bot, not a person" in private.body["text"]
    [public] = teams.connector.sent_to(CHANNEL)
    assert public.text == PRIVATE_SENT and "not a person" not in json.dumps(public.body)
    assert await teams.rows(Contact) == []
    assert await teams.rows(Touchpoint) == []
