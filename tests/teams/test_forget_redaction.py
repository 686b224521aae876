"""Teams: a nudge card already delivered about someone forgotten is updated (PUT activity,
through the real CloudAdapter to the fake Connector) to a neutral text without buttons, by
the scheduler's job after `forget Dana` or `forget me`; a card Teams says is gone (404) is
dropped rather than retried."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from rapport.storage.models import MessageRedaction
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _deliver_nudge,
    teams,
)


async def _queued(teams: TeamsHarness) -> int:  # noqa: F811
    async with teams.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MessageRedaction))
                   or 0)


async def test_forget_dana_clears_her_delivered_card(teams: TeamsHarness) -> None:  # noqa: F811
    _nudge, delivered = await _deliver_nudge(teams)
    assert _actions(_card(delivered)) and "Dana" in json.dumps(delivered.body)
    assert await teams.say("forget Dana confirm") == 201
    assert await _queued(teams) == 1 and teams.connector.updates() == []
    assert await teams.runtime.redact_pending() == 1
    [update] = teams.connector.updates()
    assert update.conversation_id == PERSONAL and update.activity_id == delivered.activity_id
    card = _card(update)
    assert "This reminder was about someone you asked Rapport to forget." in json.dumps(card)
    # (The fixture's Teams user is herself called Dana Scully: the card is what must not
    # name the contact.)
    assert _actions(card) == [] and "Dana" not in json.dumps(card)
    assert "launch" not in json.dumps(update.body)
    assert await _queued(teams) == 0


async def test_forget_me_clears_the_card_even_with_the_conversation_reference_deleted(
        teams: TeamsHarness) -> None:  # noqa: F811
    _nudge, delivered = await _deliver_nudge(teams)
    assert await teams.say("forget me confirm") == 201
    assert await teams.runtime.redact_pending() == 1
    [update] = teams.connector.updates()
    assert update.activity_id == delivered.activity_id
    assert "delete everything it stored for you" in json.dumps(update.body)
    assert _actions(_card(update)) == []


async def test_a_card_teams_no_longer_has_is_dropped(teams: TeamsHarness) -> None:  # noqa: F811
    await _deliver_nudge(teams)
    assert await teams.say("forget Dana confirm") == 201
    teams.connector.fail_next(404, conversation_id=PERSONAL)
    assert await teams.runtime.redact_pending() == 0
    assert await _queued(teams) == 0 and teams.connector.updates() == []
    teams.clock.advance(hours=1)
    assert await teams.runtime.redact_pending() == 0
