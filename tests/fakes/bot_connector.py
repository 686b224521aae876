"""A local stand-in for the Bot Framework Connector service that Teams bots talk to.

Point an activity's ``serviceUrl`` at :attr:`BotConnectorFake.service_url` and the real
botbuilder ``CloudAdapter`` sends replies, proactive messages, updates and deletes here, over
HTTP, exactly as it would to ``https://smba.trafficmanager.net/...``.

What botbuilder 4.17.1 does against it (each point is checked in ``test_bot_connector_fake.py``):

* With an empty app id no token endpoint is called and requests carry no ``Authorization``
  header. A reply is ``POST /v3/conversations/{id}/activities/{replyToId}``; a send inside
  ``continue_conversation`` is also a reply, to a fresh uuid1 id botbuilder invents for the
  continuation activity, so both land in :meth:`BotConnectorFake.sent_to` as kind ``"reply"``.
  Neither path calls the members API.
* A non-2xx answer raises ``botbuilder.schema.ErrorResponseException`` (subclass of
  ``msrest.exceptions.HttpOperationError``; ``botframework.connector.models`` re-exports the same
  class). It propagates unchanged out of ``turn_context.send_activity`` / ``update_activity`` /
  ``delete_activity``, out of ``adapter.process_activity`` when the adapter has no
  ``on_turn_error``, and out of ``adapter.continue_conversation``.
* On that exception the status is ``exc.response.status_code`` (``exc.response`` is a
  ``requests.Response``), Retry-After is ``exc.response.headers.get("Retry-After")`` (a string
  of seconds, or None), and the Connector body is parsed into ``exc.error.error.code`` /
  ``exc.error.error.message``; ``str(exc)`` is ``"(Throttled) Too many requests..."``.
* Sends (POST) are never retried by botbuilder: the first 429/403/5xx raises at once.
* Updates (PUT) and deletes (DELETE) are retried silently by msrest's urllib3 policy: up to 3
  retries on 429 (only with a Retry-After header), 408 and 5xx other than 501/505, sleeping
  Retry-After seconds when it is positive, else 0, 1.6, 3.2 s, in botbuilder's worker thread
  (the event loop stays free, but time-machine cannot skip it). Exhausted retries raise
  ``ErrorResponseException`` for 429 and ``msrest.exceptions.ClientRequestError`` for 5xx; the
  latter has no ``response``, only ``exc.inner_exception`` (a ``requests`` ``RetryError``).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

from tests.fakes.local_server import LocalServer

logger = logging.getLogger(__name__)

# Teams' published per-bot, per-conversation limits for sends and conversation creation:
# (window in seconds, operations allowed inside it).
TEAMS_RATE_LIMITS: tuple[tuple[float, int], ...] = ((1, 7), (2, 8), (30, 60), (3600, 1800))


@dataclass(frozen=True)
class ConnectorError:
    """The ``{"error": {"code", "message"}}`` body the Connector answers failures with."""

    code: str
    message: str


# Codes Teams documents for its bot APIs.
BOT_NOT_IN_ROSTER = ConnectorError(
    "BotNotInConversationRoster", "The bot is not part of the conversation roster."
)
BLOCKED_BY_USER = ConnectorError(
    "ConversationBlockedByUser", "User blocked the conversation with the bot."
)
BOT_DISABLED_BY_ADMIN = ConnectorError("BotDisabledByAdmin", "The tenant admin disabled this bot.")
CONVERSATION_NOT_FOUND = ConnectorError("ConversationNotFound", "Conversation not found.")
THROTTLED = ConnectorError("Throttled", "Too many requests. Retry after the time in Retry-After.")
# "The bot message size limit is 40 KB ... the entire message payload encoded as UTF-16"
# (Microsoft Learn, "Format your bot messages"; newer pages say 100 KB and advise 80): the
# fake holds bots to the stricter figure, answering 413 MessageSizeTooBig as Teams does.
MAX_MESSAGE_UTF16_BYTES = 40 * 1024
TOO_BIG = ConnectorError("MessageSizeTooBig", "Message size is too big.")
_DEFAULT_ERRORS: dict[int, ConnectorError] = {
    400: ConnectorError("BadArgument", "The request was malformed."),
    401: ConnectorError("Unauthorized", "Authorization has been denied for this request."),
    # A blocked bot is what a proactive nudge meets most often.
    403: BLOCKED_BY_USER,
    404: CONVERSATION_NOT_FOUND,
    412: ConnectorError("PreconditionFailed", "Conflict; retry with backoff."),
    429: THROTTLED,
    500: ConnectorError("ServiceError", "Internal service error."),
    502: ConnectorError("ServiceError", "Bad gateway."),
    503: ConnectorError("ServiceUnavailable", "The service is temporarily unavailable."),
    504: ConnectorError("GatewayTimeout", "Gateway timeout."),
}


@dataclass(frozen=True)
class ReceivedActivity:
    """An activity the fake accepted (send, reply, update or delete)."""

    conversation_id: str
    # For send/reply the id the fake assigned; for update/delete the id from the path.
    activity_id: str
    http_method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: datetime
    # Set for replies: the activity id named in the path.
    reply_to_id: str | None = None

    @property
    def kind(self) -> Literal["send", "reply", "update", "delete"]:
        """What the bot did; sends from ``continue_conversation`` arrive as ``reply``."""
        if self.http_method == "PUT":
            return "update"
        if self.http_method == "DELETE":
            return "delete"
        return "send" if self.reply_to_id is None else "reply"

    @property
    def text(self) -> str | None:
        """The activity's ``text``, if any."""
        text = self.body.get("text")
        return text if isinstance(text, str) else None


@dataclass(frozen=True)
class ReceivedRequest:
    """Any HTTP request the fake saw, with the status it answered (faults included)."""

    http_method: str
    path: str
    status: int
    conversation_id: str | None
    received_at: datetime


@dataclass(frozen=True)
class CreatedConversation:
    """A ``POST /v3/conversations`` the fake accepted."""

    conversation_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: datetime


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    remaining: int
    conversation_id: str | None
    error: ConnectorError


class BotConnectorFake(LocalServer):
    """An aiohttp server speaking the Connector REST API (``/v3/conversations/...``).

    ``activities`` holds what was accepted; refused attempts (faults, rate limits) appear only in
    ``requests``, which logs every call with the status it got.
    """

    def __init__(
        self,
        *,
        enforce_rate_limits: bool = False,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
    ) -> None:
        self.enforce_rate_limits = enforce_rate_limits
        # time.time (not monotonic) so time-machine can move the rate-limit windows.
        self._clock = clock
        # Short shutdown: botbuilder's requests sessions may hold idle keep-alive sockets.
        super().__init__(host=host, shutdown_timeout=0.1)
        self.activities: list[ReceivedActivity] = []
        self.requests: list[ReceivedRequest] = []
        self.created_conversations: list[CreatedConversation] = []
        # Requests to routes the real Connector has but this fake does not serve: a test that
        # leaves something here is exercising an API the fake needs to learn.
        self.unhandled: list[ReceivedRequest] = []
        self._members: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[_Fault] = []
        self._rate: dict[tuple[str, str], deque[float]] = {}
        # Teams message ids are millisecond timestamps; realistic and unique is enough here.
        self._ids = itertools.count(1_700_000_000_000)

    # -- lifecycle -------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.post("/v3/conversations", self._create_conversation),
                web.get("/v3/conversations", self._get_conversations),
                web.post("/v3/conversations/{cid}/activities", self._send),
                web.post("/v3/conversations/{cid}/activities/{aid}", self._reply),
                web.put("/v3/conversations/{cid}/activities/{aid}", self._update),
                web.delete("/v3/conversations/{cid}/activities/{aid}", self._delete),
                web.get("/v3/conversations/{cid}/members", self._get_members),
                web.get("/v3/conversations/{cid}/members/{mid}", self._get_member),
                web.get("/v3/conversations/{cid}/pagedmembers", self._get_paged_members),
                web.route("*", "/{tail:.*}", self._unhandled),
            ]
        )
        return app

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` to put into activities, with the trailing slash Teams uses."""
        return f"http://{self._host}:{self.port}/"

    # -- inspection and control ------------------------------------------------------------

    def sent_to(self, conversation_id: str) -> list[ReceivedActivity]:
        """New activities (sends and replies) accepted for one conversation, oldest first."""
        return [
            a
            for a in self.activities
            if a.conversation_id == conversation_id and a.http_method == "POST"
        ]

    def sent(self) -> list[ReceivedActivity]:
        """New activities (sends and replies) accepted for any conversation."""
        return [a for a in self.activities if a.http_method == "POST"]

    def updates(self) -> list[ReceivedActivity]:
        """Accepted ``PUT`` updates, oldest first."""
        return [a for a in self.activities if a.http_method == "PUT"]

    def deletes(self) -> list[ReceivedActivity]:
        """Accepted ``DELETE`` calls, oldest first."""
        return [a for a in self.activities if a.http_method == "DELETE"]

    def reset(self) -> None:
        """Forget everything recorded and every pending fault, member list and rate window."""
        self.activities.clear()
        self.requests.clear()
        self.created_conversations.clear()
        self.unhandled.clear()
        self._members.clear()
        self._faults.clear()
        self._rate.clear()

    def fail_next(
        self,
        status: int = 429,
        retry_after: float | None = 1,
        count: int = 1,
        conversation_id: str | None = None,
        *,
        error: ConnectorError | None = None,
    ) -> None:
        """Answer the next ``count`` send/reply/update/delete/create calls with ``status``.

        ``conversation_id`` limits the fault to one conversation (creation never matches it).
        ``retry_after`` (seconds, rounded up; 0 allowed) becomes the Retry-After header on 429
        and 503 answers. ``error`` overrides the body; the 403 default is ``BLOCKED_BY_USER``,
        pass ``BOT_NOT_IN_ROSTER`` for an uninstalled bot.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        self._faults.append(
            _Fault(
                status=status,
                retry_after=retry_after if status in (429, 503) else None,
                remaining=count,
                conversation_id=conversation_id,
                error=error or _DEFAULT_ERRORS.get(status, ConnectorError("Error", "Failed.")),
            )
        )

    def add_member(self, conversation_id: str, member: Mapping[str, Any]) -> None:
        """Put a ``TeamsChannelAccount``-shaped dict on a conversation's roster.

        A channel thread (``19:...;messageid=...``) shares the roster of its channel id.
        """
        self._members.setdefault(_roster_id(conversation_id), []).append(dict(member))

    # -- request handling ------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _log(self, request: web.Request, status: int, conversation_id: str | None) -> None:
        self.requests.append(
            ReceivedRequest(
                http_method=request.method,
                path=request.path,
                status=status,
                conversation_id=conversation_id,
                received_at=self._now(),
            )
        )

    def _take_fault(self, conversation_id: str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.conversation_id is None or fault.conversation_id == conversation_id:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _over_rate_limit(self, key: tuple[str, str]) -> float | None:
        """Seconds to wait if this operation breaks a Teams limit, else record it and None."""
        if not self.enforce_rate_limits:
            return None
        now = self._clock()
        stamps = self._rate.setdefault(key, deque())
        longest = max(window for window, _ in TEAMS_RATE_LIMITS)
        while stamps and stamps[0] <= now - longest:
            stamps.popleft()
        wait = 0.0
        for window, allowed in TEAMS_RATE_LIMITS:
            inside = [s for s in stamps if s > now - window]
            if len(inside) >= allowed:
                # The window frees a slot once its oldest counted operation falls out of it.
                wait = max(wait, inside[-allowed] + window - now)
        # Rounded so float noise in the clock cannot add a whole second to Retry-After.
        wait = round(wait, 6)
        if wait > 0:
            return wait
        stamps.append(now)
        return None

    def _error(
        self, status: int, error: ConnectorError, retry_after: float | None = None
    ) -> web.Response:
        headers = {}
        if retry_after is not None:
            # Whole seconds, rounded up, as HTTP's delta-seconds requires.
            headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
        return web.json_response(
            {"error": {"code": error.code, "message": error.message}},
            status=status,
            headers=headers,
        )

    def _fault_response(self, fault: _Fault) -> web.Response:
        return self._error(fault.status, fault.error, fault.retry_after)

    async def _json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._error(400, ConnectorError("BadSyntax", "Body is not valid JSON."))
        if not isinstance(body, dict):
            return self._error(400, ConnectorError("BadSyntax", "Body must be an object."))
        return body

    async def _accept_activity(
        self,
        request: web.Request,
        *,
        rate_limited: bool,
        status_on_success: int,
    ) -> web.Response:
        cid = request.match_info["cid"]
        path_aid = request.match_info.get("aid")
        if request.method == "DELETE":
            body: dict[str, Any] = {}
        else:
            parsed = await self._json_body(request)
            if isinstance(parsed, web.Response):
                self._log(request, parsed.status, cid)
                return parsed
            body = parsed

        fault = self._take_fault(cid)
        if fault is not None:
            self._log(request, fault.status, cid)
            return self._fault_response(fault)
        if len(json.dumps(body, ensure_ascii=False).encode("utf-16-le")) > \
                MAX_MESSAGE_UTF16_BYTES:
            self._log(request, 413, cid)
            return self._error(413, TOO_BIG)
        if rate_limited:
            bot_id = str((body.get("from") or {}).get("id", ""))
            wait = self._over_rate_limit((bot_id, cid))
            if wait is not None:
                self._log(request, 429, cid)
                return self._error(429, THROTTLED, wait)

        is_new = request.method == "POST"
        activity_id = str(next(self._ids)) if is_new else str(path_aid)
        self.activities.append(
            ReceivedActivity(
                conversation_id=cid,
                activity_id=activity_id,
                http_method=request.method,
                path=request.path,
                body=body,
                headers=dict(request.headers),
                received_at=self._now(),
                reply_to_id=path_aid if is_new else None,
            )
        )
        self._log(request, status_on_success, cid)
        if request.method == "DELETE":
            return web.Response(status=status_on_success)
        return web.json_response({"id": activity_id}, status=status_on_success)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._accept_activity(request, rate_limited=True, status_on_success=201)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._accept_activity(request, rate_limited=True, status_on_success=201)

    async def _update(self, request: web.Request) -> web.Response:
        return await self._accept_activity(request, rate_limited=False, status_on_success=200)

    async def _delete(self, request: web.Request) -> web.Response:
        return await self._accept_activity(request, rate_limited=False, status_on_success=200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        parsed = await self._json_body(request)
        if isinstance(parsed, web.Response):
            self._log(request, parsed.status, None)
            return parsed
        body = parsed
        fault = self._take_fault(None)
        if fault is not None:
            self._log(request, fault.status, None)
            return self._fault_response(fault)
        members = [m for m in body.get("members") or [] if isinstance(m, dict)]
        if not members:
            self._log(request, 400, None)
            return self._error(400, ConnectorError("BadArgument", "Members are required."))
        bot_id = str((body.get("bot") or {}).get("id", ""))
        member_key = "create:" + ",".join(sorted(str(m.get("id", "")) for m in members))
        wait = self._over_rate_limit((bot_id, member_key))
        if wait is not None:
            self._log(request, 429, None)
            return self._error(429, THROTTLED, wait)

        # Teams answers with the existing 1:1 chat for a user; one id per member set mimics that.
        existing = next(
            (c for c in self.created_conversations if _member_ids(c.body) == _member_ids(body)),
            None,
        )
        cid = existing.conversation_id if existing else f"a:fake-{uuid.uuid4().hex}"
        self.created_conversations.append(
            CreatedConversation(
                conversation_id=cid,
                body=body,
                headers=dict(request.headers),
                received_at=self._now(),
            )
        )
        if existing is None:
            self._members[cid] = [dict(m) for m in members]
        answer: dict[str, Any] = {"id": cid, "serviceUrl": self.service_url}
        if isinstance(body.get("activity"), dict):
            activity_id = str(next(self._ids))
            answer["activityId"] = activity_id
            self.activities.append(
                ReceivedActivity(
                    conversation_id=cid,
                    activity_id=activity_id,
                    http_method="POST",
                    path=request.path,
                    body=body["activity"],
                    headers=dict(request.headers),
                    received_at=self._now(),
                )
            )
        self._log(request, 201, cid)
        return web.json_response(answer, status=201)

    async def _get_conversations(self, request: web.Request) -> web.Response:
        self._log(request, 200, None)
        conversations = [{"id": cid, "members": members} for cid, members in self._members.items()]
        return web.json_response({"conversations": conversations, "continuationToken": None})

    async def _get_members(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        self._log(request, 200, cid)
        return web.json_response(self._members.get(_roster_id(cid), []))

    async def _get_paged_members(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        self._log(request, 200, cid)
        return web.json_response(
            {"members": self._members.get(_roster_id(cid), []), "continuationToken": None}
        )

    async def _get_member(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        member_id = request.match_info["mid"]
        for member in self._members.get(_roster_id(cid), []):
            if member_id in (member.get("id"), member.get("aadObjectId")):
                self._log(request, 200, cid)
                return web.json_response(member)
        self._log(request, 404, cid)
        return self._error(
            404, ConnectorError("MemberNotFoundInConversation", "The member was not found.")
        )

    async def _unhandled(self, request: web.Request) -> web.Response:
        record = ReceivedRequest(
            http_method=request.method,
            path=request.path,
            status=404,
            conversation_id=None,
            received_at=self._now(),
        )
        self.requests.append(record)
        self.unhandled.append(record)
        logger.warning("bot connector fake: unhandled %s %s", request.method, request.path)
        return self._error(
            404, ConnectorError("NotFound", f"{request.method} {request.path} is not served.")
        )


def _member_ids(parameters: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(m.get("id", "")) for m in parameters.get("members") or [])


def _roster_id(conversation_id: str) -> str:
    # Teams answers members calls for a channel thread with the channel's roster.
    return conversation_id.partition(";")[0]
