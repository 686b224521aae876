"""The person card's Note form reads a date typed in its text as `note Dana: …` does (README:
"a date anywhere in it makes it a nudge"); a day picked in the form wins over it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rapport.bot.platforms.teams import cards
from rapport.storage.models import Note
from tests.fakes.teams_activities import teams_card_action_invoke
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _actions, _card, _install
from tests.teams.test_teams_bot import teams as teams


async def _note_form(teams: TeamsHarness) -> dict[str, Any]:
    """Dana's card's Note action, after `add Dana Scully` and `show Dana`."""
    await _install(teams)
    assert await teams.say("add Dana Scully") == 201
    teams.connector.reset()
    assert await teams.say("show Dana") == 201
    [shown] = teams.connector.sent_to(PERSONAL)
    return next(a for a in _actions(_card(shown)) if a.get("verb") == "person_note")


async def _submit(teams: TeamsHarness, note: dict[str, Any], text: str,
                  day: str | None = None) -> tuple[int, Any]:
    data = {**note["data"], cards.PERSON_NOTE_TEXT: text}
    if day is not None:
        data[cards.PERSON_NOTE_DAY] = day
    return await teams.post(teams_card_action_invoke(
        data, verb="person_note", service_url=teams.url, reply_to_id="card-1"))


async def _follow_ups(teams: TeamsHarness) -> dict[str, date | None]:
    return {n.text: n.follow_up_on for n in await teams.rows(Note)}


async def test_a_date_in_the_forms_text_makes_the_reminder_the_typed_note_makes(
        teams: TeamsHarness) -> None:
    note = await _note_form(teams)
    status, body = await _submit(teams, note, "her talk next Thursday")
    assert status == 200
    assert "I'll remind you" in json.dumps(body["value"], ensure_ascii=False)
    from_form = await _follow_ups(teams)

    assert await teams.say("note Dana: the offsite next Thursday") == 201
    typed = await _follow_ups(teams)

    # The same day, and the same words kept, as the typed command stores.
    assert typed["the offsite"] is not None
    assert from_form == {"her talk": typed["the offsite"]}


async def test_a_day_picked_in_the_form_wins_over_one_in_the_text(teams: TeamsHarness) -> None:
    note = await _note_form(teams)
    status, _ = await _submit(teams, note, "her talk next Thursday", day="2026-12-15")
    assert status == 200
    assert await _follow_ups(teams) == {"her talk next Thursday": date(2026, 12, 15)}


async def test_a_form_note_without_a_date_is_kept_without_a_reminder(teams: TeamsHarness) -> None:
    note = await _note_form(teams)
    status, body = await _submit(teams, note, "likes hiking in Yosemite")
    assert status == 200
    assert "Noted for Dana Scully (n1)." in json.dumps(body["value"])
    assert await _follow_ups(teams) == {"likes hiking in Yosemite": None}


async def test_a_date_in_the_text_that_cannot_be_used_is_answered_as_typed_and_stores_nothing(
        teams: TeamsHarness) -> None:
    note = await _note_form(teams)
    assert await teams.say("note Dana: call her on 11/12") == 201
    [typed] = teams.connector.sent_to(PERSONAL)[-1:]
    assert await teams.rows(Note) == []  # asked, not guessed
    teams.connector.reset()
    status, body = await _submit(teams, note, "call her on 11/12")
    assert status == 200
    # The card stays as it was; the answer is the typed command's question.
    assert body["value"] == typed.body["text"].split("\n")[0]
    assert teams.connector.updates() == []
    assert await teams.rows(Note) == []
