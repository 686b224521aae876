"""Goals and suggestions in Slack: signed slash commands and clicks into the real app, answers
and files at the fake Slack Web API."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from rapport.bot.core.drafts import DraftService
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.suggestion_buttons import NOT_YOURS
from rapport.scheduler import suggestions as rules
from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage import queries
from rapport.storage.models import Contact, MetPerson, Suggestion, User
from tests.conftest import MONDAY_10_UTC, Clock, snapshot
from tests.connectors.seed import seed_met_twice
from tests.slack.conftest import ALEX, SAM, SlackHarness

CLIENTS = ("Ana Diaz", "Ben Ng", "Cy Ode", "Di Park", "Ed Roy", "Fay Soto", "Gus Tam",
           "Hal Udo", "Ivy Vo")
NOW = MONDAY_10_UTC + timedelta(weeks=20)
ALT = "Goal attainment over the last 8 weeks: Clients from 56% to 78%."


async def _core(slack: SlackHarness, *lines: str) -> None:
    for line in lines:
        reply = await slack.runtime.rapport.handle_text(slack.actor(), line)
        assert reply.ok, (line, reply.text)


async def _client_history(slack: SlackHarness, clock: Clock) -> None:
    clock.set(NOW - timedelta(weeks=20))
    await _core(slack, *(f"add {name} client at Initech" for name in CLIENTS))
    clock.set(NOW - timedelta(days=66))
    await _core(slack, *(f'log "{name}" call' for name in CLIENTS[:5]))
    clock.set(NOW - timedelta(days=10))
    await _core(slack, *(f'log "{name}" coffee' for name in CLIENTS[:7]))
    clock.set(NOW)


def _ack(body: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body)
    return parsed


async def test_tags_and_goal_by_slash_command_then_stats_with_the_chart_in_the_dm(
        slack: SlackHarness, clock: Clock) -> None:
    await _client_history(slack, clock)
    # Tagging and the goal go through the real slash command; fast, so answered in the ack.
    for name in CLIENTS:
        status, body = await slack.command(f'tag "{name}" clients')
        assert status == 200 and _ack(body)["text"] == f"Tagged {name} clients."
    status, body = await slack.command("goal clients every month")
    assert _ack(body)["text"] == "Goal set: talk to everyone tagged clients every month."
    status, body = await slack.command("people #clients")
    assert "Your people tagged clients:" in _ack(body)["text"]
    status, body = await slack.command("stats")
    assert status == 200 and "Working on it" in _ack(body)["text"]
    await slack.until(lambda: bool(slack.fake.calls_to("files.completeUploadExternal")))
    await slack.until(lambda: any("Clients:" in p["text"] for p in slack.sink.posts))
    [answer] = [p for p in slack.sink.posts if "Clients:" in p["text"]]
    assert answer["text"].splitlines()[0] == "Clients: 7 of 9 within a month (78%), up from 56%"
    [reserved] = slack.fake.calls_to("files.getUploadURLExternal")
    assert reserved.args["filename"] == "goal-trend.png" and reserved.args["alt_txt"] == ALT
    [completed] = slack.fake.calls_to("files.completeUploadExternal")
    dm = slack.fake.dm_channel_id(ALEX)
    assert completed.ok and completed.args["channel_id"] == dm
    assert completed.args["initial_comment"] == ALT
    [uploaded] = slack.fake.files.values()
    assert uploaded.content is not None and uploaded.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", uploaded.content[16:24]) == (320, 128)
    [shared] = [m for m in slack.fake.messages_in(dm) if m.get("subtype") == "file_share"]
    assert shared["text"] == ALT and shared["files"][0]["name"] == "goal-trend.png"
    # Same numbers, same chart: a second `stats` uploads nothing new.
    await slack.command("stats")
    await slack.until(lambda: sum("Clients:" in p["text"] for p in slack.sink.posts) == 2)
    assert len(slack.fake.calls_to("files.completeUploadExternal")) == 1
    # App Home shows the goal line, the chart shared in the DM, and the text line beside it.
    await slack.event({"type": "app_home_opened", "user": ALEX, "tab": "home",
                       "channel": "D0HOME", "event_ts": "1.2"})
    # (A refresh after the tag commands may have published Home before the chart existed.)
    await slack.until(lambda: "home_goal_chart" in json.dumps(slack.fake.home_view(ALEX)))
    view = slack.fake.home_view(ALEX)
    assert view is not None
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["home_goals"]["text"]["text"] == \
        "Clients: 7 of 9 within a month (78%), up from 56%"
    image = blocks["home_goal_chart"]
    assert image["type"] == "image" and image["slack_file"] == {"id": uploaded.id}
    assert image["alt_text"] == ALT
    assert blocks["home_goal_trend"]["elements"][0]["text"] == ALT


async def _suggestion_for_lee(slack: SlackHarness, clock: Clock) -> int:
    """Lee's rhythm nudges, delivered by the real sweep to the DM, put off three times with
    the nudge buttons; then the daily rules run."""
    await _core(slack, "settings window 0:00-24:00", "settings days all",
                "add Lee Park client at Initech every 4 weeks")
    dm = slack.fake.dm_channel_id(ALEX)

    async def click(action_id: str) -> None:
        message = slack.fake.messages_in(dm)[-1]
        [actions] = [blk for blk in message["blocks"] if blk["type"] == "actions"]
        nudge_id = int(actions["block_id"].removeprefix("nudge_"))
        before = len(slack.fake.calls_to("chat.update"))
        status, _ = await slack.interaction(slack.block_action(
            user=ALEX, channel=dm, message=message,
            action={"type": "button", "action_id": action_id, "block_id": actions["block_id"],
                    "value": str(nudge_id)}))
        assert status == 200
        await slack.until(lambda: len(slack.fake.calls_to("chat.update")) > before)

    for moment, action in ((MONDAY_10_UTC + timedelta(days=28, minutes=1), "nudge_snooze_1w"),
                           (MONDAY_10_UTC + timedelta(days=35, minutes=1), "nudge_dismiss"),
                           (MONDAY_10_UTC + timedelta(days=56, minutes=2), "nudge_dismiss")):
        clock.set(moment)
        assert (await slack.runtime.sweeper.sweep()).sent == 1
        await click(action)
    assert await rules.make_suggestions(slack.runtime.rapport.db, clock.now) == 1
    async with slack.runtime.sessions() as session:
        suggestion_id = await session.scalar(select(Suggestion.id))
    assert suggestion_id is not None
    return suggestion_id


def _suggestion_action(answer: str, suggestion_id: int) -> dict[str, Any]:
    return {"type": "button", "action_id": f"suggestion_{answer}",
            "block_id": f"suggestion_{suggestion_id}", "value": str(suggestion_id)}


async def test_suggestion_in_the_weekly_summary_is_accepted_with_its_button(
        slack: SlackHarness, clock: Clock) -> None:
    suggestion_id = await _suggestion_for_lee(slack, clock)
    friday = datetime(2027, 1, 22, 10, tzinfo=UTC)
    report = await send_weekly_summaries(slack.runtime.sessions, slack.runtime.messengers,
                                         friday)
    assert report.sent == 1
    dm = slack.fake.dm_channel_id(ALEX)
    summary = slack.fake.messages_in(dm)[-1]
    assert summary["text"].startswith("In the last 7 days you did not log a conversation;")
    question = next(blk for blk in summary["blocks"]
                    if blk.get("block_id") == f"suggestion_text_{suggestion_id}")
    assert question["text"]["text"] == (f"💡 *Suggestion {suggestion_id}:* You've put off Lee "
                                        "three times. Every 8 weeks instead?")
    [actions] = [blk for blk in summary["blocks"]
                 if blk.get("block_id") == f"suggestion_{suggestion_id}"]
    assert [e["action_id"] for e in actions["elements"]] == [
        b.ACTION_SUGGESTION_ACCEPT, b.ACTION_SUGGESTION_KEEP, b.ACTION_SUGGESTION_SILENCE]
    # Someone else's click changes nothing and creates nothing.
    before = await snapshot(slack.runtime.engine)
    status, _ = await slack.interaction(slack.block_action(
        user=SAM, channel=dm, message=summary,
        action=_suggestion_action("accept", suggestion_id)))
    assert status == 200
    await slack.until(lambda: any(p["text"] == NOT_YOURS for p in slack.sink.posts))
    assert await snapshot(slack.runtime.engine) == before
    # The owner's yes: the rhythm changes and the buttons give way to what happened.
    updates = len(slack.fake.calls_to("chat.update"))
    await slack.interaction(slack.block_action(
        user=ALEX, channel=dm, message=summary,
        action=_suggestion_action("accept", suggestion_id)))
    await slack.until(lambda: len(slack.fake.calls_to("chat.update")) > updates)
    updated = slack.fake.message(dm, summary["ts"])
    assert updated is not None
    assert not [blk for blk in updated["blocks"] if blk["type"] == "actions"]
    outcome = next(blk for blk in updated["blocks"]
                   if blk.get("block_id") == f"suggestion_outcome_{suggestion_id}")
    assert outcome["elements"][0]["text"] == "Done. Lee Park is now every 8 weeks."
    async with slack.runtime.sessions() as session:
        lee = await session.scalar(select(Contact).where(Contact.name == "Lee Park"))
        row = await session.scalar(select(Suggestion))
        sam = await session.scalar(select(User).where(User.external_id == SAM))
    assert lee is not None and lee.cadence_days == 56
    assert row is not None and row.status == "accepted"
    assert sam is None


async def test_suggestions_command_answers_with_buttons_and_keep_responds(
        slack: SlackHarness, clock: Clock) -> None:
    suggestion_id = await _suggestion_for_lee(slack, clock)
    status, body = await slack.command("suggestions")
    ack = _ack(body)
    assert status == 200
    ids = [blk.get("block_id") for blk in ack["blocks"]]
    assert ids == [f"suggestion_text_{suggestion_id}", f"suggestion_{suggestion_id}"]
    # Clicked in the ephemeral answer: no message to edit, so the outcome follows it.
    await slack.interaction(slack.block_action(
        user=ALEX, action=_suggestion_action("keep", suggestion_id)))
    await slack.until(lambda: any(p["text"].startswith("Kept as it is") for p in
                                  slack.sink.posts))
    async with slack.runtime.sessions() as session:
        row = await session.scalar(select(Suggestion))
        lee = await session.scalar(select(Contact).where(Contact.name == "Lee Park"))
    assert row is not None and row.status == "kept"
    assert lee is not None and lee.cadence_days == 28
    again = len(slack.sink.posts)
    await slack.interaction(slack.block_action(
        user=ALEX, action=_suggestion_action("accept", suggestion_id)))
    await slack.until(lambda: len(slack.sink.posts) > again)
    assert slack.sink.posts[-1]["text"] == (f"⚠️ You already answered suggestion "
                                            f"{suggestion_id} (kept as it was).")


async def test_a_sensitive_person_gets_no_draft_in_slack(slack: SlackHarness,
                                                         clock: Clock) -> None:
    slack.runtime.rapport.drafter = DraftService(sessions=slack.runtime.sessions, clock=clock)
    await slack.command("add Dana Scully")
    _status, body = await slack.command("set Dana sensitive")
    assert _ack(body)["text"].startswith("Marked Dana Scully as sensitive")
    await slack.command("draft Dana")
    await slack.until(lambda: bool(slack.fake.calls_to("views.update")), within=12)
    view = slack.fake.calls_to("views.update")[-1].response["view"]
    assert "write to Dana personally" in json.dumps(view)
    assert "draft_actions" not in json.dumps(view)


async def test_an_offer_to_add_someone_met_is_added_with_its_button(
        slack: SlackHarness, clock: Clock) -> None:
    ctx = await slack.runtime.rapport.user_context(slack.actor())
    await seed_met_twice(slack.runtime.sessions, ctx.user_id, ctx.workspace_id, clock.now)
    assert await rules.make_suggestions(slack.runtime.rapport.db, clock.now) == 1
    status, body = await slack.command("suggestions")
    assert status == 200
    blocks = _ack(body)["blocks"]
    async with slack.runtime.sessions() as session:
        suggestion_id = await session.scalar(select(Suggestion.id))
    question = next(blk for blk in blocks
                    if blk.get("block_id") == f"suggestion_text_{suggestion_id}")
    assert question["text"]["text"] == (f"💡 *Suggestion {suggestion_id}:* You met Sam Lee "
                                        "twice this month. Add to your people?")
    [actions] = [blk for blk in blocks if blk.get("block_id") == f"suggestion_{suggestion_id}"]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Add", "Not now", "Never"]
    # Someone else's click is refused and changes nothing.
    before = await snapshot(slack.runtime.engine)
    await slack.interaction(slack.block_action(
        user=SAM, action=_suggestion_action("accept", suggestion_id)))
    await slack.until(lambda: any(p["text"] == NOT_YOURS for p in slack.sink.posts))
    assert await snapshot(slack.runtime.engine) == before
    # The owner's Add creates the contact with the address the calendar gave.
    await slack.interaction(slack.block_action(
        user=ALEX, action=_suggestion_action("accept", suggestion_id)))
    await slack.until(lambda: any(p["text"].startswith("Added Sam Lee") for p in
                                  slack.sink.posts))
    async with slack.runtime.sessions() as session:
        sam = await session.scalar(select(Contact).where(Contact.name == "Sam Lee"))
        row = await session.scalar(select(Suggestion))
    assert sam is not None and sam.email == "sam.lee@globex.com"
    assert row is not None and row.status == "accepted"


async def test_a_suggestion_button_left_after_forgetting_the_person_says_it_is_gone(
        slack: SlackHarness, clock: Clock) -> None:
    suggestion_id = await _suggestion_for_lee(slack, clock)
    assert (await slack.runtime.rapport.handle_text(slack.actor(),
                                                    "forget Lee Park confirm")).ok
    await slack.interaction(slack.block_action(
        user=ALEX, action=_suggestion_action("accept", suggestion_id)))
    await slack.until(lambda: bool(slack.sink.posts))
    # The user's own suggestion, about someone forgotten: not "That suggestion isn't yours."
    assert slack.sink.posts[-1]["text"] == (
        f"I can't find suggestion {suggestion_id} among yours; it may have been withdrawn "
        "(“/rapport suggestions” lists the open ones).")


async def test_a_withdrawn_offer_s_button_says_so_not_that_it_is_someone_elses(
        slack: SlackHarness, clock: Clock) -> None:
    """`disconnect calendar` withdraws open offers; an Add clicked on the old message said
    "That suggestion isn't yours." to the person it was for."""
    ctx = await slack.runtime.rapport.user_context(slack.actor())
    await seed_met_twice(slack.runtime.sessions, ctx.user_id, ctx.workspace_id, clock.now)
    assert await rules.make_suggestions(slack.runtime.rapport.db, clock.now) == 1
    async with slack.runtime.sessions() as session:
        suggestion_id = await session.scalar(select(Suggestion.id))
    assert suggestion_id is not None
    async with slack.runtime.sessions() as session, session.begin():
        # What `disconnect calendar` does: its people met go, then the offers they backed.
        await session.execute(delete(MetPerson).where(MetPerson.user_id == ctx.user_id))
        await session.run_sync(lambda sync: queries.delete_attendee_offers(sync, ctx.user_id))
    await slack.interaction(slack.block_action(
        user=ALEX, action=_suggestion_action("accept", suggestion_id)))
    await slack.until(lambda: bool(slack.sink.posts))
    assert slack.sink.posts[-1]["text"] == (
        f"I can't find suggestion {suggestion_id} among yours; it may have been withdrawn "
        "(“/rapport suggestions” lists the open ones).")
    typed = await slack.runtime.rapport.handle_text(slack.actor(), f"accept {suggestion_id}")
    assert typed.text == (f"I can't find suggestion {suggestion_id} among yours; it may have "
                          "been withdrawn (“suggestions” lists the open ones).")
