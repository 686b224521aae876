"""`settings` typed in Teams, through the real adapter: only what a Teams user can change."""

from __future__ import annotations

import json

from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _install,
    teams,
)


async def test_teams_settings_name_calendars_and_not_slack_dms(teams: TeamsHarness  # noqa: F811
                                                               ) -> None:
    await _install(teams)
    teams.connector.reset()
    assert await teams.say("settings") == 201
    [answer] = teams.connector.sent_to(PERSONAL)
    text = json.dumps(answer.body, ensure_ascii=False)
    assert "• Calendars: none connected (“connect calendar”)" in text
    # Slack DMs can only be logged from Slack: a Teams user was shown "Slack DMs …: off".
    assert "Slack" not in text
