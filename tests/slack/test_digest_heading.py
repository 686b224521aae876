"""A digest redrawn after a click counts the people whose rows are left in its heading: a
forgotten person's row is dropped, and "3 people to reach out to" becomes "2 people"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rapport.storage.models import Contact, Nudge
from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness
from tests.slack.test_nudge_redraw import _click_done, _digest, _now


def _heading(message: dict[str, Any]) -> str:
    [header] = [block for block in message["blocks"] if block["type"] == "header"]
    text: str = header["text"]["text"]
    return text


async def test_after_a_forgotten_persons_row_is_dropped_the_heading_counts_those_left(
        slack: SlackHarness, clock: Clock) -> None:
    (_dana, lee, _kim), channel, delivered = await _digest(slack, clock, "Dana", "Lee", "Kim")
    assert _heading(delivered) == "3 people to reach out to"
    await slack.command("forget Dana confirm")
    assert await slack.runtime.redact_pending() == 1

    # A copy from before the forget still shows Dana's row.
    await _click_done(slack, lee, channel, delivered)

    now = _now(slack, channel, delivered)
    assert "Dana" not in str(now["blocks"])
    assert _heading(now) == "2 people to reach out to"


async def test_a_click_that_drops_no_row_keeps_the_count(slack: SlackHarness,
                                                         clock: Clock) -> None:
    (dana, _lee), channel, delivered = await _digest(slack, clock, "Dana", "Lee")

    await _click_done(slack, dana, channel, delivered)

    # Dana's row stays, with what happened: still two people in this digest.
    assert _heading(_now(slack, channel, delivered)) == "2 people to reach out to"


async def test_the_heading_counts_people_not_rows(slack: SlackHarness, clock: Clock) -> None:
    rapport = slack.runtime.rapport
    for line in ("add Dana Scully every 1 week", "note Dana: hiking trip in Yosemite after "
                 "Saturday", "add Lee Park", "note Lee: the offsite after Saturday",
                 "add Kim Wu", "note Kim: the launch after Saturday"):
        assert (await rapport.handle_text(slack.actor(), line)).ok, line
    clock.set(datetime(2026, 11, 30, 10, 30, tzinfo=UTC))  # Monday: Dana has two reminders
    assert (await slack.runtime.sweeper.sweep()).messages == 1
    [delivered] = slack.fake.messages_in(ALEX)
    channel = slack.fake.dm_channel_id(ALEX)
    assert _heading(delivered) == "3 people to reach out to"
    async with slack.runtime.sessions() as session:
        danas = (await session.scalars(select(Nudge.id).join(Contact).where(
            Contact.name == "Dana Scully").order_by(Nudge.id))).all()
    assert len(danas) == 2
    await slack.command("forget Lee Park confirm")
    await slack.runtime.redact_pending()

    await _click_done(slack, danas[0], channel, delivered)

    # Dana's two rows and Kim's: two people.
    assert _heading(_now(slack, channel, delivered)) == "2 people to reach out to"
