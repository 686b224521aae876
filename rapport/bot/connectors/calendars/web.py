"""The consent callbacks on the shared aiohttp server: `/oauth/<provider>/callback`.

Each answers a small HTML page. The query string carries a one-time code, so the page is
never cached, never leaks the URL through a Referer, and never echoes what it received.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from rapport.bot.connectors.calendars.connections import REASONS, CalendarConnections
from rapport.bot.connectors.calendars.providers import LABELS

if TYPE_CHECKING:
    from rapport.bot.service.runtime import Runtime

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rapport: {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto;">
<h1>{title}</h1><p>{message}</p></body></html>
"""
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def callback_handler(connections: CalendarConnections, provider: str
                     ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The GET handler the provider redirects the browser to after consent."""

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        result = await connections.complete(provider, state=query.get("state"),
                                            code=query.get("code"), error=query.get("error"))
        label = LABELS.get(provider, provider)
        title = f"{label} connected" if result.ok else f"{label} not connected"
        page = _PAGE.format(title=html.escape(title), message=html.escape(REASONS[result.reason]))
        return web.Response(text=page, content_type="text/html", headers=_HEADERS,
                            status=200 if result.ok else 400)

    return callback


async def install_calendar_callbacks(app: web.Application, runtime: Runtime) -> None:
    """Route installer (see `rapport.bot.service.server.RouteInstaller`)."""
    calendars = runtime.calendars
    if calendars is None:
        return
    for provider in calendars.connections.available:
        app.router.add_get(f"/oauth/{provider}/callback",
                           callback_handler(calendars.connections, provider))
