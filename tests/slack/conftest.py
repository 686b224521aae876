"""The real aiohttp server with the Slack installer, signed requests, and the fake Slack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.registry import installers_for, messengers_for
from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack.home import HomeTab
from rapport.bot.platforms.slack.install import BOT_SCOPES
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from tests.conftest import Clock
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
# Tokens at rest are encrypted as in production (OAuth refuses to start without a key). A
# constant: pytest imports this file once as a conftest and again when tests import from it.
ENCRYPTION_KEY = "NILSlBsyztpV3Lqd3gGdfzSTjqiSy5Olm5arc38zWb0="
ALEX = "U0ALEX"
DANA = "U0DANA"
SAM = "U0SAM"


def section_texts(blocks: list[dict[str, Any]]) -> str:
    """The text of a message's sections, one after another (what a person reads in it)."""
    return "\n".join(block["text"]["text"] for block in blocks
                     if block["type"] == "section" and "text" in block)


class ResponseSink:
    """Stands in for Slack's response_url endpoint and records what the app posted there.

    As Slack does, each request gets its own URL (`url` hands out a new one each time), and
    one URL takes at most five messages: a sixth is refused (`refused` keeps it)."""

    USES_PER_URL = 5

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self._uses: dict[str, int] = {}
        self._issued = 0
        self._runner: web.AppRunner | None = None
        self._base = ""

    @property
    def url(self) -> str:
        """A fresh response_url, as in each slash command or interaction payload."""
        self._issued += 1
        return f"{self._base}/response/{self._issued}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/response/{n}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.match_info["n"]
        used = self._uses.get(key, 0)
        if used >= self.USES_PER_URL:
            self.refused.append(body)
            return web.Response(status=404, text="used_url")
        self._uses[key] = used + 1
        self.posts.append(body)
        return web.Response(text="ok")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class SlackHarness:
    """Sends signed Slack requests into the running app and waits for background work."""

    base: str
    http: aiohttp.ClientSession
    fake: FakeSlack
    runtime: Runtime
    sink: ResponseSink
    secret: str = SECRET
    team_id: str = DEFAULT_TEAM_ID
    extra: dict[str, Any] = field(default_factory=dict)

    def actor(self, user: str = ALEX) -> Actor:
        """The Slack actor the app builds for `user` (for seeding through the core)."""
        return Actor(platform="slack", workspace_external_id=self.team_id, user_external_id=user)

    def home_tab(self) -> HomeTab:
        """The app's App Home publisher, to pace or wake its refreshes."""
        home = self.extra["app"][SLACK_KEY].home
        assert home is not None
        return home  # type: ignore[no-any-return]

    def publishes(self) -> int:
        """How many views.publish calls the fake has had."""
        return len(self.fake.calls_to("views.publish"))

    async def click_to_update(self, action: dict[str, Any], *, channel: str,
                              message: dict[str, Any], user: str = ALEX) -> None:
        """`user` clicks `action` in `message` (their copy of it, as their Slack shows it),
        then wait for Rapport to update that message (chat.update)."""
        updates = len(self.fake.calls_to("chat.update"))
        status, _ = await self.interaction(self.block_action(user=user, action=action,
                                                             channel=channel, message=message))
        assert status == 200
        await self.until(lambda: len(self.fake.calls_to("chat.update")) > updates)

    async def open_home(self, user: str = ALEX, *, channel: str = "D0HOME"
                        ) -> dict[str, Any]:
        """`user` opens the App Home tab (a signed app_home_opened event); the view published
        for it."""
        published = self.publishes()
        for _retry in range(4):
            status, body = await self.event({"type": "app_home_opened", "user": user,
                                             "tab": "home", "channel": channel,
                                             "event_ts": "1.2"})
            # A loaded machine may answer "busy" (503): Slack delivers the event again.
            if (status, body) != (503, "busy"):
                break
        assert status == 200
        await self.until(lambda: self.publishes() > published)
        view = self.fake.home_view(user)
        assert view is not None
        return view

    def profile_cached(self, user: str = ALEX) -> bool:
        """True once the app has learnt `user`'s Slack profile (name, zone) after an ack."""
        return self.extra["app"][SLACK_KEY].cache.get(self.team_id, user) is not None

    def headers(self, body: str, *, timestamp: int | None = None,
                forged: bool = False) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body)
        if forged:
            signature = "v0=" + "0" * 64
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    async def post(self, body: str, content_type: str, **signing: Any
                   ) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **self.headers(body, **signing)}
        async with self.http.post(f"{self.base}/slack/events", data=body.encode(),
                                  headers=headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, *, user: str = ALEX, team: str | None = None,
                      **signing: Any) -> tuple[int, str]:
        form = {"token": "legacy", "team_id": team or self.team_id, "team_domain": "rapport",
                "channel_id": "C0GENERAL", "channel_name": "general", "user_id": user,
                "user_name": user.lower(), "command": "/rapport", "text": text,
                "api_app_id": self.fake.app_id, "response_url": self.sink.url,
                "trigger_id": self.fake.new_trigger_id()}
        return await self.post(urllib.parse.urlencode(form),
                               "application/x-www-form-urlencoded", **signing)

    async def interaction(self, payload: dict[str, Any], **signing: Any) -> tuple[int, str]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **signing)

    async def event(self, event: dict[str, Any], *, team: str | None = None,
                    **signing: Any) -> tuple[int, str]:
        body = json.dumps({"token": "legacy", "team_id": team or self.team_id,
                           "api_app_id": self.fake.app_id, "type": "event_callback",
                           "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()),
                           "event": event})
        return await self.post(body, "application/json", **signing)

    def block_action(self, *, user: str, action: dict[str, Any], channel: str | None = None,
                     message: dict[str, Any] | None = None, team: str | None = None,
                     ) -> dict[str, Any]:
        team = team or self.team_id
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": team, "domain": "rapport"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": self.fake.app_id, "token": "legacy",
            "trigger_id": self.fake.new_trigger_id(), "response_url": self.sink.url,
            "actions": [{**action, "action_ts": str(time.time())}],
        }
        if message is not None and channel is not None:
            payload["container"] = {"type": "message", "message_ts": message["ts"],
                                    "channel_id": channel, "is_ephemeral": False}
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["message"] = message
        return payload

    async def until(self, check: Callable[[], Awaitable[bool]] | Callable[[], bool],
                    within: float = 15.0) -> None:
        """Wait for work Bolt runs after the ack (small real waits, bounded). The bound is
        only how long a failing test takes to say so: generous, because a loaded machine
        (tests run on two workers) can take seconds for what takes milliseconds alone."""
        deadline = time.monotonic() + within
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if time.monotonic() > deadline:
                raise AssertionError("background work did not finish in time")
            await asyncio.sleep(0.02)


def slack_settings(fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"slack_signing_secret": SECRET, "slack_bot_token": DEFAULT_BOT_TOKEN,
                              "slack_api_url": fake.base_url, "encryption_key": ENCRYPTION_KEY}
    values.update(overrides)
    return Settings(**values)


HarnessFactory = Callable[..., Awaitable[SlackHarness]]


class WakeableSleep:
    """Home's refresh wait: real time while a test runs, over at once when it shuts down.

    A change schedules a Home refresh a second later (min_interval later when repeated). The
    test sees exactly that timing; shutting down only stops paying it: the waiting refreshes
    publish at once instead of holding every test's teardown for a second or more."""

    def __init__(self) -> None:
        self.woken = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.woken.wait(), seconds)


@pytest.fixture
async def make_harness(fake_slack: FakeSlack, engine: AsyncEngine, clock: Clock
                       ) -> AsyncIterator[HarnessFactory]:
    """Build the web app through bot.platforms with given settings overrides, and serve it."""
    cleanups: list[Callable[[], Awaitable[None]]] = []
    # Only the scopes app_manifest.yml asks for: a call needing more fails with missing_scope.
    fake_slack.add_workspace(DEFAULT_TEAM_ID, "Rapport Test", bot_token=DEFAULT_BOT_TOKEN,
                             scopes=BOT_SCOPES)
    fake_slack.add_user(ALEX, name="alex", real_name="Alex Kim", tz="Europe/Berlin",
                        team_id=DEFAULT_TEAM_ID)
    fake_slack.add_user(DANA, name="dana", real_name="Dana Scully", display_name="Dana",
                        tz="America/New_York",
                        team_id=DEFAULT_TEAM_ID)
    fake_slack.add_user(SAM, name="sam", real_name="Sam Lee", team_id=DEFAULT_TEAM_ID)

    async def build(**overrides: Any) -> SlackHarness:
        settings = slack_settings(fake_slack, **overrides)
        sessions = db.session_factory(engine)
        runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                          rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
        for messenger in await messengers_for(runtime):
            runtime.add_messenger(messenger)
        app = await build_web_app(runtime, installers=installers_for(settings))
        home_sleep = WakeableSleep()
        platform = app.get(SLACK_KEY)
        if platform is not None and platform.home is not None:
            platform.home.sleep = home_sleep
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        sink = ResponseSink()
        await sink.start()
        http = aiohttp.ClientSession()

        async def close() -> None:
            # Let listeners Bolt runs after the ack finish before the database goes away.
            current = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()
                       and "RequestHandler" not in repr(t.get_coro())]
            home_sleep.woken.set()
            if pending:
                await asyncio.wait(pending, timeout=2.0)
            await http.close()
            await sink.stop()
            await runner.cleanup()

        cleanups.append(close)
        harness = SlackHarness(base=f"http://127.0.0.1:{runner.addresses[0][1]}", http=http,
                               fake=fake_slack, runtime=runtime, sink=sink)
        harness.extra["app"] = app
        return harness

    yield build
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def slack(make_harness: HarnessFactory) -> SlackHarness:
    """Single-workspace mode (SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET)."""
    return await make_harness()
