"""What people type reaches the core as they typed it: Slack sends `&`, `<` and `>` as
entities and wraps what it linked (emails, URLs, channels) in its markup, in slash commands,
in the Messages tab and in the message a "Log touchpoint" shortcut starts from."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from rapport.bot.core.commands import MAX_SUMMARY_CHARS
from rapport.bot.platforms.slack.incoming import plain_text
from rapport.storage.models import Contact, Note, Touchpoint
from tests.slack.conftest import ALEX, DANA, SAM, SlackHarness
from tests.slack.test_messages_tab import _dm_event, _texts
from tests.slack.test_views import _submission


def test_plain_text_reads_slack_markup_back() -> None:
    assert plain_text("Procter &amp; Gamble &lt;3 a&gt;b") == "Procter & Gamble <3 a>b"
    assert plain_text("&amp;lt;") == "&lt;"  # decoded once: what the person typed
    assert plain_text("<mailto:pg@example.com|pg@example.com>") == "pg@example.com"
    assert plain_text("<https://example.com/a?b=1&amp;c=2>") == "https://example.com/a?b=1&c=2"
    assert plain_text("<http://acme.com|acme.com> <#C0GEN|general> <!here>",
                      name_of=lambda _: None) == "acme.com #general @here"
    # For the core, a mention of many people is a mention (of no one person: see
    # test_mentions_of_non_people.py), which a note writes back as "@here".
    assert plain_text("<#C0GEN|general> <!here> <!subteam^S0ENG|@eng>") == \
        "#general <@group:here|here> <@group:S0ENG|eng>"
    # Mentions stay the core's tokens; a text box gets names instead.
    assert plain_text(f"log <@{DANA}|dana> &amp; <@{SAM}>") == f"log <@{DANA}|dana> & <@{SAM}>"
    assert plain_text(f"<@{DANA}|dana> and <@{SAM}>", name_of=lambda _: "Sam Lee") == \
        "@dana and @Sam Lee"


async def test_slash_command_text_is_read_as_typed(slack: SlackHarness) -> None:
    # Slack sends "/rapport add Procter & Gamble" with the ampersand escaped.
    status, body = await slack.command("add Procter &amp; Gamble at P&amp;G")
    answer = json.loads(body)["text"]  # escaped once for Slack to show "&"
    assert status == 200 and answer.startswith(
        "Added Procter &amp; Gamble (colleague at P&amp;G)"), answer
    await slack.command("note Procter: R&amp;D offsite &lt;3 tomorrow")
    # Slack links an email address as it is typed.
    status, body = await slack.command(
        "set Procter email <mailto:pg@example.com|pg@example.com>")
    assert "⚠️" not in json.loads(body)["text"]
    async with slack.runtime.sessions() as session:
        contact = await session.scalar(select(Contact))
        note = await session.scalar(select(Note))
    assert contact is not None and note is not None
    assert (contact.name, contact.company, contact.email) == (
        "Procter & Gamble", "P&G", "pg@example.com")
    assert note.text == "R&D offsite <3"


async def test_messages_tab_text_is_read_as_typed(slack: SlackHarness) -> None:
    await slack.event(_dm_event(slack, "add Procter &amp; Gamble"))
    await slack.until(lambda: len(_texts(slack)) >= 2)
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Contact.name)) == "Procter & Gamble"


def _log_touchpoint_on(slack: SlackHarness, text: str) -> dict[str, Any]:
    """The message shortcut "Log touchpoint" on Dana's message `text` (as Slack sends it)."""
    return {"type": "message_action", "callback_id": "log_touchpoint",
            "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(), "response_url": slack.sink.url,
            "channel": {"id": "C0GENERAL", "name": "general"}, "message_ts": "1.000100",
            "message": {"type": "message", "user": DANA, "ts": "1.000100", "text": text}}


async def test_log_touchpoint_prefills_the_message_as_its_reader_saw_it(
        slack: SlackHarness) -> None:
    await slack.interaction(_log_touchpoint_on(
        slack, "R&amp;D &lt;3 <@U0SAM|sam>, see <https://x.example|the doc>"))
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert blocks["summary"]["element"]["initial_value"] \
        == "R&D <3 @sam, see the doc (https://x.example)"
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Touchpoint.id)) is None


async def test_log_touchpoint_on_a_long_message_can_be_logged_as_prefilled(
        slack: SlackHarness) -> None:
    await slack.interaction(_log_touchpoint_on(slack, "release notes " * 200))
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    summary = {b["block_id"]: b for b in opened.args["view"]["blocks"]}["summary"]["element"]
    assert summary["max_length"] == MAX_SUMMARY_CHARS
    prefilled = summary["initial_value"]
    assert len(prefilled) <= MAX_SUMMARY_CHARS

    # Log as prefilled: accepted, not "Keep the summary under 1,000 characters".
    values = {"contact": {"value": {"type": "users_select", "selected_user": DANA}},
              "summary": {"value": {"type": "plain_text_input", "value": prefilled}}}
    status, body = await slack.interaction(_submission(slack, "log_touchpoint", values))
    assert status == 200 and json.loads(body)["response_action"] == "update"
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Touchpoint.id)) is not None
