"""Mentions in Teams that are not one person: a channel, a group chat's "Everyone" (both
conversation ids, "19:…"), a tag. Refused as Slack refuses @channel and user groups, nothing
stored; and whatever a mention looks like, Teams' markup (`<at>…</at>`) and the core's token
(`<@…>`) are never shown back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.bot.platforms.teams.handler import PRIVATE_SENT
from rapport.storage.models import Contact, Note, Touchpoint
from tests.fakes.teams_activities import DEFAULT_BOT_ID, DEFAULT_BOT_NAME, teams_message_activity
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _install
from tests.teams.test_teams_bot import teams as teams

CHANNEL_MENTION = {"type": "mention", "text": "<at>General</at>",
                   "mentioned": {"id": "19:0a1b2c3d4e5f@thread.tacv2", "name": "General"}}
TAG_MENTION = {"type": "mention", "text": "<at>Engineering</at>",
               "mentioned": {"id": "MmRkNjNlNDQtZjA5Ny00Yz==", "name": "Engineering",
                             "type": "tag"}}
EVERYONE_MENTION = {"type": "mention", "text": "<at>Everyone</at>",
                    "mentioned": {"id": "19:group-chat-1@thread.v2", "name": "Everyone"}}


async def _post(teams: TeamsHarness, text: str, entities: list[dict[str, Any]],
                **kwargs: Any) -> str:
    """`text` with exactly these mention entities (as Teams sends them); every answer the
    bot sent, as one string."""
    teams.connector.reset()
    activity = teams_message_activity(text, service_url=teams.url, **kwargs)
    activity["entities"] = entities + [e for e in activity["entities"]
                                       if e["type"] != "mention"]
    status, _ = await teams.post(activity)
    assert status == 201
    return json.dumps([a.body for a in teams.connector.sent()], ensure_ascii=False)


def _no_markup(answer: str) -> None:
    assert "<@" not in answer and "<at>" not in answer and "&amp;" not in answer \
        and "&#" not in answer, answer


@pytest.mark.parametrize("line", ["add {m}", "log {m} standup", "note {m}: ships on Friday",
                                  "{m}"])
@pytest.mark.parametrize(("mention", "name"), [(CHANNEL_MENTION, "General"),
                                               (TAG_MENTION, "Engineering")])
async def test_a_channel_or_a_tag_is_refused_as_no_person_and_nothing_is_stored(
        teams: TeamsHarness, line: str, mention: dict[str, Any], name: str) -> None:
    await _install(teams)
    answer = await _post(teams, line.format(m=mention["text"]), [mention])
    assert f"@{name} is a group, not a person" in answer
    _no_markup(answer)
    assert await teams.rows(Contact) == []
    assert await teams.rows(Touchpoint) == []
    assert await teams.rows(Note) == []


async def test_everyone_in_a_group_chat_is_refused_privately(teams: TeamsHarness) -> None:
    await _install(teams)
    bot = {"type": "mention", "text": f"<at>{DEFAULT_BOT_NAME}</at>",
           "mentioned": {"id": DEFAULT_BOT_ID, "name": DEFAULT_BOT_NAME}}
    teams.connector.reset()
    activity = teams_message_activity("log <at>Everyone</at> lunch", service_url=teams.url,
                                      conversation_type="groupChat", mentions_bot=True)
    activity["entities"] = [bot, EVERYONE_MENTION] + [
        e for e in activity["entities"] if e["type"] != "mention"]
    status, _ = await teams.post(activity)
    assert status == 201
    [private] = teams.connector.sent_to(PERSONAL)
    assert "@Everyone is a group, not a person" in private.body["text"]
    _no_markup(private.body["text"])
    [public] = [a for a in teams.connector.sent() if a.conversation_id != PERSONAL]
    assert public.body["text"] == PRIVATE_SENT
    assert await teams.rows(Contact) == []


async def test_a_mention_teams_sent_without_its_text_is_still_the_person(
        teams: TeamsHarness) -> None:
    # Teams leaves `text` out of a mention whose name has "&" in it; the message's text has
    # the name HTML-escaped.
    await _install(teams)
    textless = {"type": "mention", "mentioned": {"id": "29:test", "name": "Test ($~&)"}}
    answer = await _post(teams, "log <at>Test ($~&amp;)</at> lunch", [textless])
    _no_markup(answer)
    assert "Logged lunch with Test ($~&)." in answer
    [contact] = await teams.rows(Contact)
    assert (contact.name, contact.platform_user_id) == ("Test ($~&)", "29:test")


async def test_markup_no_mention_explains_is_read_as_the_name_it_shows(
        teams: TeamsHarness) -> None:
    await _install(teams)
    answer = await _post(teams, "show <at>Zoë O&#39;Brien</at>", [])
    _no_markup(answer)
    assert "“Zoë O'Brien”" in answer
    assert await teams.rows(Contact) == []
