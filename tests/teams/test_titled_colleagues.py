"""Teams reads the titles before a name from the one list the rest of Rapport keys and greets
by (`rapport.storage.names.TITLES`): a colleague "Sir Alan Jones" is Alan and "Dench, Dame
Judi" is Judi in the welcome and on a brief card's buttons, as anywhere else."""

from __future__ import annotations

import pytest

from rapport.bot.connectors.calendars.briefs import BriefJob
from tests.teams.test_brief_card import meeting_soon_with
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _actions, _card, _install
from tests.teams.test_teams_bot import teams as teams


@pytest.mark.parametrize(("user_name", "greeted"), [
    ("Sir Alan Jones", "Alan"),
    ("Dame Judi Dench", "Judi"),
    ("Dench, Dame Judi", "Judi"),
    ("Jones, Sir Alan (Contractor)", "Alan"),
])
async def test_the_welcome_greets_a_knight_or_dame_by_their_given_name(
        teams: TeamsHarness, user_name: str, greeted: str) -> None:
    await _install(teams, user_name=user_name)
    [welcome] = teams.connector.sent_to(PERSONAL)
    assert welcome.body["text"].startswith(f"Hi {greeted}, I'm Rapport.")


@pytest.mark.parametrize(("name", "called"), [("Sir Alan Jones", "Alan"),
                                              ("Dame Judi Dench", "Judi")])
async def test_a_brief_cards_buttons_call_a_knight_or_dame_by_their_given_name(
        teams: TeamsHarness, name: str, called: str) -> None:
    await meeting_soon_with(teams, name, (f"add {name} every 1 week",
                                          f"log {name} coffee 10 days ago",
                                          f"note {name}: the grant review"))
    job = BriefJob(sessions=teams.runtime.sessions, tell=teams.runtime.tell, clock=teams.clock)
    assert await job.run_once() == 1
    [brief] = teams.connector.sent_to(PERSONAL)
    titles = [a["title"] for a in _actions(_card(brief)) if a["type"] == "Action.Execute"]
    assert titles == [f"Show {called}", f"Snooze {called} 1 week"]
