"""A digest counts people, not nudges: one person may have several nudges in it."""

from __future__ import annotations

import pytest

from rapport.bot.platforms.console.chat import render_message
from rapport.bot.platforms.slack.blocks import outgoing_blocks
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.messenger import render
from rapport.scheduler.messenger import NudgeItem, OutgoingMessage, Recipient
from rapport.scheduler.wording import counted

_RECIPIENT = Recipient(workspace_id=1, workspace_external_id="T0", platform="console",
                       user_id=1, user_external_id="U0", display_name="Alex", tz="UTC")
_PEOPLE = {1: "Dana White", 2: "Zoë", 3: "Dana Scully"}


def _digest(*contacts: int) -> OutgoingMessage:
    items = tuple(NudgeItem(nudge_id=n, contact_id=c, contact_name=_PEOPLE[c], reason="cadence",
                            headline=f"Talk to {_PEOPLE[c]}")
                  for n, c in enumerate(contacts, start=2))
    return OutgoingMessage(recipient=_RECIPIENT, kind="digest", items=items)


# What the tester saw: "4 people are worth a message today" over three people, "2 people"
# over two nudges for Zoë.
@pytest.mark.parametrize(("contacts", "console", "others"), [
    ((1, 2, 3, 2), "3 people are worth a message today:", "3 people"),
    ((2, 2), "1 person is worth a message today:", "1 person"),
])
def test_a_digest_counts_distinct_people_on_every_platform(
        contacts: tuple[int, ...], console: str, others: str) -> None:
    message = _digest(*contacts)
    assert console in render_message(message)
    slack_text, _ = outgoing_blocks(message)
    assert slack_text.startswith(f"{others} to reach out to"), slack_text
    assert render(message).summary == f"{others} worth a message"
    intro = cards.nudge_card(message.items)["body"][0]["text"]
    assert intro == (f"{others} worth a message:" if others != "1 person"
                     else "A good moment to reach out:")


def test_counted_agrees_with_its_number() -> None:
    assert counted(1, "person", "people") == "1 person"
    assert counted(2, "person", "people") == "2 people"
    assert counted(0, "note") == "0 notes"
    assert counted(1, "note") == "1 note"
