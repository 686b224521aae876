"""A local HTTP fake of the Slack Web API for the real ``AsyncWebClient`` (via ``base_url``).

Every request is checked against Slack's published method reference in
``tests/data/slack-methods/*.json`` (HTTP method, required arguments, rate-limit tier, error
names, scopes), so the fake answers the way Slack does rather than the way we remember it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import functools
import hashlib
import itertools
import json
import math
import mimetypes
import re
import secrets
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import BodyPartReader, web

from tests.fakes.local_server import LocalServer

__all__ = [
    "DEFAULT_BOT_SCOPES",
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_TEAM_ID",
    "DEFAULT_TEAM_NAME",
    "METHODS_DIR",
    "Channel",
    "FakeSlack",
    "Limit",
    "MethodSpec",
    "OAuthGrant",
    "RateLimits",
    "RecordedCall",
    "TokenInfo",
    "UploadedFile",
    "load_method_specs",
]

METHODS_DIR = Path(__file__).resolve().parent.parent / "data" / "slack-methods"
DEFAULT_BOT_SCOPES: tuple[str, ...] = ("chat:write", "commands", "im:write", "users:read")
# The workspace the ``fake_slack`` fixture seeds.
DEFAULT_BOT_TOKEN = "xoxb-test-token"
DEFAULT_TEAM_ID = "T0TEST"
DEFAULT_TEAM_NAME = "Rapport Test"

# Published Block Kit and message limits (docs.slack.dev, "Block Kit" and chat.postMessage).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_VIEW_BUTTON_TEXT = 24
MAX_PRIVATE_METADATA = 3000
MAX_VIEW_BYTES = 250_000
MAX_MESSAGE_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_BLOCK_ID = 255
TRIGGER_TTL_SECONDS = 3.0

# Slack keeps JSON-in-a-string for these arguments when they are form-encoded.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata", "files"})
_KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")
_TRIGGER_ID = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")
# When an argument is missing, Slack names the thing it could not find; these are the names it
# uses, tried in order and kept only if the method's reference lists them.
_MISSING_ARG_ERRORS: Mapping[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "ts": ("message_not_found",),
    "user": ("user_not_found", "user_not_in_channel"),
}
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


# -- reference data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """What Slack's reference says about one Web API method."""

    name: str
    http_method: str
    required: tuple[str, ...]
    tier: str
    errors: frozenset[str]
    json_input: bool
    bot_scopes: tuple[str, ...]
    user_scopes: tuple[str, ...]

    @classmethod
    def from_reference(cls, name: str, data: Mapping[str, Any]) -> MethodSpec:
        """Build from one slack-api-ref JSON document."""
        args = data.get("args") or {}
        scope = data.get("scope") or {}
        return cls(
            name=name,
            http_method=str(data.get("http_method", "POST")).upper(),
            required=tuple(args.get("required") or ()),
            tier=str(data.get("rate_limits", "")),
            errors=frozenset(data.get("errors") or {}),
            json_input=bool(data.get("json_input_supported", False)),
            bot_scopes=tuple(scope.get("bot") or ()),
            user_scopes=tuple(scope.get("user") or ()),
        )

    def error_name(self, *candidates: str, default: str = "invalid_arguments") -> str:
        """The first candidate this method's reference lists, else ``default``."""
        return next((c for c in candidates if c in self.errors), default)


# NOT from Slack's published reference (no files.info.json was available to copy): written by
# hand from docs.slack.dev/reference/methods/files.info, keeping only the fields the fake reads.
# A reference file of the same name in ``directory`` takes precedence.
_HAND_WRITTEN_SPECS: Mapping[str, Mapping[str, Any]] = {
    "files.info": {
        "http_method": "GET",
        "args": {"required": ["token", "file"]},
        "rate_limits": "t4",
        "errors": ["file_not_found", "file_deleted", "missing_scope", "invalid_auth"],
        "scope": {"bot": ["files:read"], "user": ["files:read"]},
        "json_input_supported": False,
    },
    # docs.slack.dev/reference/methods/auth.revoke: any token revokes itself (no scope); GET or
    # POST; answers {"ok": true, "revoked": true}; `test=1` checks without revoking.
    "auth.revoke": {
        "http_method": "GET",
        "args": {"required": ["token"]},
        "rate_limits": "t3",
        "errors": ["not_authed", "invalid_auth", "account_inactive", "token_revoked"],
        "scope": {},
        "json_input_supported": False,
    },
    # docs.slack.dev/reference/methods/conversations.info: one conversation's details; for a
    # DM (`is_im`) `user` is the other member. Scopes by conversation type: im:read for DMs.
    "conversations.info": {
        "http_method": "GET",
        "args": {"required": ["token", "channel"]},
        "rate_limits": "t3",
        "errors": ["channel_not_found", "missing_scope", "not_authed", "invalid_auth",
                   "token_revoked", "ratelimited"],
        "scope": {"bot": ["channels:read", "groups:read", "im:read", "mpim:read"],
                  "user": ["channels:read", "groups:read", "im:read", "mpim:read"]},
        "json_input_supported": False,
    },
}


@functools.cache
def load_method_specs(directory: Path = METHODS_DIR) -> Mapping[str, MethodSpec]:
    """Read every ``<method>.json`` reference file in ``directory`` (plus hand-written ones)."""
    specs: dict[str, MethodSpec] = {}
    for path in sorted(directory.glob("*.json")):
        name = path.name.removesuffix(".json")
        specs[name] = MethodSpec.from_reference(name, json.loads(path.read_text("utf-8")))
    for name, data in _HAND_WRITTEN_SPECS.items():
        specs.setdefault(name, MethodSpec.from_reference(name, data))
    return specs


# -- public records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One Web API request as the fake saw it, and what it answered."""

    method: str
    args: dict[str, Any]
    token: str | None
    http_method: str
    received_at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass(slots=True)
class TokenInfo:
    """A token the fake accepts, and the identity auth.test reports for it."""

    token: str
    team_id: str
    team_name: str
    user_id: str
    user_name: str
    bot_id: str | None
    app_id: str
    # None grants every scope; a set makes calls outside it fail with missing_scope.
    scopes: frozenset[str] | None = None
    revoked: bool = False

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None


@dataclass(frozen=True, slots=True)
class Channel:
    """A conversation the fake knows: a DM, a group DM or a channel."""

    id: str
    team_id: str | None
    kind: Literal["im", "mpim", "channel"]
    members: tuple[str, ...] = ()
    name: str | None = None
    created: int = 0


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What an OAuth ``code`` turns into when exchanged with oauth.v2.access."""

    team_id: str
    user_id: str
    team_name: str | None = None
    scopes: tuple[str, ...] = DEFAULT_BOT_SCOPES
    user_scopes: tuple[str, ...] = ()
    redirect_uri: str | None = None


@dataclass(slots=True)
class UploadedFile:
    """A file reserved by files.getUploadURLExternal, filled by the upload URL."""

    id: str
    team_id: str
    user_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    # Slack's short type name ("csv", "vcard"); set by add_file, guessed from the name otherwise.
    filetype: str | None = None

    def to_slack(self, created: int) -> dict[str, Any]:
        """The file object Slack returns from files.completeUploadExternal."""
        mimetype = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        return {
            "id": self.id,
            "created": created,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": mimetype,
            "size": len(self.content or b""),
            "user": self.user_id,
            "channels": list(self.channels),
        }


# -- rate limits ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``calls`` in any sliding window of ``seconds``."""

    calls: int
    seconds: float

    def __post_init__(self) -> None:
        if self.calls < 1 or self.seconds <= 0:
            raise ValueError(f"a limit needs calls >= 1 and seconds > 0, got {self}")


def _default_tiers() -> dict[str, Limit]:
    # Slack's published minimums per method per workspace; a whole window may be spent at once,
    # which is the "bursts allowed" part of Slack's wording.
    return {
        "t1": Limit(1, 60.0),
        "t2": Limit(20, 60.0),
        "t3": Limit(50, 60.0),
        "t4": Limit(100, 60.0),
    }


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Limits enforced when ``FakeSlack(enforce_rate_limits=True)``.

    ``t5`` (Slack's "special" tier) has no tier limit here: chat.postMessage gets the per-channel
    and workspace limits below instead, and other special methods are unlimited unless listed in
    ``methods``.
    """

    tiers: Mapping[str, Limit] = field(default_factory=_default_tiers)
    methods: Mapping[str, Limit] = field(default_factory=dict)
    # "About one message per second per channel, short bursts allowed".
    post_message_per_channel: Limit = Limit(3, 3.0)
    # Slack does not publish the workspace-wide number, only "several hundred per minute".
    post_message_per_workspace: Limit | None = Limit(300, 60.0)

    def scaled(self, factor: float) -> RateLimits:
        """The same call counts with every window multiplied by ``factor`` (0.01: 60 s -> 0.6 s)."""
        if factor <= 0:
            raise ValueError("rate_limit_scale must be positive")

        def scale(limit: Limit) -> Limit:
            return Limit(limit.calls, limit.seconds * factor)

        workspace = self.post_message_per_workspace
        return RateLimits(
            tiers={tier: scale(limit) for tier, limit in self.tiers.items()},
            methods={method: scale(limit) for method, limit in self.methods.items()},
            post_message_per_channel=scale(self.post_message_per_channel),
            post_message_per_workspace=None if workspace is None else scale(workspace),
        )

    def for_method(self, spec: MethodSpec) -> Limit | None:
        """The per-token limit for a method: an explicit override, else its tier's."""
        return self.methods.get(spec.name) or self.tiers.get(spec.tier)


class _SlidingWindows:
    """Call times per key, to tell how long until one more call fits under a limit."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, ...], deque[float]] = {}

    def wait_for(self, key: tuple[str, ...], limit: Limit, now: float) -> float:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - limit.seconds:
            hits.popleft()
        if len(hits) < limit.calls:
            return 0.0
        # The call that has to leave the window before one more fits.
        return hits[len(hits) - limit.calls] + limit.seconds - now

    def record(self, key: tuple[str, ...], now: float) -> None:
        self._hits.setdefault(key, deque()).append(now)

    def clear(self) -> None:
        self._hits.clear()


# -- internals --------------------------------------------------------------------------------


class SlackError(Exception):
    """Raised inside handlers; becomes Slack's ``{"ok": false, "error": ...}`` answer."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        messages: Iterable[str] = (),
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.messages = list(messages)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass(slots=True)
class _Fault:
    status: int
    error: str
    retry_after: int | None
    remaining: int


@dataclass(slots=True)
class _Incoming:
    args: dict[str, Any]
    token: str | None
    basic_auth: tuple[str, str] | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class _Call:
    spec: MethodSpec
    auth: TokenInfo | None
    args: dict[str, Any]
    basic_auth: tuple[str, str] | None

    @property
    def identity(self) -> TokenInfo:
        if self.auth is None:  # only oauth.v2.access runs without a token
            raise SlackError("not_authed")
        return self.auth


Handler = Callable[[_Call], dict[str, Any]]


def _stable_id(prefix: str, *parts: str) -> str:
    """A Slack-looking id that is the same for the same parts in every run."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest().upper()
    return prefix + digest[:10]


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true"})


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-in-a-string arguments; leave undecodable ones as sent for the handler."""
    decoded = dict(args)
    for name in _JSON_ARGS & decoded.keys():
        value = decoded[name]
        if isinstance(value, str) and value.strip():
            try:
                decoded[name] = json.loads(value)
            except ValueError:
                pass
    return decoded


def _parse_basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


def _text_errors(obj: Any, where: str, *, max_len: int, plain_only: bool = False) -> list[str]:
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return [f"must be a {' or '.join(allowed)} text object [json-pointer:{where}]"]
    text = obj.get("text")
    if not isinstance(text, str):
        return [f"missing required field: text [json-pointer:{where}]"]
    if not text:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > max_len:
        return [f"must be less than {max_len + 1} characters [json-pointer:{where}/text]"]
    return []


def _elements_errors(block: dict[str, Any], where: str, *, most: int) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"missing required field: elements [json-pointer:{where}]"]
    if len(elements) > most:
        return [f"no more than {most} items allowed [json-pointer:{where}/elements]"]
    return []


def _one_block_errors(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    if kind not in _KNOWN_BLOCK_TYPES:
        return [f"unsupported type: {kind} [json-pointer:{where}/type]"]
    if kind == "section":
        errors: list[str] = []
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            errors.append(f"must provide either text or fields [json-pointer:{where}]")
        if text is not None:
            errors += _text_errors(text, f"{where}/text", max_len=MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
                errors.append(
                    f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{where}/fields]"
                )
            else:
                for i, item in enumerate(fields):
                    errors += _text_errors(item, f"{where}/fields/{i}", max_len=MAX_FIELD_TEXT)
        return errors
    if kind == "header":
        return _text_errors(
            block.get("text"), f"{where}/text", max_len=MAX_HEADER_TEXT, plain_only=True
        )
    if kind == "context":
        return _elements_errors(block, where, most=10)
    if kind == "actions":
        return _elements_errors(block, where, most=25)
    return []


def _block_errors(blocks: list[Any], *, pointer: str, most: int) -> list[str]:
    """Slack-worded problems with a list of Block Kit blocks (empty when valid)."""
    errors: list[str] = []
    if len(blocks) > most:
        errors.append(f"no more than {most} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > MAX_BLOCK_ID:
                errors.append(
                    f"must be less than {MAX_BLOCK_ID + 1} characters "
                    f"[json-pointer:{where}/block_id]"
                )
            elif block_id in seen_ids:
                errors.append(f"duplicate block_id [json-pointer:{where}/block_id]")
            else:
                seen_ids.add(block_id)
        errors += _one_block_errors(block, where)
    return errors


def _view_errors(view: dict[str, Any], *, types: tuple[str, ...]) -> list[str]:
    """Slack-worded problems with a view payload (empty when valid)."""
    kind = view.get("type")
    if kind not in types:
        return [f"must be one of {', '.join(types)} [json-pointer:/view/type]"]
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return ["missing required field: blocks [json-pointer:/view]"]
    errors = _block_errors(blocks, pointer="/view/blocks", most=MAX_VIEW_BLOCKS)
    if kind == "modal":
        if view.get("title") is None:
            errors.append("missing required field: title [json-pointer:/view]")
        for name in ("title", "submit", "close"):
            if view.get(name) is not None:
                errors += _text_errors(
                    view[name], f"/view/{name}", max_len=MAX_VIEW_BUTTON_TEXT, plain_only=True
                )
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            errors.append("submit is required when the view has input blocks [json-pointer:/view]")
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and len(metadata) > MAX_PRIVATE_METADATA:
        errors.append(
            f"must be less than {MAX_PRIVATE_METADATA + 1} characters "
            "[json-pointer:/view/private_metadata]"
        )
    for name in ("callback_id", "external_id"):
        value = view.get(name)
        if isinstance(value, str) and len(value) > 255:
            errors.append(f"must be less than 256 characters [json-pointer:/view/{name}]")
    return errors


# -- the fake ---------------------------------------------------------------------------------


class FakeSlack(LocalServer):
    """The Slack Web API on 127.0.0.1: records calls, stores messages and views, injects faults."""

    def __init__(
        self,
        *,
        enforce_rate_limits: bool = False,
        rate_limits: RateLimits | None = None,
        rate_limit_scale: float = 1.0,
        latency: float = 0.0,
        app_id: str = "A0FAKEAPP01",
        client_id: str = "1111111111.2222222222",
        client_secret: str = "fake-client-secret",
        clock: Callable[[], float] = time.monotonic,
        specs: Mapping[str, MethodSpec] | None = None,
    ) -> None:
        super().__init__()
        self.enforce_rate_limits = enforce_rate_limits
        self.rate_limits = (rate_limits or RateLimits()).scaled(rate_limit_scale)
        self.latency = latency
        self.app_id = app_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.specs: Mapping[str, MethodSpec] = specs if specs is not None else load_method_specs()

        self.tokens: dict[str, TokenInfo] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.oauth_codes: dict[str, OAuthGrant] = {}
        self.channels: dict[str, Channel] = {}

        self.calls: list[RecordedCall] = []
        # Calls answered (after any latency): compared before/after a request, it tells whether
        # the app answered its caller before Slack answered, without timing anything.
        self.answered = 0
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemeral_messages: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_tabs: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}
        # GETs of a file's url_private_download: file id, bearer token sent, HTTP status.
        self.downloads: list[tuple[str, str | None, int]] = []
        # Socket Mode: app-level tokens apps.connections.open accepts, WebSockets opened.
        self.app_tokens: set[str] = set()
        self.socket_connections = 0
        self._sockets: set[web.WebSocketResponse] = set()

        self._clock = clock
        self._faults: dict[str, deque[_Fault]] = {}
        self._windows = _SlidingWindows()
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._issued_triggers: dict[str, float] = {}
        self._used_triggers: set[str] = set()

        self._handlers: dict[str, Handler] = {
            "apps.connections.open": self._apps_connections_open,
            "auth.revoke": self._auth_revoke,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.info": self._files_info,
            "oauth.v2.access": self._oauth_v2_access,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.update": self._views_update,
        }
        missing = sorted(set(self._handlers) - set(self.specs))
        if missing:
            raise RuntimeError(f"no Slack reference file for {missing} in {METHODS_DIR}")

    # -- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._handle_download)
        app.router.add_get("/socket-mode", self._handle_socket)
        app.on_shutdown.append(self._close_sockets)
        return app

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``AsyncWebClient(base_url=...)``; slack_sdk wants the trailing slash."""
        return f"{self.origin}/api/"

    # -- seeding -------------------------------------------------------------------------------

    def add_token(
        self,
        token: str,
        *,
        team_id: str,
        team_name: str | None = None,
        user_id: str | None = None,
        user_name: str | None = None,
        bot_id: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> TokenInfo:
        """Accept ``token``: ``xoxb-`` tokens are bot tokens (with a bot id), others user tokens."""
        is_bot = token.startswith("xoxb-")
        info = TokenInfo(
            token=token,
            team_id=team_id,
            team_name=team_name or self._team_name(team_id),
            user_id=user_id or _stable_id("U", team_id, "bot" if is_bot else token),
            user_name=user_name or ("rapport" if is_bot else "user"),
            bot_id=(bot_id or _stable_id("B", team_id, self.app_id)) if is_bot else None,
            app_id=self.app_id,
            scopes=None if scopes is None else frozenset(scopes),
        )
        self.tokens[token] = info
        return info

    def add_app_token(self, token: str) -> None:
        """Accept ``token`` (``xapp-...``) as an app-level token with ``connections:write``."""
        self.app_tokens.add(token)
        self.tokens[token] = TokenInfo(token=token, team_id="", team_name="", user_id="",
                                       user_name="", bot_id=None, app_id=self.app_id)

    def add_workspace(
        self,
        team_id: str,
        name: str | None = None,
        *,
        bot_token: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> TokenInfo:
        """Install the app in a workspace: a bot token for ``team_id`` (made up when not given)."""
        token = bot_token or f"xoxb-{team_id}-{secrets.token_hex(8)}"
        return self.add_token(token, team_id=team_id, team_name=name, scopes=scopes)

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        team_id: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        locale: str = "en-US",
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
    ) -> dict[str, Any]:
        """Seed a user for users.info; ``team_id=None`` makes them visible from every team.

        ``is_admin``, ``is_owner`` and ``is_primary_owner`` are the workspace roles users.info
        reports (a primary owner is an owner and an admin too, as in Slack)."""
        ZoneInfo(tz)  # an unknown zone should fail here, not inside a later users.info
        real = real_name or name
        profile: dict[str, Any] = {
            "real_name": real,
            "real_name_normalized": real,
            "display_name": display_name if display_name is not None else name,
            "display_name_normalized": display_name if display_name is not None else name,
            "team": team_id,
        }
        if email is not None:
            profile["email"] = email
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real,
            "tz": tz,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": is_admin or is_owner or is_primary_owner,
            "is_owner": is_owner or is_primary_owner,
            "is_primary_owner": is_primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "updated": int(time.time()),
            "profile": profile,
            "_locale": locale,
        }
        self.users[user_id] = user
        return user

    def add_oauth_code(
        self,
        code: str | None = None,
        *,
        team_id: str,
        user_id: str,
        team_name: str | None = None,
        scopes: Iterable[str] = DEFAULT_BOT_SCOPES,
        user_scopes: Iterable[str] = (),
        redirect_uri: str | None = None,
    ) -> str:
        """Make ``code`` (or a new one, returned) exchangeable once with oauth.v2.access."""
        code = code or f"{int(time.time())}.{secrets.token_hex(12)}"
        self.oauth_codes[code] = OAuthGrant(
            team_id=team_id,
            user_id=user_id,
            team_name=team_name,
            scopes=tuple(scopes),
            user_scopes=tuple(user_scopes),
            redirect_uri=redirect_uri,
        )
        return code

    def add_channel(
        self,
        channel_id: str,
        *,
        team_id: str | None = None,
        name: str | None = None,
        members: Iterable[str] = (),
    ) -> Channel:
        """Make a conversation known, e.g. a DM id stored from an earlier run."""
        kind: Literal["im", "mpim", "channel"] = "im" if channel_id.startswith("D") else "channel"
        channel = Channel(
            id=channel_id,
            team_id=team_id,
            kind=kind,
            members=tuple(members),
            name=name,
            created=int(time.time()),
        )
        self.channels[channel_id] = channel
        return channel

    def add_file(
        self,
        file_id: str,
        name: str,
        data: bytes,
        *,
        user_id: str,
        team_id: str = DEFAULT_TEAM_ID,
        filetype: str | None = None,
    ) -> dict[str, Any]:
        """A file ``user_id`` uploaded, as files.info returns it (with url_private_download)."""
        self.files[file_id] = UploadedFile(
            id=file_id,
            team_id=team_id,
            user_id=user_id,
            filename=name,
            length=len(data),
            content=data,
            title=name,
            completed=True,
            filetype=filetype,
        )
        return self._file_info(self.files[file_id])

    def new_trigger_id(self) -> str:
        """A trigger id as Slack puts in interaction payloads; views.open refuses it after 3 s."""
        trigger = f"{int(time.time())}.{next(self._ids)}.{secrets.token_hex(16)}"
        self._issued_triggers[trigger] = self._clock()
        return trigger

    def revoke(self, token: str) -> None:
        """Make every later call with ``token`` fail with ``token_revoked``."""
        info = self.tokens.get(token)
        if info is None:
            raise KeyError(f"unknown token {token[:9]}...")
        info.revoked = True

    def dm_channel_id(self, user_id: str, team_id: str = DEFAULT_TEAM_ID) -> str:
        """The id conversations.open returns for a 1:1 DM with ``user_id`` in ``team_id``."""
        return _stable_id("D", team_id, user_id)

    # -- faults --------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls to ``method`` with a failure instead of serving them.

        ``status=429`` answers ``ratelimited`` with ``Retry-After`` (default 1 s); ``status=5xx``
        answers ``internal_error``; ``error=...`` alone answers HTTP 200 with ``ok: false``.
        """
        if method not in self._handlers:
            raise ValueError(f"FakeSlack does not serve {method!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        status = status if status is not None else 200
        if status == 200 and error is None:
            raise ValueError("give an error name for an HTTP 200 failure")
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        error = error or "internal_error"
        fault = _Fault(status=status, error=error, retry_after=retry_after, remaining=count)
        self._faults.setdefault(method, deque()).append(fault)

    def pending_faults(self, method: str | None = None) -> int:
        """How many injected failures are still to be served."""
        queues = self._faults.values() if method is None else [self._faults.get(method, deque())]
        return sum(fault.remaining for queue in queues for fault in queue)

    # -- inspection ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls to one method, oldest first (failed ones included)."""
        return [call for call in self.calls if call.method == method]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Current state of the messages in a channel (a user id means the bot's DM with them)."""
        channel_ids = [channel]
        if _USER_ID.match(channel):
            channel_ids = [
                c.id for c in self.channels.values() if c.kind == "im" and c.members == (channel,)
            ]
        found = [m for cid in channel_ids for m in self.messages.get(cid, [])]
        return copy.deepcopy(sorted(found, key=lambda m: m["ts"]))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message's current state, or None."""
        return next((m for m in self.messages_in(channel) if m["ts"] == ts), None)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``, or None."""
        view_id = self.home_tabs.get(user_id)
        return copy.deepcopy(self.views[view_id]) if view_id else None

    def reset(self) -> None:
        """Forget traffic (calls, messages, views, files, faults, rate windows); keep seeds."""
        self.calls.clear()
        self.messages.clear()
        self.ephemeral_messages.clear()
        self.views.clear()
        self.home_tabs.clear()
        self.files.clear()
        self.downloads.clear()
        self.socket_connections = 0
        self._faults.clear()
        self._windows.clear()
        self._issued_triggers.clear()
        self._used_triggers.clear()

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        received_at = self._clock()
        method = request.match_info["method"]
        spec = self.specs.get(method) if method in self._handlers else None
        incoming = await self._read_request(request, spec)
        headers: dict[str, str] = {}
        try:
            if spec is None:
                raise SlackError("unknown_method", req_method=method)
            self._check_http_method(request.method, spec)
            if incoming.problem is not None:
                raise SlackError(incoming.problem)
            self._raise_injected_fault(method)
            body = self._serve(spec, incoming)
            status = 200
            headers = self._scope_headers(spec, incoming.token)
        except SlackError as exc:
            status, body = exc.status, exc.body()
            headers.update(exc.headers)
        self.calls.append(
            RecordedCall(
                method=method,
                args=incoming.args,
                token=incoming.token,
                http_method=request.method,
                received_at=received_at,
                status=status,
                response=copy.deepcopy(body),
            )
        )
        await self._wait_latency()
        return web.json_response(body, status=status, headers=headers)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        # Slack's upload host answers in text/plain, which is what slack_sdk expects here.
        upload = self.files.get(request.match_info["file_id"])
        if upload is None or upload.completed:
            return web.Response(status=404, text="file not found", content_type="text/plain")
        if request.content_type == "multipart/form-data":
            content = b""
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, BodyPartReader) and (part.filename or part.name == "file"):
                    content = bytes(await part.read())
                    break
        else:
            content = await request.read()
        upload.content = content
        await self._wait_latency()
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _handle_download(self, request: web.Request) -> web.Response:
        # Slack's file host wants the bot token of the file's workspace as a Bearer header.
        team_id, _, file_id = request.match_info["team_file"].partition("-")
        upload = self.files.get(file_id)
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ").strip() if authorization.startswith(
            "Bearer ") else None
        info = self.tokens.get(token or "")
        authorised = info is not None and not info.revoked and info.team_id == team_id
        if not authorised:
            status, response = 401, web.Response(status=401, text="not authed")
        elif upload is None or upload.team_id != team_id or upload.content is None:
            status, response = 404, web.Response(status=404, text="file not found")
        else:
            status = 200
            response = web.Response(
                body=upload.content, content_type=self._file_info(upload)["mimetype"]
            )
        self.downloads.append((file_id, token, status))
        await self._wait_latency()
        return response

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        # What Slack's Socket Mode endpoint does first: accept, then say hello. Rapport's tests
        # only need a live connection, so envelopes are never sent and anything received is
        # dropped (the SDK's pings are answered by aiohttp).
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.socket_connections += 1
        self._sockets.add(socket)
        await socket.send_json({"type": "hello", "num_connections": 1,
                                "connection_info": {"app_id": self.app_id}})
        try:
            async for _message in socket:
                pass
        finally:
            self._sockets.discard(socket)
        return socket

    async def _close_sockets(self, _app: web.Application) -> None:
        for socket in list(self._sockets):
            await socket.close()

    async def _wait_latency(self) -> None:
        if self.latency > 0:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.latency)
            except TimeoutError:
                pass
        self.answered += 1

    async def _read_request(self, request: web.Request, spec: MethodSpec | None) -> _Incoming:
        # Slack reads arguments from the query string whatever the verb; slack_sdk relies on it
        # (its ``params=`` go into the URL of a POST, e.g. conversations.open).
        args: dict[str, Any] = dict(request.query)
        token: str | None = args.pop("token", None)
        problem: str | None = None
        if request.method == "POST" and request.body_exists:
            content_type = request.content_type
            if content_type == "application/json":
                raw = await request.read()
                # Methods without JSON support read form fields only, so a JSON body is ignored.
                if spec is None or spec.json_input:
                    try:
                        body = json.loads(raw or b"null")
                    except ValueError:
                        problem = "invalid_json"
                    else:
                        if isinstance(body, dict):
                            # Slack ignores a token inside a JSON body: it must be a header.
                            body.pop("token", None)
                            args.update(body)
                        else:
                            problem = "json_not_object"
            elif content_type in _FORM_TYPES:
                form = await request.post()
                fields = {k: v for k, v in form.items() if isinstance(v, str)}
                token = fields.pop("token", token)
                args.update(fields)
            elif content_type != "text/plain":  # Slack accepts text/plain but reads no args
                problem = "invalid_post_type"
        authorization = request.headers.get("Authorization", "")
        basic_auth = _parse_basic_auth(authorization)
        if authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip() or token
        return _Incoming(
            args=_decode_json_args(args), token=token, basic_auth=basic_auth, problem=problem
        )

    def _check_http_method(self, verb: str, spec: MethodSpec) -> None:
        # Every method takes a form POST; GET only where the reference says so. Real Slack is
        # more lenient with GET, but no client of ours should rely on that.
        allowed = {"POST", spec.http_method}
        if verb not in allowed:
            raise SlackError(
                "method_not_allowed", status=405, headers={"Allow": ", ".join(sorted(allowed))}
            )

    def _raise_injected_fault(self, method: str) -> None:
        queue = self._faults.get(method)
        if not queue:
            return
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            queue.popleft()
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        raise SlackError(fault.error, status=fault.status, headers=headers)

    def _serve(self, spec: MethodSpec, incoming: _Incoming) -> dict[str, Any]:
        auth: TokenInfo | None = None
        if "token" in spec.required:
            auth = self._authenticate(incoming.token)
            if auth.token in self.app_tokens and spec.name != "apps.connections.open":
                raise SlackError("not_allowed_token_type")  # app-level tokens open sockets only
            self._enforce_rate_limits(spec, auth, incoming.args)
            self._check_scopes(spec, auth)
        self._check_required(spec, incoming.args)
        call = _Call(spec=spec, auth=auth, args=incoming.args, basic_auth=incoming.basic_auth)
        return {"ok": True, **self._handlers[spec.name](call)}

    def _authenticate(self, token: str | None) -> TokenInfo:
        if not token:
            raise SlackError("not_authed")
        info = self.tokens.get(token)
        if info is None:
            raise SlackError("invalid_auth")
        if info.revoked:
            raise SlackError("token_revoked")
        return info

    def _enforce_rate_limits(self, spec: MethodSpec, auth: TokenInfo, args: dict[str, Any]) -> None:
        if not self.enforce_rate_limits:
            return
        now = self._clock()
        checks: list[tuple[tuple[str, ...], Limit]] = []
        limit = self.rate_limits.for_method(spec)
        if limit is not None:
            checks.append((("method", spec.name, auth.token), limit))
        if spec.name == "chat.postMessage":
            channel = args.get("channel")
            if isinstance(channel, str) and channel:
                if _USER_ID.match(channel):  # the same DM whichever way it is addressed
                    channel = self.dm_channel_id(channel, auth.team_id)
                checks.append(
                    (("channel", auth.team_id, channel), self.rate_limits.post_message_per_channel)
                )
            workspace = self.rate_limits.post_message_per_workspace
            if workspace is not None:
                checks.append((("workspace", auth.team_id), workspace))
        wait = max((self._windows.wait_for(key, lim, now) for key, lim in checks), default=0.0)
        if wait > 0:
            # Retry-After is whole seconds (slack_sdk int()s it), and never 0 while limited.
            raise SlackError(
                "ratelimited", status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
        for key, _ in checks:
            self._windows.record(key, now)

    def _check_scopes(self, spec: MethodSpec, auth: TokenInfo) -> None:
        needed = spec.bot_scopes if auth.is_bot else spec.user_scopes
        # The reference lists alternatives (conversations.open: im:write or mpim:write ...).
        if auth.scopes is None or not needed or auth.scopes.intersection(needed):
            return
        raise SlackError(
            "missing_scope", needed=",".join(needed), provided=",".join(sorted(auth.scopes))
        )

    def _scope_headers(self, spec: MethodSpec, token: str | None) -> dict[str, str]:
        # Bolt reads x-oauth-scopes from auth.test to learn the bot's scopes.
        info = self.tokens.get(token or "")
        headers: dict[str, str] = {}
        if info is not None and info.scopes is not None:
            headers["x-oauth-scopes"] = ",".join(sorted(info.scopes))
            needed = spec.bot_scopes if info.is_bot else spec.user_scopes
            headers["x-accepted-oauth-scopes"] = ",".join(needed)
        return headers

    def _check_required(self, spec: MethodSpec, args: dict[str, Any]) -> None:
        for name in spec.required:
            if name == "token" or _present(args.get(name)):
                continue
            error = spec.error_name(*_MISSING_ARG_ERRORS.get(name, ()), "missing_argument")
            messages = [f"[ERROR] missing required field: {name}"]
            raise SlackError(error, messages=messages if error == "invalid_arguments" else ())

    # -- shared pieces -------------------------------------------------------------------------

    def _next_ts(self) -> str:
        # Slack's ts is epoch seconds plus a per-channel sequence; unique and increasing is what
        # callers rely on, even under a frozen clock.
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def _team_name(self, team_id: str) -> str:
        existing = next((t.team_name for t in self.tokens.values() if t.team_id == team_id), None)
        return existing or f"Workspace {team_id}"

    def _open_conversation(self, team_id: str, users: tuple[str, ...]) -> tuple[Channel, bool]:
        """The DM (one user) or group DM for ``users``; True when it already existed."""
        if len(users) == 1:
            channel_id = self.dm_channel_id(users[0], team_id)
        else:
            channel_id = _stable_id("G", team_id, *sorted(users))
        existing = self.channels.get(channel_id)
        if existing is not None:
            return existing, True
        channel = Channel(
            id=channel_id,
            team_id=team_id,
            kind="im" if len(users) == 1 else "mpim",
            members=users,
            created=int(time.time()),
        )
        self.channels[channel_id] = channel
        return channel, False

    def _resolve_channel(self, auth: TokenInfo, value: Any, *, allow_user_id: bool) -> str:
        if not isinstance(value, str) or not value:
            raise SlackError("channel_not_found")
        if _USER_ID.match(value):
            # A bot may post to a user id: Slack delivers it to the app's DM with that user.
            if not allow_user_id:
                raise SlackError("channel_not_found")
            return self._open_conversation(auth.team_id, (value,))[0].id
        if not _CHANNEL_ID.match(value):
            name = value.removeprefix("#")
            for channel in self.channels.values():
                if channel.name == name and channel.team_id in (None, auth.team_id):
                    return channel.id
            raise SlackError("channel_not_found")
        channel = self.channels.get(value)
        if channel is None:
            # A made-up DM id is a real bug (DM ids come from conversations.open); channel ids
            # are taken on trust as channels the bot was invited to.
            if value.startswith("D"):
                raise SlackError("channel_not_found")
            channel = Channel(id=value, team_id=auth.team_id, kind="channel")
            self.channels[value] = channel
        elif channel.team_id not in (None, auth.team_id):
            raise SlackError("channel_not_found")
        return channel.id

    def _message_content(
        self, call: _Call, *, text_limit: Literal["truncate", "refuse"]
    ) -> dict[str, Any]:
        """Validated text/blocks/attachments of a chat.* call, as they would be stored."""
        spec, args = call.spec, call.args
        content: dict[str, Any] = {}
        blocks = args.get("blocks")
        if _present(blocks):
            if not isinstance(blocks, list):
                raise SlackError(spec.error_name("invalid_blocks_format"))
            errors = _block_errors(blocks, pointer="/blocks", most=MAX_MESSAGE_BLOCKS)
            if errors:
                raise SlackError(
                    spec.error_name("invalid_blocks"),
                    errors=errors,
                    messages=[f"[ERROR] {e}" for e in errors],
                )
            content["blocks"] = blocks
        attachments = args.get("attachments")
        if _present(attachments):
            if not isinstance(attachments, list):
                raise SlackError(spec.error_name("invalid_attachments"))
            if len(attachments) > MAX_ATTACHMENTS:
                raise SlackError(spec.error_name("too_many_attachments"))
            content["attachments"] = attachments
        text = args.get("text")
        markdown_text = args.get("markdown_text")
        if _present(markdown_text) and (_present(text) or "blocks" in content):
            raise SlackError(spec.error_name("markdown_text_conflict"))
        if not (_present(text) or _present(markdown_text) or content.get("blocks") or attachments):
            raise SlackError(spec.error_name("no_text"))
        text = str(text) if _present(text) else ""
        if len(text) > MAX_MESSAGE_TEXT:
            if text_limit == "refuse":
                raise SlackError(spec.error_name("msg_too_long"))
            text = text[:MAX_MESSAGE_TEXT]
            content["_warning"] = "message_truncated"
        content["text"] = text
        if _present(markdown_text):
            content["markdown_text"] = markdown_text
        if _present(args.get("metadata")):
            content["metadata"] = args["metadata"]
        return content

    @staticmethod
    def _with_warning(body: dict[str, Any], warning: str | None) -> dict[str, Any]:
        if warning:
            body["warning"] = warning
            body["response_metadata"] = {"warnings": [warning]}
        return body

    # -- methods -------------------------------------------------------------------------------

    def _apps_connections_open(self, call: _Call) -> dict[str, Any]:
        # Only an app-level token opens a socket; Slack refuses bot and user tokens here.
        if call.identity.token not in self.app_tokens:
            raise SlackError("not_allowed_token_type")
        return {"url": f"ws://127.0.0.1:{self.port}/socket-mode?ticket={next(self._ids)}"}

    def _auth_test(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        domain = re.sub(r"[^a-z0-9]+", "-", auth.team_name.lower()).strip("-") or "workspace"
        body: dict[str, Any] = {
            "url": f"https://{domain}.slack.com/",
            "team": auth.team_name,
            "user": auth.user_name,
            "team_id": auth.team_id,
            "user_id": auth.user_id,
            "is_enterprise_install": False,
        }
        if auth.bot_id is not None:
            body["bot_id"] = auth.bot_id
        return body

    def _chat_post_message(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        channel = self._resolve_channel(auth, call.args.get("channel"), allow_user_id=True)
        content = self._message_content(call, text_limit="truncate")
        warning = content.pop("_warning", None)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": auth.user_id,
            "ts": ts,
            "team": auth.team_id,
            "app_id": auth.app_id,
            **content,
        }
        if auth.bot_id is not None:
            message["bot_id"] = auth.bot_id
        if _present(call.args.get("thread_ts")):
            message["thread_ts"] = str(call.args["thread_ts"])
        self.messages.setdefault(channel, []).append(message)
        body = {"channel": channel, "ts": ts, "message": copy.deepcopy(message)}
        return self._with_warning(body, warning)

    def _chat_post_ephemeral(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        channel = self._resolve_channel(auth, call.args.get("channel"), allow_user_id=True)
        user = call.args.get("user")
        if not isinstance(user, str) or not _USER_ID.match(user):
            raise SlackError(call.spec.error_name("user_not_in_channel", "user_not_found"))
        known = self.channels[channel]
        if known.kind == "im" and known.members and user not in known.members:
            # A DM with the bot has one person in it: no one else sees an ephemeral there.
            raise SlackError(call.spec.error_name("user_not_in_channel"))
        content = self._message_content(call, text_limit="refuse")
        ts = self._next_ts()
        # Ephemeral messages are never stored in the channel: Slack does not persist them.
        self.ephemeral_messages.append(
            {"channel": channel, "user": user, "ts": ts, "bot_id": auth.bot_id, **content}
        )
        return {"message_ts": ts}

    def _chat_update(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        # The reference: DMs are updated by their D id, never by a user id.
        channel = self._resolve_channel(auth, call.args.get("channel"), allow_user_id=False)
        ts = str(call.args["ts"])
        message = next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != auth.user_id:
            raise SlackError("cant_update_message")
        content = self._message_content(call, text_limit="truncate")
        warning = content.pop("_warning", None)
        # Text and blocks are replaced; attachments and metadata stay unless sent again.
        message.pop("blocks", None)
        message.pop("markdown_text", None)
        message.update(content)
        message["edited"] = {"user": auth.user_id, "ts": self._next_ts()}
        body = {
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }
        return self._with_warning(body, warning)

    def _conversations_open(self, call: _Call) -> dict[str, Any]:
        auth, args = call.identity, call.args
        channel_arg = args.get("channel")
        if _present(channel_arg):
            existing = self.channels.get(str(channel_arg))
            if existing is None or existing.team_id not in (None, auth.team_id):
                raise SlackError("channel_not_found")
            if existing.kind == "channel":
                raise SlackError("method_not_supported_for_channel_type")
            channel, already_open = existing, True
        else:
            raw_users = args.get("users")
            if isinstance(raw_users, list):
                users = tuple(str(u).strip() for u in raw_users if str(u).strip())
            else:
                users = tuple(u.strip() for u in str(raw_users or "").split(",") if u.strip())
            if not users:
                raise SlackError("users_list_not_supplied")
            if len(users) > 8:
                raise SlackError("too_many_users")
            for user_id in users:
                if not _USER_ID.match(user_id):
                    raise SlackError("user_not_found")
                if self.users.get(user_id, {}).get("deleted"):
                    raise SlackError("user_disabled")
            channel, already_open = self._open_conversation(auth.team_id, users)
        body: dict[str, Any] = {"channel": {"id": channel.id}}
        if _truthy(args.get("return_im")):
            body["channel"] = {
                "id": channel.id,
                "created": channel.created,
                "is_im": channel.kind == "im",
                "is_org_shared": False,
                "user": channel.members[0] if channel.kind == "im" else None,
                "last_read": "0000000000.000000",
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "priority": 0,
            }
        if already_open:
            body.update(no_op=True, already_open=True)
        return body

    def _auth_revoke(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        if not _truthy(call.args.get("test")):
            auth.revoked = True
        return {"revoked": True}

    def _conversations_info(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        channel = self.channels.get(str(call.args["channel"]))
        # A conversation exists for a token only when its user (or bot) is a member of it.
        if channel is None or channel.team_id not in (None, auth.team_id) \
                or (channel.kind != "channel" and auth.user_id not in channel.members):
            raise SlackError("channel_not_found")
        if channel.kind != "im":
            return {"channel": {"id": channel.id, "name": channel.name, "is_channel": True,
                                "is_im": False, "created": channel.created}}
        others = [member for member in channel.members if member != auth.user_id]
        return {"channel": {
            "id": channel.id, "created": channel.created, "is_im": True, "is_org_shared": False,
            "user": others[0] if others else auth.user_id, "is_user_deleted": False,
            "priority": 0}}

    def _users_info(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        user = self.users.get(str(call.args["user"]))
        if user is None or user["team_id"] not in (None, auth.team_id):
            raise SlackError("user_not_found")
        result = {k: copy.deepcopy(v) for k, v in user.items() if not k.startswith("_")}
        result["team_id"] = result["team_id"] or auth.team_id
        result["profile"]["team"] = result["profile"]["team"] or auth.team_id
        # Offsets follow the clock (time-machine moves it), as Slack's follow DST.
        now = datetime.fromtimestamp(time.time(), UTC).astimezone(ZoneInfo(user["tz"]))
        offset = now.utcoffset()
        result["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
        result["tz_label"] = now.tzname() or user["tz"]
        if _truthy(call.args.get("include_locale")):
            result["locale"] = user["_locale"]
        return {"user": result}

    def _oauth_v2_access(self, call: _Call) -> dict[str, Any]:
        args = call.args
        client_id, client_secret = call.basic_auth or (
            args.get("client_id"),
            args.get("client_secret"),
        )
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackError("bad_client_secret")
        grant_type = args.get("grant_type")
        if _present(grant_type) and grant_type != "authorization_code":
            # Token rotation (refresh_token) is not modelled.
            raise SlackError("invalid_grant_type")
        code = args.get("code")
        grant = self.oauth_codes.get(code) if isinstance(code, str) else None
        if grant is None:
            raise SlackError("invalid_code")
        if grant.redirect_uri is not None and args.get("redirect_uri") != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        del self.oauth_codes[str(code)]  # codes are single use
        team_name = grant.team_name or self._team_name(grant.team_id)
        # A grant of user scopes only (no `scope` asked for) issues no bot token.
        bot = self.add_workspace(grant.team_id, team_name, scopes=grant.scopes) \
            if grant.scopes else None
        authed_user: dict[str, Any] = {"id": grant.user_id}
        if grant.user_scopes:
            user_token = self.add_token(
                f"xoxp-{grant.team_id}-{secrets.token_hex(8)}",
                team_id=grant.team_id,
                team_name=team_name,
                user_id=grant.user_id,
                scopes=grant.user_scopes,
            )
            authed_user.update(
                scope=",".join(grant.user_scopes),
                access_token=user_token.token,
                token_type="user",
            )
        body: dict[str, Any] = {
            "app_id": self.app_id,
            "authed_user": authed_user,
            "team": {"id": grant.team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if bot is not None:
            body.update(scope=",".join(grant.scopes), token_type="bot", access_token=bot.token,
                        bot_user_id=bot.user_id)
        return body

    def _files_get_upload_url_external(self, call: _Call) -> dict[str, Any]:
        auth, args = call.identity, call.args
        length = _as_int(args.get("length"))
        if length is None:
            raise SlackError("invalid_arguments", messages=["[ERROR] invalid `length`"])
        if length < 1:
            raise SlackError("missing_argument")
        alt_txt = args.get("alt_txt")
        if isinstance(alt_txt, str) and len(alt_txt) > 1000:
            raise SlackError("alt_txt_too_large")
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(
            id=file_id,
            team_id=auth.team_id,
            user_id=auth.user_id,
            filename=str(args["filename"]),
            length=length,
            alt_txt=alt_txt if isinstance(alt_txt, str) else None,
            snippet_type=args.get("snippet_type"),
        )
        return {"upload_url": f"{self.origin}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, call: _Call) -> dict[str, Any]:
        auth, args = call.identity, call.args
        items = args["files"]
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and i.get("id") for i in items
        ):
            raise SlackError("invalid_arguments", messages=["[ERROR] invalid `files`"])
        uploads: list[UploadedFile] = []
        for item in items:
            upload = self.files.get(str(item["id"]))
            if upload is None or upload.content is None or upload.team_id != auth.team_id:
                raise SlackError("file_not_found")
            uploads.append(upload)
        targets: list[str] = []
        if _present(args.get("channel_id")):
            targets.append(str(args["channel_id"]))
        if _present(args.get("channels")):
            targets += [c.strip() for c in str(args["channels"]).split(",") if c.strip()]
        if len(targets) > 100:
            raise SlackError("channels_limit_exceeded")
        channel_ids = [self._resolve_channel(auth, t, allow_user_id=True) for t in targets]
        created = int(time.time())
        for item, upload in zip(items, uploads, strict=True):
            upload.title = item.get("title") or upload.filename
            upload.completed = True
            upload.channels = channel_ids
        shared = [u.to_slack(created) for u in uploads]
        for channel_id in channel_ids:
            message: dict[str, Any] = {
                "type": "message",
                "subtype": "file_share",
                "user": auth.user_id,
                "ts": self._next_ts(),
                "team": auth.team_id,
                "text": str(args.get("initial_comment") or ""),
                "files": copy.deepcopy(shared),
                "upload": True,
            }
            if _present(args.get("thread_ts")):
                message["thread_ts"] = str(args["thread_ts"])
            self.messages.setdefault(channel_id, []).append(message)
        return {"files": shared}

    def _file_info(self, upload: UploadedFile) -> dict[str, Any]:
        """The file object files.info returns, with the download URL on this fake's origin."""
        body = upload.to_slack(int(time.time()))
        extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        body["filetype"] = upload.filetype or extension or "binary"
        body["url_private_download"] = (
            f"{self.origin}/files-pri/{upload.team_id}-{upload.id}/download/"
            + urllib.parse.quote(upload.filename, safe="")
        )
        return body

    def _files_info(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        upload = self.files.get(str(call.args["file"]))
        if upload is None or upload.team_id != auth.team_id or upload.content is None:
            raise SlackError("file_not_found")
        return {"file": self._file_info(upload)}

    def _parse_view(self, call: _Call, *, types: tuple[str, ...]) -> dict[str, Any]:
        view = call.args.get("view")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", messages=["[ERROR] invalid `view`"])
        if len(json.dumps(view)) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        errors = _view_errors(view, types=types)
        if errors:
            raise SlackError("invalid_arguments", messages=[f"[ERROR] {e}" for e in errors])
        return view

    def _store_view(
        self,
        auth: TokenInfo,
        view: dict[str, Any],
        *,
        view_id: str | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        view_id = view_id or self._next_id("V")
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": auth.team_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": (previous or {}).get("state", {"values": {}}),
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": (previous or {}).get("root_view_id", view_id),
            "previous_view_id": None,
            "app_id": auth.app_id,
            "bot_id": auth.bot_id,
        }
        external_id = stored["external_id"]
        if external_id:
            clash = next(
                (
                    v
                    for v in self.views.values()
                    if v["external_id"] == external_id
                    and v["team_id"] == auth.team_id
                    and v["id"] != view_id
                ),
                None,
            )
            if clash is not None:
                raise SlackError("duplicate_external_id")
        self.views[view_id] = stored
        return copy.deepcopy(stored)

    def _check_hash(self, call: _Call, current: dict[str, Any] | None) -> None:
        sent = call.args.get("hash")
        if _present(sent) and current is not None and sent != current["hash"]:
            raise SlackError("hash_conflict")

    def _views_publish(self, call: _Call) -> dict[str, Any]:
        auth = call.identity
        user_id = str(call.args["user_id"])
        if not _USER_ID.match(user_id):
            raise SlackError("invalid_arguments", messages=["invalid `user_id`"])
        view = self._parse_view(call, types=("home",))
        current_id = self.home_tabs.get(user_id)
        current = self.views.get(current_id) if current_id else None
        self._check_hash(call, current)
        stored = self._store_view(auth, view, view_id=current_id, previous=current)
        self.home_tabs[user_id] = stored["id"]
        return {"view": stored}

    def _views_open(self, call: _Call) -> dict[str, Any]:
        auth, args = call.identity, call.args
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not _present(trigger):
            raise SlackError("invalid_arguments", messages=["invalid `trigger_id`"])
        trigger = str(trigger)
        if not _TRIGGER_ID.match(trigger):
            raise SlackError("invalid_trigger_id")
        if trigger in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        issued = self._issued_triggers.get(trigger)
        if issued is not None and self._clock() - issued > TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id")
        view = self._parse_view(call, types=("modal",))
        stored = self._store_view(auth, view)
        self._used_triggers.add(trigger)
        return {"view": stored}

    def _views_update(self, call: _Call) -> dict[str, Any]:
        auth, args = call.identity, call.args
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not _present(view_id) and not _present(external_id):
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] either view_id or external_id is required"]
            )
        current = next(
            (
                v
                for v in self.views.values()
                if v["team_id"] == auth.team_id
                and (v["id"] == view_id if _present(view_id) else v["external_id"] == external_id)
            ),
            None,
        )
        if current is None:
            raise SlackError("not_found")
        self._check_hash(call, current)
        view = self._parse_view(call, types=("modal", "home"))
        if _present(external_id) and not view.get("external_id"):
            view = {**view, "external_id": external_id}
        return {"view": self._store_view(auth, view, view_id=current["id"], previous=current)}
