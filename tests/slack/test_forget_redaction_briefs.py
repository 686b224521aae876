"""Meeting briefs and weekly summaries already delivered in Slack are cleared like reminders:
each is recorded with the people it names when it goes out, so `forget Dana` clears those
naming her (a summary naming several is cleared when any of them is forgotten), and `forget
me` and `admin purge` clear all of them, by chat.update through the scheduler's job."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from rapport.scheduler.summary import send_weekly_summaries
from rapport.storage.models import Contact, DeliveredMessageRecord
from tests.conftest import Clock
from tests.connectors.seed import seed_meeting
from tests.slack.conftest import ALEX, SlackHarness
from tests.slack.test_forget_redaction import _has_buttons, _now, _purged_by_an_admin

BRIEF_CLEARED = "This meeting brief named someone you asked Rapport to forget, so it was cleared."
SUMMARY_CLEARED = ("This weekly summary named someone you asked Rapport to forget, so it was "
                   "cleared. Type “stats” to see how your week went.")


async def _contact(slack: SlackHarness, name: str) -> int:
    async with slack.runtime.sessions() as session:
        found = await session.scalar(select(Contact.id).where(Contact.name == name))
    assert found is not None
    return int(found)


async def _people(slack: SlackHarness, *names: str) -> None:
    """Each person due (weekly, last talked 10 days ago) with something to ask about."""
    for name in names:
        first = name.split()[0]
        for line in (f"add {name} every 1 week", f"log {first} coffee 10 days ago",
                     f"note {first}: the hiking trip in Yosemite"):
            reply = await slack.runtime.rapport.handle_text(slack.actor(), line)
            assert reply.ok, reply.text


async def _brief(slack: SlackHarness, clock: Clock, name: str, in_minutes: int
                 ) -> dict[str, Any]:
    """A meeting with `name` soon, briefed by the real job through the runtime."""
    ctx = await slack.runtime.rapport.user_context(slack.actor())
    await seed_meeting(slack.runtime.sessions, ctx.user_id, ctx.workspace_id,
                       await _contact(slack, name), clock.now + timedelta(minutes=in_minutes))
    assert await slack.runtime.brief_job().run_once() == 1
    return next(m for m in reversed(slack.fake.messages_in(ALEX))
                if m["text"].startswith(f"Meeting with {name}"))


async def _summary(slack: SlackHarness, clock: Clock) -> dict[str, Any]:
    for line in ("settings window 0:00-24:00", "settings days all"):
        assert (await slack.runtime.rapport.handle_text(slack.actor(), line)).ok
    friday = clock.now + timedelta(days=(4 - clock.now.weekday()) % 7)
    report = await send_weekly_summaries(slack.runtime.sessions, slack.runtime.messengers,
                                         friday)
    assert report.sent == 1
    return next(m for m in reversed(slack.fake.messages_in(ALEX))
                if m["text"].startswith("In the last 7 days"))


async def _recorded(slack: SlackHarness) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(DeliveredMessageRecord)) or 0)


async def test_forget_dana_clears_her_meeting_brief_and_not_lees(slack: SlackHarness,
                                                                  clock: Clock) -> None:
    await _people(slack, "Dana Scully", "Lee Adama")
    dana_brief = await _brief(slack, clock, "Dana Scully", 20)
    lee_brief = await _brief(slack, clock, "Lee Adama", 25)
    assert "Yosemite" in dana_brief["text"] and _has_buttons(dana_brief)
    await slack.command("forget Dana confirm")
    assert await slack.runtime.redact_pending() == 1
    [update] = slack.fake.calls_to("chat.update")
    assert update.args["ts"] == dana_brief["ts"]
    cleared = _now(slack, dana_brief)
    assert cleared["text"] == BRIEF_CLEARED and not _has_buttons(cleared)
    assert "Dana" not in json.dumps(cleared) and "Yosemite" not in json.dumps(cleared)
    assert _now(slack, lee_brief) == lee_brief
    # Lee's brief is still on record for a later forget; Dana's went with her.
    assert await _recorded(slack) == 1


async def test_a_summary_naming_several_is_cleared_when_any_of_them_is_forgotten(
        slack: SlackHarness, clock: Clock) -> None:
    await _people(slack, "Dana Scully", "Lee Adama")
    summary = await _summary(slack, clock)
    assert "Dana Scully" in summary["text"] and "Lee Adama" in summary["text"]
    await slack.command("forget Lee confirm")
    assert await slack.runtime.redact_pending() == 1
    cleared = _now(slack, summary)
    assert cleared["text"] == SUMMARY_CLEARED
    assert "Lee" not in json.dumps(cleared) and "Dana" not in json.dumps(cleared)
    # Cleared once: forgetting Dana too finds nothing left to clear.
    await slack.command("forget Dana confirm")
    assert await slack.runtime.redact_pending() == 0
    assert len(slack.fake.calls_to("chat.update")) == 1


async def test_a_summary_not_naming_the_person_stays(slack: SlackHarness,
                                                     clock: Clock) -> None:
    await _people(slack, "Dana Scully")
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "add Sam Wu")).ok
    summary = await _summary(slack, clock)
    await slack.command("forget Sam confirm")
    assert await slack.runtime.redact_pending() == 0
    assert _now(slack, summary) == summary


async def test_forget_me_clears_every_brief_and_summary(slack: SlackHarness,
                                                        clock: Clock) -> None:
    await _people(slack, "Dana Scully")
    brief = await _brief(slack, clock, "Dana Scully", 20)
    summary = await _summary(slack, clock)
    await slack.command("forget me confirm")
    # With a calendar connected, the answer comes after the ack (its grant is revoked first).
    await slack.until(lambda: any("Everything Rapport stored for you is deleted" in post["text"]
                                  for post in slack.sink.posts))
    assert await slack.runtime.redact_pending() == 2
    for message in (brief, summary):
        assert _now(slack, message)["text"] == (
            "This message was cleared: you asked Rapport to delete everything it stored "
            "for you.")
    assert await _recorded(slack) == 0


async def test_admin_purge_clears_the_workspaces_summaries(slack: SlackHarness,
                                                           clock: Clock) -> None:
    await _people(slack, "Dana Scully")
    summary = await _summary(slack, clock)
    await _purged_by_an_admin(slack)
    assert _now(slack, summary)["text"] == (
        "This message was cleared: your workspace's Rapport data was deleted.")
