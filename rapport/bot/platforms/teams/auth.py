"""Checks the Bot Framework channel's token on every activity, without blocking the event loop.

botbuilder 4.17.1 validates these tokens itself, but fetches the signing keys with a blocking
``requests.get`` on the event loop, and answers forged tokens with assorted exceptions
(``DecodeError``, ``KeyError``, ``IndexError`` for an unknown ``kid``) that are not
``PermissionError``. This module makes the same checks as botbuilder's ``ChannelValidation``
(issuer, audience = our app id, RS256 signature with a published key, the key endorsing the
channel, expiry with five minutes of leeway, the ``serviceurl`` claim matching the activity)
with the keys fetched by aiohttp and cached, and sorts every outcome into three: a valid
identity, ``Unauthorized`` (401) or ``KeysUnavailable`` (503).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from botframework.connector.auth import ClaimsIdentity

logger = logging.getLogger(__name__)

# Published by the Bot Framework (botframework-connector's AuthenticationConstants).
OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TOKEN_ISSUER = "https://api.botframework.com"
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 5 * 60
# Keys are refreshed daily (as botbuilder does); an unknown key id triggers an early refresh at
# most this often, so a stream of made-up key ids cannot turn into a stream of fetches.
KEYS_MAX_AGE_SECONDS = 24 * 3600
UNKNOWN_KID_REFRESH_SECONDS = 10 * 60
# After a failed fetch, requests are answered 503 at once for this long instead of each one
# waiting for another attempt.
RETRY_AFTER_FAILURE_SECONDS = 30
FETCH_TIMEOUT_SECONDS = 10


class Unauthorized(Exception):
    """The request's token is missing, malformed, forged, expired or not for us (401)."""


class KeysUnavailable(Exception):
    """The signing keys could not be fetched, so no token can be checked right now (503)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Any
    endorsements: frozenset[str]


class ChannelTokenValidator:
    """Validates ``Authorization: Bearer <jwt>`` headers from the Bot Framework channel."""

    def __init__(self, app_id: str, *, metadata_url: str = OPENID_METADATA_URL,
                 issuer: str = TOKEN_ISSUER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app_id = app_id
        self.metadata_url = metadata_url
        self.issuer = issuer
        self.clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._attempts = 0
        self._failing = False
        self._lock = asyncio.Lock()

    async def validate(self, authorization: str, *, channel_id: str | None,
                       service_url: str | None) -> ClaimsIdentity:
        """The token's identity, or Unauthorized / KeysUnavailable."""
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as problem:
            raise Unauthorized("malformed token") from problem
        # Checked before any key is looked up: "none" and HMAC tokens never reach a key.
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("signing algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("no key id")
        signing_key = await self._key(kid)
        if channel_id and signing_key.endorsements and \
                channel_id not in signing_key.endorsements:
            raise Unauthorized("key does not endorse the channel")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, signing_key.key, algorithms=ALGORITHMS, audience=self.app_id,
                issuer=self.issuer, leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWTError as problem:
            raise Unauthorized(type(problem).__name__) from problem
        if service_url is not None and claims.get("serviceurl") != service_url:
            # Replies go to the activity's serviceUrl with our own token: it must be the one
            # the channel vouched for.
            raise Unauthorized("serviceurl claim does not match")
        return ClaimsIdentity(claims, True)

    async def _key(self, kid: str) -> SigningKey:
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at > KEYS_MAX_AGE_SECONDS or (
                kid not in self._keys and self._may_attempt(now, UNKNOWN_KID_REFRESH_SECONDS)):
            await self._refresh(self._attempts)
        if not self._keys:
            raise KeysUnavailable
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("unknown key id")
        return key

    def _may_attempt(self, now: float, spacing: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= spacing

    async def _refresh(self, attempts_seen: int) -> None:
        async with self._lock:
            if self._attempts != attempts_seen:
                return  # another request fetched (or tried) while this one waited
            now = self.clock()
            if self._failing and not self._may_attempt(now, RETRY_AFTER_FAILURE_SECONDS):
                return  # answer from the keys we have (or 503) instead of trying again
            self._attempts += 1
            self._attempted_at = now
            try:
                keys = await self._fetch()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError,
                    TypeError) as failure:
                if not self._failing:
                    # Once per outage, not once per request.
                    logger.error("bot framework signing keys unavailable",
                                 extra={"error": type(failure).__name__,
                                        "keeping_cached_keys": bool(self._keys)})
                self._failing = True
                return
            if self._failing:
                logger.warning("bot framework signing keys fetched again")
            self._failing = False
            self._keys = keys
            self._fetched_at = now

    async def _fetch(self) -> dict[str, SigningKey]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as session:
            async with session.get(self.metadata_url) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            jwks_uri = metadata["jwks_uri"]
            if not isinstance(jwks_uri, str):
                raise TypeError("jwks_uri is not a string")
            async with session.get(jwks_uri) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
        return _signing_keys(document["keys"])


def _signing_keys(entries: object) -> dict[str, SigningKey]:
    if not isinstance(entries, list):
        raise TypeError("keys is not a list")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
            continue
        try:
            parsed = jwt.PyJWK.from_dict(dict(entry), algorithm="RS256")
        except jwt.PyJWTError:
            continue  # a key type we do not use (the set may hold others)
        endorsements = entry.get("endorsements") or []
        keys[entry["kid"]] = SigningKey(
            key=parsed.key,
            endorsements=frozenset(e for e in endorsements if isinstance(e, str)))
    if not keys:
        raise ValueError("no usable signing key")
    return keys


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer" or not token or " " in token:
        raise Unauthorized("no bearer token")
    return token
