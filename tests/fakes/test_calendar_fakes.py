"""The calendar fakes behave like the published references: Google's answers validate against
the Calendar v3 discovery document, and both fakes refuse what the real services refuse."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest

from tests.conftest import Clock
from tests.fakes import google_api, microsoft_api
from tests.fakes.calendar_store import FakeAttendee
from tests.fakes.google_api import FakeGoogle
from tests.fakes.microsoft_api import FakeMicrosoft
from tests.fakes.oauth_server import s256

DISCOVERY = Path(__file__).parents[1] / "data" / "google-calendar" / "calendar.v3.json"
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)


def _strict(node: Any) -> Any:
    """A discovery-document schema as JSON Schema; objects allow only the documented keys."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            out["$ref"] = f"#/definitions/{value}"
        elif key == "properties":
            out["properties"] = {name: _strict(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _strict(value)
        elif key in ("enum", "format") or (key == "type" and value != "any"):
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _validator(schema_name: str) -> jsonschema.Draft7Validator:
    document = json.loads(DISCOVERY.read_text())
    definitions = {name: _strict(schema) for name, schema in document["schemas"].items()}
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        return not isinstance(value, str) or bool(date.fromisoformat(value))

    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{schema_name}",
                                       "definitions": definitions}, format_checker=checker)


def _token(fake: FakeGoogle | FakeMicrosoft, account: str, scope: str) -> str:
    client_id = google_api.CLIENT_ID if isinstance(fake, FakeGoogle) else \
        microsoft_api.CLIENT_ID
    _, access = fake.oauth.issue_grant(client_id, account, scope)
    return access


async def test_google_answers_validate_against_the_discovery_document(clock: Clock) -> None:
    validator = _validator("Events")
    async with FakeGoogle(clock=clock) as fake, httpx2.AsyncClient() as http:
        calendar = fake.calendar("alex@example.com")
        calendar.add(start=THU_14, attendees=[FakeAttendee("dana@acme.com", "declined",
                                                           "Dana Scully"),
                                              FakeAttendee("room4@acme.com", resource=True)],
                     organizer="dana@acme.com")
        weekly = calendar.add(start=datetime(2026, 11, 2, 9, 0, tzinfo=UTC), weekly_count=4,
                              attendees=["lee@acme.com"], time_zone="Europe/Berlin")
        calendar.add(start=datetime(2026, 11, 18, tzinfo=UTC), minutes=24 * 60,
                     all_day=True)
        calendar.move(weekly.id, datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
                      instance=datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
        headers = {"Authorization": f"Bearer {_token(fake, 'alex@example.com', 'x')}"}
        url = f"{fake.base_url}/calendar/v3/calendars/primary/events"
        pages = []
        for single in ("true", "false"):
            response = await http.get(url, headers=headers, params={
                "singleEvents": single, "timeMin": "2026-10-01T00:00:00Z", "maxResults": "3"})
            pages.append(response.json())
            while "nextPageToken" in pages[-1]:
                response = await http.get(url, headers=headers, params={
                    "singleEvents": single, "timeMin": "2026-10-01T00:00:00Z",
                    "maxResults": "3", "pageToken": pages[-1]["nextPageToken"]})
                pages.append(response.json())
        sync_token = pages[-1]["nextSyncToken"]
        calendar.cancel(weekly.id, instance=datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
        response = await http.get(url, headers=headers,
                                  params={"singleEvents": "true", "syncToken": sync_token})
        pages.append(response.json())
    for page in pages:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(page)]
        assert errors == []
    items = [item for page in pages[:3] for item in page["items"]]
    instances = [i for i in items if "recurringEventId" in i]
    assert len(instances) == 4 and all("originalStartTime" in i for i in instances)
    assert any("date" in i["start"] for i in items)
    [cancelled] = pages[-1]["items"]
    assert cancelled["status"] == "cancelled" and cancelled["recurringEventId"] == weekly.id


async def test_google_refuses_what_google_refuses(clock: Clock) -> None:
    async with FakeGoogle(clock=clock) as fake, httpx2.AsyncClient() as http:
        fake.calendar("alex@example.com").add(start=THU_14)
        url = f"{fake.base_url}/calendar/v3/calendars/primary/events"
        assert (await http.get(url)).status_code == 401
        headers = {"Authorization": f"Bearer {_token(fake, 'alex@example.com', 'x')}"}
        first = (await http.get(url, headers=headers)).json()
        token = first["nextSyncToken"]
        mixed = await http.get(url, headers=headers,
                               params={"syncToken": token, "timeMin": "2026-11-01T00:00:00Z"})
        assert mixed.status_code == 400
        fake.calendar("alex@example.com").expire_cursors()
        gone = await http.get(url, headers=headers, params={"syncToken": token})
        assert gone.status_code == 410
        assert gone.json()["error"]["errors"][0]["reason"] == "fullSyncRequired"
        fake.fail_next(429, retry_after="7")
        limited = await http.get(url, headers=headers)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        clock.advance(hours=1, seconds=1)
        assert (await http.get(url, headers=headers)).status_code == 401  # expired token


async def test_google_token_endpoint_checks_pkce_and_offline_access(clock: Clock) -> None:
    redirect = "http://127.0.0.1:1/oauth/google/callback"
    async with FakeGoogle(clock=clock, redirect_uris={redirect}) as fake, \
            httpx2.AsyncClient() as http:
        fake.oauth.signed_in = "alex@example.com"

        async def code(verifier: str, **extra: str) -> str:
            response = await http.get(f"{fake.base_url}/o/oauth2/v2/auth", params={
                "client_id": google_api.CLIENT_ID, "redirect_uri": redirect,
                "response_type": "code", "scope": "s", "state": "st",
                "code_challenge": s256(verifier), "code_challenge_method": "S256", **extra})
            assert response.status_code == 302
            location = httpx2.URL(response.headers["Location"])
            return str(location.params["code"])

        form = {"client_id": google_api.CLIENT_ID, "client_secret": google_api.CLIENT_SECRET,
                "grant_type": "authorization_code", "redirect_uri": redirect}
        wrong = await http.post(f"{fake.base_url}/token", data={
            **form, "code": await code("v" * 50), "code_verifier": "w" * 50})
        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
        online = await http.post(f"{fake.base_url}/token", data={
            **form, "code": await code("v" * 50), "code_verifier": "v" * 50})
        assert online.status_code == 200 and "refresh_token" not in online.json()
        offline = await http.post(f"{fake.base_url}/token", data={
            **form, "code": await code("v" * 50, access_type="offline"),
            "code_verifier": "v" * 50})
        assert "refresh_token" in offline.json()
        unregistered = await http.get(f"{fake.base_url}/o/oauth2/v2/auth", params={
            "client_id": google_api.CLIENT_ID, "redirect_uri": "https://evil.example/cb",
            "response_type": "code", "scope": "s"})
        assert unregistered.status_code == 400  # never redirected to an unknown URI


async def test_graph_delta_rounds_removals_and_expiry(clock: Clock) -> None:
    async with FakeMicrosoft(clock=clock) as fake, httpx2.AsyncClient() as http:
        calendar = fake.calendar("alex@contoso.com")
        kept = calendar.add(start=THU_14, attendees=["dana@acme.com"],
                            time_zone="America/Los_Angeles")
        dropped = calendar.add(start=THU_14 + timedelta(hours=2))
        weekly = calendar.add(start=datetime(2026, 11, 2, 9, 0, tzinfo=UTC), weekly_count=3)
        headers = {"Authorization": f"Bearer {_token(fake, 'alex@contoso.com', 'x')}",
                   "Prefer": 'odata.maxpagesize=2, outlook.timezone="UTC"'}
        url = f"{fake.base_url}/v1.0/me/calendarView/delta"
        missing = await http.get(url, headers=headers)
        assert missing.status_code == 400
        response = await http.get(url, headers=headers, params={
            "startDateTime": "2026-10-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"})
        assert response.headers["Preference-Applied"] == \
            'odata.maxpagesize=2, outlook.timezone="UTC"'
        events = []
        body = response.json()
        while True:
            events += body["value"]
            if "@odata.nextLink" in body:
                body = (await http.get(body["@odata.nextLink"], headers=headers)).json()
                continue
            break
        delta_link = body["@odata.deltaLink"]
        assert "$deltatoken=" in delta_link and len(events) == 5
        occurrences = [e for e in events if e["type"] == "occurrence"]
        assert len(occurrences) == 3 and all(e["seriesMasterId"] for e in occurrences)
        [first] = [e for e in events if e["id"] == fake.graph_id(
            next(i for i in calendar.instances() if i.event is kept))]
        assert first["start"] == {"dateTime": "2026-11-19T14:00:00.0000000", "timeZone": "UTC"}
        # The owner organizes it: Graph says so in the owner's own response.
        assert first["responseStatus"]["response"] == "organizer" and first["isOrganizer"]
        assert [a["emailAddress"]["address"] for a in first["attendees"]] == ["dana@acme.com"]
        calendar.delete(dropped.id)
        calendar.cancel(weekly.id, instance=datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
        changes = (await http.get(delta_link, headers=headers)).json()["value"]
        removed = [c for c in changes if "@removed" in c]
        cancelled = [c for c in changes if c.get("isCancelled")]
        assert len(removed) == 1 and set(removed[0]) == {"@odata.type", "id", "@removed"}
        assert len(cancelled) == 1 and cancelled[0]["type"] == "exception"
        calendar.expire_cursors()
        expired = await http.get(delta_link, headers=headers)
        assert expired.status_code == 410
        assert expired.json()["error"]["code"] == "syncStateNotFound"
        fake.fail_next(429, retry_after="4")
        limited = await http.get(delta_link, headers=headers)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "4"


@pytest.mark.parametrize("offline", [True, False])
async def test_microsoft_refresh_tokens_need_offline_access_and_rotate(
        clock: Clock, offline: bool) -> None:
    redirect = "http://127.0.0.1:1/oauth/microsoft/callback"
    async with FakeMicrosoft(clock=clock, redirect_uris={redirect}) as fake, \
            httpx2.AsyncClient() as http:
        fake.oauth.signed_in = "alex@contoso.com"
        scope = "offline_access Calendars.Read" if offline else "Calendars.Read"
        authorize = await http.get(f"{fake.base_url}/common/oauth2/v2.0/authorize", params={
            "client_id": microsoft_api.CLIENT_ID, "redirect_uri": redirect,
            "response_type": "code", "scope": scope, "state": "s",
            "code_challenge": s256("v" * 43), "code_challenge_method": "S256"})
        code = httpx2.URL(authorize.headers["Location"]).params["code"]
        token_url = f"{fake.base_url}/common/oauth2/v2.0/token"
        form = {"client_id": microsoft_api.CLIENT_ID,
                "client_secret": microsoft_api.CLIENT_SECRET, "redirect_uri": redirect}
        tokens = (await http.post(token_url, data={
            **form, "grant_type": "authorization_code", "code": code,
            "code_verifier": "v" * 43})).json()
        assert ("refresh_token" in tokens) == offline
        if not offline:
            return
        refreshed = (await http.post(token_url, data={
            **form, "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"]})).json()
        assert refreshed["refresh_token"] != tokens["refresh_token"]
        fake.oauth.revoke_account("alex@contoso.com")
        revoked = await http.post(token_url, data={
            **form, "grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]})
        assert revoked.status_code == 400
        assert revoked.json()["error"] == "invalid_grant"
        assert revoked.json()["error_codes"] == [50173]
