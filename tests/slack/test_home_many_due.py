"""More open nudges than `due` lists (it stops at 50): App Home's "Coming up" still shows
who comes up this week (not "Nothing in the next week."), and Home and `/rapport due` say
how many more nudges there are, through the real Bolt app with signed requests."""

from __future__ import annotations

import json
from typing import Any

from rapport.bot.core.overview import MAX_OPEN_NUDGES
from tests.bot.test_due_many import PEOPLE, seed_many_due
from tests.conftest import Clock
from tests.slack.conftest import SlackHarness, section_texts


def _contexts(blocks: list[dict[str, Any]]) -> list[str]:
    return [element["text"] for block in blocks if block["type"] == "context"
            for element in block["elements"]]


def _more(count: int) -> str:
    return f"… and {count} more; answer these and `/rapport due` shows the next ones."


async def test_home_comes_up_with_the_week_and_counts_the_nudges_it_leaves_out(
        slack: SlackHarness, clock: Clock) -> None:
    await seed_many_due(slack.runtime.rapport, clock, slack.actor())

    view = await slack.open_home()
    blocks = view["blocks"]
    assert len(blocks) <= 100
    lines = section_texts(blocks).splitlines()
    assert "Nothing in the next week." not in lines
    assert "Talk to Zed Later Thu Nov 26" in lines
    # Everyone else has a nudge out: none is listed as overdue without one.
    assert not any("(since" in line for line in lines)
    cards = [block for block in blocks if block.get("block_id", "").startswith("nudge_text_")]
    assert 0 < len(cards) < MAX_OPEN_NUDGES
    assert _more(PEOPLE - len(cards)) in _contexts(blocks)


async def test_due_in_slack_counts_the_nudges_it_leaves_out(slack: SlackHarness,
                                                            clock: Clock) -> None:
    await seed_many_due(slack.runtime.rapport, clock, slack.actor())

    status, body = await slack.command("due")

    assert status == 200
    more = _more(PEOPLE - MAX_OPEN_NUDGES)
    # The first page answers in the ack, the others follow through response_url; the count
    # ends the last one, after the cards.
    await slack.until(lambda: any(more in _contexts(post["blocks"])
                                  for post in slack.sink.posts))
    pages = [json.loads(body)["blocks"], *(post["blocks"] for post in slack.sink.posts)]
    assert _contexts(pages[-1])[-1] == more
    blocks = [block for page in pages for block in page]
    cards = [block for block in blocks if block.get("block_id", "").startswith("nudge_text_")]
    assert len(cards) == MAX_OPEN_NUDGES
    assert "  Talk to Zed Later Thu Nov 26" in section_texts(blocks).splitlines()
