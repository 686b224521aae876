"""Who may post to /api/messages outside emulator mode: forged tokens, other channels, other
tenants and activities without a sender, sent as real HTTP requests into the running app.

The app is configured as production is (an app id and password); the only test seam is where
the token validator fetches the Bot Framework's signing keys (BotFrameworkKeys, a local OpenID
metadata + JWKS server whose key signs the genuine tokens) and its clock. Every refusal is
checked three ways: the status, no row changed, nothing sent to the Bot Connector.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams.app import install_teams
from rapport.bot.platforms.teams.auth import (
    RETRY_AFTER_FAILURE_SECONDS,
    UNKNOWN_KID_REFRESH_SECONDS,
    ChannelTokenValidator,
)
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from tests.conftest import Clock, snapshot
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.bot_framework_keys import (
    APP_ID,
    KID,
    BotFrameworkKeys,
    new_key,
    unsigned_token,
)
from tests.fakes.teams_activities import DEFAULT_TENANT_ID, teams_message_activity
from tests.teams.test_teams_bot import TeamsHarness, teams  # noqa: F401 (teams is a fixture)

OTHER_TENANT = "b0e5c7d2-0000-4000-8000-00000000beef"


class Seconds:
    """The validator's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class AuthHarness:
    client: TestClient[Any, Any]
    keys: BotFrameworkKeys
    connector: BotConnectorFake
    engine: AsyncEngine
    seconds: Seconds

    @property
    def service_url(self) -> str:
        return self.connector.service_url

    def activity(self, kind: str = "typing", **changes: Any) -> dict[str, Any]:
        """A Teams activity; "typing" makes the bot send nothing, so an accepted one proves
        only that it got past authentication and the checks here."""
        activity = teams_message_activity("log Dana coffee", service_url=self.service_url)
        activity["type"] = kind
        activity.update(changes)
        return activity

    def genuine(self, **claims: Any) -> str:
        return "Bearer " + self.keys.token(self.service_url, **claims)

    async def post(self, activity: dict[str, Any], authorization: str | None) -> int:
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = await self.client.post("/api/messages", json=activity, headers=headers)
        return response.status


Build = Callable[..., Awaitable[AuthHarness]]


@pytest.fixture
async def build(engine: AsyncEngine, clock: Clock,
                bot_connector: BotConnectorFake) -> AsyncIterator[Build]:
    """The app with an app id (no emulator mode) and the given Teams settings."""
    opened: list[tuple[TestClient[Any, Any], BotFrameworkKeys]] = []

    async def make(**values: Any) -> AuthHarness:
        settings = Settings(**{"database_url": "sqlite+aiosqlite://", "host": "0.0.0.0",
                               "microsoft_app_id": APP_ID, "microsoft_app_password": "secret",
                               **values})
        keys = BotFrameworkKeys()
        await keys.start()
        seconds = Seconds()
        validator = ChannelTokenValidator(APP_ID, metadata_url=keys.metadata_url, clock=seconds)
        sessions = db.session_factory(engine)
        runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                          rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
        app = await build_web_app(runtime, installers=[
            functools.partial(install_teams, token_validator=validator)])
        client = TestClient(TestServer(app))
        await client.start_server()
        opened.append((client, keys))
        return AuthHarness(client=client, keys=keys, connector=bot_connector, engine=engine,
                           seconds=seconds)

    yield make
    for client, keys in opened:
        await client.close()
        await keys.stop()


async def _all_refused(h: AuthHarness, cases: list[tuple[str, dict[str, Any], str | None]],
                       status: int) -> None:
    before = await snapshot(h.engine)
    for name, activity, authorization in cases:
        assert await h.post(activity, authorization) == status, name
    assert await snapshot(h.engine) == before
    assert h.connector.requests == []


async def test_a_genuine_token_is_accepted(build: Build) -> None:
    h = await build()
    assert await h.post(h.activity(), h.genuine()) == 201
    assert h.keys.fetches == ["metadata", "keys"]
    # Keys are cached: the next request fetches nothing.
    assert await h.post(h.activity(), h.genuine()) == 201
    assert h.keys.fetches == ["metadata", "keys"]


async def test_forged_and_unverifiable_tokens_get_401_never_500(
        build: Build, caplog: pytest.LogCaptureFixture) -> None:
    h = await build()
    url = h.service_url
    claims = h.keys.claims(url)
    stranger = new_key()
    cases: list[tuple[str, dict[str, Any], str | None]] = [
        ("no header", h.activity(), None),
        ("empty", h.activity(), ""),
        ("scheme only", h.activity(), "Bearer"),
        ("basic", h.activity(), "Basic cmFwcG9ydDpzZWNyZXQ="),
        ("two tokens", h.activity(), "Bearer a b"),
        ("not a jwt", h.activity(), "Bearer not.a.jwt"),
        ("garbage", h.activity(), "Bearer " + "\u00e9" * 40),
        ("alg none", h.activity(),
         "Bearer " + unsigned_token({"alg": "none", "typ": "JWT", "kid": KID}, claims)),
        ("alg None", h.activity(),
         "Bearer " + unsigned_token({"alg": "None", "kid": KID}, claims)),
        ("hs256 with the public key", h.activity(), "Bearer " + h.keys.hmac_token(url)),
        ("self-signed, unknown kid", h.activity(),
         "Bearer " + h.keys.token(url, key=stranger, kid="made-up")),
        ("self-signed, published kid", h.activity(),
         "Bearer " + h.keys.token(url, key=stranger)),
        ("no kid", h.activity(), "Bearer " + h.keys.token(url, kid=None)),
        ("kid not a string", h.activity(),
         "Bearer " + unsigned_token({"alg": "RS256", "kid": 7}, claims, b"x" * 256)),
        ("bad signature bytes", h.activity(),
         "Bearer " + unsigned_token({"alg": "RS256", "kid": KID}, claims, b"x" * 256)),
        ("expired", h.activity(), h.genuine(exp=1_600_000_000, nbf=1_599_990_000)),
        ("not yet valid", h.activity(), h.genuine(nbf=2_000_000_000, exp=2_000_003_600)),
        ("no exp", h.activity(), h.genuine(exp=None)),
        ("another bot's token", h.activity(), h.genuine(aud="another-app-id")),
        ("no audience", h.activity(), h.genuine(aud=None)),
        ("another issuer", h.activity(), h.genuine(iss="https://sts.windows.net/evil/")),
        ("no issuer", h.activity(), h.genuine(iss=None)),
        # A genuine token for one conversation, replayed with replies redirected elsewhere.
        ("serviceUrl swapped", h.activity(serviceUrl="https://evil.example/"), h.genuine()),
        ("no serviceurl claim", h.activity(), h.genuine(serviceurl=None)),
        # The published key endorses msteams only.
        ("channel not endorsed", h.activity(channelId="webchat"), h.genuine()),
    ]
    with caplog.at_level(logging.WARNING):
        await _all_refused(h, cases, 401)
    assert len(cases) == 25
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Made-up key ids cost one early refresh at most, not one fetch each.
    assert h.keys.fetches.count("keys") <= 2


async def test_unknown_key_ids_refresh_the_keys_at_most_every_few_minutes(build: Build) -> None:
    h = await build()
    assert await h.post(h.activity(), h.genuine()) == 201
    forged = "Bearer " + h.keys.token(h.service_url, key=new_key(), kid="rotated?")

    for _ in range(5):
        assert await h.post(h.activity(), forged) == 401
    fetched = len(h.keys.fetches)
    h.seconds.now += UNKNOWN_KID_REFRESH_SECONDS + 1
    for _ in range(5):
        assert await h.post(h.activity(), forged) == 401

    assert h.keys.fetches.count("keys") <= 3
    assert len(h.keys.fetches) == fetched + 2  # one refresh after the interval, for all five


async def test_unavailable_signing_keys_are_503_logged_once(
        build: Build, caplog: pytest.LogCaptureFixture) -> None:
    h = await build()
    h.keys.fail_with = 500
    before = await snapshot(h.engine)

    with caplog.at_level(logging.INFO):
        statuses = [await h.post(h.activity(), h.genuine()) for _ in range(5)]
        # Not even a forged token may look valid while keys are missing: it is 503 too.
        statuses.append(await h.post(h.activity(), "Bearer " + h.keys.token(
            h.service_url, key=new_key())))

    assert statuses == [503] * 6
    assert h.keys.fetches == ["metadata"]  # one attempt; the rest wait for the retry time
    # Rapport's own records: asyncio may log here what an earlier test on this worker left
    # behind (a client's close scheduled on a loop since closed).
    ours = [r for r in caplog.records if r.name.startswith("rapport")]
    errors = [r for r in ours if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["bot framework signing keys unavailable"]
    assert not any(r.exc_info for r in ours)
    assert await snapshot(h.engine) == before and h.connector.requests == []

    # After the retry time the keys are fetched again and requests pass.
    h.keys.fail_with = None
    h.seconds.now += RETRY_AFTER_FAILURE_SECONDS + 1
    assert await h.post(h.activity(), h.genuine()) == 201

    # Cached keys outlive a later outage.
    h.keys.fail_with = 503
    h.seconds.now += 2 * 24 * 3600
    assert await h.post(h.activity(), h.genuine()) == 201


async def test_activities_from_other_channels_are_refused(build: Build) -> None:
    h = await build()
    h.keys.endorsements.extend(["webchat", "emulator", "directline", "slack", "MSTEAMS"])
    cases = [(channel, h.activity(channelId=channel), h.genuine())
             for channel in ("webchat", "emulator", "directline", "slack", "", "MSTEAMS")]
    await _all_refused(h, cases, 403)
    assert await h.post(h.activity(), h.genuine()) == 201


def _tenant(h: AuthHarness, tenant: str | None, conversation_tenant: str | None = None
            ) -> dict[str, Any]:
    activity = h.activity()
    if tenant is None:
        del activity["channelData"]["tenant"]
    else:
        activity["channelData"]["tenant"] = {"id": tenant}
    activity["conversation"]["tenantId"] = conversation_tenant
    if conversation_tenant is None:
        del activity["conversation"]["tenantId"]
    return activity


async def test_a_single_tenant_bot_answers_its_own_tenant_only(build: Build) -> None:
    h = await build(microsoft_app_type="SingleTenant", microsoft_app_tenant_id=DEFAULT_TENANT_ID,
                    teams_tenants=OTHER_TENANT)  # the list cannot widen a single tenant
    cases = [
        ("other tenant", _tenant(h, OTHER_TENANT), h.genuine()),
        ("no tenant", _tenant(h, None), h.genuine()),
        ("tenant not a string", _tenant(h, None) | {"channelData": {"tenant": "x"}},
         h.genuine()),
        ("conversation in another tenant", _tenant(h, DEFAULT_TENANT_ID, OTHER_TENANT),
         h.genuine()),
    ]
    await _all_refused(h, cases, 403)
    assert await h.post(_tenant(h, DEFAULT_TENANT_ID, DEFAULT_TENANT_ID), h.genuine()) == 201
    assert await h.post(_tenant(h, DEFAULT_TENANT_ID.upper()), h.genuine()) == 201


async def test_a_multi_tenant_bot_answers_listed_tenants_only(build: Build) -> None:
    listed = await build(teams_tenants=f" {DEFAULT_TENANT_ID} , second-tenant ")
    await _all_refused(listed, [("unlisted", _tenant(listed, OTHER_TENANT), listed.genuine()),
                                ("none", _tenant(listed, None), listed.genuine())], 403)
    assert await listed.post(_tenant(listed, "second-tenant"), listed.genuine()) == 201

    everyone = await build()  # no list: every tenant
    assert await everyone.post(_tenant(everyone, OTHER_TENANT), everyone.genuine()) == 201


async def test_an_activity_without_a_sender_is_400(build: Build) -> None:
    h = await build()
    no_from = h.activity()
    del no_from["from"]
    cases = [("no from", no_from, h.genuine()),
             ("empty id", h.activity(**{"from": {"id": "", "name": "x"}}), h.genuine()),
             ("blank id", h.activity(**{"from": {"id": "  "}}), h.genuine()),
             ("null from", h.activity(**{"from": None}), h.genuine()),
             ("unauthenticated too", no_from, None)]
    await _all_refused(h, cases, 400)


async def test_emulator_mode_ignores_an_authorization_header(
        teams: TeamsHarness) -> None:  # noqa: F811
    # Authentication is off on loopback; botbuilder used to try to check the token anyway
    # (fetching keys, and a 500 for a malformed one).
    for header in ("Bearer not.a.jwt", "Bearer " + unsigned_token({"alg": "none"}, {})):
        response = await teams.client.post("/api/messages", headers={"Authorization": header},
                                           json=teams_message_activity(
                                               "help", service_url=teams.url))
        assert response.status == 201
    assert len(teams.connector.sent()) == 2
