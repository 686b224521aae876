"""Connecting a calendar end to end: the consent URL, the provider's redirect into Rapport's
real web server, the token exchange with PKCE verified by the fake, and what is stored."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select, text

from rapport.bot.connectors.calendars.connections import ProviderNotConfigured
from rapport.bot.connectors.calendars.providers import GOOGLE_SCOPE
from rapport.storage.models import CalendarConnection, OAuthState
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.oauth_server import s256

PROVIDERS = ["google", "microsoft"]


def _fake(app: CalendarApp, provider: str):  # type: ignore[no-untyped-def]
    return app.google if provider == "google" else app.microsoft


async def _connections(app: CalendarApp) -> list[CalendarConnection]:
    async with app.runtime.sessions() as session:
        return list((await session.scalars(select(CalendarConnection))).all())


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_consent_connects_with_pkce_and_stores_tokens_encrypted(
        calendar_app: CalendarApp, provider: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    workspace_id, user_id = await calendar_app.user("alex")
    url = await calendar_app.connections.start(user_id, workspace_id, provider)
    query = parse_qs(urlparse(url).query)
    # The consent URL asks for read-only calendar access, offline, with a S256 challenge.
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{calendar_app.base_url}/oauth/{provider}/callback"]
    if provider == "google":
        assert query["scope"] == [GOOGLE_SCOPE]
        assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    else:
        assert set(query["scope"][0].split()) == {"offline_access", "Calendars.Read"}
        assert calendar_app.microsoft.tenants_seen == []  # nothing sent before the browser

    status, page = await calendar_app.consent(url, "alex@example.com")

    assert status == 200 and ("Connected. Rapport reads your last 30 days of meetings within "
                              "a few minutes. You can close this tab.") in page
    fake = _fake(calendar_app, provider)
    [authorize] = fake.oauth.authorize_requests
    [exchange] = [r for r in fake.oauth.token_requests if r.grant_type == "authorization_code"]
    # The fake checked S256(code_verifier) against the recorded code_challenge.
    assert exchange.status == 200
    assert s256(exchange.form["code_verifier"]) == authorize.params["code_challenge"]
    [connection] = await _connections(calendar_app)
    assert (connection.user_id, connection.provider, connection.status) == \
        (user_id, provider, "active")
    [grant] = fake.oauth.grants
    assert grant.refresh_token is not None
    # Encrypted at rest: the raw columns hold ciphertext that decrypts to the tokens.
    async with calendar_app.runtime.engine.connect() as raw:
        row = (await raw.execute(text(
            "SELECT refresh_token_encrypted, access_token_encrypted FROM connections"))).one()
    assert grant.refresh_token not in row[0]
    assert calendar_app.cipher.decrypt(row[0]) == grant.refresh_token
    access_token = calendar_app.cipher.decrypt(row[1])
    assert access_token not in row[1]
    # The state row is gone (single use); the code verifier was never stored in clear.
    async with calendar_app.runtime.sessions() as session:
        assert (await session.scalars(select(OAuthState))).all() == []
    # No token, code or verifier in any log line or in the page.
    secrets_seen = [grant.refresh_token, access_token, exchange.form["code"],
                    exchange.form["code_verifier"]]
    for secret in secrets_seen:
        assert secret not in page
        assert all(secret not in record.getMessage() and secret not in str(record.__dict__)
                   for record in caplog.records)


async def test_callback_page_is_not_cached_and_keeps_the_url_to_itself(
        calendar_app: CalendarApp) -> None:
    workspace_id, user_id = await calendar_app.user("alex")
    url = await calendar_app.connections.start(user_id, workspace_id, "google")
    calendar_app.google.oauth.signed_in = "alex@example.com"
    async with calendar_app.browser.get(url) as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.content_type == "text/html"


async def test_state_is_single_use(calendar_app: CalendarApp) -> None:
    workspace_id, user_id = await calendar_app.user("alex")
    url = await calendar_app.connections.start(user_id, workspace_id, "google")
    calendar_app.google.oauth.signed_in = "alex@example.com"
    async with calendar_app.browser.get(url, allow_redirects=False) as redirect:
        callback = redirect.headers["Location"]
    async with calendar_app.browser.get(callback) as first:
        assert first.status == 200
    async with calendar_app.browser.get(callback) as replay:
        assert replay.status == 400
        assert "already used" in await replay.text()
    # A forged state and a missing one are refused the same way, and change nothing.
    for forged in (f"{calendar_app.base_url}/oauth/google/callback?state=forged&code=x",
                   f"{calendar_app.base_url}/oauth/google/callback?code=x"):
        async with calendar_app.browser.get(forged) as response:
            assert response.status == 400
    assert len(await _connections(calendar_app)) == 1
    assert len([r for r in calendar_app.google.oauth.token_requests
                if r.grant_type == "authorization_code"]) == 1


async def test_a_code_from_another_users_consent_is_refused(calendar_app: CalendarApp) -> None:
    """Authorization code injection: Bob's code on Alex's link. The state is Alex's, the code
    was bound to Bob's challenge, so the fake refuses Alex's verifier and nothing is stored."""
    alex_ws, alex = await calendar_app.user("alex")
    bob_ws, bob = await calendar_app.user("bob")
    alex_url = await calendar_app.connections.start(alex, alex_ws, "google")
    bob_url = await calendar_app.connections.start(bob, bob_ws, "google")
    calendar_app.google.oauth.signed_in = "bob@example.com"
    async with calendar_app.browser.get(bob_url, allow_redirects=False) as redirect:
        bob_code = parse_qs(urlparse(redirect.headers["Location"]).query)["code"][0]
    alex_state = parse_qs(urlparse(alex_url).query)["state"][0]
    injected = (f"{calendar_app.base_url}/oauth/google/callback?state={alex_state}"
                f"&code={bob_code}")
    async with calendar_app.browser.get(injected) as response:
        assert response.status == 400
        assert "refused" in await response.text()
    [exchange] = [r for r in calendar_app.google.oauth.token_requests
                  if r.grant_type == "authorization_code"]
    assert (exchange.status, exchange.error) == (400, "invalid_grant")
    assert await _connections(calendar_app) == []


async def test_a_state_answers_only_its_own_provider_and_expires(
        calendar_app: CalendarApp) -> None:
    workspace_id, user_id = await calendar_app.user("alex")
    google_url = await calendar_app.connections.start(user_id, workspace_id, "google")
    state = parse_qs(urlparse(google_url).query)["state"][0]
    wrong = f"{calendar_app.base_url}/oauth/microsoft/callback?state={state}&code=abc"
    async with calendar_app.browser.get(wrong) as response:
        assert response.status == 400 and "another calendar provider" in await response.text()
    late_url = await calendar_app.connections.start(user_id, workspace_id, "microsoft")
    calendar_app.clock.advance(minutes=11)
    status, page = await calendar_app.consent(late_url, "alex@example.com")
    assert status == 400 and "expired" in page
    assert await _connections(calendar_app) == []


async def test_declined_consent_and_unticked_calendar_box_store_nothing(
        calendar_app: CalendarApp) -> None:
    calendar_app.google.oauth.consent = "deny"
    status, page = await calendar_app.connect("alex", "google", "alex@example.com")
    assert status == 400 and ("Not connected: access was not granted. Nothing was stored. "
                              "To try again, type “connect calendar” to Rapport.") in page
    # Granular consent: the person grants only their basic profile, not the calendar.
    calendar_app.google.oauth.consent = "openid"
    status, page = await calendar_app.connect("alex", "google", "alex@example.com")
    assert status == 400 and "calendar access was not granted" in page
    assert await _connections(calendar_app) == []
    # What was granted anyway is handed back at once.
    [grant] = calendar_app.google.oauth.grants
    assert grant.revoked


async def test_unknown_provider_is_a_typed_error(calendar_app: CalendarApp) -> None:
    workspace_id, user_id = await calendar_app.user("alex")
    with pytest.raises(ProviderNotConfigured):
        await calendar_app.connections.start(user_id, workspace_id, "yahoo")
    assert calendar_app.connections.available == ("google", "microsoft")


async def test_disconnect_revokes_at_google_and_leaves_no_token(
        calendar_app: CalendarApp) -> None:
    await calendar_app.connect("alex", "google", "alex@example.com")
    await calendar_app.connect("alex", "microsoft", "alex@contoso.com")
    _, user_id = await calendar_app.user("alex")
    [grant] = calendar_app.google.oauth.grants
    done = await calendar_app.connections.disconnect(user_id, "google")
    assert [(d.provider, d.revoked_at_provider) for d in done] == [("google", True)]
    assert grant.revoked and calendar_app.google.revocations == [grant.refresh_token]
    statuses = {s.provider: s.status for s in await calendar_app.connections.status(user_id)}
    assert statuses == {"google": "revoked", "microsoft": "active"}
    # Microsoft's identity platform has no revocation endpoint: the tokens are deleted and
    # the result says the provider was not told.
    done = await calendar_app.connections.disconnect(user_id)
    assert [(d.provider, d.revoked_at_provider) for d in done] == [("microsoft", False)]
    for connection in await _connections(calendar_app):
        assert connection.refresh_token_encrypted is None
        assert connection.access_token_encrypted is None
        assert connection.next_sync_at is None
    # Connecting again works and starts afresh.
    status, _ = await calendar_app.connect("alex", "google", "alex@example.com")
    assert status == 200
    statuses = {s.provider: s.status for s in await calendar_app.connections.status(user_id)}
    assert statuses["google"] == "active"


async def test_forget_user_revokes_and_deletes_every_connection(
        calendar_app: CalendarApp) -> None:
    await calendar_app.connect("alex", "google", "alex@example.com")
    workspace_id, user_id = await calendar_app.user("alex")
    await calendar_app.connections.start(user_id, workspace_id, "microsoft")  # pending
    await calendar_app.connections.forget_user(user_id)
    assert all(grant.revoked for grant in calendar_app.google.oauth.grants)
    assert await _connections(calendar_app) == []
    async with calendar_app.runtime.sessions() as session:
        assert (await session.scalars(select(OAuthState))).all() == []


async def test_expired_states_are_swept_when_a_new_one_is_made(
        calendar_app: CalendarApp) -> None:
    workspace_id, user_id = await calendar_app.user("alex")
    for _ in range(3):
        await calendar_app.connections.start(user_id, workspace_id, "google")
    calendar_app.clock.advance(minutes=10, seconds=1)
    await calendar_app.connections.start(user_id, workspace_id, "google")
    async with calendar_app.runtime.sessions() as session:
        states = (await session.scalars(select(OAuthState))).all()
    assert len(states) == 1
    assert states[0].expires_at == calendar_app.clock.now + timedelta(minutes=10)
