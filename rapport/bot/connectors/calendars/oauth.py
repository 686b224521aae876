"""OAuth 2.0 clients for the providers: Authlib's AsyncOAuth2Client over httpx2, one pooled
transport shared by every connection (a client per connection, a socket pool per process)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client

from rapport.bot.connectors.calendars.providers import ProviderConfig

TokenUpdate = Callable[..., Awaitable[None]]


class _SharedTransport(httpx2.AsyncBaseTransport):
    """Lends the process-wide pool to one short-lived client; closing the client keeps it."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """The pool outlives this client; CalendarHttp.aclose closes it."""


class CalendarHttp:
    """The HTTP side of calendars: builds OAuth clients that share one connection pool."""

    def __init__(self, *, timeout: float = 20.0,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self._transport = transport or httpx2.AsyncHTTPTransport(
            retries=1, limits=httpx2.Limits(max_connections=64, max_keepalive_connections=32))
        self._timeout = timeout

    def client(self, provider: ProviderConfig, *, token: dict[str, Any] | None = None,
               update_token: TokenUpdate | None = None) -> AsyncOAuth2Client:
        """An OAuth client for `provider`, with PKCE (S256) and the secret in the body."""
        return AsyncOAuth2Client(
            client_id=provider.client_id, client_secret=provider.client_secret,
            # Microsoft documents the secret in the form body; Google accepts both.
            token_endpoint_auth_method="client_secret_post",
            revocation_endpoint_auth_method="client_secret_post",
            scope=provider.scope, redirect_uri=provider.redirect_uri,
            code_challenge_method="S256", token_endpoint=provider.token_url,
            token=token, update_token=update_token,
            transport=_SharedTransport(self._transport), timeout=self._timeout,
            follow_redirects=False)

    async def aclose(self) -> None:
        await self._transport.aclose()
