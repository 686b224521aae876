"""A meeting brief in Teams: the real brief job and Teams messenger send a card with Show /
Snooze per person; its actions go through the real adapter as Activity JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from rapport.bot.connectors.calendars.briefs import BriefJob
from rapport.storage.models import Contact, User
from tests.connectors.seed import seed_meeting
from tests.fakes.teams_activities import teams_card_action_invoke
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    FOX,
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _install,
    teams,
)


async def _dana_plan(teams: TeamsHarness) -> object:  # noqa: F811
    async with teams.runtime.sessions() as session:
        return await session.scalar(select(Contact.plan_at).where(Contact.name == "Dana Scully"))


async def meeting_soon_with(teams: TeamsHarness, name: str,  # noqa: F811
                            lines: Sequence[str]) -> int:
    """The app installed, `lines` typed in the personal chat, then a meeting with `name` in
    20 minutes (a brief is due); what the connector received so far is cleared. The
    contact's id."""
    await _install(teams)
    for line in lines:
        assert await teams.say(line) == 201, line
    async with teams.runtime.sessions() as session:
        user = (await session.scalars(select(User).order_by(User.id))).first()
        contact = await session.scalar(select(Contact.id).where(Contact.name == name))
    assert user is not None and contact is not None
    await seed_meeting(teams.runtime.sessions, user.id, user.workspace_id, contact,
                       teams.clock.now + timedelta(minutes=20))
    teams.connector.reset()
    return contact


async def test_a_brief_card_shows_and_snoozes_the_person(teams: TeamsHarness  # noqa: F811
                                                         ) -> None:
    dana = await meeting_soon_with(teams, "Dana Scully", (
        "add Dana Scully every 1 week", "log Dana coffee 10 days ago",
        "note Dana: the hiking trip in Yosemite"))
    job = BriefJob(sessions=teams.runtime.sessions, tell=teams.runtime.tell, clock=teams.clock)
    assert await job.run_once() == 1
    [brief] = teams.connector.sent_to(PERSONAL)
    card = _card(brief)
    assert "Meeting with Dana Scully at " in json.dumps(card)
    show, snooze = [a for a in _actions(card) if a["type"] == "Action.Execute"]
    assert (show["title"], snooze["title"]) == ("Show Dana", "Snooze Dana 1 week")
    assert show["data"] == {"rapport": "person", "contact_id": dana, "verb": "person_show"}

    # Another user's click finds no such person and changes nothing.
    assert await teams.say("help", **FOX) == 201
    before = await _dana_plan(teams)
    status, body = await teams.post(teams_card_action_invoke(
        snooze["data"], verb="person_snooze", service_url=teams.url,
        reply_to_id=brief.activity_id, **FOX))
    assert status == 200 and "Dana" not in json.dumps(body)
    assert await _dana_plan(teams) == before
    # Show sends Dana's card; Snooze holds her next nudge a week.
    teams.connector.reset()
    status, body = await teams.post(teams_card_action_invoke(
        show["data"], verb="person_show", service_url=teams.url,
        reply_to_id=brief.activity_id))
    assert status == 200 and body["value"] == "Here is Dana Scully."
    [person] = teams.connector.sent_to(PERSONAL)
    assert "Dana Scully" in json.dumps(_card(person))
    status, body = await teams.post(teams_card_action_invoke(
        snooze["data"], verb="person_snooze", service_url=teams.url,
        reply_to_id=brief.activity_id))
    assert status == 200
    assert "the next one waits until Mon Nov 30" in json.dumps(body)
    assert await _dana_plan(teams) != before


async def test_prep_me_answers_with_the_next_meeting_in_the_personal_chat(
        teams: TeamsHarness) -> None:  # noqa: F811
    await meeting_soon_with(teams, "Dana Scully", ("add Dana Scully", "log Dana yesterday: "
                                                   "coffee, the Q3 plan"))

    assert await teams.say("prep me") == 201

    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.text.startswith("Your next meeting with your people:\n• Today ")
    assert reply.text.endswith(", Dana Scully — last talked Sun Nov 22 (coffee: the Q3 "
                               "plan).")
