"""`due` in Teams with more open nudges than a card holds (10) and than the core lists (50):
the card counts the rest instead of dropping them silently."""

from __future__ import annotations

from rapport.bot.core.context import Actor
from tests.bot.test_due_many import PEOPLE, seed_many_due
from tests.fakes.teams_activities import DEFAULT_AAD_OBJECT_ID, DEFAULT_TENANT_ID
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _card,
    _install,
    teams,
)


async def test_due_card_counts_the_nudges_it_does_not_show(teams: TeamsHarness) -> None:  # noqa: F811
    await _install(teams)
    actor = Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
                  user_external_id=DEFAULT_AAD_OBJECT_ID)
    await seed_many_due(teams.runtime.rapport, teams.clock, actor)
    teams.connector.reset()

    assert await teams.say("due") == 201

    [answer] = teams.connector.sent_to(PERSONAL)
    body = _card(answer)["body"]
    shown = sum(block["type"] == "Container" for block in body)
    texts = [block.get("text", "") for block in body]
    # As many nudges with their buttons as fit in one Teams message, then the count.
    assert 0 < shown <= 10
    assert f"… and {PEOPLE - shown} more; answer these and “due” shows the next ones." in texts
    assert "  Talk to Zed Later Thu Nov 26" in texts
