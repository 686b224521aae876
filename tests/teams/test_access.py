"""Cross-user and cross-tenant access through every Teams card verb and command argument."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.bot.platforms.teams.handler import NUDGE_VERBS
from rapport.storage.models import Draft
from tests.conftest import snapshot
from tests.fakes.teams_activities import teams_card_action_invoke, teams_message_back
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    FOX,
    FOX_PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _deliver_nudge,
    teams,
)

OTHER_TENANT = "b0e5c7d2-0000-4000-8000-00000000beef"
DRAFT_VERBS = ("draft_post", "draft_copy", "draft_discard")


def _nudge_data(verb: str, nudge_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {"rapport": "nudge", "verb": verb, "nudge_id": nudge_id}
    if verb == "snooze":
        data["snooze_until"] = "2026-12-10"
    return data


@pytest.mark.parametrize("verb", sorted(NUDGE_VERBS))
async def test_another_users_click_on_every_nudge_verb_is_refused(
        teams: TeamsHarness, verb: str) -> None:  # noqa: F811
    nudge, delivered = await _deliver_nudge(teams)
    assert await teams.say("help", **FOX) == 201  # Fox is a user too
    teams.connector.reset()
    before = await snapshot(teams.engine)
    data = _nudge_data(verb, nudge.id)

    status, body = await teams.post(teams_card_action_invoke(
        data, verb=verb, service_url=teams.url, reply_to_id=delivered.activity_id, **FOX))
    await teams.post(teams_message_back(data, service_url=teams.url,
                                        reply_to_id=delivered.activity_id, **FOX))

    assert status == 200 and "can't find nudge" in body["value"], body
    assert teams.connector.updates() == []
    assert "launch" not in json.dumps([a.body for a in teams.connector.sent()])
    assert await snapshot(teams.engine) == before


async def test_every_nudge_verb_from_another_tenant_is_refused(
        teams: TeamsHarness) -> None:  # noqa: F811
    nudge, delivered = await _deliver_nudge(teams)
    assert await teams.say("help", tenant_id=OTHER_TENANT) == 201  # same person, other tenant
    teams.connector.reset()
    before = await snapshot(teams.engine)

    for verb in sorted(NUDGE_VERBS):
        status, body = await teams.post(teams_card_action_invoke(
            _nudge_data(verb, nudge.id), verb=verb, service_url=teams.url,
            reply_to_id=delivered.activity_id, tenant_id=OTHER_TENANT))
        assert status == 200 and "can't find nudge" in body["value"], (verb, body)

    assert teams.connector.updates() == []
    assert await snapshot(teams.engine) == before


@pytest.mark.parametrize("text", ["done #{id}", "snooze #{id} 1 week", "dismiss #{id}",
                                  "draft #{id}"])
async def test_commands_naming_another_users_nudge_are_refused(
        teams: TeamsHarness, text: str) -> None:  # noqa: F811
    nudge, _delivered = await _deliver_nudge(teams)
    assert await teams.say("help", **FOX) == 201
    teams.connector.reset()
    before = await snapshot(teams.engine)

    assert await teams.say(text.format(id=nudge.id), **FOX) == 201

    [answer] = teams.connector.sent_to(FOX_PERSONAL)
    assert "can't find" in (answer.text or "").lower(), answer.text
    assert "launch" not in json.dumps(answer.body)
    assert teams.connector.updates() == []
    after = await snapshot(teams.engine)
    # Talking refreshes Fox's own conversation reference; every other row is untouched.
    assert after["conversation_refs"][0] == before["conversation_refs"][0]
    assert {k: v for k, v in after.items() if k != "conversation_refs"} == \
        {k: v for k, v in before.items() if k != "conversation_refs"}


@pytest.mark.parametrize("verb", DRAFT_VERBS)
async def test_draft_verbs_on_another_users_draft_are_refused(
        teams: TeamsHarness, verb: str) -> None:  # noqa: F811
    _nudge, delivered = await _deliver_nudge(teams)
    draft_button = next(a for a in _actions(_card(delivered)) if a.get("verb") == "draft")
    status, _ = await teams.post(teams_card_action_invoke(
        draft_button["data"], verb="draft", service_url=teams.url,
        reply_to_id=delivered.activity_id))
    assert status == 200
    [draft] = await teams.rows(Draft)
    assert await teams.say("help", **FOX) == 201
    teams.connector.reset()
    before = await snapshot(teams.engine)
    data = {"rapport": "draft", "verb": verb, "draft_id": draft.id,
            "draft_text": "Fox rewrote this completely, launch party at mine"}

    for tenant in ({}, {"tenant_id": OTHER_TENANT}):
        status, body = await teams.post(teams_card_action_invoke(
            data, verb=verb, service_url=teams.url, **FOX, **tenant))
        assert status == 200 and isinstance(body["value"], str), body

    assert teams.connector.updates() == []
    assert await snapshot(teams.engine) == before
    [row] = await teams.rows(Draft)
    assert row.outcome is None and row.final_text is None
