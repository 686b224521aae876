"""Card actions in Teams, as Activity JSON over HTTP through the real botbuilder adapter.

A click that arrives from a group chat or channel (only a forged or forwarded card can be there:
Rapport posts cards in personal chats only) changes nothing and posts only a neutral line there.
A malformed ``adaptiveCard/action`` invoke is refused with a 400 that says why, never a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from rapport.bot.platforms.teams.handler import CARDS_ARE_PERSONAL
from rapport.storage.models import Contact, Nudge
from tests.conftest import snapshot
from tests.fakes.teams_activities import (
    ConversationType,
    default_conversation_id,
    teams_card_action_invoke,
    teams_message_activity,
    teams_message_back,
)
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _install
from tests.teams.test_teams_bot import teams as teams

# The contact's name and note: neither may reach a group. (The user is "Dana Scully", whose
# name a reply to her carries as its recipient anyway.)
CONTACT = "Walter Skinner"
NOTE = "the budget hearing"
PRIVATE_WORDS = ("Walter", "Skinner", "budget hearing")
NOT_PERSONAL: tuple[ConversationType, ...] = ("groupChat", "channel")


async def _nudged_about_walter(teams: TeamsHarness) -> tuple[Nudge, Contact, str]:
    """Dana's nudge about Walter, delivered by the real Sweeper; returns the card's message id."""
    await _install(teams)
    assert await teams.say(f"add {CONTACT}") == 201
    assert await teams.say(f"note Walter: {NOTE} on today") == 201
    teams.connector.reset()
    report = await teams.runtime.sweeper.sweep()
    assert report.sent == 1, report
    [nudge] = await teams.rows(Nudge)
    [contact] = await teams.rows(Contact)
    [card] = teams.connector.sent_to(PERSONAL)
    teams.connector.reset()
    return nudge, contact, card.activity_id


def _reveals_nothing(payload: object) -> None:
    text = json.dumps(payload)
    assert not any(word in text for word in PRIVATE_WORDS), text


@pytest.mark.parametrize("conversation_type", NOT_PERSONAL)
@pytest.mark.parametrize("verb", ["person_show", "draft"])
async def test_action_submit_outside_the_personal_chat_posts_only_a_neutral_line(
        teams: TeamsHarness, conversation_type: ConversationType, verb: str) -> None:
    nudge, contact, _card_id = await _nudged_about_walter(teams)
    value = {"rapport": "person", "verb": verb, "contact_id": contact.id} \
        if verb == "person_show" else {"rapport": "nudge", "verb": verb, "nudge_id": nudge.id}
    before = await snapshot(teams.engine)

    status, _ = await teams.post(teams_message_back(value, service_url=teams.url,
                                                    conversation_type=conversation_type))

    assert status == 201
    [answer] = teams.connector.sent()
    assert answer.conversation_id == default_conversation_id(conversation_type)
    assert answer.text == CARDS_ARE_PERSONAL and "attachments" not in answer.body
    _reveals_nothing(answer.body)
    assert teams.connector.updates() == []
    assert await snapshot(teams.engine) == before  # no draft, touchpoint or reference


@pytest.mark.parametrize("conversation_type", NOT_PERSONAL)
async def test_done_invoke_outside_the_personal_chat_changes_and_reveals_nothing(
        teams: TeamsHarness, conversation_type: ConversationType) -> None:
    nudge, _contact, card_id = await _nudged_about_walter(teams)
    before = await snapshot(teams.engine)

    status, body = await teams.post(teams_card_action_invoke(
        {"rapport": "nudge", "verb": "done", "nudge_id": nudge.id}, verb="done",
        service_url=teams.url, conversation_type=conversation_type, reply_to_id=card_id))

    # The invoke's answer is shown to the clicker only; the card stays as it was.
    assert status == 200 and body["value"] == CARDS_ARE_PERSONAL
    _reveals_nothing(body)
    assert teams.connector.requests == []
    [after] = await teams.rows(Nudge)
    assert after.status == nudge.status
    assert await snapshot(teams.engine) == before  # no touchpoint logged


async def test_the_same_clicks_in_the_personal_chat_still_act(teams: TeamsHarness) -> None:
    nudge, contact, card_id = await _nudged_about_walter(teams)

    await teams.post(teams_message_back(
        {"rapport": "person", "verb": "person_show", "contact_id": contact.id},
        service_url=teams.url))
    status, body = await teams.post(teams_card_action_invoke(
        {"rapport": "nudge", "verb": "done", "nudge_id": nudge.id}, verb="done",
        service_url=teams.url, reply_to_id=card_id))

    [person, ack] = teams.connector.sent_to(PERSONAL)
    assert CONTACT in json.dumps(person.body) and ack.text == f"Here is {CONTACT}."
    assert status == 200 and "Walter" in json.dumps(body["value"])
    [update] = teams.connector.updates()
    assert update.activity_id == card_id
    [after] = await teams.rows(Nudge)
    assert after.status == "done"


_MISSING = object()
MALFORMED_VALUES: dict[str, object] = {
    "value missing": _MISSING,
    "value null": None,
    "value empty": {},
    "action null": {"action": None},
    "action a string": {"action": "done"},
    "Action.Submit": {"action": {"type": "Action.Submit", "data": {}}},
    "no action type": {"action": {"verb": "done", "data": {}}},
    "value a list": [{"action": {"type": "Action.Execute", "verb": "done"}}],
}


@pytest.mark.parametrize("value", list(MALFORMED_VALUES.values()), ids=list(MALFORMED_VALUES))
async def test_malformed_adaptive_card_invoke_is_a_clear_400(
        teams: TeamsHarness, caplog: pytest.LogCaptureFixture, value: object) -> None:
    await _install(teams)
    teams.connector.reset()
    invoke: dict[str, Any] = teams_message_activity("", service_url=teams.url)
    for field in ("text", "textFormat", "attachments"):
        invoke.pop(field)
    invoke.update(type="invoke", name="adaptiveCard/action")
    if value is not _MISSING:
        invoke["value"] = value
    before = await snapshot(teams.engine)

    with caplog.at_level(logging.INFO):
        status, body = await teams.post(invoke)

    assert status == 400
    assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["code"] in ("BadRequest", "NotSupported") and body["value"]["message"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert teams.connector.requests == []
    assert await snapshot(teams.engine) == before
