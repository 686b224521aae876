"""Slack DM capture (issue 16): opt-in through Slack's OAuth on the real web server, message.im
user events turned into one `chat` touchpoint per contact per day, metadata only, and the grant
revoked at Slack on `settings capture slack off` and `forget me`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack.dm_capture import CALLBACK_PATH, CAPTURE_SCOPES
from rapport.bot.platforms.slack.install import BOT_SCOPES
from rapport.storage.models import (
    SLACK_DM_SOURCE,
    CapturedChat,
    ChatChannel,
    ChatGrant,
    Contact,
    Touchpoint,
)
from tests.conftest import Clock
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID
from tests.slack.conftest import ALEX, DANA, SAM, HarnessFactory, SlackHarness

PUBLIC = "https://rapport.example.com"
CLIENT_ID = "1111111111.2222222222"
DM = "D0ALEXDANA1"  # Alex's DM with Dana
DM_SAM = "D0ALEXSAM01"


async def _harness(make_harness: HarnessFactory) -> SlackHarness:
    """OAuth mode (capture needs it) with the app installed in the test workspace."""
    slack = await make_harness(slack_bot_token=None, slack_client_id=CLIENT_ID,
                               slack_client_secret="fake-client-secret", public_url=PUBLIC)
    bot = slack.fake.tokens[DEFAULT_BOT_TOKEN]
    store = slack.extra["app"][SLACK_KEY].installations.store
    await store.async_save(Installation(
        app_id=slack.fake.app_id, team_id=DEFAULT_TEAM_ID, bot_token=DEFAULT_BOT_TOKEN,
        bot_id=bot.bot_id, bot_user_id=bot.user_id, bot_scopes=list(BOT_SCOPES), user_id=ALEX,
        installed_at=time.time()))
    slack.fake.add_channel(DM, team_id=DEFAULT_TEAM_ID, members=[ALEX, DANA])
    slack.fake.add_channel(DM_SAM, team_id=DEFAULT_TEAM_ID, members=[ALEX, SAM])
    return slack


async def _say(slack: SlackHarness, text: str, user: str = ALEX) -> str:
    """The answer: in the ack, or (a command that revokes a grant) through response_url."""
    posted = len(slack.sink.posts)
    status, body = await slack.command(text, user=user)
    assert status == 200, body
    answer = str(json.loads(body)["text"])
    if answer != "Working on it…":
        return answer
    await slack.until(lambda: len(slack.sink.posts) > posted)
    return str(slack.sink.posts[posted]["text"])


def _link(answer: str) -> str:
    """The consent link in an answer (Slack's mrkdwn escapes & as &amp;)."""
    word = next(word for word in answer.split() if word.startswith(("http", "<http")))
    return word.strip("<>").split("|")[0].replace("&amp;", "&")


async def _opt_in(slack: SlackHarness, user: str = ALEX) -> str:
    """`settings capture slack on`, then consent at the fake Slack; returns the user token."""
    answer = await _say(slack, "settings capture slack on", user)
    link = _link(answer)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    redirect = query["redirect_uri"][0]
    code = slack.fake.add_oauth_code(team_id=DEFAULT_TEAM_ID, user_id=user, scopes=(),
                                     user_scopes=CAPTURE_SCOPES, redirect_uri=redirect)
    async with slack.http.get(f"{slack.base}{CALLBACK_PATH}",
                              params={"code": code, "state": query["state"][0]}) as response:
        assert response.status == 200, await response.text()
    [exchange] = [call for call in slack.fake.calls_to("oauth.v2.access")
                  if call.args.get("code") == code]
    return str(exchange.response["authed_user"]["access_token"])


def _body(*, channel: str, sender: str, ts: str, text: str = "hi",
          authorized: str = ALEX, **extra: Any) -> dict[str, Any]:
    """A message.im event as Slack sends it for a user token (authorizations: that user)."""
    event = {"type": "message", "channel": channel, "channel_type": "im", "user": sender,
             "text": text, "ts": ts, "event_ts": ts, "client_msg_id": "3f0c-1", **extra}
    return {"token": "legacy", "team_id": DEFAULT_TEAM_ID, "api_app_id": "A0FAKEAPP01",
            "type": "event_callback", "event_id": f"Ev{time.time_ns()}",
            "event_time": int(float(ts)), "event": event,
            "authorizations": [{"enterprise_id": None, "team_id": DEFAULT_TEAM_ID,
                                "user_id": authorized, "is_bot": False,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ"}


async def _send(slack: SlackHarness, body: dict[str, Any], **signing: Any) -> None:
    status, _ = await slack.post(json.dumps(body), "application/json", **signing)
    assert status == 200


def _ts(clock: Clock, minutes: int = 0) -> str:
    return f"{(clock.now + timedelta(minutes=minutes)).timestamp():.6f}"


async def _chats(slack: SlackHarness) -> list[tuple[int, str, str, str | None]]:
    async with slack.runtime.sessions() as session:
        rows = await session.execute(
            select(Touchpoint.contact_id, Touchpoint.kind, Touchpoint.source,
                   Touchpoint.summary).where(Touchpoint.source == SLACK_DM_SOURCE)
            .order_by(Touchpoint.happened_at))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def _settle() -> None:
    await asyncio.sleep(0.3)  # let what Bolt runs after the ack finish


async def _add_dana(slack: SlackHarness) -> int:
    """`/rapport add @Dana`: a contact linked to Dana's Slack user (named after the ack)."""
    await _say(slack, f"add <@{DANA}|dana>")
    found: list[int] = []

    async def added() -> bool:
        async with slack.runtime.sessions() as session:
            contact = await session.scalar(select(Contact.id)
                                           .where(Contact.platform_user_id == DANA))
        found.extend([contact] if contact is not None else [])
        return contact is not None

    await slack.until(added)
    return found[0]


async def test_consent_flow_stores_the_token_encrypted_confirms_by_dm_and_works_once(
        make_harness: HarnessFactory) -> None:
    slack = await _harness(make_harness)
    answer = await _say(slack, "settings capture slack on")
    # What is and is not read, said before anything is granted.
    assert "who you exchanged a direct message with and when" in answer
    assert ("Slack sends each of your DMs to Rapport as it happens (that is what the "
            "permission means); Rapport looks only at the sender, the conversation and the "
            "time, and drops the rest unread: the text, files and reactions are never stored, "
            "logged or sent anywhere. Channels and group DMs are not sent at all.") in answer
    link = _link(answer)
    parts = urllib.parse.urlsplit(link)
    query = urllib.parse.parse_qs(parts.query)
    assert parts.path.endswith("/oauth/v2/authorize")
    assert query["user_scope"] == ["im:history,im:read"] and "scope" not in query
    assert query["redirect_uri"] == [f"{PUBLIC}{CALLBACK_PATH}"]
    assert query["client_id"] == [CLIENT_ID] and query["team"] == [DEFAULT_TEAM_ID]
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatGrant)) == 0

    code = slack.fake.add_oauth_code(team_id=DEFAULT_TEAM_ID, user_id=ALEX, scopes=(),
                                     user_scopes=CAPTURE_SCOPES,
                                     redirect_uri=f"{PUBLIC}{CALLBACK_PATH}")
    params = {"code": code, "state": query["state"][0]}
    async with slack.http.get(f"{slack.base}{CALLBACK_PATH}", params=params) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert code not in await response.text()
    token = slack.fake.calls_to("oauth.v2.access")[-1].response["authed_user"]["access_token"]
    async with slack.runtime.sessions() as session:
        grant = await session.scalar(select(ChatGrant))
    assert grant is not None and grant.external_user_id == ALEX
    assert token not in grant.token_encrypted  # encrypted at rest
    platform = slack.extra["app"][SLACK_KEY]
    assert platform.dm_capture.cipher.decrypt(grant.token_encrypted) == token
    await slack.until(lambda: any("now logs your Slack DMs" in m["text"]
                                  for m in slack.fake.messages_in(ALEX)))
    assert "Slack DMs with your people logged as conversations: on" in \
        await _say(slack, "settings")
    assert "already on" in await _say(slack, "settings capture slack on")

    # The link works once.
    async with slack.http.get(f"{slack.base}{CALLBACK_PATH}", params=params) as response:
        assert response.status == 400
        assert "already used" in await response.text()


async def test_a_link_opened_by_someone_else_stores_nothing_and_revokes_their_token(
        make_harness: HarnessFactory) -> None:
    slack = await _harness(make_harness)
    answer = await _say(slack, "settings capture slack on")
    link = _link(answer)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    code = slack.fake.add_oauth_code(team_id=DEFAULT_TEAM_ID, user_id=SAM, scopes=(),
                                     user_scopes=CAPTURE_SCOPES)
    async with slack.http.get(f"{slack.base}{CALLBACK_PATH}",
                              params={"code": code, "state": query["state"][0]}) as response:
        assert response.status == 400
        assert "another Slack account" in await response.text()
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatGrant)) == 0
    assert [call.ok for call in slack.fake.calls_to("auth.revoke")] == [True]


async def test_dms_with_a_contact_log_one_chat_per_day_and_retries_change_nothing(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    dana = await _add_dana(slack)
    await _opt_in(slack)

    first = _body(channel=DM, sender=ALEX, ts=_ts(clock))
    await _send(slack, first)
    await slack.until(lambda: _count(slack, 1))
    # Dana answers, Alex again, and Slack retries the first event: still one that day.
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 5)))
    await _send(slack, _body(channel=DM, sender=ALEX, ts=_ts(clock, 30)))
    await _send(slack, first, timestamp=int(time.time()) - 7)
    await _settle()
    assert await _chats(slack) == [(dana, "chat", SLACK_DM_SOURCE, None)]
    # The counterpart was looked up once, with Alex's own token; then remembered.
    [lookup] = slack.fake.calls_to("conversations.info")
    assert lookup.args["channel"] == DM and lookup.token is not None \
        and lookup.token.startswith("xoxp-")

    # The next day is another conversation.
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 24 * 60)))
    await slack.until(lambda: _count(slack, 2))
    async with slack.runtime.sessions() as session:
        days = (await session.scalars(select(CapturedChat.day).order_by(CapturedChat.day))).all()
        last_touch = await session.scalar(select(Contact.last_touch_at)
                                          .where(Contact.id == dana))
    assert len(set(days)) == 2
    assert last_touch is not None and last_touch >= clock.now + timedelta(days=1)


async def _count(slack: SlackHarness, n: int) -> bool:
    return len(await _chats(slack)) == n


async def test_people_who_did_not_opt_in_non_contacts_bots_and_edits_log_nothing(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    await _add_dana(slack)
    # Not opted in: Slack would not even send these, but a stray one changes nothing.
    await _send(slack, _body(channel=DM, sender=ALEX, ts=_ts(clock)))
    await _settle()
    assert await _chats(slack) == []
    await _opt_in(slack)
    # Sam is no contact; a bot's message, an edit and a deletion are no conversation.
    await _send(slack, _body(channel=DM_SAM, sender=SAM, ts=_ts(clock, 1),
                             text="add Mallory"))
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 2), bot_id="B0DANABOT"))
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 3),
                             subtype="message_changed"))
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 4),
                             subtype="message_deleted"))
    await _settle()
    assert await _chats(slack) == []
    # None of it ran as a command (a DM between two people is no command to Rapport).
    assert [call.args["text"][:25] for call in slack.fake.calls_to("chat.postMessage")] == [
        "Rapport now logs your Sla"]  # only the opt-in's confirmation
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Contact.id).where(Contact.name == "Mallory")) is None


async def _all_rows(engine: AsyncEngine) -> str:
    """Every row of every table in the database, Rapport's and slack_sdk's, as one text."""
    async with engine.connect() as connection:
        metadata = MetaData()
        await connection.run_sync(metadata.reflect)
        dump = []
        for table in metadata.sorted_tables:
            dump.extend(repr(tuple(row)) for row in await connection.execute(table.select()))
    return "\n".join(dump)


async def test_message_text_is_never_stored_logged_or_sent(
        make_harness: HarnessFactory, clock: Clock, engine: AsyncEngine,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slack = await _harness(make_harness)
    await _add_dana(slack)
    await _opt_in(slack)
    secret = "zebra-7Q9-unique-secret-words"
    files = [{"id": "F0SECRET", "name": f"{secret}.txt", "title": secret}]
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock), text=secret,
                             blocks=[{"type": "rich_text", "elements": [
                                 {"type": "rich_text_section",
                                  "elements": [{"type": "text", "text": secret}]}]}],
                             attachments=[{"text": secret, "fallback": secret}]))
    await _send(slack, _body(channel=DM, sender=ALEX, ts=_ts(clock, 1), text=secret,
                             subtype="file_share", files=files))
    await slack.until(lambda: _count(slack, 1))
    await _settle()

    assert secret not in await _all_rows(engine)
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert secret not in logged
    assert all(secret not in json.dumps(call.args, default=str) for call in slack.fake.calls)
    # The capture itself did log, with metadata only.
    assert any(record.getMessage() == "slack dm seen" for record in caplog.records)


async def test_off_revokes_at_slack_deletes_the_grant_and_later_dms_are_ignored(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    await _add_dana(slack)
    token = await _opt_in(slack)
    await _send(slack, _body(channel=DM, sender=ALEX, ts=_ts(clock)))
    await slack.until(lambda: _count(slack, 1))

    posted = len(slack.sink.posts)
    status, ack = await slack.command("settings capture slack off")
    # Slack is asked to revoke the token: that call is not made inside the 3-second ack.
    assert status == 200 and json.loads(ack)["text"] == "Working on it…"
    await slack.until(lambda: len(slack.sink.posts) > posted)
    answer = str(slack.sink.posts[posted]["text"])
    assert answer == (
        "Stopped logging your Slack DMs; the grant is deleted and revoked at Slack. "
        "Conversations logged so far stay (“show &lt;name&gt;” lists them, “delete t7” removes "
        "one). If you had let Rapport post your edited drafts as you, that ends too until you "
        "allow it again (Slack keeps one grant per person).")
    [revoke] = slack.fake.calls_to("auth.revoke")
    assert revoke.token == token and revoke.ok
    assert slack.fake.tokens[token].revoked
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatGrant)) == 0
        assert await session.scalar(select(func.count()).select_from(ChatChannel)) == 0
    assert "logged as conversations: off" in await _say(slack, "settings")
    # The grant is revoked at Slack: undo says so rather than undo an older change.
    assert await _say(slack, "undo") == ("⚠️ Your last change (stopped logging your Slack DMs) "
                                         "can't be undone. Nothing changed.")
    # A late event (already in flight) logs nothing.
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 24 * 60)))
    await _settle()
    assert len(await _chats(slack)) == 1  # what was logged stays
    assert "already off" in await _say(slack, "settings capture slack off")


async def test_forget_me_revokes_the_grant_first(make_harness: HarnessFactory) -> None:
    slack = await _harness(make_harness)
    token = await _opt_in(slack)
    assert "deleted" in await _say(slack, "forget me confirm")
    assert [call.token for call in slack.fake.calls_to("auth.revoke")] == [token]
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatGrant)) == 0


async def test_a_token_revoked_in_slack_or_an_uninstall_drops_the_grant(
        make_harness: HarnessFactory) -> None:
    slack = await _harness(make_harness)
    await _opt_in(slack, ALEX)
    await _opt_in(slack, SAM)
    await slack.event({"type": "tokens_revoked", "tokens": {"oauth": [ALEX], "bot": []}})
    await slack.until(lambda: _grants(slack, [SAM]))
    await slack.event({"type": "app_uninstalled"})
    await slack.until(lambda: _grants(slack, []))


async def _grants(slack: SlackHarness, expected: list[str]) -> bool:
    async with slack.runtime.sessions() as session:
        users = (await session.scalars(select(ChatGrant.external_user_id)
                                       .order_by(ChatGrant.external_user_id))).all()
    return list(users) == expected


async def test_show_marks_it_delete_and_undo_work_and_a_typed_day_stands_alone(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    dana = await _add_dana(slack)
    await _opt_in(slack)
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock)))
    await slack.until(lambda: _count(slack, 1))
    shown = await slack.runtime.rapport.handle_text(slack.actor(ALEX), f"show <@{DANA}>")
    line = next(line for line in shown.text.splitlines() if "logged from your Slack DMs" in line)
    handle = line.split()[0]
    assert "chat" in line

    assert (await slack.runtime.rapport.handle_text(slack.actor(ALEX), f"delete {handle}")).ok
    assert await _chats(slack) == []
    # Deleted is a correction: more DMs that day do not bring it back.
    await _send(slack, _body(channel=DM, sender=ALEX, ts=_ts(clock, 10)))
    await _settle()
    assert await _chats(slack) == []
    assert (await slack.runtime.rapport.handle_text(slack.actor(ALEX), "undo")).ok
    assert await _chats(slack) == [(dana, "chat", SLACK_DM_SOURCE, None)]

    # A day the person logged themselves keeps their summary alone.
    clock.advance(days=1)
    assert (await slack.runtime.rapport.handle_text(
        slack.actor(ALEX), "log Dana: call about the Q3 plan")).ok
    await _send(slack, _body(channel=DM, sender=DANA, ts=_ts(clock, 5)))
    await _settle()
    assert len(await _chats(slack)) == 1  # only yesterday's
    async with slack.runtime.sessions() as session:
        rows = (await session.execute(
            select(Touchpoint.kind, Touchpoint.summary, Touchpoint.source)
            .where(Touchpoint.happened_at >= clock.now - timedelta(hours=1)))).all()
    assert [tuple(row) for row in rows] == [("call", "about the Q3 plan", "command")]


async def test_the_dm_with_the_bot_still_runs_commands_when_slack_names_the_user(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await _harness(make_harness)
    await _opt_in(slack)
    bot_dm = slack.fake.dm_channel_id(ALEX)
    bot_user = slack.fake.tokens[DEFAULT_BOT_TOKEN].user_id
    slack.fake.add_channel(bot_dm, team_id=DEFAULT_TEAM_ID, members=[ALEX, bot_user])
    await _send(slack, _body(channel=bot_dm, sender=ALEX, ts=_ts(clock), text="add Lee Park"))
    await slack.until(lambda: any("Added Lee" in m["text"]
                                  for m in slack.fake.messages_in(bot_dm)))
    assert await _chats(slack) == []


async def test_a_declined_consent_says_how_to_try_again(make_harness: HarnessFactory) -> None:
    slack = await _harness(make_harness)
    link = _link(await _say(slack, "settings capture slack on"))
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["state"][0]
    async with slack.http.get(f"{slack.base}{CALLBACK_PATH}",
                              params={"error": "access_denied", "state": state}) as response:
        page = await response.text()
    assert response.status == 400
    assert ("Not turned on: access was not granted. Nothing was stored. To try again, type "
            "“settings capture slack on” to Rapport.") in page
