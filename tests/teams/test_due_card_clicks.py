"""A button on `due`'s card: the clicked nudge's buttons give way to what happened, and the rest
of the card (the other nudges with their buttons, who is overdue or coming up) stays, redrawn
from what Rapport keeps for the person now."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.bot_connector import ReceivedActivity
from tests.fakes.teams_activities import teams_card_action_invoke, teams_message_back
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _actions, _card, _install
from tests.teams.test_teams_bot import teams as teams


def _texts(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for key, value in node.items():
                if key != "card":  # a ShowCard's form, not what the card says
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card["body"])
    return found


def _buttons_of(card: dict[str, Any]) -> set[int]:
    return {a["data"]["nudge_id"] for a in _actions(card) if "data" in a}


async def _due_card(teams: TeamsHarness, people: tuple[str, ...], ask: str = "due"
                    ) -> ReceivedActivity:
    """Notes due today about `people`, delivered; Cleo's trip on Friday; then `ask`."""
    await _install(teams)
    for name in (*people, "Cleo"):
        assert await teams.say(f"add {name}") == 201
    for name in people:
        assert await teams.say(f"note {name}: the offsite on today") == 201
    assert await teams.say("note Cleo: her trip on friday") == 201
    await teams.runtime.sweeper.sweep()
    teams.connector.reset()
    assert await teams.say(ask) == 201
    [due] = teams.connector.sent_to(PERSONAL)
    teams.connector.reset()
    return due


@pytest.mark.parametrize(("ask", "rest"), [
    ("due", "Coming up:"),
    ("who haven't I talked to lately?", "No conversation logged yet: Cleo.")])
async def test_done_on_the_due_card_keeps_the_rest_of_it(
        teams: TeamsHarness, ask: str, rest: str) -> None:
    due = await _due_card(teams, ("Ana",), ask)
    before = _texts(_card(due))
    assert rest in before and any("Cleo" in text for text in before)
    done = next(a for a in _actions(_card(due)) if a.get("verb") == "done")

    status, body = await teams.post(teams_card_action_invoke(
        done["data"], verb="done", service_url=teams.url, reply_to_id=due.activity_id))

    assert status == 200
    card = body["value"]
    [update] = teams.connector.updates()
    assert update.activity_id == due.activity_id
    assert update.body["attachments"][0]["content"] == card
    texts = _texts(card)
    assert texts[0] == "Due now"
    assert any("Nice. Logged" in text for text in texts)
    assert rest in texts and any("Cleo" in text for text in texts)
    assert _buttons_of(card) == set()


async def test_a_click_on_the_due_card_leaves_the_other_nudges_buttons(
        teams: TeamsHarness) -> None:
    due = await _due_card(teams, ("Ana", "Ben"))
    card = _card(due)
    assert len(_buttons_of(card)) == 2
    first = next(a for a in _actions(card) if a.get("verb") == "snooze_1d")

    # Action.Submit (clients without Universal Actions) redraws the card the same way.
    assert (await teams.post(teams_message_back(
        first["fallback"]["data"], service_url=teams.url, reply_to_id=due.activity_id)))[0] \
        == 201

    [update] = teams.connector.updates()
    redrawn = update.body["attachments"][0]["content"]
    texts = _texts(redrawn)
    assert texts[0] == "Due now" and "Coming up:" in texts
    assert any(text.startswith("Snoozed") for text in texts)
    [left] = _buttons_of(redrawn)
    assert left != first["data"]["nudge_id"]
    # The rest is read again: the snoozed reminder is coming up now.
    assert "  Ask Ana about the offsite tomorrow" in texts

    teams.connector.reset()
    done = next(a for a in _actions(redrawn) if a.get("verb") == "done")
    _status, body = await teams.post(teams_card_action_invoke(
        done["data"], verb="done", service_url=teams.url, reply_to_id=due.activity_id))
    texts = _texts(body["value"])
    assert texts[0] == "Due now" and "Coming up:" in texts
    assert "1 more already handled." in texts and _buttons_of(body["value"]) == set()
