"""What Google's and Microsoft's authorization servers share, as the fakes need it: codes bound
to a PKCE challenge and a redirect URI, access and refresh tokens, grants a person can revoke.

Written from RFC 6749 and RFC 7636 and the providers' references (Google's "OAuth 2.0 for Web
Server Applications", Microsoft's "authorization code flow" for the identity platform v2.0):
- a code is single-use and bound to the client, the redirect URI and the code_challenge;
- the token endpoint requires the code_verifier whose S256 is that challenge (else
  ``invalid_grant``) and the client secret in the form body;
- a refresh token is issued only for offline access (Google: ``access_type=offline``;
  Microsoft: the ``offline_access`` scope); Microsoft rotates it on every refresh;
- a revoked grant answers ``invalid_grant`` to refresh and 401 to its access tokens.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

ACCESS_TTL = timedelta(hours=1)
CODE_TTL = timedelta(minutes=10)


def utcnow() -> datetime:
    return datetime.now(UTC)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()


@dataclass
class Grant:
    """One person's consent to one client: what its tokens can do."""

    account: str
    client_id: str
    scope: str
    refresh_token: str | None
    revoked: bool = False


@dataclass
class PendingCode:
    code: str
    grant: Grant
    redirect_uri: str
    challenge: str | None
    challenge_method: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class AuthorizeRequest:
    """An authorize request as the browser brought it (for tests to inspect)."""

    params: dict[str, str]
    account: str | None


@dataclass
class TokenRequest:
    grant_type: str
    form: dict[str, str]
    status: int
    error: str | None


@dataclass
class OAuthServer:
    """The authorization server's memory; the fakes turn HTTP into calls on it."""

    clock: Callable[[], datetime] = utcnow
    rotate_refresh_tokens: bool = False
    clients: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    access_tokens: dict[str, tuple[Grant, datetime]] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    authorize_requests: list[AuthorizeRequest] = field(default_factory=list)
    token_requests: list[TokenRequest] = field(default_factory=list)
    # The browser: who is signed in at the provider, and what they answer on consent.
    signed_in: str | None = None
    # "allow", "deny", or a space-separated subset of scopes to grant (granular consent).
    consent: str = "allow"
    # Google keeps one grant per account and client, however many consents gave it tokens:
    # revoking any of them withdraws the client's access to the account, every token with it.
    one_grant_per_account: bool = False

    def register_client(self, client_id: str, secret: str, redirect_uris: set[str]) -> None:
        self.clients[client_id] = (secret, set(redirect_uris))

    # -------------------------------------------------------------------- authorize
    def authorize(self, params: dict[str, str], *, offline: Callable[[dict[str, str]], bool]
                  ) -> tuple[int, str]:
        """(302, Location) back to the client, or (400, message) for a bad request that
        must not be redirected (unknown client, unregistered redirect URI)."""
        self.authorize_requests.append(AuthorizeRequest(dict(params), self.signed_in))
        client = self.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None:
            return 400, "invalid_client: The OAuth client was not found."
        if redirect_uri not in client[1]:
            return 400, "redirect_uri_mismatch: The redirect URI is not registered."
        state = params.get("state")
        back: dict[str, str] = {}
        if params.get("response_type") != "code":
            back["error"] = "unsupported_response_type"
        elif params.get("code_challenge") and params.get("code_challenge_method") != "S256":
            back["error"] = "invalid_request"
        elif self.consent == "deny" or self.signed_in is None:
            back["error"] = "access_denied"
        else:
            requested = params.get("scope", "").split()
            granted = requested if self.consent == "allow" else \
                [s for s in requested if s in self.consent.split()]
            grant = Grant(account=self.signed_in, client_id=params["client_id"],
                          scope=" ".join(granted), refresh_token=None)
            if offline(params):
                grant.refresh_token = self._new_token("rt")
            code = self._new_token("code")
            self.codes[code] = PendingCode(
                code=code, grant=grant, redirect_uri=redirect_uri,
                challenge=params.get("code_challenge"),
                challenge_method=params.get("code_challenge_method"),
                expires_at=self.clock() + CODE_TTL)
            back["code"] = code
            back["scope"] = grant.scope
        if state is not None:
            back["state"] = state
        return 302, f"{redirect_uri}?{urlencode(back)}"

    # ------------------------------------------------------------------------ token
    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: (status, JSON body) in the RFC 6749 5.1/5.2 shapes."""
        grant_type = form.get("grant_type", "")
        status, body = self._token(grant_type, form)
        self.token_requests.append(TokenRequest(grant_type, dict(form), status,
                                                body.get("error")))
        return status, body

    def _token(self, grant_type: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client = self.clients.get(form.get("client_id", ""))
        if client is None or form.get("client_secret") != client[0]:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if grant_type == "authorization_code":
            pending = self.codes.get(form.get("code", ""))
            if pending is None or pending.used or pending.expires_at <= self.clock() or \
                    pending.grant.client_id != form["client_id"]:
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            if form.get("redirect_uri") != pending.redirect_uri:
                return 400, {"error": "redirect_uri_mismatch",
                             "error_description": "Bad Request"}
            if pending.challenge is not None:
                verifier = form.get("code_verifier")
                if not verifier or s256(verifier) != pending.challenge:
                    return 400, {"error": "invalid_grant",
                                 "error_description": "Invalid code verifier."}
            pending.used = True
            grant = pending.grant
            self.grants.append(grant)
            if grant.refresh_token:
                self.refresh_tokens[grant.refresh_token] = grant
            return 200, self._issue(grant, with_refresh=True)
        if grant_type == "refresh_token":
            held = self.refresh_tokens.get(form.get("refresh_token", ""))
            if held is None or held.revoked:
                return 400, {"error": "invalid_grant",
                             "error_description": "Token has been expired or revoked."}
            if self.rotate_refresh_tokens:
                del self.refresh_tokens[str(held.refresh_token)]
                held.refresh_token = self._new_token("rt")
                self.refresh_tokens[held.refresh_token] = held
            return 200, self._issue(held, with_refresh=self.rotate_refresh_tokens)
        return 400, {"error": "unsupported_grant_type",
                     "error_description": f"Invalid grant_type: {grant_type}"}

    def _issue(self, grant: Grant, *, with_refresh: bool) -> dict[str, Any]:
        access = self._new_token("at")
        self.access_tokens[access] = (grant, self.clock() + ACCESS_TTL)
        body: dict[str, Any] = {"access_token": access,
                                "expires_in": int(ACCESS_TTL.total_seconds()) - 1,
                                "scope": grant.scope, "token_type": "Bearer"}
        if with_refresh and grant.refresh_token:
            body["refresh_token"] = grant.refresh_token
        return body

    def issue_grant(self, client_id: str, account: str, scope: str) -> tuple[Grant, str]:
        """A completed consent without the browser dance (for seeding many connections):
        the grant and a fresh access token."""
        grant = Grant(account=account.lower(), client_id=client_id, scope=scope,
                      refresh_token=self._new_token("rt"))
        self.grants.append(grant)
        assert grant.refresh_token is not None
        self.refresh_tokens[grant.refresh_token] = grant
        return grant, self._issue(grant, with_refresh=False)["access_token"]

    # ---------------------------------------------------------------- revoke / check
    def revoke_token(self, token: str) -> bool:
        """RFC 7009-ish: revoking either token revokes the whole grant (with
        `one_grant_per_account`, every grant the account gave the client)."""
        grant = self.refresh_tokens.get(token) or (self.access_tokens.get(token) or (None,))[0]
        if grant is None or grant.revoked:
            return False
        grant.revoked = True
        if self.one_grant_per_account:
            for held in self.grants:
                if held.account.lower() == grant.account.lower() and \
                        held.client_id == grant.client_id:
                    held.revoked = True
        return True

    def revoke_account(self, account: str) -> None:
        """The person removes the app's access in their account settings."""
        for grant in self.grants:
            if grant.account == account:
                grant.revoked = True

    def account_for(self, authorization: str | None) -> str | None:
        """The account a bearer token acts for, or None (missing, expired, revoked)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        entry = self.access_tokens.get(authorization[len("Bearer "):])
        if entry is None:
            return None
        grant, expires_at = entry
        if grant.revoked or expires_at <= self.clock():
            return None
        return grant.account

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as after an hour)."""
        for token, (grant, _) in list(self.access_tokens.items()):
            self.access_tokens[token] = (grant, self.clock() - timedelta(seconds=1))

    @staticmethod
    def _new_token(kind: str) -> str:
        return f"{kind}-{secrets.token_urlsafe(24)}"
