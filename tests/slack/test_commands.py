"""`/rapport` over signed HTTP: answers in the ack, slow verbs after it, forged requests refused."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
from typing import Any

from sqlalchemy import func, select

from rapport.bot.platforms.slack import SLACK_KEY
from rapport.storage.models import Contact, Note, Touchpoint, User
from tests.conftest import snapshot
from tests.slack.conftest import ALEX, DANA, SAM, SlackHarness


async def test_log_is_answered_ephemerally_inside_the_ack(slack: SlackHarness) -> None:
    await slack.command("add Dana")
    status, body = await slack.command("log Dana coffee")
    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    assert "Logged coffee with Dana" in answer["text"]
    assert answer["blocks"][0]["type"] == "section"
    async with slack.runtime.sessions() as session:
        contact = await session.scalar(select(Contact))
        touch = await session.scalar(select(Touchpoint))
    assert contact is not None and contact.name == "Dana"
    assert touch is not None and touch.kind == "coffee"
    # After the ack the Home tab is refreshed and the user's zone learnt from users.info.
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)
    await slack.until(slack.profile_cached)
    status, _ = await slack.command("help")
    async with slack.runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == ALEX))
    assert user is not None and user.tz == "Europe/Berlin"


async def test_due_lists_nothing_and_bad_input_gets_usage_and_changes_nothing(
        slack: SlackHarness) -> None:
    status, body = await slack.command("due")
    assert status == 200 and "Nothing is due" in json.loads(body)["text"]
    await slack.until(slack.profile_cached)
    await slack.command("due")  # applies the zone learnt from users.info
    before = await snapshot(slack.runtime.engine)
    status, body = await slack.command("log")
    answer = json.loads(body)
    assert status == 200 and answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("⚠️")
    status, body = await slack.command("frobnicate everyone")
    assert "⚠️" in json.loads(body)["text"]
    assert await snapshot(slack.runtime.engine) == before


async def test_mention_becomes_a_contact_named_from_the_directory(slack: SlackHarness) -> None:
    # An uncached @mention needs users.info, so the command answers right after the ack.
    status, body = await slack.command(f"log <@{DANA}|dana> lunch")
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    await slack.until(lambda: bool(slack.sink.posts))
    assert "Logged lunch with Dana Scully" in slack.sink.posts[0]["text"]
    async with slack.runtime.sessions() as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None
    assert (contact.name, contact.platform_user_id) == ("Dana Scully", DANA)


async def test_a_mention_whose_name_slack_cannot_give_adds_nobody(slack: SlackHarness) -> None:
    await slack.command("add Lee")  # the user's rows exist; nothing else is there
    await slack.until(slack.profile_cached)
    # Slack failing for a moment (after the SDK's one retry): asking later may work.
    slack.fake.fail_next("users.info", status=500, count=5)
    await slack.command("log <@U0NOBODY> call")
    await slack.until(lambda: len(slack.sink.posts) >= 1)
    assert "I couldn't look up that person's name just now" in slack.sink.posts[-1]["text"]
    # Not a contact called "U0NOBODY", nor a conversation with one.
    async with slack.runtime.sessions() as session:
        assert list(await session.scalars(select(Contact.name))) == ["Lee"]
        assert await session.scalar(select(func.count()).select_from(Touchpoint)) == 0


async def test_a_name_typed_beside_a_mention_is_the_mentioned_person(slack: SlackHarness
                                                                     ) -> None:
    # "add Dana @Dana Scully": stored as a contact called "Dana <@U0DANA>" before.
    await slack.command(f"add Dana <@{DANA}>")
    await slack.until(lambda: bool(slack.sink.posts))
    assert "Added Dana Scully (colleague)" in slack.sink.posts[0]["text"]
    await slack.command(f"log Dana <@{DANA}> coffee")
    async with slack.runtime.sessions() as session:
        contacts = list(await session.execute(select(Contact.name, Contact.platform_user_id)))
        kinds = list(await session.scalars(select(Touchpoint.kind)))
    assert [tuple(row) for row in contacts] == [("Dana Scully", DANA)]
    assert kinds == ["coffee"]


async def test_a_mention_of_someone_added_by_name_links_them_instead_of_a_second_one(
        slack: SlackHarness) -> None:
    # "add Dana Scully", then "log @Dana Scully": a second contact "Dana Scully (U0DANA)".
    await slack.command("add Dana Scully client at FBI")
    await slack.command(f"log <@{DANA}> coffee")
    await slack.until(lambda: bool(slack.sink.posts))
    assert slack.sink.posts[0]["text"] == "Logged coffee with Dana Scully."
    async with slack.runtime.sessions() as session:
        contacts = [tuple(row) for row in await session.execute(
            select(Contact.name, Contact.kind, Contact.platform_user_id))]
    assert contacts == [("Dana Scully", "client", DANA)]
    _status, body = await slack.command("undo")  # the link goes with the conversation
    assert "Undone: logged coffee with Dana Scully" in json.loads(body)["text"]
    _status, body = await slack.command(f"add <@{DANA}>")
    assert "I linked them to that @mention" in json.loads(body)["text"]
    async with slack.runtime.sessions() as session:
        assert list(await session.scalars(select(Contact.platform_user_id))) == [DANA]
    _status, body = await slack.command("undo")
    assert json.loads(body)["text"] == "Undone: linked Dana Scully to an @mention."
    async with slack.runtime.sessions() as session:
        assert list(await session.scalars(select(Contact.platform_user_id))) == [None]


async def test_two_mentioned_people_are_logged_together_or_asked_about_not_half_logged(
        slack: SlackHarness) -> None:
    await slack.command(f"log <@{DANA}> lunch")
    await slack.until(lambda: bool(slack.sink.posts))

    async def rows() -> list[tuple[object, ...]]:
        async with slack.runtime.sessions() as session:
            return [tuple(row) for model in (Contact, Touchpoint, Note)
                    for row in await session.execute(select(model.__table__))]

    async def answer(line: str) -> str:
        slack.sink.posts.clear()
        _status, body = await slack.command(line)
        said = str(json.loads(body)["text"])
        if "Working on it" in said:
            await slack.until(lambda: bool(slack.sink.posts))
            said = slack.sink.posts[0]["text"]
        return said

    before = await rows()
    # Two mentions side by side, or a note: one person at a time, nothing written.
    for line in (f"log <@{DANA}> <@{SAM}> call", f"note <@{DANA}> <@{SAM}>: the offsite"):
        assert "One person at a time" in await answer(line), line
    assert await rows() == before
    # Joined by "and": one conversation with each (it was logged as coffee with Dana
    # alone, "and <@U0SAM>" her summary, two sessions before).
    said = await answer(f"had coffee with <@{DANA}> and <@{SAM}>")
    assert said.startswith("Logged coffee with ") and " and " in said, said
    async with slack.runtime.sessions() as session:
        coffees = (await session.execute(
            select(Contact.platform_user_id, Touchpoint.summary)
            .join(Touchpoint, Touchpoint.contact_id == Contact.id)
            .where(Touchpoint.kind == "coffee"))).all()
    assert sorted(tuple(row) for row in coffees) == sorted([(DANA, None), (SAM, None)])


async def test_slow_verb_acks_first_then_responds(slack: SlackHarness) -> None:
    await slack.command("add Dana")
    await slack.command("log Dana coffee")
    _status, body = await slack.command("stats")
    assert "Working on it" in json.loads(body)["text"]
    await slack.until(lambda: any("logged" in p["text"].lower()
                                  for p in slack.sink.posts))


async def test_command_is_acked_well_under_3_seconds_when_slack_is_slow(
        slack: SlackHarness) -> None:
    await slack.command("add Dana")  # first contact creates the user rows
    await slack.until(slack.profile_cached)  # its users.info after the ack has been answered
    slack.fake.latency = 2.0
    answered = slack.fake.answered
    status, body = await slack.command("log Dana coffee")
    assert status == 200 and "Logged coffee with Dana" in json.loads(body)["text"]
    # The answer came in the ack, before Slack answered any call made after it.
    assert slack.fake.answered == answered
    slack.fake.latency = 0.0


async def test_forged_and_stale_signatures_get_401_and_change_nothing(
        slack: SlackHarness) -> None:
    before = await snapshot(slack.runtime.engine)
    calls = len(slack.fake.calls)
    status, _ = await slack.command("log Dana coffee", forged=True)
    assert status == 401
    status, _ = await slack.command("log Dana coffee", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    assert await snapshot(slack.runtime.engine) == before
    assert len(slack.fake.calls) == calls


async def test_a_replayed_signed_request_is_refused_and_logs_nothing_twice(
        slack: SlackHarness) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    form = {"token": "legacy", "team_id": slack.team_id, "user_id": ALEX, "command": "/rapport",
            "text": "log Dana coffee", "api_app_id": slack.fake.app_id,
            "response_url": slack.sink.url, "trigger_id": slack.fake.new_trigger_id()}
    body = urllib.parse.urlencode(form)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **slack.headers(body)}
    statuses = []
    for _ in range(2):  # the very same bytes and signature, as a replaying attacker sends
        async with slack.http.post(f"{slack.base}/slack/events", data=body.encode(),
                                   headers=headers) as response:
            statuses.append(response.status)
    assert statuses == [200, 401]
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Touchpoint)) == 1


async def test_people_list_keeps_every_section_within_slack_limits(slack: SlackHarness) -> None:
    for index in range(40):
        await slack.runtime.rapport.handle_text(
            slack.actor(), f"add Person{index:02d} {'x' * 80} colleague")
    status, body = await slack.command("people")
    answer = json.loads(body)
    assert status == 200 and 1 < len(answer["blocks"]) <= 50
    assert all(len(block["text"]["text"]) <= 3000 for block in answer["blocks"])
    text = "".join(block["text"]["text"] for block in answer["blocks"])
    assert "Person00" in text and "Person39" in text


async def hold_the_database(slack: SlackHarness) -> tuple[asyncio.Task[Any], threading.Event]:
    """A write unit that holds the database thread and SQLite's write lock until released."""
    started, release = threading.Event(), threading.Event()

    def hold(session: Any) -> None:
        started.set()
        release.wait(10)

    blocker = asyncio.create_task(slack.runtime.rapport.db.run(hold, write=True))
    assert await asyncio.to_thread(started.wait, 10)
    return blocker, release


async def test_a_command_that_cannot_start_in_time_answers_busy_and_changes_nothing(
        slack: SlackHarness) -> None:
    await slack.command("add Dana")
    platform = slack.extra["app"][SLACK_KEY]
    # Slack's 3 s shrunk so the test need not wait: a command must start within 50 ms.
    platform.command_start_budget = 0.05
    before = await snapshot(slack.runtime.engine)
    # Another unit of work holds the database's write lock, as a long write would.
    blocker, release = await hold_the_database(slack)
    request = asyncio.create_task(slack.command("log Dana coffee"))
    await asyncio.sleep(0.2)  # the command's 50 ms pass while it waits in the queue
    release.set()
    status, body = await request
    await blocker
    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral" and "busy" in answer["text"]
    assert await snapshot(slack.runtime.engine) == before  # nothing half-happened
    metrics = slack.runtime.metrics.render().decode()
    assert 'rapport_busy_total{platform="slack"} 1.0' in metrics
    # With time to spare, the same command goes through.
    platform.command_start_budget = 2.5
    status, body = await slack.command("log Dana coffee")
    assert "Logged coffee with Dana" in json.loads(body)["text"]


async def test_an_event_that_cannot_be_checked_in_time_gets_503_and_is_not_remembered(
        slack: SlackHarness) -> None:
    """A DM typed while the database is swamped: 503 inside the deadline (Slack retries the
    event later), nothing stored, not even its signature, so the retry is accepted."""
    await slack.command("add Dana")
    slack.fake.add_channel(slack.fake.dm_channel_id(ALEX), members=[ALEX])
    event = {"type": "message", "channel": slack.fake.dm_channel_id(ALEX),
             "channel_type": "im", "user": ALEX, "text": "log Dana coffee",
             "ts": "1.000300", "event_ts": "1.000300"}
    platform = slack.extra["app"][SLACK_KEY]
    platform.command_start_budget = 0.05
    before = await snapshot(slack.runtime.engine)
    blocker, release = await hold_the_database(slack)
    request = asyncio.create_task(slack.event(event))
    await asyncio.sleep(0.2)
    release.set()
    status, _body = await request
    await blocker
    assert status == 503
    assert await snapshot(slack.runtime.engine) == before
    metrics = slack.runtime.metrics.render().decode()
    assert 'rapport_busy_total{platform="slack"} 1.0' in metrics
