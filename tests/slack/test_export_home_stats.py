"""`/rapport export` as a file in the DM with the bot, and the numbers in the App Home tab."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from rapport.bot.platforms.slack.blocks import reply_pages
from rapport.storage.models import User
from tests.bot import seed
from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness


async def test_export_is_uploaded_as_a_file_into_the_dm_with_the_bot(
        slack: SlackHarness) -> None:
    await slack.command("add Dana")
    # Alex's Slack zone lands in his row on the next command; after that the export is stable.
    await slack.until(lambda: slack.profile_cached())
    await slack.command("note Dana: hiking trip in Yosemite")
    status, body = await slack.command("export")
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    await slack.until(lambda: bool(slack.fake.calls_to("files.completeUploadExternal")))
    [reserved] = slack.fake.calls_to("files.getUploadURLExternal")
    [completed] = slack.fake.calls_to("files.completeUploadExternal")
    assert reserved.ok and completed.ok, (reserved.response, completed.response)
    assert reserved.args["filename"] == "rapport-export.json"
    dm = slack.fake.dm_channel_id(ALEX)
    assert completed.args["channel_id"] == dm
    [uploaded] = slack.fake.files.values()
    assert uploaded.completed and uploaded.channels == [dm]
    # The bytes are exactly what the core exports (the clock is frozen, so byte for byte).
    expected = await slack.runtime.rapport.handle_text(slack.actor(), "export")
    assert expected.attachment is not None and uploaded.content == expected.attachment.data
    assert "hiking trip in Yosemite" in json.loads(uploaded.content.decode())["notes"][0]["text"]
    [shared] = [m for m in slack.fake.messages_in(dm) if m.get("subtype") == "file_share"]
    assert shared["files"][0]["name"] == "rapport-export.json"
    await slack.until(lambda: any("direct messages" in p["text"] for p in slack.sink.posts))
    # The file replaced the inline copy: no JSON went through response_url.
    assert not any("```" in json.dumps(p.get("blocks")) for p in slack.sink.posts)


async def test_export_falls_back_to_inline_text_when_the_upload_is_refused(
        slack: SlackHarness) -> None:
    await slack.command("add Dana")
    slack.fake.fail_next("files.getUploadURLExternal", error="missing_scope")
    await slack.command("export")
    await slack.until(lambda: any("```" in json.dumps(p.get("blocks")) for p in slack.sink.posts))
    inline = json.dumps([p.get("blocks") for p in slack.sink.posts])
    assert "Dana" in inline and "contacts" in inline
    assert slack.fake.calls_to("files.completeUploadExternal") == []


async def test_app_home_shows_the_stats_of_a_seeded_history(slack: SlackHarness,
                                                            clock: Clock) -> None:
    ctx = await slack.runtime.rapport.user_context(slack.actor())
    other = await slack.runtime.rapport.user_context(slack.actor("U0SAM"))
    ids, now, d = (ctx.workspace_id, ctx.user_id), clock.now, timedelta(days=1)
    async with slack.runtime.sessions() as session, session.begin():
        dana = seed.contact(ids, "Dana Scully", now, cadence=14, next_due=now + 3 * d)
        lee = seed.contact(ids, "Lee Park", now, cadence=7, next_due=now - 10 * d)
        kim = seed.contact(ids, "Kim Wu", now, cadence=30, next_due=now - 2 * d)
        stranger = seed.contact((other.workspace_id, other.user_id), "Stranger", now,
                                cadence=7, next_due=now - 99 * d)
        await seed.add_all(session, dana, lee, kim, stranger)
        await seed.add_all(
            session,
            # 3 this week, 4 in 30 days; the stranger's does not count
            seed.touch(dana, now - d), seed.touch(dana, now - 2 * d), seed.touch(kim, now - 5 * d),
            seed.touch(lee, now - 20 * d), seed.touch(stranger, now - d),
            # 2 acted on, 1 snoozed, 1 dismissed, 1 ignored
            seed.nudge(dana, "done", now - 5 * d, delivered=now - 5 * d,
                       acted=now - 5 * d + timedelta(hours=2)),
            seed.nudge(kim, "done", now - 4 * d, delivered=now - 4 * d, acted=now - 4 * d),
            seed.nudge(lee, "snoozed", now - 3 * d, delivered=now - 3 * d, snoozes=1),
            seed.nudge(kim, "dismissed", now - 3 * d, delivered=now - 3 * d, acted=now - 3 * d),
            seed.nudge(lee, "sent", now - 6 * d, delivered=now - 6 * d),
            # 3 drafts, 2 used, 1 edited
            seed.draft(dana, "posted", 12, now), seed.draft(kim, "copied", 0, now),
            seed.draft(lee, "discarded", None, now),
        )
    view = await slack.open_home()
    [section] = [bl for bl in view["blocks"] if bl.get("block_id") == "home_stats"]
    fields = [f["text"] for f in section["fields"]]
    assert fields[0] == "*Conversations*\n3 this week · 4 this month"
    assert fields[1].startswith(
        "*Nudges*\n2 acted on · 1 snoozed · 1 dismissed · 1 ignored\nActed-on rate 40%")
    assert fields[2] == "*Health*\n1 of 3 people within their rhythm (33%)"
    assert fields[3].startswith("*Drafts*\n3 drafts made, 2 used, 1 edited")
    [slipped] = [bl for bl in view["blocks"] if bl.get("block_id") == "home_slipped"]
    slipped_text = slipped["elements"][0]["text"]
    assert slipped_text.startswith("Slipped most: Lee Park (10 days overdue), Kim Wu")
    assert "Stranger" not in json.dumps(view)


async def test_forget_me_clears_app_home_without_making_a_new_user(slack: SlackHarness) -> None:
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "add Dana Scully")).ok
    status, body = await slack.command("forget me confirm")
    # Grants are revoked at their providers first: answered after the ack, not inside it.
    assert status == 200 and json.loads(body)["text"] == "Working on it…"
    await slack.until(lambda: any("deleted" in post["text"] for post in slack.sink.posts))
    # The Home refresh that follows a change runs a second later.
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)
    home = json.dumps(slack.fake.home_view(ALEX))
    assert "Dana Scully" not in home and "stores nothing for you" in home
    async with slack.runtime.sessions() as session:
        assert (await session.scalars(select(User.id))).all() == []


async def _seed_long_notes(slack: SlackHarness, now: datetime) -> None:
    """Many long notes: an inline export of them is more pages than response_url takes."""
    ctx = await slack.runtime.rapport.user_context(slack.actor())
    ids = (ctx.workspace_id, ctx.user_id)
    async with slack.runtime.sessions() as session, session.begin():
        people = [seed.contact(ids, f"Person {n:03}", now) for n in range(300)]
        await seed.add_all(session, *people)
        await seed.add_all(session, *(seed.note(person, f"note {n:03} " + "x" * 2_500, now)
                                      for n, person in enumerate(people)))


def _inline(pages: list[list[dict[str, Any]]]) -> str:
    """The inline copy in `pages`, put back together in their order."""
    return html.unescape("".join(block["text"]["text"].strip("`") for page in pages
                                 for block in page if block["text"]["text"].startswith("```")))


async def _assert_the_whole_export(slack: SlackHarness,
                                   pages: list[list[dict[str, Any]]]) -> None:
    """The inline copy in `pages`, put back together in their order, is the whole export."""
    expected = await slack.runtime.rapport.handle_text(slack.actor(), "export")
    assert expected.attachment is not None
    assert _inline(pages) == expected.attachment.data.decode()


def _dm_pages(slack: SlackHarness) -> list[list[dict[str, Any]]]:
    return [message["blocks"] for message in
            slack.fake.messages_in(slack.fake.dm_channel_id(ALEX)) if "blocks" in message]


async def test_an_answer_longer_than_response_url_takes_goes_on_in_the_dm_in_order(
        slack: SlackHarness, clock: Clock) -> None:
    # An inline export (the upload refused) with more pages than the five messages Slack's
    # response_url takes.
    await _seed_long_notes(slack, clock.now)
    slack.fake.fail_next("files.getUploadURLExternal", error="missing_scope")
    await slack.command("export")
    await slack.until(lambda: any("direct messages" in p["text"] for p in slack.sink.posts),
                      within=10)
    assert slack.sink.refused == [] and len(slack.sink.posts) == 5
    *shown, pointer = slack.sink.posts
    rest = _dm_pages(slack)
    assert len(rest) >= 3 and pointer["text"] == (
        f"This answer is longer than Slack lets me show here: the other {len(rest)} parts are "
        "in our direct messages (open Rapport under Apps).")
    await _assert_the_whole_export(slack, [*(post["blocks"] for post in shown), *rest])


async def test_a_long_answer_in_the_messages_tab_comes_whole(slack: SlackHarness,
                                                             clock: Clock) -> None:
    await _seed_long_notes(slack, clock.now)
    dm = slack.fake.dm_channel_id(ALEX)
    slack.fake.add_channel(dm, members=[ALEX])
    slack.fake.fail_next("files.getUploadURLExternal", error="missing_scope")
    await slack.event({"type": "message", "channel": dm, "channel_type": "im", "user": ALEX,
                       "text": "export", "ts": "1.000200", "event_ts": "1.000200"})
    expected = await slack.runtime.rapport.handle_text(slack.actor(), "export")
    pages = len(reply_pages(expected).pages)
    assert pages > 5 and expected.attachment is not None
    whole = expected.attachment.data.decode()
    # Each page is its own chat.postMessage: wait for the last one, however loaded the machine.
    await slack.until(lambda: len(_inline(_dm_pages(slack))) >= len(whole), within=10)
    await _assert_the_whole_export(slack, _dm_pages(slack))
