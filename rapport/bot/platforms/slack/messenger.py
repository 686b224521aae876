"""Proactive DMs: the scheduler's Messenger for Slack (conversations.open + chat.postMessage)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.platforms.slack.blocks import fallback, outgoing_blocks, text_sections, to_dicts
from rapport.bot.platforms.slack.client import make_client
from rapport.bot.platforms.slack.install import PLATFORM, Installations
from rapport.bot.service.config import Settings
from rapport.scheduler.messenger import DeliveredMessage, DeliveryResult, OutgoingMessage

logger = logging.getLogger(__name__)

# The user or the whole installation cannot be reached: pause instead of retrying forever.
GONE_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "user_not_found",
                         "user_disabled", "not_authed", "team_access_not_granted",
                         "app_uninstalled", "cannot_dm_bot"})
# Slack-side trouble that another attempt may get past.
RETRY_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                          "request_timeout"})


# chat.update: the message, or the conversation it is in, no longer exists (or may no longer
# be edited): there is nothing left to clear.
MESSAGE_GONE_ERRORS = frozenset({"message_not_found", "channel_not_found", "is_archived",
                                 "cant_update_message", "edit_window_closed"})

# Errors after which a cached DM channel id may be stale.
_STALE_CHANNEL_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
_MAX_CHANNELS = 100_000


@dataclass(frozen=True, slots=True)
class SlackPacing:
    """Send budgets per bot token: (calls, seconds) sliding windows, as Slack enforces them.

    conversations.open is Tier 3 ("50+ per minute"). chat.postMessage is "about one per second
    per channel" plus a workspace-wide limit Slack does not publish ("several hundred per
    minute"); 300 per minute is the figure the fake Slack enforces too.
    """

    open_calls: int = 50
    open_seconds: float = 60.0
    post_calls: int = 300
    post_seconds: float = 60.0
    # Windows are kept this much longer than Slack's, for clock differences between the two.
    margin: float = 0.01
    # False: send freely until Slack first answers 429 for a method, then pace it. Slack's
    # real limits are often above the published minimums, so pacing before that would only
    # slow a bot down.
    from_start: bool = False

    def scaled(self, factor: float) -> SlackPacing:
        """The same call counts over windows `factor` times as long (benchmarks, tests)."""
        return SlackPacing(self.open_calls, self.open_seconds * factor, self.post_calls,
                           self.post_seconds * factor, self.margin, self.from_start)


class SendWindow:
    """At most `calls` requests in any `seconds`, counted from when each one finished.

    Slack counts a call when it receives it, which is before the response arrives here; so a
    call in flight or finished within the window holds a slot, and callers wait their turn
    instead of collecting a 429.
    """

    def __init__(self, calls: int, seconds: float, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.calls = calls
        self.seconds = seconds
        self._monotonic = monotonic
        self._finished: deque[float] = deque()
        self.in_flight = 0
        # Counts calls either way; makes them wait only once armed.
        self.armed = True

    def delay(self) -> float:
        """0 when one more call fits now, else roughly how long until it may."""
        now = self._monotonic()
        finished = self._finished
        while finished and finished[0] <= now - self.seconds:
            finished.popleft()
        if not self.armed or len(finished) + self.in_flight < self.calls:
            return 0.0
        if finished and self.in_flight < self.calls:
            return max(finished[0] + self.seconds - now, 0.001)
        return max(self.seconds / self.calls, 0.001)  # every slot is in flight: poll

    async def __aenter__(self) -> None:
        # Polling on time, not an Event: a slot frees when a finished call leaves the window.
        wait = self.delay()
        while wait > 0:
            await asyncio.sleep(wait)
            wait = self.delay()
        self.in_flight += 1

    async def __aexit__(self, *exc_info: object) -> None:
        self.in_flight -= 1
        self._finished.append(self._monotonic())


class _ReportingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 retry, telling the messenger which method Slack limited."""

    def __init__(self, max_retry_count: int, on_limited: Callable[[str], None]) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.on_limited = on_limited

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:
            self.on_limited(request.url.rstrip("/").rsplit("/", 1)[-1])
        return await super()._can_retry_async(state=state, request=request,
                                              response=response, error=error)


_PACED_METHODS = {"conversations.open": "open", "chat.postMessage": "post"}


def classify(failure: SlackApiError) -> DeliveryResult:
    """A Web API failure as a delivery outcome."""
    response = failure.response
    error = str(response.get("error") or "unknown")
    status = response.status_code
    if status == 429 or status >= 500 or error in RETRY_ERRORS:
        raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
        try:
            retry_after = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            retry_after = None
        return DeliveryResult.retry(error, retry_after)
    if error in GONE_ERRORS:
        return DeliveryResult.gone(error)
    return DeliveryResult.failed(error)


class SlackMessenger:
    """Sends nudges, digests and summaries as DMs from the bot."""

    platform = PLATFORM

    def __init__(self, *, settings: Settings, installations: Installations,
                 pacing: SlackPacing | None = None) -> None:
        self.settings = settings
        self.installations = installations
        self.pacing = pacing or SlackPacing()
        self._clients: dict[str, AsyncWebClient] = {}
        # (token, user) -> DM channel id: conversations.open is Tier 3, so only the first
        # message to a user pays for it.
        self._channels: dict[tuple[str, str], str] = {}
        self._windows: dict[tuple[str, str], SendWindow] = {}

    def _window(self, token: str, method: str) -> SendWindow:
        # Pacing to the published limits keeps 429s (and slack_sdk's whole-second
        # Retry-After sleeps) rare when a sweep sends thousands of nudges.
        window = self._windows.get((token, method))
        if window is None:
            p = self.pacing
            calls, seconds = (p.open_calls, p.open_seconds) if method == "open" \
                else (p.post_calls, p.post_seconds)
            window = self._windows[(token, method)] = SendWindow(calls,
                                                                 seconds * (1 + p.margin))
            window.armed = p.from_start
        return window

    async def _dm_channel(self, client: AsyncWebClient, token: str, user: str) -> str:
        channel = self._channels.get((token, user))
        if channel is None:
            async with self._window(token, "open"):
                opened = await client.conversations_open(users=user)
            channel = str(opened["channel"]["id"])
            if len(self._channels) >= _MAX_CHANNELS:
                self._channels.clear()  # bounded; a miss only costs one conversations.open
            self._channels[(token, user)] = channel
        return channel

    def _client(self, token: str) -> AsyncWebClient:
        # One client per token keeps aiohttp sessions and retry state per workspace.
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(self.settings, token)

            def limited(method: str) -> None:
                if method in _PACED_METHODS:
                    self._window(token, _PACED_METHODS[method]).armed = True

            client.retry_handlers = [
                _ReportingRateLimitHandler(handler.max_retry_count, limited)
                if isinstance(handler, AsyncRateLimitErrorRetryHandler) else handler
                for handler in client.retry_handlers]
        return client

    async def _token(self, workspace_external_id: str) -> str | DeliveryResult:
        """The workspace's bot token, or what to record when there is none to use."""
        try:
            token = await self.installations.bot_token(workspace_external_id)
        except Exception as failure:  # the store's database may hiccup: try again later
            return DeliveryResult.retry(type(failure).__name__)
        return token if token is not None else DeliveryResult.gone("not_installed")

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Open the DM and post the message; never raises for Slack's errors."""
        recipient = message.recipient
        token = await self._token(recipient.workspace_external_id)
        if isinstance(token, DeliveryResult):
            return token
        client = self._client(token)
        text, blocks = outgoing_blocks(message)
        user = recipient.user_external_id
        for attempt in range(2):
            cached = (token, user) in self._channels
            try:
                channel = await self._dm_channel(client, token, user)
                async with self._window(token, "post"):
                    posted = await client.chat_postMessage(channel=channel, text=text,
                                                           blocks=to_dicts(blocks),
                                                           unfurl_links=False)
                break
            except SlackApiError as failure:
                if failure.response.get("error") in _STALE_CHANNEL_ERRORS:
                    self._channels.pop((token, user), None)
                    if cached and attempt == 0:
                        continue  # a remembered DM id went stale: open the DM afresh
                result = classify(failure)
                logger.info("slack delivery not sent", extra={"status": result.status,
                                                              "error": result.error})
                return result
            except (TimeoutError, aiohttp.ClientError) as failure:
                return DeliveryResult.retry(type(failure).__name__)
        return DeliveryResult.sent(f"{channel}:{posted['ts']}")

    async def redact(self, message: DeliveredMessage, text: str) -> DeliveryResult:
        """chat.update the bot's own DM message to `text` alone (its buttons go); a message
        or DM that no longer exists is `gone`."""
        channel, _, ts = message.ref.partition(":")
        if not channel or not ts:
            return DeliveryResult.failed("not a Slack message reference")
        token = await self._token(message.workspace_external_id)
        if isinstance(token, DeliveryResult):
            return token
        try:
            await self._client(token).chat_update(
                channel=channel, ts=ts, text=fallback(text),
                blocks=to_dicts(text_sections(text)))
        except SlackApiError as failure:
            if failure.response.get("error") in MESSAGE_GONE_ERRORS:
                return DeliveryResult.gone(str(failure.response.get("error")))
            return classify(failure)
        except (TimeoutError, aiohttp.ClientError) as failure:
            return DeliveryResult.retry(type(failure).__name__)
        return DeliveryResult.sent(message.ref)
