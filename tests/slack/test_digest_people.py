"""A digest's notification text names each person once, and one person's rows sit together
under the heading, however the sweep ordered the nudges (by when each fell due)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rapport.storage.models import Contact, Nudge
from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness


def _row_people(message: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Whose each nudge row is, top to bottom."""
    return [names[int(block["block_id"].removeprefix("nudge_text_"))]
            for block in message["blocks"]
            if str(block.get("block_id", "")).startswith("nudge_text_")]


async def test_a_digest_names_each_person_once_and_keeps_their_rows_together(
        slack: SlackHarness, clock: Clock) -> None:
    rapport = slack.runtime.rapport
    for line in ("add Dana Scully every 1 week", "date Dana birthday Dec 3",
                 "note Dana: hiking trip in Yosemite after Saturday",
                 "add Lee Park every 1 week"):
        assert (await rapport.handle_text(slack.actor(), line)).ok, line
    clock.set(datetime(2026, 11, 30, 10, 30, tzinfo=UTC))  # Monday
    assert (await slack.runtime.sweeper.sweep()).messages == 1
    [delivered] = slack.fake.messages_in(ALEX)
    async with slack.runtime.sessions() as session:
        rows = await session.execute(select(Nudge.id, Contact.name).join(Contact))
        names: dict[int, str] = {nudge_id: name for nudge_id, name in rows}
    assert sorted(names.values()) == ["Dana Scully"] * 3 + ["Lee Park"]

    assert delivered["text"] == "2 people to reach out to: Dana Scully, Lee Park"
    assert _row_people(delivered, names) == ["Dana Scully"] * 3 + ["Lee Park"]
