"""A weekly summary offering to add two people met: once one offer's address is one of your
people's (`set Dana email sam.lee@globex.com`), a click on the other redraws the summary with
the first offer's row out of date, as `suggestions` leaves it out and as a click on it says
(it kept its Add / Not now / Never buttons)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage.models import Contact, Suggestion
from tests.slack.conftest import ALEX, SlackHarness
from tests.slack.test_stale_offer_buttons import FRIDAY, _said

SAM = "You met Sam Lee (Globex) twice this month. Add to your people?"
PAT = "You met Pat Kim (Initech) twice this month. Add to your people?"


async def _two_offers(slack: SlackHarness) -> tuple[int, int, str, dict[str, Any]]:
    """A weekly summary offering Alex (who keeps Dana Scully) to add Sam Lee and Pat Kim:
    (Sam's offer, Pat's offer, the DM channel, the message as delivered)."""
    await _said(slack, "add Dana Scully")
    async with slack.runtime.sessions() as session, session.begin():
        dana = (await session.scalars(select(Contact))).one()
        offers = [Suggestion(workspace_id=dana.workspace_id, user_id=dana.user_id,
                             kind="add_person", dedupe_key=f"met:{address}", text=text,
                             status="open", created_at=datetime(2026, 11, 24, hour, tzinfo=UTC),
                             attendee_email=address, attendee_name=name,
                             attendee_company=company)
                  for hour, (address, name, company, text) in enumerate([
                      ("sam.lee@globex.com", "Sam Lee", "Globex", SAM),
                      ("pat.kim@initech.com", "Pat Kim", "Initech", PAT)])]
        session.add_all(offers)
        await session.flush()
        sam, pat = (offer.id for offer in offers)
    report = await send_weekly_summaries(slack.runtime.sessions, slack.runtime.messengers,
                                         FRIDAY)
    assert report.sent == 1
    channel = slack.fake.dm_channel_id(ALEX)
    return sam, pat, channel, slack.fake.messages_in(channel)[-1]


def _row(message: dict[str, Any], block_id: str) -> list[dict[str, Any]]:
    return [block for block in message["blocks"] if block.get("block_id") == block_id]


async def test_a_click_beside_an_offer_whose_address_became_a_contacts_shows_it_out_of_date(
        slack: SlackHarness) -> None:
    sam, pat, channel, delivered = await _two_offers(slack)
    assert [block["type"] for block in _row(delivered, f"suggestion_{sam}")] == ["actions"]
    await _said(slack, "set Dana email sam.lee@globex.com")

    await slack.click_to_update({"type": "button", "action_id": "suggestion_keep",
                                 "block_id": f"suggestion_{pat}", "value": str(pat)},
                                channel=channel, message=delivered)

    redrawn = slack.fake.message(channel, delivered["ts"])
    assert redrawn is not None
    # Neither row has buttons left: Pat's was answered, Sam's withdrawn.
    assert not [block for block in redrawn["blocks"] if block["type"] == "actions"]
    [sams] = _row(redrawn, f"suggestion_outcome_{sam}")
    assert sams["elements"][0]["text"] == "Out of date: nothing changed."
    [pats] = _row(redrawn, f"suggestion_outcome_{pat}")
    assert "Pat Kim" in pats["elements"][0]["text"]
