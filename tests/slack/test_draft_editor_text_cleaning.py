"""The draft editor cleans the text the person edited before Rapport stores or posts it: a
NUL, another control character, a bidirectional override or a lone surrogate never reach the
database (PostgreSQL refuses a NUL in a text column outright, which a Post answered as a
database outage) nor Slack; the person's line breaks stay."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.slack.conftest import HarnessFactory, SlackHarness
from tests.slack.test_draft_editor import (
    MakeDrafts,
    _draft,
    _oauth_with_user_token,
    _open_editor,
    _submission,
    _with_dana,
    drafts,
)

__all__ = ["drafts"]  # the fixture, shared with the editor's other tests

# A NUL, a bell, an RTL override (the line would read backwards), a Windows line break and
# a paragraph separator: what a paste from another program may carry.
TYPED = ("Dana!\x00 How did the \u202elaunch\u202c go?\r\nCoffee next week\x07 is on me."
         "\u2029Alex 👩\u200d💻")
CLEANED = "Dana! How did the launch go?\nCoffee next week is on me.\nAlex 👩\u200d💻"


@pytest.fixture
async def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The Slack harness on SQLite and, when configured, on PostgreSQL."""
    return any_engine


async def test_an_edited_draft_to_copy_is_cleaned_and_keeps_its_lines(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    status, body = await slack.interaction(_submission(slack, view, TYPED, disclose=False))
    assert status == 200 and json.loads(body)["response_action"] == "update", body
    await slack.until(lambda: "Copy your message" in json.dumps(
        slack.fake.views[view["id"]]["title"]))
    draft = await _draft(slack, view)
    assert (draft.outcome, draft.final_text) == ("copied", CLEANED)
    shown = json.dumps(slack.fake.views[view["id"]]["blocks"], ensure_ascii=False)
    assert "\\u0000" not in shown and "\u202e" not in shown and "is on me." in shown


async def test_an_edited_draft_posted_as_the_person_is_cleaned(
        make_harness: HarnessFactory, drafts: MakeDrafts) -> None:
    slack, _token = await _oauth_with_user_token(make_harness)
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    status, body = await slack.interaction(_submission(slack, view, TYPED, disclose=False))
    assert status == 200 and json.loads(body)["response_action"] == "update", body
    await slack.until(lambda: bool(slack.fake.calls_to("chat.postMessage")))
    [posted] = slack.fake.calls_to("chat.postMessage")
    assert posted.args["text"] == CLEANED

    async def recorded() -> bool:
        return (await _draft(slack, view)).outcome == "posted"

    await slack.until(recorded)
    assert (await _draft(slack, view)).final_text == CLEANED


async def test_a_draft_of_nothing_but_control_characters_is_refused(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    status, body = await slack.interaction(_submission(slack, view, "\x00\u202e\x07\n"))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors", answer
    assert "nothing to send" in answer["errors"]["draft"]
