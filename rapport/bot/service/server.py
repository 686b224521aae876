"""The aiohttp web apps: the public one (health plus each configured platform's routes) and the
operator one (readiness and metrics), served on separate ports (see listen.py)."""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.service.metrics import CONTENT_TYPE_LATEST
from rapport.bot.service.runtime import Runtime
from rapport.storage import db

logger = logging.getLogger(__name__)

RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
# Platforms mount their routes through these hooks (one per platform package).
RouteInstaller = Callable[[web.Application, Runtime], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# When the request reached this process (time.monotonic()): deadlines count from here.
RECEIVED_AT: web.RequestKey[float] = web.RequestKey("received_at", float)
# The current request's id, added to every log line written while handling it.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# Readiness beyond the database: a platform adds a check (e.g. "slack": is Socket Mode
# connected?) that answers {"ready": bool, ...details}; /readyz reports each by name.
ReadinessCheck = Callable[[], Awaitable[dict[str, object]]]
READINESS_KEY: web.AppKey[dict[str, ReadinessCheck]] = web.AppKey("readiness", dict)


def add_readiness_check(app: web.Application, name: str, check: ReadinessCheck) -> None:
    """Make /readyz also ask `check`; the app is not ready while any check says not ready."""
    app.setdefault(READINESS_KEY, {})[name] = check


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    del request
    return web.json_response({"status": "ok"})


async def _schema_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revision, asked once more when the pooled connection turned out
    to be dead (`db.again_on_a_dropped_connection`), instead of answering 503 for a database
    that is up."""
    return await db.again_on_a_dropped_connection(lambda: db.current_revision(engine),
                                                  "readiness check")


async def readyz(request: web.Request) -> web.Response:
    """The database answers, the schema is at the head revision, and every added check passes."""
    runtime = request.app[RUNTIME_KEY]
    try:
        current = await _schema_revision(runtime.engine)
    except Exception as failure:  # readiness reports, it does not raise
        return web.json_response({"status": "unavailable", "database": type(failure).__name__},
                                 status=503)
    head = db.SCHEMA_HEAD
    if current != head:
        return web.json_response({"status": "migrating", "revision": current, "head": head},
                                 status=503)
    checks = {name: await check() for name, check in request.app.get(READINESS_KEY, {}).items()}
    body: dict[str, object] = {"status": "ready", "revision": current}
    if checks:
        body["checks"] = checks
    if not all(result.get("ready") for result in checks.values()):
        body["status"] = "not ready"
        return web.json_response(body, status=503)
    return web.json_response(body)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    runtime = request.app[RUNTIME_KEY]
    return web.Response(body=runtime.metrics.render(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request id for logs, a size limit before any parsing, and no tracebacks to clients."""
    request[RECEIVED_AT] = time.monotonic()
    # Not uuid4: os.urandom lets go of the GIL, and getting it back from the database thread
    # costs a switch interval on a busy process. An id for logs needs no secrecy.
    request_id = request.headers.get("X-Request-Id", "")[:64] or f"{random.getrandbits(64):016x}"
    token = REQUEST_ID.set(request_id)
    runtime = request.app[RUNTIME_KEY]
    route = request.match_info.route.resource.canonical if request.match_info.route.resource \
        else "unmatched"
    status = 500
    runtime.load.started()
    try:
        if request.content_length is not None and \
                request.content_length > runtime.settings.max_body_bytes:
            status = 413
            return web.json_response({"error": "request body too large"}, status=413)
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as http_error:
        status = http_error.status
        raise
    except Exception:
        logger.exception("request failed", extra={"route": route})
        return web.json_response({"error": "internal error", "request_id": request_id},
                                 status=500)
    finally:
        runtime.load.finished()
        runtime.metrics.http_requests.labels(route, str(status)).inc()
        REQUEST_ID.reset(token)


async def build_web_app(runtime: Runtime, *, installers: list[RouteInstaller] | None = None
                        ) -> web.Application:
    """The public web app: /healthz and every platform installer applied. Readiness and
    metrics tell an outsider too much (schema revision, traffic): see build_operator_app."""
    app = web.Application(client_max_size=runtime.settings.max_body_bytes,
                          middlewares=[request_context])
    app[RUNTIME_KEY] = runtime
    app[READINESS_KEY] = {}
    app.router.add_get("/healthz", healthz)
    for install in installers or []:
        await install(app, runtime)
    if runtime.calendars is not None:
        from rapport.bot.connectors.calendars.web import install_calendar_callbacks

        await install_calendar_callbacks(app, runtime)
    return app


def build_operator_app(runtime: Runtime, *,
                       readiness: dict[str, ReadinessCheck] | None = None) -> web.Application:
    """The operator's web app (RAPPORT_METRICS_HOST/PORT, loopback by default): /healthz,
    /readyz and /metrics. `readiness`: the checks platforms registered on the public app."""
    app = web.Application(client_max_size=runtime.settings.max_body_bytes,
                          middlewares=[request_context])
    app[RUNTIME_KEY] = runtime
    app[READINESS_KEY] = readiness if readiness is not None else {}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
