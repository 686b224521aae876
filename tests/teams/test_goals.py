"""Goals and suggestions in Teams: Activity JSON into the real app, cards at the fake Connector."""

from __future__ import annotations

import base64
import json
import struct
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from rapport.bot.platforms.teams.cards import SUGGESTION_VERBS
from rapport.scheduler import suggestions as rules
from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage.models import Contact, Note, Suggestion, User
from tests.conftest import MONDAY_10_UTC, snapshot
from tests.connectors.seed import seed_met_twice
from tests.fakes.teams_activities import teams_card_action_invoke, teams_message_back
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    FOX,
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _install,
    teams,
)

CLIENTS = ("Ana Diaz", "Ben Ng", "Cy Ode", "Di Park", "Ed Roy", "Fay Soto", "Gus Tam",
           "Hal Udo", "Ivy Vo")
NOW = MONDAY_10_UTC + timedelta(weeks=20)
ALT = "Goal attainment over the last 8 weeks: Clients from 56% to 78%."


async def _say(teams: TeamsHarness, *lines: str, **kwargs: Any) -> None:  # noqa: F811
    for line in lines:
        assert await teams.say(line, **kwargs) == 201, line


def _texts(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    return found


async def test_stats_card_leads_with_goals_and_an_inline_trend_chart(
        teams: TeamsHarness) -> None:  # noqa: F811
    teams.clock.set(NOW - timedelta(weeks=20))
    await _say(teams, *(f"add {name} client at Initech #clients" for name in CLIENTS),
               "goal clients every month")
    teams.clock.set(NOW - timedelta(days=66))
    await _say(teams, *(f'log "{name}" call' for name in CLIENTS[:5]))
    teams.clock.set(NOW - timedelta(days=10))
    await _say(teams, *(f'log "{name}" coffee' for name in CLIENTS[:7]))
    teams.clock.set(NOW)
    teams.connector.reset()

    assert await teams.say("stats") == 201

    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    texts = _texts(card)
    assert texts[:3] == ["How it is going", "Goals",
                         "Clients: 7 of 9 within a month (78%), up from 56%"]
    [image] = [block for block in card["body"] if block["type"] == "Image"]
    assert image["altText"] == ALT and ALT in texts
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    png = base64.b64decode(image["url"][len(prefix):])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (320, 128)
    assert len(json.dumps(reply.body)) < 25_000  # inside Teams' message limit
    facts = {fact["title"]: fact["value"] for block in card["body"]
             if block["type"] == "FactSet" for fact in block["facts"]}
    assert facts["Conversations"] == "0 this week, 7 in 30 days"


async def _coffee_suggestion(teams: TeamsHarness) -> int:  # noqa: F811
    await _install(teams)
    await _say(teams, "add Marco Polo", "log Marco lunch")
    for text in ("the new baby", "moving to Lisbon", "the Q3 budget"):
        teams.clock.advance(days=1)
        await _say(teams, f"note Marco: {text}")
    teams.clock.advance(days=31)
    assert await rules.make_suggestions(teams.runtime.rapport.db, teams.clock.now) == 1
    async with teams.runtime.sessions() as session:
        suggestion_id = await session.scalar(select(Suggestion.id))
    assert suggestion_id is not None
    return suggestion_id


async def test_suggestions_card_accept_updates_the_card_and_plans_the_coffee(
        teams: TeamsHarness) -> None:  # noqa: F811
    suggestion_id = await _coffee_suggestion(teams)
    teams.connector.reset()
    assert await teams.say("suggestions") == 201
    [listed] = teams.connector.sent_to(PERSONAL)
    card = _card(listed)
    assert (f"💡 Suggestion {suggestion_id}: Three things to ask Marco about are waiting. "
            "Plan a coffee?") in _texts(card)
    actions = [a for a in _actions(card) if a["type"] == "Action.Execute"]
    assert {a["verb"] for a in actions} == set(SUGGESTION_VERBS)
    accept = next(a for a in actions if a["verb"] == "suggestion_accept")
    assert accept["data"]["suggestion_id"] == suggestion_id

    status, body = await teams.post(teams_card_action_invoke(
        accept["data"], verb="suggestion_accept", service_url=teams.url,
        reply_to_id=listed.activity_id))

    assert status == 200
    assert "Done. I'll remind you tomorrow to ask Marco for a coffee." in json.dumps(
        body["value"], ensure_ascii=False)
    [update] = teams.connector.updates()
    updated = update.body["attachments"][0]["content"]
    assert _actions(updated) == []
    async with teams.runtime.sessions() as session:
        row = await session.scalar(select(Suggestion))
        note = await session.scalar(select(Note).where(Note.follow_up_on.is_not(None)))
    assert row is not None and row.status == "accepted"
    assert note is not None and note.text == "a coffee to catch up on what you noted"


@pytest.mark.parametrize("verb", sorted(SUGGESTION_VERBS))
async def test_another_users_click_on_a_suggestion_is_refused(
        teams: TeamsHarness, verb: str) -> None:  # noqa: F811
    suggestion_id = await _coffee_suggestion(teams)
    assert await teams.say("help", **FOX) == 201
    teams.connector.reset()
    before = await snapshot(teams.engine)
    data = {"rapport": "suggestion", "verb": verb, "suggestion_id": suggestion_id,
            "card_suggestions": [suggestion_id]}

    status, body = await teams.post(teams_card_action_invoke(
        data, verb=verb, service_url=teams.url, reply_to_id="1:card", **FOX))
    await teams.post(teams_message_back(data, service_url=teams.url, reply_to_id="1:card",
                                        **FOX))

    assert status == 200 and body["value"] == (
        f"I can't find suggestion {suggestion_id} among yours;"
        " it may have been withdrawn (“suggestions” lists the open ones).")
    assert teams.connector.updates() == []
    assert "Marco" not in json.dumps([a.body for a in teams.connector.sent()])
    assert await snapshot(teams.engine) == before


async def test_weekly_summary_card_carries_the_suggestion(
        teams: TeamsHarness) -> None:  # noqa: F811
    suggestion_id = await _coffee_suggestion(teams)
    await _say(teams, "settings window 0:00-24:00", "settings days all")
    teams.connector.reset()
    friday = teams.clock.now + timedelta(days=(4 - teams.clock.now.weekday()) % 7)
    report = await send_weekly_summaries(teams.runtime.sessions, teams.runtime.messengers,
                                         friday)
    assert report.sent == 1
    [summary] = teams.connector.sent_to(PERSONAL)
    card = _card(summary)
    assert "I have a suggestion for you below." in _texts(card)
    keep = next(a for a in _actions(card) if a.get("verb") == "suggestion_keep")
    status, _ = await teams.post(teams_message_back(keep["fallback"]["data"],
                                                    service_url=teams.url,
                                                    reply_to_id=summary.activity_id))
    assert status == 201
    async with teams.runtime.sessions() as session:
        row = await session.get(Suggestion, suggestion_id)
    assert row is not None and row.status == "kept"


async def test_per_person_ai_control_and_tags_by_teams_message(
        teams: TeamsHarness) -> None:  # noqa: F811
    await _say(teams, "add Dana Scully", "tag Dana clients", "set Dana ai off")
    teams.connector.reset()
    assert await teams.say("set Dana sensitive") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.text == ("Marked Dana Scully as sensitive: no drafts for Dana, AI or template. "
                          "Write to Dana personally.")
    teams.connector.reset()
    assert await teams.say("draft Dana") == 201
    [answer] = teams.connector.sent_to(PERSONAL)
    assert "write to Dana personally" in (answer.text or "")
    assert not answer.body.get("attachments")
    async with teams.runtime.sessions() as session:
        dana = await session.scalar(select(Contact))
    assert dana is not None and (dana.ai_drafts, dana.sensitive) == (False, True)
    teams.connector.reset()
    assert await teams.say("people #clients") == 201
    [people] = teams.connector.sent_to(PERSONAL)
    assert people.text == ("Your people tagged clients:\n  Dana Scully (colleague) #clients: no "
                           "conversation logged")


async def test_an_offer_to_add_someone_met_is_added_from_its_card(
        teams: TeamsHarness) -> None:  # noqa: F811
    await _install(teams)
    assert await teams.say("help") == 201
    async with teams.runtime.sessions() as session:
        user = (await session.scalars(select(User).order_by(User.id))).first()
    assert user is not None
    await seed_met_twice(teams.runtime.sessions, user.id, user.workspace_id, teams.clock.now)
    assert await rules.make_suggestions(teams.runtime.rapport.db, teams.clock.now) == 1
    async with teams.runtime.sessions() as session:
        suggestion_id = await session.scalar(select(Suggestion.id))
    teams.connector.reset()
    assert await teams.say("suggestions") == 201
    [listed] = teams.connector.sent_to(PERSONAL)
    card = _card(listed)
    assert (f"💡 Suggestion {suggestion_id}: You met Sam Lee twice this month. Add to your "
            "people?") in _texts(card)
    actions = [a for a in _actions(card) if a["type"] == "Action.Execute"]
    assert [a["title"] for a in actions] == ["Add", "Not now", "Never"]
    accept = actions[0]
    # Another user's click is refused with nothing changed.
    assert await teams.say("help", **FOX) == 201
    before = await snapshot(teams.engine)
    status, body = await teams.post(teams_card_action_invoke(
        accept["data"], verb="suggestion_accept", service_url=teams.url,
        reply_to_id=listed.activity_id, **FOX))
    assert status == 200 and body["value"] == (
        f"I can't find suggestion {suggestion_id} among yours;"
        " it may have been withdrawn (“suggestions” lists the open ones).")
    assert await snapshot(teams.engine) == before
    # The owner's Add.
    status, body = await teams.post(teams_card_action_invoke(
        accept["data"], verb="suggestion_accept", service_url=teams.url,
        reply_to_id=listed.activity_id))
    assert status == 200
    assert "Added Sam Lee" in json.dumps(body["value"], ensure_ascii=False)
    async with teams.runtime.sessions() as session:
        sam = await session.scalar(select(Contact).where(Contact.name == "Sam Lee"))
        row = await session.scalar(select(Suggestion))
    assert sam is not None and sam.email == "sam.lee@globex.com"
    assert row is not None and row.status == "accepted"
