"""Slack redelivers an Events API event it got no 2xx for within 3 seconds: the same event id,
signed anew, marked X-Slack-Retry-Num. Every replica handles an event at most once and answers
its redeliveries 200 at once, so Slack stops retrying."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import finish_answers
from rapport.bot.platforms.slack.replay import (
    CLEANUP_EVERY_SECONDS,
    EVENT_MEMORY,
    SIGNATURE_MEMORY,
    ReplayStore,
    event_key,
)
from rapport.storage import db
from rapport.storage.models import Contact, SeenSignature, Touchpoint, Workspace
from tests.conftest import MONDAY_10_UTC, Clock, snapshot
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness
from tests.slack.test_access import _oauth_install
from tests.slack.test_commands import hold_the_database

REPLAY_LOGGER = "rapport.bot.platforms.slack.transport"


def _dm_body(slack: SlackHarness, text: str, *, event_id: str, team: str | None = None
             ) -> str:
    """A message.im event as Slack sends it: every delivery of it carries these bytes."""
    team = team or slack.team_id
    channel = slack.fake.dm_channel_id(ALEX, team)
    if channel not in slack.fake.channels:
        slack.fake.add_channel(channel, team_id=team, members=[ALEX])
    return json.dumps({
        "token": "legacy", "team_id": team, "api_app_id": slack.fake.app_id,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "message", "channel_type": "im", "channel": channel, "user": ALEX,
                  "text": text, "ts": "1700000000.000100", "event_ts": "1700000000.000100"}})


async def _deliver(slack: SlackHarness, body: str, attempt: int, *,
                   timestamp: int | None = None) -> int:
    """Delivery `attempt` (0 the first): Slack signs each one anew, with its own timestamp."""
    signed_at = timestamp if timestamp is not None else int(time.time()) + attempt
    headers = {"Content-Type": "application/json", **slack.headers(body, timestamp=signed_at)}
    if attempt:
        headers.update({"X-Slack-Retry-Num": str(attempt),
                        "X-Slack-Retry-Reason": "http_timeout"})
    async with slack.http.post(f"{slack.base}/slack/events", data=body.encode(),
                               headers=headers) as response:
        return response.status


async def _count(slack: SlackHarness, model: type[Any]) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _answers(slack: SlackHarness, team: str | None = None) -> list[str]:
    channel = slack.fake.dm_channel_id(ALEX, team or slack.team_id)
    return [message["text"] for message in slack.fake.messages_in(channel)]


async def test_a_dm_event_retried_by_slack_is_handled_once_and_every_delivery_gets_200(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    body = _dm_body(slack, "log Dana coffee", event_id="Ev0RETRY01")
    signed_at = int(time.time())

    with caplog.at_level(logging.INFO, logger=REPLAY_LOGGER):
        assert await _deliver(slack, body, 0, timestamp=signed_at) == 200
        await slack.until(lambda: any("Logged coffee" in text for text in _answers(slack)))
        statuses = [await _deliver(slack, body, attempt) for attempt in (1, 2)]
        await finish_answers()  # whatever a redelivery started has ended

    assert statuses == [200, 200]
    assert await _count(slack, Touchpoint) == 1
    assert sum("Logged coffee" in text for text in _answers(slack)) == 1
    redelivered = [r for r in caplog.records if r.getMessage() == "slack event already handled"]
    assert [(r.levelno, r.__dict__["retry_num"]) for r in redelivered] \
        == [(logging.INFO, "1"), (logging.INFO, "2")]
    # One row per event, not per delivery, kept longer than a signature: Slack's last retry
    # comes some six minutes after the first delivery.
    async with slack.runtime.sessions() as session:
        rows = (await session.execute(select(SeenSignature.signature,
                                             SeenSignature.expires_at))).all()
    assert EVENT_MEMORY > SIGNATURE_MEMORY
    assert len(rows) == 1 and rows[0][0].startswith("event=")
    assert rows[0][1] == datetime.fromtimestamp(signed_at, UTC) + EVENT_MEMORY


async def test_the_same_event_id_from_two_workspaces_is_handled_in_each(
        make_harness: HarnessFactory) -> None:
    slack = await make_harness(slack_bot_token=None, slack_client_id="1111111111.2222222222",
                               slack_client_secret="fake-client-secret")
    teams = ("T0NEW", "T0TWO")
    for team in teams:
        await _oauth_install(slack, team)
    for team in teams:
        body = _dm_body(slack, "add Dana", event_id="Ev0SHARED1", team=team)
        assert await _deliver(slack, body, 0) == 200
    await finish_answers()

    async with slack.runtime.sessions() as session:
        dana_in = (await session.scalars(
            select(Workspace.external_id).join(Contact, Contact.workspace_id == Workspace.id)
            .where(Contact.name == "Dana").order_by(Workspace.external_id))).all()
    assert dana_in == ["T0NEW", "T0TWO"]
    for team in teams:
        assert sum("Added Dana" in text for text in _answers(slack, team)) == 1


async def test_a_redelivery_while_the_database_is_busy_gets_503_and_the_event_runs_once(
        slack: SlackHarness) -> None:
    """The busy path as for any event: 503 inside the deadline and nothing remembered, so
    Slack delivers again; whichever delivery gets through first is the one handled."""
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    platform = slack.extra["app"][SLACK_KEY]
    platform.command_start_budget = 0.05
    body = _dm_body(slack, "log Dana coffee", event_id="Ev0BUSY001")

    async def while_busy(attempt: int) -> int:
        blocker, release = await hold_the_database(slack)
        delivery = asyncio.create_task(_deliver(slack, body, attempt))
        await asyncio.sleep(0.2)  # the claim's 50 ms pass while it waits in the queue
        release.set()
        status = await delivery
        await blocker
        return status

    before = await snapshot(slack.runtime.engine)
    assert await while_busy(0) == 503
    assert await snapshot(slack.runtime.engine) == before
    assert await _count(slack, SeenSignature) == 0  # the retry must be let in

    platform.command_start_budget = 2.5
    assert await _deliver(slack, body, 1) == 200
    await finish_answers()
    assert await _count(slack, Touchpoint) == 1

    platform.command_start_budget = 0.05
    assert await while_busy(2) == 503
    platform.command_start_budget = 2.5
    assert await _deliver(slack, body, 3) == 200
    await finish_answers()
    assert await _count(slack, Touchpoint) == 1
    metrics = slack.runtime.metrics.render().decode()
    assert 'rapport_busy_total{platform="slack"} 2.0' in metrics


async def test_slash_commands_and_interactions_are_still_refused_when_replayed(
        slack: SlackHarness) -> None:
    """Only event callbacks are remembered by their id: any other request by its signature,
    and the very same bytes sent again are refused with 401 as before."""
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    command = urllib.parse.urlencode({
        "token": "legacy", "team_id": slack.team_id, "user_id": ALEX, "command": "/rapport",
        "text": "log Dana coffee", "api_app_id": slack.fake.app_id,
        "response_url": slack.sink.url, "trigger_id": slack.fake.new_trigger_id()})
    # A click on a nudge that is not there: answered, changes nothing.
    action = {"action_id": b.ACTION_DISMISS, "block_id": "nudge_999", "type": "button",
              "value": "999"}
    interaction = urllib.parse.urlencode({"payload": json.dumps(
        slack.block_action(user=ALEX, action=action))})
    statuses = []
    for body in (command, interaction):
        headers = {"Content-Type": "application/x-www-form-urlencoded", **slack.headers(body)}
        for _ in range(2):
            async with slack.http.post(f"{slack.base}/slack/events", data=body.encode(),
                                       headers=headers) as response:
                statuses.append(response.status)
    await finish_answers()
    assert statuses == [200, 401, 200, 401]
    assert await _count(slack, Touchpoint) == 1
    async with slack.runtime.sessions() as session:
        keys = (await session.scalars(select(SeenSignature.signature))).all()
    assert len(keys) == 2 and all(key.startswith("v0=") for key in keys)


def _callback(team: str = "T0ONE", app: str = "A0ONE", event_id: str = "Ev0ONE",
              **fields: Any) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": team, "api_app_id": app,
            "event_id": event_id, "event": {"type": "message"}, **fields}


async def test_an_event_key_names_the_event_in_its_app_and_workspace_and_outlives_a_signature(
        any_engine: AsyncEngine, clock: Clock) -> None:
    key = event_key(_callback())
    assert key is not None and not key.startswith("v0=")
    # Every delivery of the event has the key, whatever else differs between them.
    assert event_key(_callback(event_time=2, event={"type": "message", "text": "x"})) == key
    assert len({key, event_key(_callback(team="T0TWO")), event_key(_callback(app="A0TWO")),
                event_key(_callback(enterprise_id="E0ONE")),
                event_key(_callback(event_id="Ev0TWO"))}) == 5
    assert len(event_key(_callback(event_id="Ev" + "9" * 500)) or "") <= 128  # the column's
    # Requests that are not events, or no event id: remembered by their signature.
    for body in ({"type": "block_actions", "team_id": "T0ONE"}, {"command": "/rapport"},
                 _callback(event_id=""), _callback(event_id=7)):
        assert event_key(body) is None, body

    seconds = [0.0]
    store = ReplayStore(db.session_factory(any_engine), clock=clock,
                        monotonic=lambda: seconds[0])
    assert await store.seen_before(key, MONDAY_10_UTC + EVENT_MEMORY) is False
    assert await store.seen_before(key, MONDAY_10_UTC + EVENT_MEMORY) is True
    # Slack's last retry (some six minutes on) still finds it, after expired rows were swept.
    clock.advance(minutes=7)
    seconds[0] += CLEANUP_EVERY_SECONDS
    assert clock.now > MONDAY_10_UTC + SIGNATURE_MEMORY
    assert await store.seen_before(key, clock.now + EVENT_MEMORY) is True
    clock.set(MONDAY_10_UTC + EVENT_MEMORY + timedelta(seconds=1))
    seconds[0] += CLEANUP_EVERY_SECONDS
    assert await store.seen_before("v0=other", clock.now + SIGNATURE_MEMORY) is False
    assert await store.seen_before(key, clock.now + EVENT_MEMORY) is False  # forgotten
