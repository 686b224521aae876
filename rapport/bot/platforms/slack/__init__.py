"""Slack: Bolt app in the aiohttp server (or Socket Mode), DM nudges, App Home, OAuth."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.platforms.slack import transport
from rapport.bot.platforms.slack.acks import finish_answers
from rapport.bot.platforms.slack.client import pooled_session
from rapport.bot.platforms.slack.install import build_installations
from rapport.bot.platforms.slack.messenger import SlackMessenger
from rapport.bot.platforms.slack.platform import SlackPlatform, build_platform
from rapport.bot.platforms.slack.socket_mode import (
    Backoff,
    SocketModeConnection,
    exponential_backoff,
)
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import RouteInstaller, add_readiness_check

logger = logging.getLogger(__name__)

SLACK_KEY: web.AppKey[SlackPlatform] = web.AppKey("slack", SlackPlatform)
SOCKET_KEY: web.AppKey[AsyncSocketModeHandler] = web.AppKey("slack_socket",
                                                            AsyncSocketModeHandler)
CONNECTION_KEY: web.AppKey[SocketModeConnection] = web.AppKey("slack_socket_connection",
                                                              SocketModeConnection)

__all__ = [
    "CONNECTION_KEY",
    "SLACK_KEY",
    "SOCKET_KEY",
    "SlackMessenger",
    "SlackPlatform",
    "messenger_for",
    "slack_installer",
    "socket_mode_handler",
]


def socket_mode_handler(platform: SlackPlatform, app_token: str) -> AsyncSocketModeHandler:
    """Socket Mode over aiohttp for `platform`'s Bolt app (no public URL needed)."""
    return AsyncSocketModeHandler(platform.app, app_token, web_client=platform.app.client)


def slack_installer(*, backoff: Backoff = exponential_backoff) -> RouteInstaller:
    """Mount /slack/events (+ OAuth routes) and, with SLACK_APP_TOKEN, run Socket Mode.

    Socket Mode connects in the background (`backoff` paces its retries), so the web server,
    /healthz and the scheduler start whether or not Slack answers; /readyz reports it.
    """

    async def install(app: web.Application, runtime: Runtime) -> None:
        settings = runtime.settings
        if not settings.slack_signing_secret and not settings.slack_app_token:
            # An empty secret would make every signature forgeable.
            raise RuntimeError("Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN "
                               "(Socket Mode); see docs/slack.md.")
        platform = build_platform(runtime)
        # One pooled HTTP session for the Web API calls made while serving (Bolt's clients per
        # request share it): kept-alive connections instead of a new session and connection
        # per call, which cost more than the call itself on a busy event loop.
        http = pooled_session()
        platform.app.client.session = http

        async def close_http(_app: web.Application) -> None:
            await http.close()

        app.on_cleanup.append(close_http)

        async def finish(_app: web.Application) -> None:
            # Before the HTTP session closes (cleanup): the answers still being sent need it.
            await finish_answers()

        app.on_shutdown.append(finish)
        if not settings.slack_app_token:  # Socket Mode checks the token in the background
            await platform.start()
        if platform.installations.store is not None:
            # Rows written before RAPPORT_ENCRYPTION_KEY was set (the migration has no key).
            await platform.installations.store.seal_plaintext_tokens()
        app[SLACK_KEY] = platform
        transport.mount(app, platform)
        token = runtime.settings.slack_app_token
        if token:
            handler = socket_mode_handler(platform, token)
            app[SOCKET_KEY] = handler
            # Checking the bot token (auth.test) waits for Slack too: it runs in the same
            # background task, before the socket is opened.
            connection = SocketModeConnection(
                handler, api=AsyncWebClient(base_url=platform.app.client.base_url,
                                            timeout=10, retry_handlers=[]),
                backoff=backoff, before_connect=platform.start)
            app[CONNECTION_KEY] = connection
            add_readiness_check(app, "slack", connection.status)

            async def connect(_app: web.Application) -> None:
                connection.start()

            async def disconnect(_app: web.Application) -> None:
                await connection.stop()

            app.on_startup.append(connect)
            app.on_cleanup.append(disconnect)

    return install


def messenger_for(settings: Settings, runtime: Runtime) -> SlackMessenger:
    """The Slack messenger, resolving bot tokens like the Bolt app does."""
    return SlackMessenger(settings=settings, installations=build_installations(
        settings, runtime.engine, runtime.sessions))
