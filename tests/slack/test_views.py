"""App Home, the "Log touchpoint" shortcut, the settings modal and the draft modal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from rapport.storage.models import Contact, Touchpoint, User
from tests.conftest import Clock, snapshot
from tests.slack.conftest import ALEX, DANA, SlackHarness, section_texts


def _user(slack: SlackHarness, user: str = ALEX) -> dict[str, Any]:
    return {"id": user, "username": user.lower(), "team_id": slack.team_id}


def _submission(slack: SlackHarness, callback_id: str, values: dict[str, Any],
                user: str = ALEX) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": _user(slack, user), "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0MODAL", "type": "modal", "callback_id": callback_id,
                     "team_id": slack.team_id, "private_metadata": "", "hash": "1.a",
                     "state": {"values": values}}}


async def test_app_home_opened_publishes_due_people_settings_and_stats(
        slack: SlackHarness) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana every 2 weeks")
    view = await slack.open_home()
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = json.dumps(view["blocks"])
    for heading in ("Due now", "Coming up", "Your people", "How is it going?"):
        assert heading in text
    assert "Dana" in text
    assert "open_settings" in text


async def test_message_shortcut_opens_a_prefilled_modal_and_submit_logs_it(
        slack: SlackHarness) -> None:
    payload = {"type": "message_action", "callback_id": "log_touchpoint",
               "team": {"id": slack.team_id, "domain": "rapport"}, "user": _user(slack),
               "api_app_id": slack.fake.app_id, "token": "legacy",
               "trigger_id": slack.fake.new_trigger_id(), "response_url": slack.sink.url,
               "channel": {"id": "C0GENERAL", "name": "general"}, "message_ts": "1.000100",
               "message": {"type": "message", "user": DANA, "ts": "1.000100",
                           "text": "Shipped the Q3 launch <@U0SAM>!"}}
    status, _ = await slack.interaction(payload)
    assert status == 200
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    view = opened.args["view"]
    assert view["callback_id"] == "log_touchpoint"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["contact"]["element"]["initial_user"] == DANA
    assert "Q3 launch" in blocks["summary"]["element"]["initial_value"]

    values = {"contact": {"value": {"type": "users_select", "selected_user": DANA}},
              "kind": {"value": {"type": "static_select",
                                 "selected_option": {"value": "call", "text": {
                                     "type": "plain_text", "text": "Call"}}}},
              "summary": {"value": {"type": "plain_text_input",
                                    "value": "Q3 launch\nretro next week"}}}
    status, body = await slack.interaction(_submission(slack, "log_touchpoint", values))
    assert status == 200 and json.loads(body)["response_action"] == "update"
    async with slack.runtime.sessions() as session:
        contact = await session.scalar(select(Contact))
        touch = await session.scalar(select(Touchpoint))
    assert contact is not None and contact.platform_user_id == DANA
    assert contact.name == "Dana Scully"
    assert touch is not None and touch.kind == "call" and touch.source == "command"
    assert touch.summary is not None and "retro next week" in touch.summary


async def test_log_submit_without_a_person_shows_a_field_error(slack: SlackHarness) -> None:
    before = await snapshot(slack.runtime.engine)
    status, body = await slack.interaction(_submission(slack, "log_touchpoint", {
        "contact": {"value": {"type": "users_select", "selected_user": None}}}))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "contact" in answer["errors"]
    assert await snapshot(slack.runtime.engine) == before


def _settings_values(**overrides: Any) -> dict[str, Any]:
    def option(value: str) -> dict[str, Any]:
        return {"value": value, "text": {"type": "plain_text", "text": value}}

    values = {
        "tz": {"value": {"type": "plain_text_input", "value": "Europe/Berlin"}},
        "window": {"value": {"type": "plain_text_input", "value": "09:00-17:00"}},
        "days": {"value": {"type": "checkboxes",
                           "selected_options": [option(str(d)) for d in range(5)]}},
        "cap": {"value": {"type": "static_select", "selected_option": option("3")}},
        "digest": {"value": {"type": "radio_buttons", "selected_option": option("on")}},
        "ai": {"value": {"type": "radio_buttons", "selected_option": option("on")}},
    }
    for key, value in overrides.items():
        values[key] = {"value": value}
    return values


async def test_settings_button_opens_modal_and_submit_saves(slack: SlackHarness) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "help")
    payload = {"type": "block_actions", "team": {"id": slack.team_id, "domain": "rapport"},
               "user": _user(slack), "api_app_id": slack.fake.app_id, "token": "legacy",
               "trigger_id": slack.fake.new_trigger_id(),
               "container": {"type": "view", "view_id": "V0HOME"},
               "actions": [{"type": "button", "action_id": "open_settings",
                            "block_id": "home_actions", "value": "open", "action_ts": "1.0"}]}
    await slack.interaction(payload)
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok and opened.args["view"]["callback_id"] == "settings"
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert blocks["window"]["element"]["initial_value"] == "09:00-17:00"

    values = _settings_values(
        window={"type": "plain_text_input", "value": "08:30-16:00"},
        days={"type": "checkboxes", "selected_options": [
            {"value": "0", "text": {"type": "plain_text", "text": "Mon"}},
            {"value": "2", "text": {"type": "plain_text", "text": "Wed"}}]},
        cap={"type": "static_select", "selected_option": {
            "value": "5", "text": {"type": "plain_text", "text": "5"}}},
        ai={"type": "radio_buttons", "selected_option": {
            "value": "off", "text": {"type": "plain_text", "text": "Off"}}})
    status, body = await slack.interaction(_submission(slack, "settings", values))
    assert status == 200 and body == ""
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)
    async with slack.runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == ALEX))
    assert user is not None
    assert (user.tz, user.window_start_minute, user.window_end_minute) == (
        "Europe/Berlin", 8 * 60 + 30, 16 * 60)
    assert (user.working_days, user.daily_cap, user.ai_enabled) == (0b101, 5, False)


async def test_settings_with_a_bad_zone_or_window_change_nothing(slack: SlackHarness) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "help")
    before = await snapshot(slack.runtime.engine)
    values = _settings_values(tz={"type": "plain_text_input", "value": "Mars/Olympus"},
                              window={"type": "plain_text_input", "value": "17-9"})
    status, body = await slack.interaction(_submission(slack, "settings", values))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"tz", "window"}
    assert await snapshot(slack.runtime.engine) == before


async def test_settings_form_reads_a_zone_abbreviation_as_the_regions_clock(
        slack: SlackHarness) -> None:
    """"EST" in the zone field is New York's clock (summer time included), as `settings tz
    EST` is; "CST", US Central or China, is asked about and nothing changes."""
    await slack.runtime.rapport.handle_text(slack.actor(), "help")
    before = await snapshot(slack.runtime.engine)
    values = _settings_values(tz={"type": "plain_text_input", "value": "CST"})
    status, body = await slack.interaction(_submission(slack, "settings", values))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert "America/Chicago" in answer["errors"]["tz"] and "Asia/Shanghai" in answer["errors"]["tz"]
    assert await snapshot(slack.runtime.engine) == before

    values = _settings_values(tz={"type": "plain_text_input", "value": "EST"})
    status, body = await slack.interaction(_submission(slack, "settings", values))
    assert status == 200 and body == ""
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)
    async with slack.runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == ALEX))
    assert user is not None and user.tz == "America/New_York"


@pytest.mark.parametrize(("block", "value"), [
    # "²" and "٣" pass `str.isdigit`; `int` refuses the one and reads the other as 3.
    ("days", {"type": "checkboxes", "selected_options": [
        {"value": "0", "text": {"type": "plain_text", "text": "Mon"}},
        {"value": "²", "text": {"type": "plain_text", "text": "Tue"}}]}),
    ("days", {"type": "checkboxes", "selected_options": [
        {"value": "7", "text": {"type": "plain_text", "text": "Mon"}}]}),
    ("days", {"type": "checkboxes", "selected_options": "0"}),
    ("cap", {"type": "static_select", "selected_option": {
        "value": "²", "text": {"type": "plain_text", "text": "2"}}}),
    ("cap", {"type": "static_select", "selected_option": {
        "value": "٣", "text": {"type": "plain_text", "text": "3"}}}),
    ("cap", {"type": "static_select", "selected_option": {
        "value": "99999999999999999999999", "text": {"type": "plain_text", "text": "9"}}}),
])
async def test_settings_with_a_forged_day_or_cap_are_refused_and_change_nothing(
        slack: SlackHarness, block: str, value: dict[str, Any]) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "help")
    before = await snapshot(slack.runtime.engine)
    values = _settings_values(**{block: value})
    status, body = await slack.interaction(_submission(slack, "settings", values))
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {block}
    assert await snapshot(slack.runtime.engine) == before


async def test_draft_command_without_ai_says_so(slack: SlackHarness) -> None:
    await slack.command("add Dana")
    _status, body = await slack.command("draft Dana")
    assert "Working on it" in json.loads(body)["text"]
    await slack.until(lambda: bool(slack.sink.posts))
    assert "own words" in slack.sink.posts[0]["text"]


async def test_who_havent_i_talked_to_answers_beside_the_nudge_cards(
        slack: SlackHarness, clock: Clock) -> None:
    rapport = slack.runtime.rapport
    for line in ("add Ana", "note Ana: the offsite after Saturday", "add Cleo Cruz",
                 "log Cleo 5 weeks ago", "add Dov Dror"):
        assert (await rapport.handle_text(slack.actor(), line)).ok, line
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert (await slack.runtime.sweeper.sweep()).sent == 1

    status, body = await slack.command("who haven't I talked to lately?")

    assert status == 200
    blocks = json.loads(body)["blocks"]
    sections = section_texts(blocks)
    # The nudge is a card with its buttons; the people gone longest follow as text, Ana
    # (on the card) not again.
    assert any(block["type"] == "actions" for block in blocks)
    start = sections.index("Longest since you talked:")
    end = sections.index("Dov Dror.") + len("Dov Dror.")
    assert sections[start:end] == ("Longest since you talked:\n"
                                   "  Cleo Cruz: last talked Mon Oct 19 (6 weeks ago)\n"
                                   "No conversation logged yet: Dov Dror."), sections


async def test_who_did_i_talk_to_this_week_lists_the_conversations_privately(
        slack: SlackHarness, clock: Clock) -> None:
    rapport = slack.runtime.rapport
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday
    for line in ("add Dana Scully", "add Lee Park", "log Dana on Tuesday: coffee, the <Q3> plan",
                 "log Lee today: call"):
        assert (await rapport.handle_text(slack.actor(), line)).ok, line

    status, body = await slack.command("who did I talk to this week?")

    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    sections = section_texts(answer["blocks"])
    # Slack's mrkdwn: what the person typed is escaped, never read as a link or a mention.
    assert sections == ("2 conversations with 2 people this week (since Mon Nov 23), newest "
                        "first:\n"
                        "  t2 today, Lee Park: call\n"
                        "  t1 Tue Nov 24, Dana Scully: coffee: the &lt;Q3&gt; plan")
