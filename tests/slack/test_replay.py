"""Replayed Slack requests are refused by every replica: the memory of accepted signatures is
the shared database (seen_signatures), not a process."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.slack.replay import CLEANUP_EVERY_SECONDS, ReplayStore
from rapport.storage import db
from rapport.storage.models import SeenSignature, Touchpoint
from rapport.storage.uow import Busy
from tests.conftest import MONDAY_10_UTC, PG_SKIP_REASON, PG_URL, Clock, snapshot, truncate_all
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack
from tests.scheduler.workers import free_port, start_server
from tests.slack.conftest import ALEX, SlackHarness

SECRET = "replica-test-signing-secret"


async def _count(engine: AsyncEngine, model: type[SeenSignature] | type[Touchpoint]) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_store_claims_a_signature_once_and_forgets_it_after_expiry(
        any_engine: AsyncEngine, clock: Clock) -> None:
    seconds = [0.0]
    store = ReplayStore(db.session_factory(any_engine), clock=clock,
                        monotonic=lambda: seconds[0])
    expires = MONDAY_10_UTC + timedelta(minutes=6)

    assert await store.seen_before("v0=aaa", expires) is False
    assert await store.seen_before("v0=aaa", expires) is True
    assert await store.seen_before("v0=bbb", expires + timedelta(minutes=5)) is False
    clock.advance(minutes=7)  # v0=aaa could no longer pass Slack's timestamp check
    seconds[0] += CLEANUP_EVERY_SECONDS  # and it is time to delete what expired
    assert await store.seen_before("v0=ccc", clock.now + timedelta(minutes=6)) is False

    async with any_engine.connect() as connection:
        left = (await connection.scalars(select(SeenSignature.signature)
                                         .order_by(SeenSignature.signature))).all()
    assert left == ["v0=bbb", "v0=ccc"]


async def test_claims_arriving_together_share_a_unit_and_each_signature_wins_once(
        any_engine: AsyncEngine, clock: Clock) -> None:
    """A burst of requests is claimed in fewer transactions than requests, and a signature
    sent twice in the same burst is still accepted exactly once."""
    store = ReplayStore(db.session_factory(any_engine), clock=clock)
    units = 0
    run = store.db.run

    async def counting_run(*args: Any, **kwargs: Any) -> Any:
        nonlocal units
        units += 1
        return await run(*args, **kwargs)

    store.db.run = counting_run  # type: ignore[method-assign]
    expires = MONDAY_10_UTC + timedelta(minutes=6)
    signatures = [f"v0={n:03d}" for n in range(40)] + ["v0=007", "v0=021"]
    seen = await asyncio.gather(*(store.seen_before(signature, expires)
                                  for signature in signatures))
    assert seen.count(True) == 2 and seen[-2:] == [True, True]
    assert 1 <= units < len(signatures)
    assert await _count(any_engine, SeenSignature) == 40


async def test_a_busy_unit_refuses_only_the_claims_whose_deadline_passed(
        engine: AsyncEngine, clock: Clock) -> None:
    """While the database is held, a claim due now hears Busy at its deadline and nothing
    is remembered for it; a claim with time left is written in the next unit."""
    import threading

    store = ReplayStore(db.session_factory(engine), clock=clock)
    started, release = threading.Event(), threading.Event()

    def hold(session: Any) -> None:
        started.set()
        release.wait(30)

    expires = MONDAY_10_UTC + timedelta(minutes=6)
    # A write holds the database (beside a read, a claim would run on the event loop's own
    # connection instead of waiting).
    holding = asyncio.ensure_future(store.db.run(hold, write=True))
    try:
        assert await asyncio.to_thread(started.wait, 30)
        patient = asyncio.ensure_future(store.seen_before("v0=patient", expires,
                                                          deadline=time.monotonic() + 60))
        with pytest.raises(Busy):
            await store.seen_before("v0=hurried", expires, deadline=time.monotonic() + 0.05)
        assert not patient.done()
        release.set()
        assert await patient is False
    finally:
        release.set()
        await holding
    async with engine.connect() as connection:
        remembered = (await connection.scalars(select(SeenSignature.signature))).all()
    assert remembered == ["v0=patient"]
    assert await store.seen_before("v0=hurried", expires) is False  # Slack's retry is accepted


async def test_only_accepted_signatures_are_remembered(slack: SlackHarness) -> None:
    engine = slack.runtime.engine
    forged = await slack.command("help", forged=True)
    stale = await slack.command("help", timestamp=int(time.time()) - 6 * 60)
    assert (forged[0], stale[0]) == (401, 401)
    assert await _count(engine, SeenSignature) == 0

    assert (await slack.command("help"))[0] == 200
    assert await _count(engine, SeenSignature) == 1


def _signed_command(text: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    form = {"token": "legacy", "team_id": DEFAULT_TEAM_ID, "team_domain": "rapport",
            "user_id": ALEX, "user_name": "alex", "command": "/rapport", "text": text,
            "channel_id": "C0GENERAL", "api_app_id": "A0FAKEAPP01",
            # A fresh trigger id, as Slack sends: two commands never have the same bytes.
            "response_url": response_url, "trigger_id": f"{time.time_ns()}.1.2"}
    body = urllib.parse.urlencode(form)
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": timestamp,
                           "X-Slack-Signature": signature}


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_a_request_accepted_by_one_replica_is_refused_by_another(
        postgres_ready: str) -> None:
    engine = db.create_engine(postgres_ready, pool_size=2)
    await truncate_all(engine)
    async with FakeSlack() as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, "Rapport Test", bot_token=DEFAULT_BOT_TOKEN)
        fake.add_user(ALEX, name="alex", real_name="Alex Kim", team_id=DEFAULT_TEAM_ID)
        (first, first_url), (second, second_url) = await asyncio.gather(
            start_server(fake, postgres_ready, signing_secret=SECRET),
            start_server(fake, postgres_ready, signing_secret=SECRET))
        try:
            async with aiohttp.ClientSession() as http:
                await _seed_contact(http, first_url, fake)
                before = await snapshot(engine)
                touchpoints = await _count(engine, Touchpoint)
                statuses: list[int] = []
                # Each request is captured and replayed to the other replica, both ways round.
                for accepting, replaying in ((first_url, second_url), (second_url, first_url)):
                    body, headers = _signed_command("log Dana coffee", fake.base_url)
                    for url in (accepting, replaying, accepting):
                        async with http.post(f"{url}/slack/events", data=body,
                                             headers=headers) as response:
                            statuses.append(response.status)
            assert statuses == [200, 401, 401, 200, 401, 401]
            # Two genuine commands logged two conversations; the four replays changed nothing.
            assert await _count(engine, Touchpoint) == touchpoints + 2
            after = await snapshot(engine)
            # (and the undo journal of the two genuine ones)
            changed = ("touchpoints", "contacts", "undo_entries")
            assert {k: v for k, v in after.items() if k not in changed} \
                == {k: v for k, v in before.items() if k not in changed}
            assert await _count(engine, SeenSignature) == 3  # the seed and the two commands
        finally:
            for process in (first, second):
                process.terminate()
            await asyncio.gather(first.wait(), second.wait())
    await engine.dispose()


async def _seed_contact(http: aiohttp.ClientSession, url: str, fake: FakeSlack) -> None:
    body, headers = _signed_command("add Dana", fake.base_url)
    async with http.post(f"{url}/slack/events", data=body, headers=headers) as response:
        assert response.status == 200


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_two_serve_processes_share_one_port_on_postgresql(postgres_ready: str) -> None:
    engine = db.create_engine(postgres_ready, pool_size=2)
    await truncate_all(engine)
    port = free_port()
    shared = {"RAPPORT_REUSE_PORT": "true"}
    async with FakeSlack() as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, "Rapport Test", bot_token=DEFAULT_BOT_TOKEN)
        fake.add_user(ALEX, name="alex", real_name="Alex Kim", team_id=DEFAULT_TEAM_ID)
        (first, url), (second, same_url) = await asyncio.gather(
            start_server(fake, postgres_ready, signing_secret=SECRET, port=port,
                         extra_env=shared),
            start_server(fake, postgres_ready, signing_secret=SECRET, port=port,
                         extra_env=shared))
        try:
            assert url == same_url
            async with aiohttp.ClientSession() as http:
                await _seed_contact(http, url, fake)
                statuses = []
                for _ in range(20):
                    body, headers = _signed_command("log Dana coffee", fake.base_url)
                    async with http.post(f"{url}/slack/events", data=body,
                                         headers=headers) as response:
                        statuses.append(response.status)
            assert statuses == [200] * 20
            assert await _count(engine, Touchpoint) == 20
            assert first.returncode is None and second.returncode is None  # both listening
        finally:
            for process in (first, second):
                process.terminate()
            await asyncio.gather(first.wait(), second.wait())
    await engine.dispose()
