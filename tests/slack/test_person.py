"""A person at a glance in Slack, over signed HTTP: `/rapport show` with Log, Note, Draft and
Snooze buttons, the person modal from App Home's people list, the forget confirmation, and
clicks on someone else's person refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select

from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact, Note, Touchpoint
from tests.conftest import snapshot
from tests.slack.conftest import ALEX, SAM, SlackHarness


async def _settle() -> None:
    await asyncio.sleep(0.2)  # let anything Bolt runs after the ack finish


async def _dana(slack: SlackHarness, user: str = ALEX) -> int:
    rapport = slack.runtime.rapport
    for line in ("add Dana Scully client at FBI every 2 weeks",
                 "note Dana: hiking trip in Yosemite after Saturday",
                 "log Dana yesterday: coffee, talked about the X-files"):
        assert (await rapport.handle_text(slack.actor(user), line)).ok
    async with slack.runtime.sessions() as session:
        contact = await session.scalar(select(Contact.id).where(Contact.name == "Dana Scully"))
    assert contact is not None
    return contact


def _button(action_id: str, contact_id: int) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "block_id": f"person_{contact_id}",
            "value": str(contact_id)}


def _ephemeral(slack: SlackHarness, user: str, action: dict[str, Any]) -> dict[str, Any]:
    payload = slack.block_action(user=user, action=action)
    payload["container"] = {"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL",
                            "is_ephemeral": True}
    return payload


def _submission(slack: SlackHarness, user: str, callback_id: str, contact_id: int,
                values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": user, "username": user.lower(), "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0PERSON", "type": "modal", "callback_id": callback_id,
                     "private_metadata": json.dumps({"contact_id": contact_id}),
                     "state": {"values": values}, "hash": "1.a", "team_id": slack.team_id}}


async def test_show_answers_in_the_ack_with_the_card_and_its_buttons(slack: SlackHarness
                                                                     ) -> None:
    contact_id = await _dana(slack)
    status, body = await slack.command("show Dana")
    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    blocks = {block.get("block_id"): block for block in answer["blocks"]}
    assert "*Dana Scully*" in blocks["person_who"]["text"]["text"]
    assert "Ask about first: the hiking trip in Yosemite" in blocks["person_ask"]["text"]["text"]
    assert "`t1`" in blocks["person_touches"]["text"]["text"]
    buttons = blocks[f"person_{contact_id}"]["elements"]
    assert [(e["action_id"], e["value"]) for e in buttons] == [
        (b.ACTION_PERSON_LOG, str(contact_id)), (b.ACTION_PERSON_NOTE, str(contact_id)),
        (b.ACTION_PERSON_DRAFT, str(contact_id)), (b.ACTION_PERSON_SNOOZE, str(contact_id))]


async def test_log_and_note_buttons_open_forms_that_save_typed_commands(
        slack: SlackHarness) -> None:
    contact_id = await _dana(slack)
    await slack.interaction(_ephemeral(slack, ALEX, _button(b.ACTION_PERSON_LOG, contact_id)))
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    assert opened.args["view"]["callback_id"] == b.CALLBACK_PERSON_LOG
    values = {"kind": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
              "day": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
              "summary": {"value": {"type": "plain_text_input", "value": "budget  review"}}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_LOG,
                                                       contact_id, values))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    assert answer["view"]["callback_id"] == b.CALLBACK_PERSON  # the card again, updated
    assert "Logged call with Dana Scully (Fri Nov 20)." in json.dumps(answer["view"])
    async with slack.runtime.sessions() as session:
        touch = await session.scalar(select(Touchpoint).where(Touchpoint.kind == "call"))
    assert touch is not None and touch.summary == "budget review"

    await slack.interaction(_ephemeral(slack, ALEX, _button(b.ACTION_PERSON_NOTE, contact_id)))
    await slack.until(lambda: len(slack.fake.calls_to("views.open")) == 2)
    assert slack.fake.calls_to("views.open")[1].args["view"]["callback_id"] == \
        b.CALLBACK_PERSON_NOTE
    values = {"text": {"value": {"type": "plain_text_input", "value": "her talk"}},
              "follow_up": {"value": {"type": "datepicker", "selected_date": "2026-11-26"}}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_NOTE,
                                                       contact_id, values))
    assert status == 200 and json.loads(body)["response_action"] == "update"
    async with slack.runtime.sessions() as session:
        note = await session.scalar(select(Note).where(Note.text == "her talk"))
    assert note is not None and str(note.follow_up_on) == "2026-11-26"


async def test_a_form_with_a_bad_day_shows_the_error_and_saves_nothing(slack: SlackHarness
                                                                      ) -> None:
    contact_id = await _dana(slack)
    before = await snapshot(slack.runtime.engine)
    values = {"kind": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
              "day": {"value": {"type": "datepicker", "selected_date": "2027-01-01"}}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_LOG,
                                                       contact_id, values))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    # Under the date picker that chose the day, not under "What you talked about".
    assert answer["errors"] == {"day": "You can only log conversations that already happened."}
    # A picker scrolled back to 1900 is refused as typed text is ("log Dana on 1900-01-01").
    values["day"] = {"value": {"type": "datepicker", "selected_date": "1900-01-01"}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_LOG,
                                                       contact_id, values))
    answer = json.loads(body)
    assert answer["response_action"] == "errors", answer
    assert answer["errors"] == {"day": "That date is more than ten years ago."}
    assert await snapshot(slack.runtime.engine) == before


async def test_snooze_and_draft_buttons(slack: SlackHarness) -> None:
    contact_id = await _dana(slack)
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "every Dana 3 days")).ok
    await slack.interaction(_ephemeral(slack, ALEX, _button(b.ACTION_PERSON_SNOOZE,
                                                            contact_id)))
    await slack.until(lambda: bool(slack.sink.posts))
    # Her noted trip keeps its own day, named as it comes: Sunday's follow-up reaches Alex
    # on Monday, his next working day, as the note's confirmation and `due` say.
    assert "No nudge about Dana Scully is out; their next rhythm nudge waits until Mon Nov 30." \
        " A reminder with a day of its own still comes Mon Nov 30" in slack.sink.posts[0]["text"]
    await slack.interaction(_ephemeral(slack, ALEX, _button(b.ACTION_PERSON_DRAFT,
                                                            contact_id)))
    await slack.until(lambda: bool(slack.fake.calls_to("views.update")))
    [updated] = slack.fake.calls_to("views.update")
    assert "own words" in json.dumps(updated.args["view"])  # no AI set up in these tests


async def test_app_home_people_rows_open_the_person_modal(slack: SlackHarness) -> None:
    contact_id = await _dana(slack)
    view = await slack.open_home()
    [row] = [block for block in view["blocks"]
             if block.get("block_id") == f"person_row_{contact_id}"]
    assert row["accessory"]["action_id"] == b.ACTION_PERSON_OPEN
    payload = slack.block_action(user=ALEX, action={**row["accessory"],
                                                    "block_id": row["block_id"]})
    # As Slack sends a click on App Home: the container and the Home view it was in.
    payload["container"] = {"type": "view", "view_id": "V0HOME"}
    payload["view"] = {"id": "V0HOME", "type": "home", "callback_id": "", "hash": "1.1"}
    await slack.interaction(payload)
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    assert not slack.fake.calls_to("views.update")  # the Home view stays Home
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    assert opened.args["view"]["callback_id"] == b.CALLBACK_PERSON
    assert "Dana Scully" in json.dumps(opened.args["view"])


async def test_forget_asks_with_a_button_that_deletes(slack: SlackHarness) -> None:
    contact_id = await _dana(slack)
    status, body = await slack.command("forget Dana")
    assert status == 200
    answer = json.loads(body)
    assert "forget Dana Scully confirm" in answer["text"]
    [actions] = [block for block in answer["blocks"] if block["type"] == "actions"]
    [button] = actions["elements"]
    assert (button["action_id"], button["value"], button["style"]) == (
        b.ACTION_CONFIRM_FORGET, str(contact_id), "danger")
    assert "confirm" in button  # Slack asks once more before the click counts
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Contact.id).where(Contact.id == contact_id))
    await slack.interaction(_ephemeral(slack, ALEX, {**button, "block_id": actions["block_id"]}))
    await slack.until(lambda: bool(slack.sink.posts))
    assert slack.sink.posts[0]["text"].startswith("Forgot Dana Scully")
    assert slack.sink.posts[0]["replace_original"] is True
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Contact.id).where(Contact.id == contact_id)) is None


async def test_another_users_person_buttons_and_forms_change_nothing(slack: SlackHarness
                                                                     ) -> None:
    contact_id = await _dana(slack)  # Alex's Dana
    assert (await slack.command("help", user=SAM))[0] == 200
    await _settle()
    before = await snapshot(slack.runtime.engine)
    for action_id in b.PERSON_ACTIONS:
        await slack.interaction(_ephemeral(slack, SAM, _button(action_id, contact_id)))
    await _settle()
    answers = json.dumps(slack.sink.posts) + json.dumps(
        [call.args for call in slack.fake.calls_to("views.open")])
    assert "X-files" not in answers and "Yosemite" not in answers and "FBI" not in answers
    assert "I can't find that person among yours." in answers
    for callback, values in (
            (b.CALLBACK_PERSON_LOG, {"kind": {"value": {"type": "static_select",
                                                        "selected_option": {"value": "call"}}}}),
            (b.CALLBACK_PERSON_NOTE, {"text": {"value": {"type": "plain_text_input",
                                                         "value": "forged"}}})):
        status, body = await slack.interaction(_submission(slack, SAM, callback, contact_id,
                                                           values))
        assert status == 200 and json.loads(body)["response_action"] == "errors"
    await _settle()
    assert await snapshot(slack.runtime.engine) == before


async def test_fuzzed_person_clicks_and_forms_from_someone_else_change_nothing(
        slack: SlackHarness) -> None:
    from hypothesis import strategies as st

    from tests.slack.test_fuzz import _assert_clean, _draw, _json

    contact_id = await _dana(slack)
    assert (await slack.command("help", user=SAM))[0] == 200
    await _settle()
    before = await snapshot(slack.runtime.engine)
    values = st.one_of(st.just(str(contact_id)), st.integers(0, 10).map(str), _json)
    for action_id, value, container in _draw(st.tuples(st.sampled_from(b.PERSON_ACTIONS),
                                                       values, _json)):
        payload = slack.block_action(user=SAM, action={"type": "button",
                                                       "action_id": action_id,
                                                       "value": value, "block_id": "x"})
        payload["container"] = container
        status, body = await slack.interaction(payload)
        _assert_clean(status, body, slack)
    for callback, state, metadata in _draw(st.tuples(
            st.sampled_from([b.CALLBACK_PERSON_LOG, b.CALLBACK_PERSON_NOTE]), _json,
            st.one_of(st.just(json.dumps({"contact_id": contact_id})), st.text(max_size=30),
                      _json.map(json.dumps)))):
        payload = _submission(slack, SAM, callback, contact_id, {})
        payload["view"]["state"] = {"values": state}
        payload["view"]["private_metadata"] = metadata
        status, body = await slack.interaction(payload)
        _assert_clean(status, body, slack)
    await _settle()
    assert await snapshot(slack.runtime.engine) == before


async def test_a_day_written_in_the_note_form_gives_a_reminder_as_the_typed_note_does(
        slack: SlackHarness) -> None:
    # The form saved "her talk on Thursday" with no reminder, where `note Dana: …` made one.
    contact_id = await _dana(slack)
    values = {"text": {"value": {"type": "plain_text_input", "value": "her talk on Thursday"}},
              "follow_up": {"value": {"type": "datepicker", "selected_date": None}}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_NOTE,
                                                       contact_id, values))
    assert status == 200 and json.loads(body)["response_action"] == "update", body
    assert (await slack.runtime.rapport.handle_text(
        slack.actor(), "note Dana: his demo on Thursday")).ok
    async with slack.runtime.sessions() as session:
        notes = dict((await session.execute(select(Note.text, Note.follow_up_on))).all())
    assert notes["her talk"] is not None and notes["her talk"] == notes["his demo"], notes
    # A day the reader can't be sure of is asked about, and nothing is saved.
    values["text"] = {"value": {"type": "plain_text_input", "value": "call her on 11/12"}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_NOTE,
                                                       contact_id, values))
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "11/12" in json.dumps(answer), answer
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Note).where(Note.text.contains("11/12"))) is None
