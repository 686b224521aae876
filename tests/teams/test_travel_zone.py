"""Teams says where a person is in every message (the clientInfo entity): a new zone there is
applied at once, also for someone Rapport already knows, unless they chose one with
`settings tz`."""

from __future__ import annotations

from rapport.storage.models import User
from tests.fakes.teams_activities import teams_conversation_update_activity
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _install
from tests.teams.test_teams_bot import teams as teams


async def _zones(teams: TeamsHarness) -> list[tuple[str, bool]]:
    return [(user.tz, user.tz_from_platform) for user in await teams.rows(User)]


async def test_installed_without_a_zone_then_messages_from_new_york(teams: TeamsHarness
                                                                    ) -> None:
    installed = teams_conversation_update_activity(service_url=teams.url)
    del installed["localTimezone"], installed["localTimestamp"]
    status, _ = await teams.post(installed)
    assert status == 201
    assert await _zones(teams) == [("UTC", True)]

    assert await teams.say("add Dana every 1 week", local_timezone="America/New_York") == 201
    assert await teams.say("settings", local_timezone="America/New_York") == 201

    assert await _zones(teams) == [("America/New_York", True)]
    assert "Time zone: America/New_York" in (teams.connector.sent_to(PERSONAL)[-1].text or "")


async def test_a_berlin_user_who_flies_to_new_york(teams: TeamsHarness) -> None:
    await _install(teams, local_timezone="Europe/Berlin")
    assert await teams.say("add Dana", local_timezone="Europe/Berlin") == 201
    assert await _zones(teams) == [("Europe/Berlin", True)]

    assert await teams.say("log Dana coffee", local_timezone="America/New_York") == 201

    assert await _zones(teams) == [("America/New_York", True)]


async def test_a_zone_set_with_settings_tz_stays_when_teams_reports_another(
        teams: TeamsHarness) -> None:
    await _install(teams, local_timezone="Europe/Berlin")
    assert await teams.say("settings tz Europe/Lisbon", local_timezone="Europe/Berlin") == 201

    assert await teams.say("due", local_timezone="America/New_York") == 201
    assert await teams.say("settings", local_timezone="America/New_York") == 201

    assert await _zones(teams) == [("Europe/Lisbon", False)]
    assert "Time zone: Europe/Lisbon" in (teams.connector.sent_to(PERSONAL)[-1].text or "")
