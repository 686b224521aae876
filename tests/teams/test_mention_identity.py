"""Who a Teams @mention names, as Teams actually sends it: the same colleague whether the
mention carries their AAD object id or only their Teams ("29:") id, the user themself by
either id, names with HTML-escaped characters in the message's markup, and the given name
(not a title) in greetings and buttons."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from sqlalchemy import update

from rapport.bot.connectors.calendars.briefs import BriefJob
from rapport.bot.core.people import ITS_YOU
from rapport.storage.models import Contact, Note, Touchpoint
from tests.fakes.teams_activities import (
    DEFAULT_AAD_OBJECT_ID,
    DEFAULT_USER_ID,
    teams_message_activity,
    teams_message_back,
)
from tests.teams.test_brief_card import meeting_soon_with
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _actions, _card, _install
from tests.teams.test_teams_bot import teams as teams

FOX_ID, FOX_AAD = "29:1Mvgb4fP4wOAqbVq7lK9FXuR6ZCB9w5F-fox", "8b0379fe-2011-4d65-a932-891e820aa23e"


def _mention(name: str, account_id: str, *, aad: str | None = None,
             said: str | None = "escaped") -> dict[str, Any]:
    """A mention entity as Teams sends it: `said` is its `text` ("escaped": the markup as the
    message's text has it; None: left out, as Teams does for some names)."""
    mentioned: dict[str, Any] = {"id": account_id, "name": name}
    if aad is not None:
        mentioned["aadObjectId"] = aad
    entity: dict[str, Any] = {"type": "mention", "mentioned": mentioned}
    if said is not None:
        entity["text"] = f"<at>{html.escape(name, quote=False)}</at>" if said == "escaped" \
            else said
    return entity


async def _say(teams: TeamsHarness, text: str, *entities: dict[str, Any]) -> list[Any]:
    """`text` (its markup as Teams writes it) with these mention entities; the answers."""
    activity = teams_message_activity(text, service_url=teams.url)
    activity["entities"] = [*entities, *activity["entities"]]
    teams.connector.reset()
    status, _ = await teams.post(activity)
    assert status == 201
    return teams.connector.sent_to(PERSONAL)


async def _answer(teams: TeamsHarness, text: str, *entities: dict[str, Any]) -> str:
    [reply] = await _say(teams, text, *entities)
    assert reply.body.get("textFormat") == "plain"
    answer: str = reply.body["text"]
    return answer


# -- 1. one colleague, whichever ids the mention carries ----------------------------------------


@pytest.mark.parametrize("first_aad", [FOX_AAD, None])
async def test_a_colleague_mentioned_with_and_without_the_aad_id_is_one_contact(
        teams: TeamsHarness, first_aad: str | None) -> None:
    second_aad = None if first_aad else FOX_AAD
    await _install(teams)
    await _answer(teams, "log <at>Fox Mulder</at> coffee",
                  _mention("Fox Mulder", FOX_ID, aad=first_aad))
    answer = await _answer(teams, "log <at>Fox Mulder</at> lunch",
                           _mention("Fox Mulder", FOX_ID, aad=second_aad))
    assert answer == "Logged lunch with Fox Mulder."
    [fox] = await teams.rows(Contact)
    assert (fox.name, fox.platform_user_id) == ("Fox Mulder", FOX_ID)
    assert sorted(t.kind for t in await teams.rows(Touchpoint)) == ["coffee", "lunch"]


async def test_both_mentions_in_one_message_are_one_person(teams: TeamsHarness) -> None:
    await _install(teams)
    await _answer(teams, "note <at>Fox Mulder</at>: ask <at>Fox Mulder</at> about the X files",
                  _mention("Fox Mulder", FOX_ID, aad=FOX_AAD), _mention("Fox Mulder", FOX_ID))
    [fox] = await teams.rows(Contact)
    assert fox.platform_user_id == FOX_ID
    [note] = await teams.rows(Note)
    assert note.contact_id == fox.id


async def test_a_contact_linked_by_the_aad_id_gets_the_teams_id_and_stays_one(
        teams: TeamsHarness) -> None:
    # Linked by the AAD object id alone, as mentions were linked before.
    await _install(teams)
    await _answer(teams, "add <at>Fox Mulder</at>", _mention("Fox Mulder", FOX_ID, aad=FOX_AAD))
    async with teams.runtime.sessions() as session, session.begin():
        await session.execute(update(Contact).values(platform_user_id=FOX_AAD))

    assert await _answer(teams, "log <at>Fox Mulder</at> coffee",
                         _mention("Fox Mulder", FOX_ID, aad=FOX_AAD)) \
        == "Logged coffee with Fox Mulder."
    [fox] = await teams.rows(Contact)
    assert fox.platform_user_id == FOX_ID
    # Known by the Teams id now, a mention without the AAD object id finds them too.
    assert await _answer(teams, "log <at>Fox Mulder</at> call", _mention("Fox Mulder", FOX_ID)) \
        == "Logged call with Fox Mulder."
    assert [c.id for c in await teams.rows(Contact)] == [fox.id]


# -- 3. the user themself, by either id ---------------------------------------------------------


@pytest.mark.parametrize("ids", [
    {"account_id": DEFAULT_USER_ID},
    {"account_id": DEFAULT_USER_ID, "aad": DEFAULT_AAD_OBJECT_ID},
])
async def test_mentioning_yourself_is_refused_by_either_id(
        teams: TeamsHarness, ids: dict[str, str]) -> None:
    await _install(teams)
    for line in ("add <at>Dana Scully</at>", "log <at>Dana Scully</at> coffee"):
        assert await _answer(teams, line, _mention("Dana Scully", **ids)) == ITS_YOU
    assert await teams.rows(Contact) == []
    assert await teams.rows(Touchpoint) == []


# -- 2. names with characters HTML escapes ------------------------------------------------------

NAMES = ("Tom & Jerry", "Ann <Ops> Lee", 'Bob "Bobby" O\'Neil', "Zoë Ægir-Łukasz",
         "Dr. Åsa <Q&A> Öberg")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("said", ["escaped", None])
async def test_a_mentioned_name_comes_out_as_written(
        teams: TeamsHarness, name: str, said: str | None) -> None:
    markup = f"<at>{html.escape(name, quote=False)}</at>"
    answer = await _answer(teams, f"add {markup}", _mention(name, "29:someone", said=said))
    assert answer.startswith(f"Added {name} (colleague).")
    [contact] = await teams.rows(Contact)
    assert (contact.name, contact.platform_user_id) == (name, "29:someone")


@pytest.mark.parametrize("name", NAMES)
async def test_quotes_and_letters_escaped_as_numeric_references_are_read(
        teams: TeamsHarness, name: str) -> None:
    # Teams' own escaping of the markup need not be Python's: every character but letters
    # and spaces as a numeric reference, and no `text` in the entity to copy it from.
    escaped = "".join(c if c.isascii() and (c.isalnum() or c == " ") else f"&#{ord(c)};"
                      for c in name)
    answer = await _answer(teams, f"log <at>{escaped}</at> coffee",
                           _mention(name, "29:someone", said=None))
    assert answer.startswith(f"Logged coffee with {name}.")
    [contact] = await teams.rows(Contact)
    assert contact.name == name


async def test_a_name_teams_escaped_in_the_entity_too_is_unescaped(teams: TeamsHarness) -> None:
    escaped = "Tom &amp; Jerry &lt;Ops&gt;"
    answer = await _answer(teams, f"add <at>{escaped}</at>",
                           _mention(escaped, "29:tj", said=f"<at>{escaped}</at>"))
    assert answer.startswith("Added Tom & Jerry <Ops> (colleague).")
    [contact] = await teams.rows(Contact)
    assert contact.name == "Tom & Jerry <Ops>"


async def test_text_beside_a_mention_keeps_its_characters(teams: TeamsHarness) -> None:
    await _answer(teams, "note <at>Tom &amp; Jerry</at>: Q&A on <b>Friday</b>",
                  _mention("Tom & Jerry", "29:tj"))
    [note] = await teams.rows(Note)
    assert note.text == "Q&A on <b>Friday</b>"


async def test_a_card_buttons_answer_names_the_person_in_plain_text(teams: TeamsHarness) -> None:
    await _install(teams)
    name = "Ann <Ops> *Lee*"
    await _answer(teams, f"add <at>{html.escape(name)}</at>", _mention(name, "29:ann"))
    [contact] = await teams.rows(Contact)
    teams.connector.reset()
    status, _ = await teams.post(teams_message_back(
        {"rapport": "person", "verb": "person_show", "contact_id": contact.id},
        service_url=teams.url))
    assert status in (200, 201)
    card, said = teams.connector.sent_to(PERSONAL)
    assert name in json.dumps(_card(card), ensure_ascii=False).replace("\\\\*", "*")
    # Plain: Teams would read "<Ops>" as markup and "*Lee*" as emphasis.
    assert (said.body["text"], said.body.get("textFormat")) == (f"Here is {name}.", "plain")


# -- 4. greeted by the given name ---------------------------------------------------------------


@pytest.mark.parametrize(("user_name", "greeted"), [
    ("Dr. Jane Doe", "Jane"),
    ("Doe, Jane", "Jane"),
    ("Doe, Dr. Jane", "Jane"),
    ("Prof. Dr. Jane Doe", "Jane"),
    ("Mx Sam Lee", "Sam"),
    ("Mrs. Ann-Marie Smith-Jones (Contractor)", "Ann-Marie"),
    ("Jane Doe", "Jane"),
    ("", "there"),
])
async def test_the_welcome_greets_by_the_given_name(
        teams: TeamsHarness, user_name: str, greeted: str) -> None:
    await _install(teams, user_name=user_name)
    [welcome] = teams.connector.sent_to(PERSONAL)
    assert welcome.body["text"].startswith(f"Hi {greeted}, I'm Rapport.")


async def test_a_brief_cards_buttons_name_the_person_by_their_given_name(
        teams: TeamsHarness) -> None:
    await meeting_soon_with(teams, "Dr. Jane Doe", ("add Dr. Jane Doe every 1 week",
                                                    "log Dr. Jane Doe coffee 10 days ago",
                                                    "note Dr. Jane Doe: the grant review"))
    job = BriefJob(sessions=teams.runtime.sessions, tell=teams.runtime.tell, clock=teams.clock)
    assert await job.run_once() == 1
    [brief] = teams.connector.sent_to(PERSONAL)
    titles = [a["title"] for a in _actions(_card(brief)) if a["type"] == "Action.Execute"]
    assert titles == ["Show Jane", "Snooze Jane 1 week"]
