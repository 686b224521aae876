"""Teams: a meeting brief card and a weekly summary already delivered are updated (PUT
activity, through the real CloudAdapter to the fake Connector) to a neutral text without
buttons when someone they name is forgotten, or after `forget me`."""

from __future__ import annotations

import json
from datetime import timedelta

from rapport.scheduler.summary import send_weekly_summaries
from tests.fakes.bot_connector import ReceivedActivity
from tests.teams.test_brief_card import meeting_soon_with
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _install,
    teams,
)


async def _brief_and_summary(teams: TeamsHarness  # noqa: F811
                             ) -> tuple[ReceivedActivity, ReceivedActivity]:
    """Lee Adama is due with something to ask about: a brief for a meeting with him, then
    the weekly summary that names him."""
    await meeting_soon_with(teams, "Lee Adama", (
        "add Lee Adama every 1 week", "log Lee coffee 10 days ago",
        "note Lee: the hiking trip in Yosemite", "settings window 0:00-24:00",
        "settings days all"))
    assert await teams.runtime.brief_job().run_once() == 1
    friday = teams.clock.now + timedelta(days=(4 - teams.clock.now.weekday()) % 7)
    report = await send_weekly_summaries(teams.runtime.sessions, teams.runtime.messengers,
                                         friday)
    assert report.sent == 1
    brief, summary = teams.connector.sent_to(PERSONAL)
    assert "Meeting with Lee Adama" in json.dumps(_card(brief)) and _actions(_card(brief))
    assert "Lee Adama" in json.dumps(summary.body)
    teams.connector.reset()
    return brief, summary


async def test_forget_lee_clears_the_brief_and_the_summary_naming_him(
        teams: TeamsHarness) -> None:  # noqa: F811
    brief, summary = await _brief_and_summary(teams)
    assert await teams.say("forget Lee confirm") == 201
    assert await teams.runtime.redact_pending() == 2
    updates = {update.activity_id: update for update in teams.connector.updates()}
    assert set(updates) == {brief.activity_id, summary.activity_id}
    cleared_brief = json.dumps(_card(updates[brief.activity_id]))
    assert "This meeting brief named someone you asked Rapport to forget" in cleared_brief
    cleared_summary = json.dumps(_card(updates[summary.activity_id]))
    assert "This weekly summary named someone you asked Rapport to forget" in cleared_summary
    for update in updates.values():
        assert update.conversation_id == PERSONAL and _actions(_card(update)) == []
        assert "Lee" not in json.dumps(update.body) and "Yosemite" not in json.dumps(update.body)


async def test_forget_me_clears_the_brief_and_the_summary(
        teams: TeamsHarness) -> None:  # noqa: F811
    brief, summary = await _brief_and_summary(teams)
    assert await teams.say("forget me confirm") == 201
    await teams.runtime.redact_pending()
    updates = {update.activity_id: update for update in teams.connector.updates()}
    assert set(updates) == {brief.activity_id, summary.activity_id}
    for update in updates.values():
        assert "delete everything it stored for you" in json.dumps(update.body)
