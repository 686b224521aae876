"""The consent callbacks on the shared aiohttp server: `/oauth/<provider>/callback`.

Each answers a small HTML page. The query string carries a one-time code, so the page is
never cached, never leaks the URL through a Referer, and never echoes what it received.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from rapport.bot.connectors.calendars.connections import REASONS, CalendarConnections
from rapport.bot.connectors.calendars.providers import LABELS
from rapport.bot.service.pages import consent_result_page

if TYPE_CHECKING:
    from rapport.bot.service.runtime import Runtime

logger = logging.getLogger(__name__)

Tell = Callable[[int, str], Awaitable[bool]]


def connected_message(provider: str) -> str:
    """The direct message after a consent: the chat is where the person comes back to."""
    label = LABELS.get(provider, provider)
    return (f"Your {label} is connected. Within a few minutes Rapport reads the last "
            "30 days and logs the meetings you attended with your people (who and when, never "
            "what was said); “show <name>” marks them “logged from your calendar”. "
            "“disconnect calendar” stops it.")


def callback_handler(connections: CalendarConnections, provider: str,
                     tell: Tell | None = None
                     ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The GET handler the provider redirects the browser to after consent."""

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        result = await connections.complete(provider, state=query.get("state"),
                                            code=query.get("code"), error=query.get("error"))
        if result.ok and result.user_id is not None and tell is not None:
            try:
                await tell(result.user_id, connected_message(provider))
            except Exception as failure:
                # Connected either way (the page must say so); only the confirmation in the
                # chat is missing, and the person sees the page.
                logger.warning("calendar connected message not sent",
                               extra={"provider": provider, "error": type(failure).__name__})
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
                           callback_handler(calendars.connections, provider, runtime.tell))
