"""What people write in a form is cleaned as a typed command is: no control or format
characters (a NUL, an RTL override, a zero-width space) reach the database. On PostgreSQL a
NUL in a text column is refused outright, which a form answered as a database outage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact, Note, Touchpoint
from tests.slack.conftest import ALEX, DANA, SlackHarness

# An RTL override (a name that reads "exe.png"), a bell, a zero-width space and a NUL.
TYPED = "evil\u202egnp.exe \x07bell \u200b zero\x00nul"
CLEANED = "evilgnp.exe bell zeronul"


@pytest.fixture
async def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The Slack harness on SQLite and, when configured, on PostgreSQL."""
    return any_engine


def _submission(slack: SlackHarness, callback_id: str, values: dict[str, Any],
                metadata: str = "") -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0MODAL", "type": "modal", "callback_id": callback_id,
                     "team_id": slack.team_id, "private_metadata": metadata, "hash": "1.a",
                     "state": {"values": values}}}


def _text(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


async def _dana(slack: SlackHarness) -> str:
    status, _ = await slack.command("add Dana Scully")
    assert status == 200
    async with slack.runtime.sessions() as session:
        contact_id = await session.scalar(select(Contact.id))
    assert contact_id is not None
    return json.dumps({"contact_id": contact_id})


def _notice(body: str) -> str:
    """The notice the person card shows after a form was saved."""
    answer = json.loads(body)
    assert answer["response_action"] == "update", answer
    [notice] = [block for block in answer["view"]["blocks"]
                if block["block_id"] == "person_notice"]
    return str(notice["elements"][0]["text"])


async def test_the_person_note_form_cleans_its_text_as_a_typed_note(
        slack: SlackHarness) -> None:
    metadata = await _dana(slack)
    status, body = await slack.interaction(_submission(
        slack, b.CALLBACK_PERSON_NOTE, {"text": _text(TYPED)}, metadata))
    assert status == 200 and _notice(body).startswith("Noted for Dana Scully")
    await slack.command(f"note Dana: {TYPED}")
    async with slack.runtime.sessions() as session:
        assert list(await session.scalars(select(Note.text).order_by(Note.id))) \
            == [CLEANED, CLEANED]


async def test_the_person_log_form_cleans_its_summary(slack: SlackHarness) -> None:
    metadata = await _dana(slack)
    values = {"kind": {"value": {"type": "static_select",
                                 "selected_option": {"value": "chat"}}},
              "summary": _text(TYPED)}
    status, body = await slack.interaction(_submission(
        slack, b.CALLBACK_PERSON_LOG, values, metadata))
    assert status == 200 and _notice(body).startswith("Logged chat with Dana Scully")
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Touchpoint.summary)) == CLEANED


async def test_the_log_touchpoint_shortcut_cleans_its_summary(slack: SlackHarness) -> None:
    values = {"contact": {"value": {"type": "users_select", "selected_user": DANA}},
              "summary": _text(TYPED)}
    status, body = await slack.interaction(_submission(slack, b.CALLBACK_LOG_TOUCHPOINT, values))
    assert status == 200
    assert "database" not in body and json.loads(body)["response_action"] != "errors"
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Touchpoint.summary)) == CLEANED


async def test_a_note_form_of_only_invisible_characters_asks_for_the_note(
        slack: SlackHarness) -> None:
    metadata = await _dana(slack)
    status, body = await slack.interaction(_submission(
        slack, b.CALLBACK_PERSON_NOTE, {"text": _text("\u200b\x00\u202e")}, metadata))
    assert status == 200
    assert json.loads(body) == {"response_action": "errors",
                                "errors": {"text": "What should I remember?"}}
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Note.id)) is None
