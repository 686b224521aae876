"""Company directories often name people "Last, First" ("Mulder, Fox"), and Teams' mentions
and senders carry that name. A mention is one person whatever its comma, linked to the Teams
user, and named in the order people say it ("Fox Mulder"), so first names read right in
drafts, nudges and the welcome."""

from __future__ import annotations

import json

import pytest

from rapport.bot.platforms.teams.directory import natural_order
from rapport.storage.models import Contact, Note, Touchpoint
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _card, _install
from tests.teams.test_teams_bot import teams as teams

FOX = ("29:fox", "Mulder, Fox")


async def _answers(teams: TeamsHarness, text: str) -> str:
    """Everything the bot sent back to `text` (with @Mulder, Fox), as one string."""
    teams.connector.reset()
    assert await teams.say(text, mentions=[FOX]) == 201
    return json.dumps([a.body for a in teams.connector.sent_to(PERSONAL)], ensure_ascii=False)


@pytest.mark.parametrize(("directory", "said"), [
    ("Mulder, Fox", "Fox Mulder"),
    ("  Scully,Dana ", "Dana Scully"),
    ("O'Brien, Zoë", "Zoë O'Brien"),
    ("de la Cruz Fernández, María", "María de la Cruz Fernández"),
    ("Smith-Jones, Ann-Marie (Contractor)", "Ann-Marie Smith-Jones (Contractor)"),
    ("Skinner, Walter [EXT]", "Walter Skinner [EXT]"),
    # No "Last, First" order to undo:
    ("Fox Mulder", "Fox Mulder"),
    ("John Smith, Jr.", "John Smith, Jr."),
    ("Dana Scully, PhD", "Dana Scully, PhD"),
    ("Mulder, Fox, William", "Mulder, Fox, William"),
    (", Fox", ", Fox"),
    ("", ""),
])
def test_a_directorys_last_first_name_is_put_in_the_order_people_say_it(
        directory: str, said: str) -> None:
    assert natural_order(directory) == said


async def test_a_last_first_mention_adds_one_linked_person_with_no_note(
        teams: TeamsHarness) -> None:
    await _install(teams)
    answer = await _answers(teams, "add <at>Mulder, Fox</at>")
    assert "Added Fox Mulder (colleague)" in answer and "<@" not in answer
    [fox] = await teams.rows(Contact)
    assert (fox.name, fox.platform_user_id) == ("Fox Mulder", "29:fox")
    assert await teams.rows(Note) == []

    # Logged by the same mention, it is the same person, not a second one.
    answer = await _answers(teams, "log <at>Mulder, Fox</at> coffee")
    assert "Logged coffee with Fox Mulder." in answer and "added" not in answer
    assert [c.id for c in await teams.rows(Contact)] == [fox.id]
    assert [(t.contact_id, t.kind) for t in await teams.rows(Touchpoint)] == [(fox.id, "coffee")]


async def test_the_comma_of_a_mention_is_not_the_one_that_starts_the_role(
        teams: TeamsHarness) -> None:
    await _install(teams)
    answer = await _answers(teams, "add <at>Mulder, Fox</at>, Special Agent at FBI, monthly")
    assert "<@" not in answer
    [fox] = await teams.rows(Contact)
    assert (fox.name, fox.platform_user_id, fox.role, fox.company) == (
        "Fox Mulder", "29:fox", "Special Agent", "FBI")


async def test_the_mention_links_the_person_added_by_typing_their_name(
        teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Fox Mulder") == 201
    await _answers(teams, "log <at>Mulder, Fox</at> call")
    [fox] = await teams.rows(Contact)
    assert (fox.name, fox.platform_user_id) == ("Fox Mulder", "29:fox")


async def test_drafts_and_nudges_call_them_by_their_first_name(teams: TeamsHarness) -> None:
    await _install(teams)
    await _answers(teams, "add <at>Mulder, Fox</at>")
    teams.connector.reset()
    assert await teams.say("draft <at>Mulder, Fox</at>", mentions=[FOX]) == 201
    [draft] = teams.connector.sent_to(PERSONAL)
    [editor] = [e for e in _card(draft)["body"] if e["type"] == "Input.Text"]
    assert editor["value"].startswith("Hi Fox!")

    answer = await _answers(teams, "note <at>Mulder, Fox</at>: the X files on today")
    assert "to ask Fox about the X files" in answer


async def test_the_welcome_greets_a_last_first_user_by_their_first_name(
        teams: TeamsHarness) -> None:
    await _install(teams, user_name="Scully, Dana")
    [welcome] = teams.connector.sent_to(PERSONAL)
    assert welcome.body["text"].startswith("Hi Dana, I'm Rapport.")
