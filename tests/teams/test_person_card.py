"""A person at a glance in Teams, as Activity JSON over HTTP: `show` answers with an Adaptive
Card whose Log, Note, Draft and Snooze act on typed commands; forget asks with a button; another
user's clicks change nothing."""

from __future__ import annotations

import json
from typing import Any

from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.cards import card_versions
from rapport.storage.models import Contact, Note, Touchpoint
from tests.conftest import snapshot
from tests.fakes.teams_activities import teams_card_action_invoke, teams_message_back
from tests.teams.test_teams_bot import (
    FOX,
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _install,
)
from tests.teams.test_teams_bot import teams as teams


async def _show_dana(teams: TeamsHarness) -> dict[str, Any]:
    await _install(teams)
    for line in ("add Dana Scully client at FBI every 2 weeks",
                 "note Dana: hiking trip in Yosemite after Saturday",
                 "log Dana yesterday: coffee, the X-files"):
        assert await teams.say(line) == 201
    teams.connector.reset()
    assert await teams.say("show Dana") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    return _card(reply)


def _action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    return next(a for a in _actions(card) if a.get("verb") == verb)


async def test_show_answers_with_a_card_and_its_actions(teams: TeamsHarness) -> None:
    card = await _show_dana(teams)
    assert all(float(v) <= 1.5 for v in card_versions(card))
    text = json.dumps(card)
    assert "Dana Scully" in text and "Ask about first: the hiking trip in Yosemite" in text
    [facts] = [block for block in card["body"] if block["type"] == "FactSet"]
    assert {fact["title"] for fact in facts["facts"]} == {"n1", "t1"}
    verbs = {a.get("verb") for a in _actions(card) if a["type"] == "Action.Execute"}
    assert verbs == {"person_log", "person_note", "person_draft", "person_snooze"}
    [dana] = await teams.rows(Contact)
    assert all(a["data"]["contact_id"] == dana.id for a in _actions(card) if "data" in a)


async def test_the_card_shows_names_notes_and_summaries_as_written(teams: TeamsHarness) -> None:
    await _install(teams)
    for line in ('add "Ana [Ops]"', "note Ana: read the *draft* [here](https://x.example)",
                 "log Ana yesterday: call, went over the_plan"):
        assert await teams.say(line) == 201
    teams.connector.reset()
    assert await teams.say("show Ana") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    [facts] = [block for block in card["body"] if block["type"] == "FactSet"]
    values = [fact["value"] for fact in facts["facts"]]
    # Teams reads Markdown in facts too: escaped once, so it shows exactly what was typed.
    assert values[0].startswith(cards.escape_markdown("read the *draft* [here](https://x.example)"))
    assert cards.escape_markdown("went over the_plan") in values[1]
    [fix] = [block["text"] for block in card["body"]
             if block["type"] == "TextBlock" and block["text"].startswith("Fix anything")]
    assert cards.escape_markdown("rename Ana [Ops] to") in fix and "\\\\" not in fix


async def test_log_and_note_from_the_card_store_typed_commands(teams: TeamsHarness) -> None:
    card = await _show_dana(teams)
    log = _action(card, "person_log")
    data = {**log["data"], cards.PERSON_LOG_KIND: "call", cards.PERSON_LOG_DAY: "2026-11-20",
            cards.PERSON_LOG_SUMMARY: "budget review"}
    status, body = await teams.post(teams_card_action_invoke(
        data, verb="person_log", service_url=teams.url, reply_to_id="card-1"))
    assert status == 200 and body["type"] == cards.CARD_CONTENT_TYPE
    assert "Logged call with Dana Scully (Fri Nov 20)." in json.dumps(body["value"])
    calls = [t for t in await teams.rows(Touchpoint) if t.kind == "call"]
    assert len(calls) == 1 and calls[0].summary == "budget review"
    [update] = teams.connector.updates()
    assert "budget review" in json.dumps(update.body)  # the card redrawn with the new entry

    note = _action(card, "person_note")
    value = {**note["fallback"]["data"], cards.PERSON_NOTE_TEXT: "her talk",
             cards.PERSON_NOTE_DAY: "2026-11-26"}
    status, _ = await teams.post(teams_message_back(value, service_url=teams.url,
                                                    reply_to_id="card-1"))
    assert status == 201
    notes = {n.text: n.follow_up_on for n in await teams.rows(Note)}
    assert str(notes["her talk"]) == "2026-11-26"


async def test_a_day_that_cannot_be_read_is_refused_not_taken_as_today(
        teams: TeamsHarness) -> None:
    card = await _show_dana(teams)
    before = await snapshot(teams.engine)
    for verb, field in (("person_log", cards.PERSON_LOG_DAY),
                        ("person_note", cards.PERSON_NOTE_DAY)):
        data = {**_action(card, verb)["data"], cards.PERSON_LOG_KIND: "call",
                cards.PERSON_NOTE_TEXT: "her talk", field: "next-ish"}
        status, body = await teams.post(teams_card_action_invoke(
            data, verb=verb, service_url=teams.url, reply_to_id="card-1"))
        assert (status, body["value"]) == (200, "Pick a day."), body
    assert teams.connector.updates() == []
    assert await snapshot(teams.engine) == before


async def test_snooze_and_draft_from_the_card(teams: TeamsHarness) -> None:
    card = await _show_dana(teams)
    assert await teams.say("every Dana 3 days") == 201
    status, body = await teams.post(teams_card_action_invoke(
        _action(card, "person_snooze")["data"], verb="person_snooze", service_url=teams.url,
        reply_to_id="card-1"))
    assert status == 200
    # The noted trip keeps its own day, named as it comes: Sunday's follow-up reaches the
    # user on Monday, the next working day, as the note's confirmation and `due` say.
    assert "their next rhythm nudge waits until Mon Nov 30. A reminder with a day of its own" \
        " still comes Mon Nov 30" in json.dumps(body["value"], ensure_ascii=False)
    teams.connector.reset()
    status, body = await teams.post(teams_card_action_invoke(
        _action(card, "person_draft")["data"], verb="person_draft", service_url=teams.url,
        reply_to_id="card-1"))
    assert status == 200 and isinstance(body["value"], str)
    [draft] = teams.connector.sent_to(PERSONAL)
    [editor] = [e for e in _card(draft)["body"] if e["type"] == "Input.Text"]
    assert editor["value"].startswith("Hi Dana!")


async def test_forget_asks_with_a_button(teams: TeamsHarness) -> None:
    await _show_dana(teams)
    teams.connector.reset()
    assert await teams.say("forget Dana") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    assert "forget Dana Scully confirm" in json.dumps(card)
    [button] = [a for a in _actions(card) if a["type"] == "Action.Execute"]
    assert button["title"] == "Forget Dana Scully" and button["style"] == "destructive"
    assert len(await teams.rows(Contact)) == 1
    status, body = await teams.post(teams_card_action_invoke(
        button["data"], verb="person_forget", service_url=teams.url,
        reply_to_id=reply.activity_id))
    assert status == 200 and "Forgot Dana Scully" in json.dumps(body["value"])
    assert await teams.rows(Contact) == []


async def test_another_users_clicks_on_a_person_card_change_nothing(teams: TeamsHarness
                                                                    ) -> None:
    card = await _show_dana(teams)
    assert await teams.say("help", **FOX) == 201
    teams.connector.reset()
    before = await snapshot(teams.engine)
    for verb in ("person_log", "person_note", "person_draft", "person_snooze",
                 "person_forget"):
        data = {**_action(card, "person_log")["data"], "verb": verb,
                cards.PERSON_NOTE_TEXT: "forged"}
        status, body = await teams.post(teams_card_action_invoke(
            data, verb=verb, service_url=teams.url, reply_to_id="card-1", **FOX))
        assert status == 200
        assert body["value"] == "I can't find that person among yours.", verb
    assert teams.connector.updates() == []
    assert "X-files" not in json.dumps([r.body for r in teams.connector.requests])
    assert await snapshot(teams.engine) == before


async def test_a_person_with_many_long_notes_still_arrives_as_one_card(teams: TeamsHarness
                                                                       ) -> None:
    # Ten 1,000-character notes and five long summaries are more than one Teams message holds
    # (40 KB as UTF-16): Teams answered 413 and the user saw "something went wrong".
    await _install(teams)
    assert await teams.say("add Dana Scully client at FBI every 2 weeks") == 201
    for i in range(12):
        assert await teams.say(f"note Dana: thing {i:02} " + ("word_ " * 200)[:985]) == 201
        assert await teams.say(f"log Dana {i + 1} days ago: talk {i:02} "
                               + ("w*rd " * 200)[:985]) == 201
    teams.connector.reset()
    assert await teams.say("show Dana") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    [facts] = [block for block in card["body"] if block["type"] == "FactSet"]
    assert [fact["title"] for fact in facts["facts"]][:2] == ["n12", "n11"]
    assert len(facts["facts"]) == 15  # every note and conversation is there, shortened
    text = json.dumps(card)
    assert "thing 11" in text and "talk 00" in text
    assert "shortened to fit in Teams" in text
    assert cards.card_size(card) <= cards.MAX_PERSON_CARD_UTF16_BYTES
