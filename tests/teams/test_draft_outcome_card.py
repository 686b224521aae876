"""The finished draft on its card, to copy: exactly as the person wrote it, line by line, in
text Teams shows without reading it as Markdown (no emphasis, links or lists made of it, no
backslash escapes shown); the AI disclosure line on a line of its own."""

from __future__ import annotations

from typing import Any

from rapport.bot.core.drafts import DISCLOSURE_LINE
from rapport.storage.models import Draft
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.teams_activities import teams_card_action_invoke
from tests.teams.test_teams_bot import PERSONAL, TeamsHarness, _actions, _card, _install
from tests.teams.test_teams_bot import teams as teams

WRITTEN = ("Hi *Dana*, how did the [launch](https://example.com) go?\n"
           "Two things:\n"
           "\n"
           "1. coffee_break \\o/\n"
           "- lunch at `Joe's` ~ 12")


def _runs(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's RichTextBlocks, in order, each as its text and spacing."""
    found: list[dict[str, Any]] = []

    def walk(blocks: list[dict[str, Any]]) -> None:
        for block in blocks:
            if block["type"] == "RichTextBlock":
                assert all(run["type"] == "TextRun" for run in block["inlines"])
                found.append({"text": "".join(run["text"] for run in block["inlines"]),
                              "spacing": block.get("spacing")})
            walk(block.get("items", []))

    walk(card["body"])
    return found


async def _copy(teams: TeamsHarness, text: str, **inputs: str) -> dict[str, Any]:
    """Dana asks for a draft to Walter, writes `text` and copies it; the card shown then."""
    await _install(teams)
    assert await teams.say("add Walter") == 201
    assert await teams.say("draft Walter") == 201
    draft_message = teams.connector.sent_to(PERSONAL)[-1]
    copy = next(a for a in _actions(_card(draft_message)) if a.get("verb") == "draft_copy")
    status, body = await teams.post(teams_card_action_invoke(
        {**copy["data"], "draft_text": text, **inputs}, verb="draft_copy",
        service_url=teams.url, reply_to_id=draft_message.activity_id))
    assert status == 200
    [update] = teams.connector.updates()
    assert update.body["attachments"][0]["content"] == body["value"]
    card: dict[str, Any] = body["value"]
    return card


async def test_the_message_to_copy_is_shown_exactly_as_written(teams: TeamsHarness) -> None:
    card = await _copy(teams, WRITTEN)

    [row] = await teams.rows(Draft)
    assert row.final_text == WRITTEN
    runs = _runs(card)
    assert [run["text"] for run in runs] == [line for line in WRITTEN.split("\n") if line]
    # The blank line between paragraphs stays a gap.
    assert [run["spacing"] for run in runs] == ["None", "None", "Medium", "None"]
    # Above it, as a sentence, what to do with it; the message itself in no TextBlock.
    texts = [block["text"] for block in card["body"] if block["type"] == "TextBlock"]
    assert texts == ["Here is your message to copy and send to Walter:"]


async def test_the_ai_disclosure_is_a_line_of_its_own_below_the_message(
        fake_openai_env: FakeOpenAI, teams: TeamsHarness) -> None:
    card = await _copy(teams, "Walter, how did the launch go?\nCoffee soon?",
                       draft_disclose="true")

    [row] = await teams.rows(Draft)
    assert row.disclosure
    assert [run["text"] for run in _runs(card)] == [
        "Walter, how did the launch go?", "Coffee soon?", DISCLOSURE_LINE]
