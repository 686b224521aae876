"""The consent callbacks on the shared aiohttp server: `/oauth/<provider>/callback`.

Each answers a small HTML page. The query string carries a one-time code, so the page is
never cached, never leaks the URL through a Referer, and never echoes what it received.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from rapport.bot.connectors.calendars.connections import REASONS, CalendarConnections
from rapport.bot.connectors.calendars.providers import LABELS
from rapport.bot.service.pages import consent_result_page

if TYPE_CHECKING:
    from rapport.bot.service.runtime import Runtime



def callback_handler(connections: CalendarConnections, provider: str
                     ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The GET handler the provider redirects the browser to after consent."""

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        result = await connections.complete(provider, state=query.get("state"),
                                            code=query.get("code"), error=query.get("error"))
        label = LABELS.get(provider, provider)
        title = f"{label} connected" if result.ok else f"{label} not connected"
        return consent_result_page(title, REASONS[result.reason], ok=result.ok)

    return callback


async def install_calendar_callbacks(app: web.Application, runtime: Runtime) -> None:
    """Route installer (see `rapport.bot.service.server.RouteInstaller`)."""
    calendars = runtime.calendars
    if calendars is None:
        return
    for provider in calendars.connections.available:
        app.router.add_get(f"/oauth/{provider}/callback",
                           callback_handler(calendars.connections, provider))
