"""A button's data of the wrong type (a list or an object where the card puts a word, a
number or a date), from a forged or broken card: the click is refused as out of date, through
Action.Execute (200) and Action.Submit alike, and nothing is stored; never a crash, never an
object stored as its Python text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.bot.platforms.teams.handler import STALE_BUTTON
from rapport.storage.models import Note
from tests.conftest import snapshot
from tests.fakes.teams_activities import teams_card_action_invoke, teams_message_back
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _install
from tests.teams.test_teams_bot import teams as teams

WRONG_TYPES: tuple[object, ...] = (["done"], {"a": 1})

# One button of each kind, as its card writes it; each field in turn gets a wrong type.
BUTTONS: tuple[dict[str, Any], ...] = (
    {"rapport": "nudge", "verb": "done", "nudge_id": 1, "card_nudges": [1]},
    {"rapport": "nudge", "verb": "snooze", "nudge_id": 1, "snooze_until_1": "2026-12-02"},
    {"rapport": "person", "verb": "person_note", "contact_id": 1,
     "person_note_text": "her talk", "person_note_day": "2026-12-02"},
    {"rapport": "person", "verb": "person_log", "contact_id": 1, "person_log_kind": "call",
     "person_log_day": "2026-11-20", "person_log_summary": "budget"},
    {"rapport": "suggestion", "verb": "suggestion_accept", "suggestion_id": 1,
     "card_suggestions": [1]},
    {"rapport": "draft", "verb": "draft_copy", "draft_id": 1, "draft_text": "Hi Dana!",
     "draft_disclose": "true"},
    {"rapport": "import", "verb": "import_confirm", "token": "t"},
)


def _tampered() -> list[tuple[dict[str, Any], str, object]]:
    return [(button, field, wrong) for button in BUTTONS for field in button
            for wrong in WRONG_TYPES
            if not (field.startswith("card_") and isinstance(wrong, list))]


async def _dana_with_a_contact(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Walter Skinner") == 201
    teams.connector.reset()


@pytest.mark.parametrize(("button", "field", "wrong"), _tampered())
async def test_a_field_of_the_wrong_type_is_refused_as_out_of_date(
        teams: TeamsHarness, button: dict[str, Any], field: str, wrong: object) -> None:
    await _dana_with_a_contact(teams)
    before = await snapshot(teams.engine)
    data = {**button, field: wrong}

    status, body = await teams.post(teams_card_action_invoke(data, service_url=teams.url))
    assert await teams.post(teams_message_back(data, service_url=teams.url)) == (201, None)

    assert (status, body["value"]) == (200, STALE_BUTTON)
    [answer] = teams.connector.sent_to(PERSONAL)
    assert answer.text == STALE_BUTTON
    assert teams.connector.updates() == []
    assert await snapshot(teams.engine) == before


@pytest.mark.parametrize("wrong", WRONG_TYPES)
async def test_an_action_verb_of_the_wrong_type_is_refused_as_out_of_date(
        teams: TeamsHarness, wrong: object) -> None:
    await _dana_with_a_contact(teams)
    before = await snapshot(teams.engine)
    invoke = teams_card_action_invoke({"rapport": "person", "contact_id": 1},
                                      service_url=teams.url)
    invoke["value"]["action"]["verb"] = wrong

    status, body = await teams.post(invoke)

    assert (status, body["value"]) == (200, STALE_BUTTON)
    assert await snapshot(teams.engine) == before


async def test_a_note_typed_on_the_person_card_is_stored_as_written(
        teams: TeamsHarness) -> None:
    await _dana_with_a_contact(teams)
    data = {"rapport": "person", "verb": "person_note", "contact_id": 1,
            "person_note_text": "her talk {'a': 1}"}

    status, body = await teams.post(teams_card_action_invoke(
        data, verb="person_note", service_url=teams.url))

    assert status == 200 and "Walter" in json.dumps(body["value"])
    [note] = await teams.rows(Note)
    assert note.text == "her talk {'a': 1}"
