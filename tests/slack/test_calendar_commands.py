"""`/rapport connect calendar` and `disconnect calendar` through the real Bolt app, with the
calendar connector of a real runtime against the Google fake."""

from __future__ import annotations

import json
import re

from tests.fakes.calendar_fixtures import CalendarApp
from tests.slack.conftest import SlackHarness


async def test_connect_answers_privately_and_disconnect_answers_after_the_ack(
        slack: SlackHarness, calendar_app: CalendarApp) -> None:
    slack.runtime.rapport.calendars = calendar_app.connections
    status, body = await slack.command("connect google calendar")
    answer = json.loads(body)
    assert status == 200 and answer["response_type"] == "ephemeral"
    link = re.search(r"https?://\S+", answer["text"])
    assert link is not None
    page_status, page = await calendar_app.consent(link.group(0).replace("&amp;", "&"),
                                                   "alex@example.com")
    assert page_status == 200 and "Connected" in page

    revocations = len(calendar_app.google.revocations)
    status, body = await slack.command("disconnect calendar")
    # Google is asked to revoke the grant: a call that must not hold Slack's 3-second ack
    # (answered inside it, a slow Google turned the disconnect into "operation_timeout").
    assert status == 200 and json.loads(body)["text"] == "Working on it…"
    await slack.until(lambda: bool(slack.sink.posts))
    [done] = slack.sink.posts
    assert done["response_type"] == "ephemeral"
    assert done["text"].startswith("Disconnected your Google calendar: Rapport no longer "
                                   "reads it, and its tokens are deleted.")
    assert len(calendar_app.google.revocations) == revocations + 1
