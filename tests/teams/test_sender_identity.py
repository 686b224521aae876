"""Who sent an activity, whichever of their ids Teams gives and however it spells the tenant.

Teams names a person by their Teams ("29:") id and, mostly, their AAD object id, by which
Rapport keeps them; an activity without the latter is the same person when Rapport keeps
their personal chat under that Teams id, and is refused, storing nothing, when it does not.
A Teams id never counts as someone's AAD object id. A tenant id is the same tenant in any
letter case, also for a workspace stored in another case before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor, UserContext
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams.handler import UNIDENTIFIED
from rapport.bot.platforms.teams.store import ReferenceStore
from rapport.storage import db
from rapport.storage.models import Nudge, Touchpoint, User, Workspace
from tests.conftest import Clock, snapshot
from tests.fakes.teams_activities import (
    DEFAULT_AAD_OBJECT_ID,
    DEFAULT_TENANT_ID,
    default_conversation_id,
    teams_card_action_invoke,
    teams_message_activity,
    teams_message_back,
)
from tests.teams.test_teams_bot import (
    FOX,
    PERSONAL,
    TeamsHarness,
    _actions,
    _card,
    _deliver_nudge,
    _install,
)
from tests.teams.test_teams_bot import teams as teams

NO_AAD: dict[str, Any] = {"aad_object_id": None}


def _said(teams: TeamsHarness, conversation: str = PERSONAL) -> str:
    [answer] = teams.connector.sent_to(conversation)
    teams.connector.reset()
    return answer.text or ""


async def test_after_install_a_message_with_either_id_is_the_same_person(
        teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    teams.connector.reset()

    assert await teams.say("log Dana call", **NO_AAD) == 201
    assert _said(teams) == "Logged call with Dana."
    assert await teams.say("log Dana coffee") == 201
    assert _said(teams) == "Logged coffee with Dana."

    [user] = await teams.rows(User)
    assert user.external_id == DEFAULT_AAD_OBJECT_ID
    assert sorted(t.kind for t in await teams.rows(Touchpoint)) == ["call", "coffee"]


async def test_a_button_clicked_without_an_aad_object_id_is_the_same_persons(
        teams: TeamsHarness) -> None:
    _nudge, delivered = await _deliver_nudge(teams)
    done = next(a for a in _actions(_card(delivered)) if a.get("verb") == "done")

    status, body = await teams.post(teams_card_action_invoke(
        done["data"], verb="done", service_url=teams.url, reply_to_id=delivered.activity_id,
        **NO_AAD))

    assert status == 200 and "reached out to Dana" in json.dumps(body["value"])
    [nudge] = await teams.rows(Nudge)
    assert nudge.status == "done"
    assert len(await teams.rows(User)) == 1


async def test_someone_rapport_has_no_chat_with_is_refused_without_an_aad_object_id(
        teams: TeamsHarness) -> None:
    before = await snapshot(teams.engine)

    assert await teams.say("add Dana", **NO_AAD) == 201
    assert _said(teams) == UNIDENTIFIED
    status, body = await teams.post(teams_card_action_invoke(
        {"rapport": "person", "verb": "person_show", "contact_id": 1}, verb="person_show",
        service_url=teams.url, **NO_AAD))
    assert (status, body["value"]) == (200, UNIDENTIFIED)
    assert await teams.post(teams_message_back(
        {"rapport": "nudge", "verb": "done", "nudge_id": 1}, service_url=teams.url,
        **NO_AAD)) == (201, None)
    assert _said(teams) == UNIDENTIFIED
    # Installing without one stores nothing either, and welcomes no one.
    await _install(teams, **NO_AAD)
    assert teams.connector.sent() == []

    assert await snapshot(teams.engine) == before


async def test_a_teams_id_never_matches_another_users_aad_object_id(
        teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Walter Skinner") == 201
    before = await snapshot(teams.engine)
    teams.connector.reset()
    # Someone whose Teams id is Dana's AAD object id, and who sends no AAD object id.
    impostor = {"user_id": DEFAULT_AAD_OBJECT_ID, "user_name": "Alex Krycek", **NO_AAD}

    assert await teams.say("people", **impostor) == 201

    said = _said(teams, default_conversation_id("personal", user_id=DEFAULT_AAD_OBJECT_ID))
    assert said == UNIDENTIFIED and "Walter" not in said
    assert await snapshot(teams.engine) == before


async def test_group_talk_without_an_aad_object_id_is_still_ignored(
        teams: TeamsHarness) -> None:
    assert await teams.post(teams_message_activity(
        "lunch anyone?", service_url=teams.url, conversation_type="groupChat",
        **NO_AAD)) == (201, None)
    assert teams.connector.sent() == []


async def test_a_colleague_is_told_apart_from_the_sender_without_an_aad_object_id(
        teams: TeamsHarness) -> None:
    await _install(teams)
    await _install(teams, user_id=FOX["user_id"], user_name=FOX["user_name"],
                   aad_object_id=FOX["aad_object_id"])
    assert await teams.say("add Dana") == 201
    teams.connector.reset()

    assert await teams.say("people", user_id=FOX["user_id"], **NO_AAD) == 201

    said = _said(teams, default_conversation_id("personal", user_id=FOX["user_id"]))
    assert "no people yet" in said
    assert {u.external_id for u in await teams.rows(User)} == {DEFAULT_AAD_OBJECT_ID,
                                                               FOX["aad_object_id"]}


# -- the tenant's letter case -------------------------------------------------------------------


@pytest.mark.parametrize("spelled", ["TENANT-1", "Tenant-1"])
async def test_a_tenant_id_in_another_case_is_the_same_workspace(
        teams: TeamsHarness, spelled: str) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    teams.connector.reset()

    assert await teams.say("people", tenant_id=spelled) == 201
    assert "Dana" in _said(teams)
    status, body = await teams.post(teams_card_action_invoke(
        {"rapport": "person", "verb": "person_show", "contact_id": 1}, verb="person_show",
        service_url=teams.url, tenant_id=spelled))
    assert (status, body["value"]) == (200, "Here is Dana.")
    assert await teams.say("log Dana call", tenant_id=spelled, **NO_AAD) == 201

    assert [w.external_id for w in await teams.rows(Workspace)] == [DEFAULT_TENANT_ID]
    assert len(await teams.rows(User)) == 1


async def test_a_workspace_stored_in_another_case_is_found_in_any_case(
        teams: TeamsHarness) -> None:
    # As an earlier Rapport stored it, the tenant id as Teams spelled it then.
    earlier = Actor(platform="teams", workspace_external_id="TENANT-1",
                    user_external_id=DEFAULT_AAD_OBJECT_ID, display_name="Dana Scully")
    assert (await teams.runtime.rapport.handle_text(earlier, "add Walter Skinner")).ok

    await _install(teams)
    teams.connector.reset()
    for spelled, who in (("tenant-1", {}), ("Tenant-1", NO_AAD)):
        assert await teams.say("people", tenant_id=spelled, **who) == 201
        assert "Walter Skinner" in _said(teams)

    assert [w.external_id for w in await teams.rows(Workspace)] == ["TENANT-1"]
    assert len(await teams.rows(User)) == 1


# -- the reference store, on each database ------------------------------------------------------


async def test_the_store_finds_a_teams_id_and_a_tenant_in_any_case(
        any_engine: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    store = ReferenceStore(sessions=sessions, clock=clock)

    async def chat(actor: Actor, teams_id: str, aad_object_id: str | None) -> None:
        async def save(ctx: UserContext) -> bool:
            return await store.save(workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                                    reference=ConversationReference(
                                        channel_id="msteams", service_url="http://127.0.0.1:1/",
                                        user=ChannelAccount(id=teams_id,
                                                            aad_object_id=aad_object_id),
                                        conversation=ConversationAccount(id=f"a:{teams_id}")))
        assert await rapport.with_user(actor, save)

    def teams_user(tenant: str, external_id: str) -> Actor:
        return Actor(platform="teams", workspace_external_id=tenant,
                     user_external_id=external_id)

    # Dana, kept by her AAD object id in a tenant stored in upper case; her Teams id holds
    # characters LIKE reads as wildcards. Lee, kept by his Teams id (no AAD object id then).
    await chat(teams_user("TENANT-1", "aad-dana"), "29:dana_%", "aad-dana")
    await chat(teams_user("TENANT-1", "29:lee"), "29:lee", None)
    # A chat whose Teams id is Dana's AAD object id, kept for someone else.
    await chat(teams_user("TENANT-1", "aad-alex"), "aad-dana", "aad-alex")

    assert await store.workspace_external_id("Tenant-1") == "TENANT-1"
    assert await store.workspace_external_id("tenant-2") == "tenant-2"
    assert await store.user_by_teams_id("tenant-1", "29:dana_%") == "aad-dana"
    assert await store.user_by_teams_id("tenant-1", "29:danaX%") is None
    assert await store.user_by_teams_id("tenant-1", "29:lee") == "29:lee"
    assert await store.user_by_teams_id("tenant-1", "aad-dana") == "aad-alex"
    assert await store.user_by_teams_id("tenant-2", "29:dana_%") is None
