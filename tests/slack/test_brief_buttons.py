"""A meeting brief in Slack: delivered to the DM by the real brief job and Slack messenger,
with Show / Snooze buttons per person that act through the person card's handlers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from rapport.bot.connectors.calendars.briefs import BriefJob
from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact
from tests.conftest import Clock
from tests.connectors.seed import seed_meeting
from tests.slack.conftest import ALEX, SAM, SlackHarness, section_texts


async def _meeting_with_dana(slack: SlackHarness, start: datetime, lines: Sequence[str]) -> int:
    """`lines` typed by Alex, then a meeting with Dana Scully at `start` in a connected
    calendar; Dana's contact id."""
    for line in lines:
        assert (await slack.runtime.rapport.handle_text(slack.actor(), line)).ok, line
    ctx = await slack.runtime.rapport.user_context(slack.actor())
    async with slack.runtime.sessions() as session:
        dana = await session.scalar(select(Contact.id).where(Contact.name == "Dana Scully"))
    assert dana is not None
    await seed_meeting(slack.runtime.sessions, ctx.user_id, ctx.workspace_id, dana, start)
    return dana


async def _dana_plan(slack: SlackHarness) -> object:
    async with slack.runtime.sessions() as session:
        return await session.scalar(select(Contact.plan_at).where(Contact.name == "Dana Scully"))


async def test_a_brief_comes_with_show_and_snooze_buttons(slack: SlackHarness,
                                                          clock: Clock) -> None:
    # Dana is due (a weekly rhythm, last talked 10 days ago), with something to ask about.
    dana = await _meeting_with_dana(slack, clock.now + timedelta(minutes=20), (
        "add Dana Scully every 1 week", "log Dana coffee 10 days ago",
        "note Dana: the hiking trip in Yosemite"))
    job = BriefJob(sessions=slack.runtime.sessions, tell=slack.runtime.tell, clock=clock)
    assert await job.run_once() == 1
    dm = slack.fake.dm_channel_id(ALEX)
    [message] = slack.fake.messages_in(dm)
    assert message["text"].startswith("Meeting with Dana Scully at ")
    [actions] = [blk for blk in message["blocks"] if blk["type"] == "actions"]
    assert actions["block_id"] == f"brief_person_{dana}"
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("Show Dana", b.ACTION_PERSON_OPEN, str(dana)),
        ("Snooze Dana 1 week", b.ACTION_PERSON_SNOOZE, str(dana))]

    def click(user: str, element: int) -> dict[str, object]:
        button = actions["elements"][element]
        return slack.block_action(user=user, channel=dm, message=message, action={
            "type": "button", "action_id": button["action_id"], "block_id": actions["block_id"],
            "value": button["value"]})

    # Someone else's click finds no such person and changes nothing.
    before = await _dana_plan(slack)
    posts = len(slack.sink.posts)
    assert (await slack.interaction(click(SAM, 1)))[0] == 200
    await slack.until(lambda: len(slack.sink.posts) > posts)
    assert await _dana_plan(slack) == before
    # Show opens Dana's card; Snooze holds her next nudge a week.
    opened = len(slack.fake.calls_to("views.open"))
    assert (await slack.interaction(click(ALEX, 0)))[0] == 200
    await slack.until(lambda: len(slack.fake.calls_to("views.open")) > opened)
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    assert "Dana Scully" in str(view)
    posts = len(slack.sink.posts)
    assert (await slack.interaction(click(ALEX, 1)))[0] == 200
    await slack.until(lambda: len(slack.sink.posts) > posts)
    assert slack.sink.posts[-1]["text"] == ("No nudge about Dana Scully is out; the next one "
                                            "waits until Mon Nov 30.")
    assert await _dana_plan(slack) != before


async def test_who_am_i_meeting_lists_the_coming_meetings_privately(slack: SlackHarness,
                                                                    clock: Clock) -> None:
    await _meeting_with_dana(slack, clock.now + timedelta(hours=2),
                             ("add Dana Scully", "note Dana: the <b> hiking trip"))

    status, body = await slack.command("who am I meeting today?")

    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    sections = section_texts(answer["blocks"])
    # What the person typed is escaped for Slack's mrkdwn.
    assert sections.startswith("1 meeting with your people today:\n• Today ")
    assert sections.endswith(", Dana Scully — ask about: the &lt;b&gt; hiking trip (noted "
                             "Mon Nov 23).")
