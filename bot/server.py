"""The aiohttp web app: health and readiness, plus each configured platform's routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text

from bot.runtime import Runtime
from storage import db

logger = logging.getLogger(__name__)

RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
# Platforms mount their routes through these hooks (one per platform package).
RouteInstaller = Callable[[web.Application, Runtime], Awaitable[None]]


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    del request
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The database answers and the schema is at the head revision."""
    runtime = request.app[RUNTIME_KEY]
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await db.current_revision(runtime.engine)
    except Exception as failure:  # readiness reports, it does not raise
        return web.json_response({"status": "unavailable", "database": type(failure).__name__},
                                 status=503)
    head = db.head_revision()
    if current != head:
        return web.json_response({"status": "migrating", "revision": current, "head": head},
                                 status=503)
    return web.json_response({"status": "ready", "revision": current})


async def build_web_app(runtime: Runtime, *, installers: list[RouteInstaller] | None = None
                        ) -> web.Application:
    """The web app with health routes and every platform installer applied."""
    app = web.Application(client_max_size=runtime.settings.max_body_bytes)
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for install in installers or []:
        await install(app, runtime)
    return app
