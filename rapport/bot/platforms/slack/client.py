"""The slack_sdk Web API client as Rapport uses it: configurable base URL, retries on."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.service.config import Settings

# One inline retry each: a 429 waits Retry-After, a 5xx or dropped connection tries once more.
# Anything still failing goes back to the scheduler, which retries the nudge later.
_TIMEOUT_SECONDS = 10


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack_sdk's rate-limit, server-error and connection-error retry handlers."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=1),
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
    ]


def make_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """An AsyncWebClient pointed at SLACK_API_URL with the retry handlers installed."""
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") \
        else settings.slack_api_url + "/"
    return AsyncWebClient(token=token, base_url=base_url, timeout=_TIMEOUT_SECONDS,
                          retry_handlers=retry_handlers())


def pooled_session() -> aiohttp.ClientSession:
    """An HTTP session for AsyncWebClient.session (inside the running event loop). A client
    without one opens a new session, and a new connection, for every call; once this one is
    closed, clients fall back to that."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_TIMEOUT_SECONDS))
