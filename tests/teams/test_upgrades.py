"""An app upgrade is no installation: Teams sends installationUpdate with `add-upgrade` (and
`remove-upgrade` before it) when the app's version changes, and botbuilder hands both to the
same handlers as `add` and `remove`. An upgrade posts no welcome again in a team or group chat
and does not mark anyone as having removed the app."""

from __future__ import annotations

from rapport.bot.platforms.teams.handler import CHANNEL_WELCOME
from rapport.storage.models import User
from tests.conftest import snapshot
from tests.fakes.teams_activities import ConversationType, teams_installation_update_activity
from tests.teams.test_teams_bot import CHANNEL, PERSONAL, TeamsHarness, _install
from tests.teams.test_teams_bot import teams as teams

GROUP_CHAT = "19:group-chat-1@thread.v2"
SHARED: tuple[ConversationType, ...] = ("channel", "groupChat")


async def test_an_upgrade_in_a_channel_or_group_chat_welcomes_no_one_again(
        teams: TeamsHarness) -> None:
    for kind in SHARED:
        status, _ = await teams.post(teams_installation_update_activity(
            service_url=teams.url, action="add", conversation_type=kind))
        assert status in (200, 201)
    assert [a.text for a in teams.connector.sent()] == [CHANNEL_WELCOME, CHANNEL_WELCOME]
    teams.connector.reset()

    for kind in SHARED:
        for action in ("remove-upgrade", "add-upgrade"):
            status, _ = await teams.post(teams_installation_update_activity(
                service_url=teams.url, action=action, conversation_type=kind))
            assert status in (200, 201)

    assert teams.connector.sent() == []
    assert teams.connector.sent_to(CHANNEL) == teams.connector.sent_to(GROUP_CHAT) == []


async def test_an_upgrade_in_the_personal_chat_keeps_the_user_active_and_stores_nothing(
        teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    before = await snapshot(teams.engine)
    teams.connector.reset()

    status, _ = await teams.post(teams_installation_update_activity(
        service_url=teams.url, action="remove-upgrade"))
    assert status in (200, 201)
    [user] = await teams.rows(User)
    assert (user.active, user.inactive_reason) == (True, None)

    status, _ = await teams.post(teams_installation_update_activity(
        service_url=teams.url, action="add-upgrade"))
    assert status in (200, 201)
    assert await snapshot(teams.engine) == before
    assert teams.connector.sent_to(PERSONAL) == []


async def test_a_real_removal_still_stops_nudges(teams: TeamsHarness) -> None:
    await _install(teams)
    status, _ = await teams.post(teams_installation_update_activity(
        service_url=teams.url, action="remove"))
    assert status in (200, 201)
    [user] = await teams.rows(User)
    assert (user.active, user.inactive_reason) == (False, "uninstalled")
