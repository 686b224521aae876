"""The "Log touchpoint" message shortcut logs the conversation on the message's day (editable in
a When field, as on the person card's Log form), confirms what it logged, and prefills the
summary as the message read: mentions by name, links with where they point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Touchpoint
from tests.conftest import Clock
from tests.slack.conftest import ALEX, DANA, SlackHarness


def _shortcut(slack: SlackHarness, message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": b.CALLBACK_LOG_TOUCHPOINT,
            "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(), "response_url": slack.sink.url,
            "channel": {"id": "C0GENERAL", "name": "general"}, "message_ts": message["ts"],
            "message": {"type": "message", "user": DANA, **message}}


def _submission(slack: SlackHarness, values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0MODAL", "type": "modal", "callback_id": b.CALLBACK_LOG_TOUCHPOINT,
                     "team_id": slack.team_id, "private_metadata": "", "hash": "1.a",
                     "state": {"values": values}}}


def _ts(moment: datetime) -> str:
    return f"{int(moment.timestamp())}.000100"


async def _opened(slack: SlackHarness, message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Run the shortcut on `message`: the modal's blocks by block id."""
    opened_before = len(slack.fake.calls_to("views.open"))
    status, _ = await slack.interaction(_shortcut(slack, message))
    assert status == 200
    await slack.until(lambda: len(slack.fake.calls_to("views.open")) > opened_before)
    opened = slack.fake.calls_to("views.open")[-1]
    assert opened.ok, opened.response
    return {block["block_id"]: block for block in opened.args["view"]["blocks"]}


def _values(day: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "contact": {"value": {"type": "users_select", "selected_user": DANA}},
        "kind": {"value": {"type": "static_select", "selected_option": {"value": "coffee"}}},
        "summary": {"value": {"type": "plain_text_input", "value": "the offsite"}}}
    if day is not None:
        values["day"] = {"value": {"type": "datepicker", "selected_date": day}}
    return values


async def test_a_message_from_20_days_ago_is_logged_on_its_day_and_confirmed(
        slack: SlackHarness, clock: Clock) -> None:
    blocks = await _opened(slack, {"ts": _ts(clock.now - timedelta(days=20)),
                                   "text": "coffee at the offsite?"})
    assert blocks["day"]["label"]["text"] == "When"
    assert blocks["day"]["element"]["type"] == "datepicker"
    assert blocks["day"]["element"]["initial_date"] == "2026-11-03"

    status, body = await slack.interaction(_submission(slack, _values("2026-11-03")))
    assert status == 200
    answer = json.loads(body)
    # The modal turns into Dana's card saying what was logged, as the card's Log form does.
    assert answer["response_action"] == "update"
    [notice] = [block for block in answer["view"]["blocks"]
                if block.get("block_id") == "person_notice"]
    assert notice["elements"][0]["text"].startswith("Logged coffee with Dana Scully")
    async with slack.runtime.sessions() as session:
        touch = await session.scalar(select(Touchpoint))
    assert touch is not None and touch.kind == "coffee"
    # Logged for that day (kept at noon of it in Alex's zone, Europe/Berlin), not now.
    assert touch.happened_at.replace(tzinfo=UTC) == datetime(2026, 11, 3, 11, 0, tzinfo=UTC)


async def test_the_day_is_the_messages_day_in_the_users_zone(
        slack: SlackHarness, clock: Clock) -> None:
    # 23:30 UTC is already the next day in Berlin, Alex's zone in Slack.
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    blocks = await _opened(slack, {"ts": _ts(late), "text": "late call"})
    assert blocks["day"]["element"]["initial_date"] == "2026-11-21"
    # A zone Alex chose in Rapport counts over Slack's.
    reply = await slack.runtime.rapport.handle_text(slack.actor(),
                                                    "settings tz America/Los_Angeles")
    assert reply.ok, reply.text
    blocks = await _opened(slack, {"ts": _ts(late), "text": "late call"})
    assert blocks["day"]["element"]["initial_date"] == "2026-11-20"


async def test_a_message_with_no_usable_time_defaults_to_today(
        slack: SlackHarness, clock: Clock) -> None:
    for ts in (_ts(clock.now + timedelta(days=2)), "not-a-time", "1e999"):
        blocks = await _opened(slack, {"ts": ts, "text": "hi"})
        assert blocks["day"]["element"]["initial_date"] == "2026-11-23", ts


async def test_a_day_still_to_come_is_refused_under_the_when_field(
        slack: SlackHarness) -> None:
    status, body = await slack.interaction(_submission(slack, _values("2026-11-30")))
    assert status == 200
    assert json.loads(body) == {"response_action": "errors", "errors": {
        "day": "You can only log conversations that already happened."}}
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Touchpoint.id)) is None


async def test_the_prefilled_summary_names_mentioned_people_and_keeps_link_addresses(
        slack: SlackHarness) -> None:
    blocks = await _opened(slack, {
        "ts": "1.000100",
        "text": "ping <@U0SAM> re <https://acme.com/q3_plan|the plan> on "
                "<http://acme.com|acme.com>, <https://acme.com/>"})
    assert blocks["summary"]["element"]["initial_value"] == (
        "ping @Sam Lee re the plan (https://acme.com/q3_plan) on acme.com, "
        "https://acme.com/")
