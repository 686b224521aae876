"""A click on a suggestion in a weekly summary (which holds up to three) redraws the other
suggestions from the server's state, not from the clicker's copy: a stale copy brings back
no buttons already answered, silencing a kind takes the buttons off the others of that kind
it withdrew, and a forgotten person's suggestion loses its row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage.models import Contact, Suggestion
from tests.bot import seed
from tests.conftest import MONDAY_10_UTC
from tests.slack.conftest import ALEX, SlackHarness

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def _summary(slack: SlackHarness) -> tuple[list[int], str, dict[str, Any]]:
    """A weekly summary with two open put-off suggestions, about Lee and about Ana:
    (suggestion ids, the DM channel, the message as delivered)."""
    rapport = slack.runtime.rapport
    for line in ("add Lee Park every 4 weeks", "add Ana Diaz every 4 weeks"):
        assert (await rapport.handle_text(slack.actor(), line)).ok, line
    async with slack.runtime.sessions() as session, session.begin():
        people = (await session.scalars(select(Contact).order_by(Contact.id))).all()
        rows = [seed.suggestion(person, "put_off", MONDAY_10_UTC, proposed_days=56)
                for person in people]
        for row, person in zip(rows, people, strict=True):
            row.current_value = person.cadence_days
            row.text = f"You've put off {person.name.split()[0]} three times. Every 8 weeks?"
        await seed.add_all(session, *rows)
        ids = [row.id for row in rows]
    report = await send_weekly_summaries(slack.runtime.sessions, slack.runtime.messengers,
                                         FRIDAY)
    assert report.sent == 1
    channel = slack.fake.dm_channel_id(ALEX)
    message = slack.fake.messages_in(channel)[-1]
    assert [block.get("block_id") for block in message["blocks"]][-4:] == [
        f"suggestion_text_{ids[0]}", f"suggestion_{ids[0]}",
        f"suggestion_text_{ids[1]}", f"suggestion_{ids[1]}"]
    return ids, channel, message


async def _click(slack: SlackHarness, answer: str, suggestion_id: int, channel: str,
                 copy: dict[str, Any]) -> None:
    """`answer` on `suggestion_id` in `copy` (the message as the person's Slack shows it),
    then wait for the message to be updated."""
    action = {"type": "button", "action_id": f"suggestion_{answer}",
              "block_id": f"suggestion_{suggestion_id}", "value": str(suggestion_id)}
    await slack.click_to_update(action, channel=channel, message=copy)


def _row_ends(slack: SlackHarness, channel: str, message: dict[str, Any]) -> dict[str, str]:
    """block_id -> its text (or "buttons") for what ends each suggestion's row now."""
    found = slack.fake.message(channel, message["ts"])
    assert found is not None
    return {block["block_id"]: "buttons" if block["type"] == "actions"
            else block["elements"][0]["text"]
            for block in found["blocks"]
            if str(block.get("block_id", "")).startswith("suggestion_")
            and not block["block_id"].startswith("suggestion_text_")}


async def test_a_second_click_on_a_stale_summary_does_not_bring_back_answered_buttons(
        slack: SlackHarness) -> None:
    (lee, ana), channel, delivered = await _summary(slack)
    await _click(slack, "keep", lee, channel, delivered)
    # The second click comes from the same copy, which still shows Lee's buttons.
    await _click(slack, "keep", ana, channel, delivered)

    kept = "Kept as it is. I won't suggest this again until something changes."
    assert _row_ends(slack, channel, delivered) == {
        f"suggestion_outcome_{lee}": "Answered: Keep as it is.",
        f"suggestion_outcome_{ana}": kept}


async def test_silencing_a_kind_takes_the_buttons_off_the_others_it_withdrew(
        slack: SlackHarness) -> None:
    (lee, ana), channel, delivered = await _summary(slack)

    await _click(slack, "silence", lee, channel, delivered)

    ends = _row_ends(slack, channel, delivered)
    assert ends[f"suggestion_outcome_{lee}"].startswith("No more suggestions about put-off")
    assert ends[f"suggestion_outcome_{ana}"] == "Out of date: nothing changed."
    async with slack.runtime.sessions() as session:
        statuses = dict((await session.execute(select(Suggestion.id, Suggestion.status))).all())
    assert statuses == {lee: "silenced", ana: "expired"}


async def test_a_stale_summary_does_not_bring_back_a_forgotten_persons_suggestion(
        slack: SlackHarness) -> None:
    (lee, ana), channel, delivered = await _summary(slack)
    assert (await slack.runtime.rapport.handle_text(slack.actor(),
                                                    "forget Ana Diaz confirm")).ok

    await _click(slack, "keep", lee, channel, delivered)

    found = slack.fake.message(channel, delivered["ts"])
    assert found is not None
    ids = [block.get("block_id") for block in found["blocks"]]
    assert f"suggestion_text_{ana}" not in ids and f"suggestion_{ana}" not in ids
    assert ids[-2:] == [f"suggestion_text_{lee}", f"suggestion_outcome_{lee}"]


async def test_an_open_suggestion_keeps_its_buttons(slack: SlackHarness) -> None:
    (lee, ana), channel, delivered = await _summary(slack)

    await _click(slack, "keep", lee, channel, delivered)

    assert _row_ends(slack, channel, delivered)[f"suggestion_{ana}"] == "buttons"
