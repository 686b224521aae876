"""After `forget me` Rapport stores nothing about the person until they type a command again.
`@Rapport forget me confirm` in a group chat or channel answers privately without storing a
user or a chat for them; a button on an old card answers that nothing is kept and stores
nothing (as Slack's old buttons do); removing the app afterwards stores nothing either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest_asyncio
from aiohttp import web

from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.handler import NOTHING_KEPT
from rapport.storage.models import ConversationRef, User
from tests.conftest import snapshot
from tests.fakes.bot_connector import BOT_NOT_IN_ROSTER, BotConnectorFake
from tests.fakes.teams_activities import (
    teams_card_action_invoke,
    teams_installation_update_activity,
    teams_message_back,
)
from tests.teams.test_teams_bot import (
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _deliver_nudge,
    _install,
)
from tests.teams.test_teams_bot import teams as teams

GROUP_CHAT = "19:group-chat-1@thread.v2"
DELETED = "Done. Everything Rapport stored for you is deleted."


class NoNewChats(BotConnectorFake):
    """The Connector fake, refusing new 1:1 chats once told to, as Teams does for someone who
    has not installed the app personally (its `fail_next` would hit the next reply first)."""

    refuse_new_chats = False

    async def _create_conversation(self, request: web.Request) -> web.Response:
        if self.refuse_new_chats:
            self._log(request, 403, None)
            return self._error(403, BOT_NOT_IN_ROSTER)
        return await super()._create_conversation(request)


@pytest_asyncio.fixture
async def bot_connector() -> AsyncIterator[NoNewChats]:
    async with NoNewChats() as connector:
        yield connector


async def _until(check: Callable[[], bool], what: str) -> None:
    """Let the event loop run the answer the bot sends after its turn (bounded waits)."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def _said(teams: TeamsHarness, text: str) -> list[str]:
    return [a.conversation_id for a in teams.connector.sent() if a.text == text]


async def _nothing_stored(teams: TeamsHarness) -> bool:
    return await teams.rows(User) == [] and await teams.rows(ConversationRef) == []


async def test_forget_me_in_a_group_chat_answers_in_the_personal_chat_and_stores_nothing(
        teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    teams.connector.reset()

    assert await teams.say("forget me confirm", conversation_type="groupChat",
                           mentions_bot=True) == 201
    await _until(lambda: bool(_said(teams, DELETED)), "the confirmation")

    assert _said(teams, DELETED) == [PERSONAL]
    assert teams.connector.created_conversations == []
    assert await _nothing_stored(teams)


async def test_forget_me_in_a_channel_from_someone_with_no_stored_chat_opens_one_unstored(
        teams: TeamsHarness) -> None:
    # Never wrote to the bot in a personal chat: the first channel command opens one.
    assert await teams.say("add Dana", conversation_type="channel", mentions_bot=True) == 201
    [opened] = teams.connector.created_conversations
    assert [r.conversation_id for r in await teams.rows(ConversationRef)] == \
        [opened.conversation_id]
    # The chat's reference is lost (say, deleted by hand): nothing to answer through.
    async with teams.runtime.sessions() as session, session.begin():
        await session.delete((await teams.rows(ConversationRef))[0])

    assert await teams.say("forget me confirm", conversation_type="channel",
                           mentions_bot=True) == 201
    await _until(lambda: bool(_said(teams, DELETED)), "the confirmation")

    assert _said(teams, DELETED) == [opened.conversation_id]
    assert await _nothing_stored(teams)


async def test_forget_me_in_a_group_chat_with_no_private_chat_possible_answers_there(
        teams: TeamsHarness) -> None:
    assert await teams.say("add Dana", conversation_type="groupChat", mentions_bot=True) == 201
    async with teams.runtime.sessions() as session, session.begin():
        await session.delete((await teams.rows(ConversationRef))[0])
    teams.connector.reset()
    # The app is not installed for them personally: Teams refuses a 1:1 chat.
    assert isinstance(teams.connector, NoNewChats)
    teams.connector.refuse_new_chats = True

    assert await teams.say("forget me confirm", conversation_type="groupChat",
                           mentions_bot=True) == 201
    await _until(lambda: bool(_said(teams, DELETED)), "the confirmation")

    assert _said(teams, DELETED) == [GROUP_CHAT]
    assert await _nothing_stored(teams)


async def test_old_nudge_and_person_buttons_after_forget_me_store_nothing(
        teams: TeamsHarness) -> None:
    _nudge, delivered = await _deliver_nudge(teams)
    done = next(a for a in _actions(_card(delivered)) if a.get("verb") == "done")
    assert await teams.say("show Dana") == 201
    person_card = _card(teams.connector.sent_to(PERSONAL)[-1])
    snooze = next(a for a in _actions(person_card) if a.get("verb") == "person_snooze")
    assert await teams.say("forget me confirm") == 201
    await _until(lambda: bool(_said(teams, DELETED)), "the confirmation")
    assert await _nothing_stored(teams)
    before = await snapshot(teams.engine)
    teams.connector.reset()

    status, body = await teams.post(teams_card_action_invoke(
        done["data"], verb="done", service_url=teams.url, reply_to_id=delivered.activity_id))
    assert status == 200 and body["value"] == NOTHING_KEPT
    status, body = await teams.post(teams_card_action_invoke(
        snooze["data"], verb="person_snooze", service_url=teams.url))
    assert status == 200 and body["value"] == NOTHING_KEPT
    # The same card sent as an Action.Submit (older clients).
    assert (await teams.post(teams_message_back(
        {**done["data"], "verb": "done"}, service_url=teams.url)))[0] == 201
    [refusal] = teams.connector.sent_to(PERSONAL)
    assert refusal.text == NOTHING_KEPT

    assert await snapshot(teams.engine) == before
    assert teams.connector.updates() == []
    # Typing a command is using Rapport again.
    assert await teams.say("due") == 201
    assert len(await teams.rows(User)) == 1


async def test_removing_the_app_after_forget_me_stores_nothing(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("forget me confirm") == 201
    await _until(lambda: bool(_said(teams, DELETED)), "the confirmation")
    before = await snapshot(teams.engine)

    status, _ = await teams.post(teams_installation_update_activity(
        service_url=teams.url, action="remove"))

    assert status in (200, 201)
    assert await snapshot(teams.engine) == before and await _nothing_stored(teams)


async def test_a_button_of_a_user_rapport_keeps_still_works(teams: TeamsHarness) -> None:
    _nudge, delivered = await _deliver_nudge(teams)
    done = next(a for a in _actions(_card(delivered)) if a.get("verb") == "done")

    status, body = await teams.post(teams_card_action_invoke(
        done["data"], verb="done", service_url=teams.url, reply_to_id=delivered.activity_id))

    assert status == 200 and body["type"] == cards.CARD_CONTENT_TYPE
