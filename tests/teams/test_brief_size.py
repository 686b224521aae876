"""Meeting briefs in Teams that the Bot Connector refuses or drops: a meeting with eight people
who each have long notes and conversation summaries (more than the Connector's 40 KB as
UTF-16 unless the card is measured), and a Connector that fails for a while. The real brief
job, runtime and Teams messenger send through the fake Connector."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.messenger import INLINE_ATTEMPTS
from rapport.storage.models import (
    CalendarConnection,
    CapturedAttendee,
    CapturedEvent,
    Contact,
    User,
)
from tests.fakes.bot_connector import MAX_MESSAGE_UTF16_BYTES
from tests.teams.test_brief_card import meeting_soon_with
from tests.teams.test_goals import _texts
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _install,
    teams,
)

NAMES = tuple(f"Person{number} Lastname" for number in range(8))


async def _meeting_with(teams: TeamsHarness, start: datetime) -> None:  # noqa: F811
    """One upcoming meeting, in a connected calendar, with every contact of the user."""
    async with teams.runtime.sessions() as session:
        user = (await session.scalars(select(User).order_by(User.id))).first()
        contacts = list(await session.scalars(select(Contact.id).order_by(Contact.id)))
    assert user is not None
    async with teams.runtime.sessions() as session, session.begin():
        connection = (await session.execute(insert(CalendarConnection).values(
            workspace_id=user.workspace_id, user_id=user.id, provider="google",
            status="active", connected_at=start, updated_at=start)
            .returning(CalendarConnection.id))).scalar_one()
        meeting = (await session.execute(insert(CapturedEvent).values(
            connection_id=connection, workspace_id=user.workspace_id, user_id=user.id,
            event_id="planning", start_at=start, end_at=start + timedelta(minutes=30),
            updated_at=start).returning(CapturedEvent.id))).scalar_one()
        await session.execute(insert(CapturedAttendee), [
            {"captured_event_id": meeting, "contact_id": contact} for contact in contacts])


def _utf16_size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode("utf-16-le"))


async def test_a_brief_of_eight_people_with_long_notes_arrives_shortened(
        teams: TeamsHarness) -> None:  # noqa: F811
    await _install(teams)
    for name in NAMES:
        assert await teams.say(f'add "{name}"') == 201
        assert await teams.say(f'log "{name}" 10 days ago: '
                               + "quarterly planning discussion " * 20) == 201
        for topic in range(3):
            assert await teams.say(f'note "{name}": topic {topic} '
                                   + "detail about the roadmap and the budget " * 18) == 201
    await _meeting_with(teams, teams.clock.now + timedelta(minutes=20))
    teams.connector.reset()

    assert await teams.runtime.brief_job().run_once() == 1

    assert [request.status for request in teams.connector.requests] == [201]
    [brief] = teams.connector.sent_to(PERSONAL)
    assert _utf16_size(brief.body) <= MAX_MESSAGE_UTF16_BYTES
    card = _card(brief)
    texts = _texts(card)
    assert texts[0].startswith("Meeting at ") and texts[0].endswith(" with:")
    # Everyone is named, each with the start of what to know, and the card says it is cut.
    assert [text.split(" — ")[0] for text in texts[1:9]] == [f"• {name}" for name in NAMES]
    assert all("last talked" in text and text.endswith("…") for text in texts[1:9])
    assert cards.SHORTENED_NOTE in texts
    shows = [action["title"] for action in _actions(card) if action["type"] == "Action.Execute"
             and action["verb"] == "person_show"]
    assert shows == [f"Show Person{number}" for number in range(cards.MAX_BRIEF_PEOPLE)]


async def test_a_brief_the_connector_fails_to_take_is_sent_by_the_next_run(
        teams: TeamsHarness) -> None:  # noqa: F811
    await meeting_soon_with(teams, "Dana Scully", (
        "add Dana Scully", "log Dana coffee 10 days ago",
        "note Dana: the hiking trip in Yosemite"))
    job = teams.runtime.brief_job()
    # Every quick retry of the messenger meets a Connector that is down.
    teams.connector.fail_next(503, retry_after=None, count=INLINE_ATTEMPTS,
                              conversation_id=PERSONAL)

    assert await job.run_once() == 0

    assert [request.status for request in teams.connector.requests] == [503] * INLINE_ATTEMPTS
    assert teams.connector.sent_to(PERSONAL) == []
    teams.clock.advance(minutes=1)
    assert await job.run_once() == 1
    [brief] = teams.connector.sent_to(PERSONAL)
    assert "Meeting with Dana Scully at " in json.dumps(_card(brief))
    # Once only: the meeting is briefed now.
    teams.clock.advance(minutes=1)
    assert await job.run_once() == 0
    assert len(teams.connector.sent_to(PERSONAL)) == 1


def test_a_one_line_brief_with_very_long_notes_keeps_the_meeting_and_the_name() -> None:
    text = ("Meeting with Dana Scully at 14:00 — ask about: "
            + "; ".join(f"topic {number} " + "the roadmap and the budget " * 35
                        for number in range(30)) + ".")

    card = cards.brief_card(text, [])

    assert cards.card_size(card) <= cards.MAX_BRIEF_CARD_UTF16_BYTES
    [line, note] = _texts(card)
    assert line.startswith("Meeting with Dana Scully at 14:00 — ask about: topic 0 ")
    assert line.endswith("…") and note == cards.SHORTENED_NOTE


def test_a_brief_of_more_people_than_fit_counts_the_others() -> None:
    lines = [f"• Person{number} Lastname — ask about: the offsite in Lisbon and the budget "
             "for the second half of the year." for number in range(600)]

    card = cards.brief_card("Meeting at 14:00 with:\n" + "\n".join(lines), [])

    assert cards.card_size(card) <= cards.MAX_BRIEF_CARD_UTF16_BYTES
    texts = _texts(card)
    assert texts[0] == "Meeting at 14:00 with:" and texts[1].startswith("• Person0 Lastname")
    named = sum(text.startswith("• Person") for text in texts)
    assert 1 <= named < 600
    assert f"… and {600 - named} more at this meeting." in texts


async def test_a_brief_the_connector_refuses_for_good_is_not_sent_again_every_minute(
        teams: TeamsHarness) -> None:  # noqa: F811
    # The runtime turned every outcome into "not sent", so the job retried a refused brief
    # every minute until the meeting began.
    await meeting_soon_with(teams, "Dana Scully", (
        "add Dana Scully", "log Dana coffee 10 days ago",
        "note Dana: the hiking trip in Yosemite"))
    job = teams.runtime.brief_job()
    teams.connector.fail_next(403, retry_after=None, count=1, conversation_id=PERSONAL)

    assert await job.run_once() == 0
    assert [request.status for request in teams.connector.requests] == [403]

    teams.clock.advance(minutes=1)
    assert await job.run_once() == 0
    assert [request.status for request in teams.connector.requests] == [403]
