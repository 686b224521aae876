"""The Bot Framework's token signing side on 127.0.0.1: OpenID metadata, a JWKS, and tokens.

Real Teams requests carry ``Authorization: Bearer <jwt>`` signed with a key published at
``https://login.botframework.com/v1/.well-known/openidconfiguration`` -> ``jwks_uri``. This fake
publishes its own RSA key the same way (with ``endorsements``, as the real set has), counts
fetches, can fail them, and mints tokens shaped like the channel's, genuine or forged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.local_server import LocalServer

ISSUER = "https://api.botframework.com"
APP_ID = "0d3b7c6e-1111-4222-8333-944455556666"
KID = "rapport-test-key-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b""
                   ) -> str:
    """A JWT assembled by hand (``alg: none`` and other tokens PyJWT refuses to make)."""
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class BotFrameworkKeys(LocalServer):
    """Serves /openid (metadata) and /keys (the JWKS); ``fail_with`` makes both answer that."""

    def __init__(self, *, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        super().__init__()
        self.key = new_key()
        self.endorsements = list(endorsements)
        self.fail_with: int | None = None
        self.fetches: list[str] = []

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/openid", self._metadata)
        app.router.add_get("/keys", self._keys)
        return app

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/openid"

    async def _metadata(self, request: web.Request) -> web.Response:
        self.fetches.append("metadata")
        if self.fail_with is not None:
            return web.Response(status=self.fail_with, text="unavailable")
        return web.json_response({"issuer": ISSUER,
                                  "jwks_uri": f"http://127.0.0.1:{self.port}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, request: web.Request) -> web.Response:
        self.fetches.append("keys")
        if self.fail_with is not None:
            return web.Response(status=self.fail_with, text="unavailable")
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": KID, "use": "sig", "endorsements": self.endorsements})
        return web.json_response({"keys": [jwk]})

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    @staticmethod
    def claims(service_url: str, **overrides: Any) -> dict[str, Any]:
        """What the channel puts in a token for our bot; None values are left out."""
        now = int(time.time())
        claims: dict[str, Any] = {"serviceurl": service_url, "nbf": now - 60, "exp": now + 3600,
                                  "iss": ISSUER, "aud": APP_ID}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, service_url: str, *, key: rsa.RSAPrivateKey | None = None,
              kid: str | None = KID, **overrides: Any) -> str:
        """A token signed with this fake's published key (or `key`), header ``kid``."""
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(self.claims(service_url, **overrides), key or self.key,
                          algorithm="RS256", headers=headers)

    def hmac_token(self, service_url: str) -> str:
        """HS256 signed with the published public key as the secret (algorithm confusion)."""
        header = {"alg": "HS256", "typ": "JWT", "kid": KID}
        unsigned = unsigned_token(header, self.claims(service_url)).rsplit(".", 1)[0]
        signature = hmac.new(self.public_pem(), unsigned.encode(), hashlib.sha256).digest()
        return f"{unsigned}.{_b64(signature)}"
