"""Add on an old copy of an offer to add someone met in meetings, clicked after the offer was
answered some other way (Never, Not now or Add typed, or on another copy) or withdrawn: the
answer says what really happened to the offer (it used to say "Sam Lee is already one of your
people" of someone who was not), the copy's buttons make way for it, and nothing changes: no
contact, no new answer, nothing for `undo`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage.models import Contact, Suggestion
from tests.conftest import snapshot
from tests.slack.conftest import ALEX, SlackHarness

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
OFFER = "You met Sam Lee (Globex) twice this month. Add to your people?"


async def _offer(slack: SlackHarness) -> tuple[int, str, dict[str, Any]]:
    """A weekly summary offering Alex to add Sam Lee, met in meetings (Alex keeps Dana
    Scully already): (the offer's id, the DM channel, the message as delivered)."""
    rapport = slack.runtime.rapport
    assert (await rapport.handle_text(slack.actor(), "add Dana Scully")).ok
    async with slack.runtime.sessions() as session, session.begin():
        dana = (await session.scalars(select(Contact))).one()
        offer = Suggestion(workspace_id=dana.workspace_id, user_id=dana.user_id,
                           kind="add_person", dedupe_key="met:sam.lee@globex.com", text=OFFER,
                           status="open", created_at=datetime(2026, 11, 24, tzinfo=UTC),
                           attendee_email="sam.lee@globex.com", attendee_name="Sam Lee",
                           attendee_company="Globex")
        session.add(offer)
        await session.flush()
        offer_id = offer.id
    report = await send_weekly_summaries(slack.runtime.sessions, slack.runtime.messengers,
                                         FRIDAY)
    assert report.sent == 1
    channel = slack.fake.dm_channel_id(ALEX)
    message = slack.fake.messages_in(channel)[-1]
    assert f"suggestion_{offer_id}" in [block.get("block_id") for block in message["blocks"]]
    return offer_id, channel, message


async def _add_on_the_old_copy(slack: SlackHarness, offer: int, channel: str,
                               copy: dict[str, Any]) -> str:
    """Add on the offer in `copy`; what the redrawn message says in the offer's row."""
    action = {"type": "button", "action_id": "suggestion_accept",
              "block_id": f"suggestion_{offer}", "value": str(offer)}
    await slack.click_to_update(action, channel=channel, message=copy)
    found = slack.fake.message(channel, copy["ts"])
    assert found is not None
    assert not [block for block in found["blocks"] if block["type"] == "actions"]
    [row] = [block["elements"][0]["text"] for block in found["blocks"]
             if block.get("block_id") == f"suggestion_outcome_{offer}"]
    return str(row)


async def _said(slack: SlackHarness, line: str) -> str:
    reply = await slack.runtime.rapport.handle_text(slack.actor(), line)
    assert reply.ok, reply.text
    return reply.text


@pytest.mark.parametrize(("typed", "told"), [
    ("silence {id}", "You already answered suggestion {id} with “Never”, so I didn't add "
                     "Sam Lee and left everything as it is."),
    ("keep {id}", "You already answered suggestion {id} with “Not now”, so I didn't add "
                  "Sam Lee and left everything as it is."),
    ("accept {id}", "You already answered suggestion {id} with “Add” (Sam Lee was added "
                    "then), so I left everything as it is."),
    ("suggestions off met", "Suggestion {id} was withdrawn, so I didn't add Sam Lee and left "
                            "everything as it is (“suggestions” lists the open ones)."),
])
async def test_add_on_an_old_copy_of_an_offer_answered_or_withdrawn_says_so(
        slack: SlackHarness, typed: str, told: str) -> None:
    offer, channel, delivered = await _offer(slack)
    await _said(slack, typed.format(id=offer))  # the copy in the DM still shows the buttons
    before = await snapshot(slack.runtime.engine)
    posts = len(slack.sink.posts)

    said = await _add_on_the_old_copy(slack, offer, channel, delivered)

    assert said == told.format(id=offer)
    assert "one of your people" not in said
    assert await snapshot(slack.runtime.engine) == before
    assert slack.sink.posts[posts:] == []  # the redrawn message says it; nothing besides


async def test_add_on_an_offer_whose_address_became_another_contacts_says_it_was_withdrawn(
        slack: SlackHarness) -> None:
    """The address is Dana's now: Sam Lee is not one of Alex's people, and the offer stays
    as it stood (undoing the `set` brings it back)."""
    offer, channel, delivered = await _offer(slack)
    await _said(slack, "set Dana email sam.lee@globex.com")
    before = await snapshot(slack.runtime.engine)

    said = await _add_on_the_old_copy(slack, offer, channel, delivered)

    assert said == (f"Suggestion {offer} was withdrawn: sam.lee@globex.com is the address of "
                    "one of your people now, so I left everything as it is.")
    assert await snapshot(slack.runtime.engine) == before
    assert (await _said(slack, "undo")).startswith("Undone: ")  # the `set`, not the click
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Suggestion.status)) == "open"
        assert (await session.scalars(select(Contact.name))).all() == ["Dana Scully"]
