"""A local fake of the OpenAI Chat Completions API, for the real ``openai`` async clients.

Serves both URL forms the SDK (openai 3.x, checked by running it) produces:

- ``AsyncOpenAI(base_url=fake.base_url)`` posts to ``/v1/chat/completions`` with
  ``Authorization: Bearer <key>``;
- ``AsyncAzureOpenAI(azure_endpoint=fake.azure_endpoint, api_version=...)`` posts to
  ``/openai/deployments/<model or azure_deployment>/chat/completions?api-version=...`` with
  ``api-key: <key>``.

Usage::

    async with FakeOpenAI() as fake:
        fake.reply_text = "Hi Ana, how did the launch go?"
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)
        ...
        assert fake.requests[-1].json["messages"][0]["content"] == "..."
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from tests.fakes.local_server import LocalServer

__all__ = [
    "BROADCAST_MENTIONS_REPLY",
    "DEFAULT_API_KEY",
    "DEFAULT_REPLY",
    "EMPTY_REPLY",
    "FAKE_API_VERSION",
    "FAKE_DEPLOYMENT",
    "FAKE_MODEL",
    "HUGE_REPLY",
    "ODD_REPLIES",
    "ODD_UNICODE_REPLY",
    "FakeOpenAI",
    "RecordedRequest",
    "Responder",
]

DEFAULT_API_KEY = "sk-test-rapport"
DEFAULT_REPLY = "Hi! It's been a while, how did the launch go?"
# What the env fixtures configure; any names work, these just keep tests consistent.
FAKE_MODEL = "gpt-4o-mini"
FAKE_DEPLOYMENT = "rapport-drafts"
FAKE_API_VERSION = "2024-10-21"

# Odd replies a model can really produce; the drafting code must survive every one of them.
BROADCAST_MENTIONS_REPLY = "<!channel> @here hi <@U999> @everyone <!here> <!everyone>"
HUGE_REPLY = "x" * 100_000
EMPTY_REPLY = ""
# Right-to-left override, zero-width joiner, a combining accent, NUL, a Unicode line separator
# and one very wide ligature: shapes that break naive normalisation and length checks.
ODD_UNICODE_REPLY = "Hi \u202eAna\u202c 👩\u200d💻 Zoe\u0301 \u2028next line\u0000 ﷽"
ODD_REPLIES: dict[str, str] = {
    "broadcast_mentions": BROADCAST_MENTIONS_REPLY,
    "huge": HUGE_REPLY,
    "empty": EMPTY_REPLY,
    "odd_unicode": ODD_UNICODE_REPLY,
}

Responder = Callable[[dict[str, Any]], str | Awaitable[str]]

# Status -> (type, code, message) as OpenAI's own error bodies carry them.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("server_error", "timeout", "Request timed out."),
    409: ("server_error", None, "Conflict."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again later.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One HTTP request as the fake received it, before any auth or failure decision."""

    path: str
    headers: CIMultiDictProxy[str]
    json: Any
    deployment: str | None
    api_version: str | None
    received_at: datetime

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages sent, or an empty list when the body had none."""
        if isinstance(self.json, dict) and isinstance(self.json.get("messages"), list):
            return self.json["messages"]
        return []


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    retry_after: float | None
    message: str | None
    code: str | None


class FakeOpenAI(LocalServer):
    """A Chat Completions server on 127.0.0.1 with scriptable replies, failures and latency."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        reply_text: str = DEFAULT_REPLY,
        known_models: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        # None accepts any model (OpenAI) or deployment name (Azure); a set makes others 404,
        # which is how a misconfigured RAPPORT_AI_MODEL / RAPPORT_AI_DEPLOYMENT shows up.
        self.known_models = known_models
        self.requests: list[RecordedRequest] = []
        # Responses sent: compared before/after a step, it tells whether the client gave up
        # (or answered its own caller) before the provider answered, without timing anything.
        self.answered = 0
        self.latency: float = 0.0
        self.finish_reason: str = "stop"
        self._reply_text = reply_text
        self._responder: Responder | None = None
        self._failures: deque[_Failure] = deque()

    # -- lifecycle -------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai_completions)
        app.router.add_post(
            "/openai/deployments/{deployment}/chat/completions", self._azure_completions
        )
        return app

    @property
    def base_url(self) -> str:
        """For ``AsyncOpenAI(base_url=...)`` and ``OPENAI_BASE_URL``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        """For ``AsyncAzureOpenAI(azure_endpoint=...)`` and ``AZURE_OPENAI_ENDPOINT``."""
        return f"http://127.0.0.1:{self.port}"

    # -- behaviour controls ----------------------------------------------------------------

    @property
    def reply_text(self) -> str:
        return self._reply_text

    @reply_text.setter
    def reply_text(self, text: str) -> None:
        # A fixed text replaces any responder: the last instruction given wins.
        self._reply_text = text
        self._responder = None

    def reply_with(self, responder: Responder) -> None:
        """Answer each request with ``responder(body)`` (sync or async) instead of reply_text."""
        self._responder = responder

    def fail_next(
        self,
        status: int = 429,
        *,
        count: int = 1,
        retry_after: float | None = 0,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        """Answer the next ``count`` authenticated requests with an OpenAI-shaped error.

        ``retry_after`` (seconds) is sent as ``retry-after-ms`` and a whole-second
        ``retry-after``, as Azure OpenAI does; None sends neither. The SDK only honours a value
        above 0: with 0 it falls back to its own backoff (0.5 s less up to 25 % jitter for the
        first retry), so a fast test passes a small positive value such as 0.01.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        failure = _Failure(status=status, retry_after=retry_after, message=message, code=code)
        self._failures.extend([failure] * count)

    @property
    def pending_failures(self) -> int:
        return len(self._failures)

    @property
    def last_request(self) -> RecordedRequest:
        if not self.requests:
            raise AssertionError("FakeOpenAI received no request")
        return self.requests[-1]

    # -- handlers --------------------------------------------------------------------------

    async def _openai_completions(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, deployment=None)

    async def _azure_completions(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, deployment=request.match_info["deployment"])

    async def _handle(self, request: web.Request, *, deployment: str | None) -> web.StreamResponse:
        try:
            return await self._respond(request, deployment=deployment)
        finally:
            self.answered += 1

    async def _respond(self, request: web.Request, *, deployment: str | None
                       ) -> web.StreamResponse:
        raw = await request.read()
        body = _parse_json(raw)
        api_version = request.query.get("api-version")
        self.requests.append(
            RecordedRequest(
                path=request.path,
                headers=CIMultiDictProxy(CIMultiDict(request.headers)),
                json=body,
                deployment=deployment,
                api_version=api_version,
                received_at=datetime.now(UTC),
            )
        )

        if self.latency > 0:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.latency)
            except TimeoutError:
                pass

        if not self._authorised(request, azure=deployment is not None):
            return _error(401, message=self._auth_message(request, azure=deployment is not None))
        if self._failures:
            failure = self._failures.popleft()
            return _error(
                failure.status,
                message=failure.message,
                code=failure.code,
                retry_after=failure.retry_after,
            )
        if deployment is not None and not api_version:
            return _error(400, message="Missing required query parameter: api-version.")
        if not isinstance(body, dict):
            return _error(
                400,
                message="We could not parse the JSON body of your request. (HINT: This likely "
                "means you aren't using your HTTP library correctly.)",
            )
        problem = _validate(body, azure=deployment is not None)
        if problem is not None:
            return _error(400, message=problem)
        model = deployment if deployment is not None else str(body["model"])
        if self.known_models is not None and model not in self.known_models:
            if deployment is not None:
                return _error(
                    404,
                    code="DeploymentNotFound",
                    message="The API deployment for this resource does not exist.",
                )
            return _error(404, message=f"The model `{model}` does not exist.")

        text = await self._reply_for(body)
        return web.json_response(
            self._completion(model=str(body.get("model", model)), body=body, text=text),
            headers={"x-request-id": f"req_{secrets.token_hex(12)}"},
        )

    def _authorised(self, request: web.Request, *, azure: bool) -> bool:
        bearer = request.headers.get("Authorization", "")
        if bearer == f"Bearer {self.api_key}":
            # On Azure a Bearer header carries an Entra ID token; the key stands in for one.
            return True
        return azure and request.headers.get("api-key") == self.api_key

    @staticmethod
    def _auth_message(request: web.Request, *, azure: bool) -> str:
        if azure:
            return (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                "to provide a valid key for an active subscription and use a correct regional "
                "API endpoint for your resource."
            )
        if "Authorization" not in request.headers:
            return (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
        return _ERRORS[401][2]

    async def _reply_for(self, body: dict[str, Any]) -> str:
        if self._responder is None:
            return self._reply_text
        reply = self._responder(body)
        if inspect.isawaitable(reply):
            reply = await reply
        return reply

    def _completion(self, *, model: str, body: dict[str, Any], text: str) -> dict[str, Any]:
        prompt_tokens = sum(_rough_tokens(m.get("content")) for m in body["messages"])
        completion_tokens = _rough_tokens(text)
        return {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": "fp_rapport_fake",
        }


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _validate(body: dict[str, Any], *, azure: bool) -> str | None:
    if not azure and not body.get("model"):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array."
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            return f"Missing required parameter: 'messages[{index}].role'."
    if body.get("stream"):
        # Rapport asks for whole completions; fail loudly rather than fake a stream badly.
        return "FakeOpenAI does not implement stream=true."
    return None


def _rough_tokens(content: object) -> int:
    # Four characters a token is OpenAI's own rule of thumb; exact counts don't matter here.
    if isinstance(content, str):
        return max(1, math.ceil(len(content) / 4)) if content else 0
    if isinstance(content, list):
        return sum(_rough_tokens(part.get("text")) for part in content if isinstance(part, dict))
    return 0


def _error(
    status: int,
    *,
    message: str | None = None,
    code: str | None = None,
    retry_after: float | None = None,
) -> web.Response:
    kind, default_code, default_message = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
    )
    headers = {"x-request-id": f"req_{secrets.token_hex(12)}"}
    if retry_after is not None:
        headers["retry-after-ms"] = str(round(retry_after * 1000))
        headers["retry-after"] = str(math.ceil(retry_after))
    payload = {
        "error": {
            "message": message or default_message,
            "type": kind,
            "param": None,
            "code": code if code is not None else default_code,
        }
    }
    return web.json_response(payload, status=status, headers=headers)
