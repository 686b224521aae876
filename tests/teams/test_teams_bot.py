"""Teams end to end: Activity JSON over HTTP into /api/messages, answers at the fake Connector.

The app is bot.server.build_web_app with the installers from bot.platforms; every activity's
serviceUrl is the BotConnectorFake, so the real botbuilder CloudAdapter sends there.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.drafts import DISCLOSURE_LINE, build_draft_service
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.registry import installers_for, messengers_for
from rapport.bot.platforms.teams.adapter import TeamsConfigError, build_adapter
from rapport.bot.platforms.teams.cards import CARD_CONTENT_TYPE, card_versions
from rapport.bot.platforms.teams.handler import PRIVATE_SENT
from rapport.bot.platforms.teams.messenger import TeamsMessenger
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from rapport.storage.models import Contact, ConversationRef, Draft, Nudge, Touchpoint, User
from tests.conftest import Clock, snapshot
from tests.fakes.bot_connector import BOT_NOT_IN_ROSTER, BotConnectorFake, ReceivedActivity
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.teams_activities import (
    DEFAULT_AAD_OBJECT_ID,
    DEFAULT_TENANT_ID,
    default_conversation_id,
    teams_card_action_invoke,
    teams_conversation_update_activity,
    teams_installation_update_activity,
    teams_message_activity,
    teams_message_back,
)

PERSONAL = default_conversation_id("personal")
CHANNEL = default_conversation_id("channel")
FOX = {"user_id": "29:fox-mulder", "user_name": "Fox Mulder", "aad_object_id": "aad-fox"}
FOX_PERSONAL = default_conversation_id("personal", user_id="29:fox-mulder")


@dataclass
class RecordingSleep:
    """Stands in for asyncio.sleep in the messenger: records the waits, skips them."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class TeamsHarness:
    runtime: Runtime
    client: TestClient[Any, Any]
    connector: BotConnectorFake
    engine: AsyncEngine
    clock: Clock
    sleep: RecordingSleep

    @property
    def url(self) -> str:
        return self.connector.service_url

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=activity)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def say(self, text: str, **kwargs: Any) -> int:
        status, _ = await self.post(teams_message_activity(text, service_url=self.url, **kwargs))
        return status

    async def rows(self, model: Any) -> list[Any]:
        async with self.runtime.sessions() as session:
            return list((await session.scalars(select(model))).all())


def _settings(**values: Any) -> Settings:
    return Settings(**{"database_url": "sqlite+aiosqlite://", "host": "127.0.0.1", **values})


@pytest.fixture
async def teams(engine: AsyncEngine, clock: Clock,
                bot_connector: BotConnectorFake) -> AsyncIterator[TeamsHarness]:
    settings = _settings(teams_enabled=True)
    sessions = db.session_factory(engine)
    # No AI provider configured: the real DraftService makes template drafts.
    drafter = build_draft_service(sessions=sessions, settings=settings, clock=clock)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock, drafter=drafter),
                      clock=clock)
    sleep = RecordingSleep()
    runtime.add_messenger(TeamsMessenger(adapter=build_adapter(settings), sessions=sessions,
                                         bot_app_id="", sleep=sleep))
    app = await build_web_app(runtime, installers=installers_for(settings))
    async with TestClient(TestServer(app)) as client:
        yield TeamsHarness(runtime=runtime, client=client, connector=bot_connector,
                           engine=engine, clock=clock, sleep=sleep)


def _card(activity: ReceivedActivity) -> dict[str, Any]:
    [attachment] = activity.body["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    content: dict[str, Any] = attachment["content"]
    return content


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    walk(card.get("actions", []))
    return found


async def _install(teams: TeamsHarness, **kwargs: Any) -> None:
    status, _ = await teams.post(teams_conversation_update_activity(service_url=teams.url,
                                                                    **kwargs))
    assert status in (200, 201)


async def _deliver_nudge(teams: TeamsHarness) -> tuple[Nudge, ReceivedActivity]:
    """Dana installs, notes a follow-up due today, and the real Sweeper delivers it."""
    await _install(teams)
    assert await teams.say("add Dana") == 201
    assert await teams.say("note Dana: the launch on today") == 201
    teams.connector.reset()
    report = await teams.runtime.sweeper.sweep()
    assert report.sent == 1, report
    [nudge] = await teams.rows(Nudge)
    [delivered] = teams.connector.sent_to(PERSONAL)
    return nudge, delivered


# -- personal chat ------------------------------------------------------------------------------


async def test_personal_message_runs_the_command_and_answers_in_the_same_chat(
        teams: TeamsHarness) -> None:
    assert await teams.say("add Dana", local_timezone="America/New_York") == 201
    teams.connector.reset()
    incoming = teams_message_activity("log Dana coffee", service_url=teams.url,
                                      local_timezone="America/New_York")

    status, _ = await teams.post(incoming)

    assert status == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.reply_to_id == incoming["id"]
    assert reply.text == "Logged coffee with Dana."
    [touch] = await teams.rows(Touchpoint)
    assert touch.kind == "coffee"
    [user] = await teams.rows(User)
    assert user.external_id == DEFAULT_AAD_OBJECT_ID and user.tz == "America/New_York"
    # Talking to the bot is enough to be reachable for nudges later.
    [ref] = await teams.rows(ConversationRef)
    assert ref.conversation_id == PERSONAL


async def test_stats_arrive_as_a_card_with_the_numbers(teams: TeamsHarness) -> None:
    assert await teams.say("add Dana every 2 weeks") == 201
    assert await teams.say("log Dana coffee") == 201
    teams.connector.reset()

    assert await teams.say("stats") == 201

    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    assert "1.5" in card_versions(card)
    [facts] = [block for block in card["body"] if block["type"] == "FactSet"]
    values = {fact["title"]: fact["value"] for fact in facts["facts"]}
    assert values["Conversations"] == "1 this week, 1 in 30 days"
    assert values["Within their rhythm"] == "1 of 1 (100%)"


async def test_mentioned_colleague_becomes_a_linked_contact(teams: TeamsHarness) -> None:
    assert await teams.say("log <at>Fox Mulder</at> lunch",
                           mentions=[("29:fox-mulder", "Fox Mulder")]) == 201

    [contact] = await teams.rows(Contact)
    assert (contact.name, contact.platform_user_id) == ("Fox Mulder", "29:fox-mulder")


async def test_a_mention_links_the_contact_added_by_that_name(teams: TeamsHarness) -> None:
    assert await teams.say("add Fox Mulder") == 201
    # A second contact "Fox Mulder (29:fox-mulder)" before.
    assert await teams.say("log <at>Fox Mulder</at> lunch",
                           mentions=[("29:fox-mulder", "Fox Mulder")]) == 201
    [contact] = await teams.rows(Contact)
    assert (contact.name, contact.platform_user_id) == ("Fox Mulder", "29:fox-mulder")
    [touch] = await teams.rows(Touchpoint)
    assert (touch.contact_id, touch.kind) == (contact.id, "lunch")


async def test_two_mentioned_colleagues_in_one_log_are_logged_together(
        teams: TeamsHarness) -> None:
    assert await teams.say("log <at>Fox Mulder</at> lunch",
                           mentions=[("29:fox-mulder", "Fox Mulder")]) == 201
    async def rows() -> list[tuple[Any, ...]]:
        return [(t.contact_id, t.kind, t.summary) for t in await teams.rows(Touchpoint)] + \
            [(c.id, c.name) for c in await teams.rows(Contact)]

    before = await rows()
    teams.connector.reset()
    # Logged for Fox alone, with "and <@29:dana-scully|Dana Scully>" as the summary, two
    # sessions before; then refused as two people where one goes.
    assert await teams.say("had coffee with <at>Fox Mulder</at> and <at>Dana Scully</at>",
                           mentions=[("29:fox-mulder", "Fox Mulder"),
                                     ("29:dana-scully", "Dana Scully")]) == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.body["text"] == ("Logged coffee with Fox Mulder and Dana Scully. I added "
                                  "Dana Scully to your people.")
    after = await rows()
    assert [row for row in after if row not in before and len(row) == 3] == [
        (before[-1][0], "coffee", None), (before[-1][0] + 1, "coffee", None)]


# -- group chats and channels -------------------------------------------------------------------


async def test_channel_message_without_mention_is_ignored(teams: TeamsHarness) -> None:
    before = await snapshot(teams.engine)

    assert await teams.say("log Dana coffee", conversation_type="channel") == 201

    assert teams.connector.requests == []
    assert await snapshot(teams.engine) == before


async def test_channel_mention_answers_privately_in_the_stored_personal_chat(
        teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Walter Skinner colleague") == 201
    teams.connector.reset()

    assert await teams.say("people", conversation_type="channel", mentions_bot=True) == 201

    [private] = teams.connector.sent_to(PERSONAL)
    assert "Walter Skinner" in (private.text or "")
    [public] = teams.connector.sent_to(CHANNEL)
    assert public.text == PRIVATE_SENT
    assert "Walter" not in json.dumps(public.body)


async def test_channel_mention_without_personal_chat_opens_one(teams: TeamsHarness) -> None:
    assert await teams.say("log <at>Walter Skinner</at> coffee", conversation_type="groupChat",
                           mentions_bot=True, mentions=[("29:walter", "Walter Skinner")],
                           **FOX) == 201

    [created] = teams.connector.created_conversations
    assert created.body["members"] == [{"id": "29:fox-mulder"}]
    [private] = teams.connector.sent_to(created.conversation_id)
    assert "Walter" in (private.text or "")
    [public] = teams.connector.sent_to("19:group-chat-1@thread.v2")
    assert public.text == PRIVATE_SENT and "Walter" not in json.dumps(public.body)
    [ref] = await teams.rows(ConversationRef)
    assert ref.conversation_id == created.conversation_id
    [touch] = await teams.rows(Touchpoint)
    assert touch.kind == "coffee"


async def test_channel_mention_says_so_when_no_private_chat_can_be_opened(
        teams: TeamsHarness) -> None:
    teams.connector.fail_next(status=403, error=BOT_NOT_IN_ROSTER)

    assert await teams.say("people", conversation_type="channel", mentions_bot=True,
                           **FOX) == 201

    [public] = teams.connector.sent()
    assert public.conversation_id == CHANNEL
    assert "couldn't open a private chat" in (public.text or "")


# -- installation -------------------------------------------------------------------------------


async def test_install_welcomes_once_and_stores_reference_and_time_zone(
        teams: TeamsHarness) -> None:
    await _install(teams, local_timezone="Asia/Tokyo")
    status, _ = await teams.post(teams_installation_update_activity(
        service_url=teams.url, local_timezone="Asia/Tokyo"))
    assert status in (200, 201)

    [welcome] = teams.connector.sent_to(PERSONAL)
    assert "log Dana coffee" in (welcome.text or "") and "help" in (welcome.text or "")
    [ref] = await teams.rows(ConversationRef)
    stored = json.loads(ref.reference_json)
    assert ref.conversation_id == PERSONAL and stored["serviceUrl"] == teams.url
    assert stored["user"]["id"] == "29:user-aad"
    [user] = await teams.rows(User)
    assert user.tz == "Asia/Tokyo"


async def test_uninstall_stops_nudges_until_the_user_returns(teams: TeamsHarness) -> None:
    await _install(teams)
    await teams.post(teams_installation_update_activity(service_url=teams.url, action="remove"))
    [user] = await teams.rows(User)
    assert (user.active, user.inactive_reason) == (False, "uninstalled")

    assert await teams.say("due") == 201
    [user] = await teams.rows(User)
    assert user.active


# -- proactive nudges ---------------------------------------------------------------------------


async def test_sweeper_delivers_a_nudge_card_through_the_stored_reference(
        teams: TeamsHarness) -> None:
    nudge, delivered = await _deliver_nudge(teams)

    card = _card(delivered)
    assert all(float(v) <= 1.5 for v in card_versions(card))
    assert "the launch" in json.dumps(card)
    verbs = {a.get("verb") for a in _actions(card) if a["type"] == "Action.Execute"}
    assert verbs == {"done", "snooze", "snooze_1d", "snooze_1w", "draft", "dismiss"}
    assert any(a["type"] == "Action.ShowCard" and "Input.Date" in json.dumps(a)
               for a in _actions(card))
    assert all(a["data"]["nudge_id"] == nudge.id for a in _actions(card) if "data" in a)
    assert nudge.status == "sent"
    assert json.loads(nudge.delivery_ref or "{}")["activity_id"] == delivered.activity_id


async def test_403_makes_the_user_inactive(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    assert await teams.say("note Dana: the launch on today") == 201
    teams.connector.reset()
    teams.connector.fail_next(status=403)

    report = await teams.runtime.sweeper.sweep()

    assert report.sent == 0 and report.gone_users == 1
    [user] = await teams.rows(User)
    assert user.active is False
    [nudge] = await teams.rows(Nudge)
    assert nudge.status == "planned"  # kept for when the user comes back
    assert teams.connector.sent() == []
    assert (await teams.runtime.sweeper.sweep()).claimed == 0

    assert await teams.say("due") == 201  # writing again makes the user reachable
    [user] = await teams.rows(User)
    assert user.active


async def test_429_is_retried_after_retry_after_and_delivered_once(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    assert await teams.say("note Dana: the launch on today") == 201
    teams.connector.reset()
    teams.connector.fail_next(status=429, retry_after=1)

    report = await teams.runtime.sweeper.sweep()

    assert report.sent == 1 and report.retried == 0
    assert teams.sleep.waits == [1.0]
    assert [r.status for r in teams.connector.requests] == [429, 201]
    assert len(teams.connector.sent_to(PERSONAL)) == 1
    [nudge] = await teams.rows(Nudge)
    assert nudge.status == "sent"


async def test_long_retry_after_goes_back_to_the_sweep(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say("add Dana") == 201
    assert await teams.say("note Dana: the launch on today") == 201
    teams.connector.reset()
    teams.connector.fail_next(status=429, retry_after=120)

    report = await teams.runtime.sweeper.sweep()

    assert report.sent == 0 and report.retried == 1 and teams.sleep.waits == []
    [nudge] = await teams.rows(Nudge)
    assert nudge.status == "planned"
    assert (nudge.deliver_after - teams.clock.now).total_seconds() >= 120


# -- card actions -------------------------------------------------------------------------------


async def test_card_invoke_marks_the_nudge_done_and_updates_the_card(teams: TeamsHarness) -> None:
    _nudge, delivered = await _deliver_nudge(teams)
    done = next(a for a in _actions(_card(delivered)) if a.get("verb") == "done")

    status, body = await teams.post(teams_card_action_invoke(
        done["data"], verb="done", service_url=teams.url, reply_to_id=delivered.activity_id))

    assert status == 200
    assert body["type"] == CARD_CONTENT_TYPE and "Dana" in json.dumps(body["value"])
    [update] = teams.connector.updates()
    assert update.activity_id == delivered.activity_id
    assert "reached out to Dana" in json.dumps(update.body)
    assert _actions(update.body["attachments"][0]["content"]) == []
    [after] = await teams.rows(Nudge)
    assert after.status == "done"
    assert [t.source for t in await teams.rows(Touchpoint)] == ["nudge"]


async def test_message_back_snoozes_to_a_picked_date_and_updates_the_card(
        teams: TeamsHarness) -> None:
    nudge, delivered = await _deliver_nudge(teams)
    pick = next(a for a in _actions(_card(delivered)) if a.get("verb") == "snooze")
    # Action.Submit merges the inputs into the data.
    value = {**pick["fallback"]["data"], f"snooze_until_{nudge.id}": "2026-12-02"}

    status, _ = await teams.post(teams_message_back(value, service_url=teams.url,
                                                    reply_to_id=delivered.activity_id))

    assert status == 201
    [update] = teams.connector.updates()
    assert update.activity_id == delivered.activity_id and "Snoozed" in json.dumps(update.body)
    [after] = await teams.rows(Nudge)
    assert after.status == "snoozed"
    assert after.deliver_after.date().isoformat() == "2026-12-02"


async def test_due_card_shows_each_nudge_once_with_its_buttons_then_the_rest(
        teams: TeamsHarness) -> None:
    await _install(teams)
    for line in ("add Ana", "note Ana: the offsite on today", "add Ben every 2 weeks",
                 "log Ben 10 days ago"):
        assert await teams.say(line) == 201
    assert (await teams.runtime.sweeper.sweep()).sent == 1
    teams.connector.reset()

    assert await teams.say("due") == 201

    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    texts = [block["text"] for block in card["body"] if block["type"] == "TextBlock"]
    assert texts[0] == "Due now"
    # Once, with its buttons; not again in a paragraph with "Reply done #N" above them.
    assert json.dumps(card).count("Ask Ana about the offsite") == 1
    assert "done #N" not in json.dumps(card)
    assert {a.get("verb") for a in _actions(card)} >= {"done", "snooze_1d", "dismiss"}
    # The rest (who is coming up) follows as lines, one TextBlock each.
    assert "Coming up:" in texts and any("Ben" in text for text in texts)


async def test_who_havent_i_talked_to_follows_the_due_card_naming_each_person_once(
        teams: TeamsHarness) -> None:
    await _install(teams)
    for line in ("add Ana", "note Ana: the offsite on today", "add Cleo Cruz",
                 "log Cleo 5 weeks ago", "add Dov Dror"):
        assert await teams.say(line) == 201
    assert (await teams.runtime.sweeper.sweep()).sent == 1
    teams.connector.reset()

    assert await teams.say("who haven't I talked to lately?") == 201

    [reply] = teams.connector.sent_to(PERSONAL)
    card = _card(reply)
    texts = [block["text"] for block in card["body"] if block["type"] == "TextBlock"]
    assert texts[0] == "Due now"
    assert {a.get("verb") for a in _actions(card)} >= {"done", "snooze_1d", "dismiss"}
    # After the card: who has gone longest, then who has no conversation yet; Ana, whose
    # nudge is on the card, is not named again.
    rest = texts[texts.index("Longest since you talked:"):]
    assert rest == ["Longest since you talked:",
                    "  Cleo Cruz: last talked Mon Oct 19 (5 weeks ago)",
                    "No conversation logged yet: Dov Dror."]


async def test_digest_card_keeps_the_other_nudges_after_one_is_done(teams: TeamsHarness) -> None:
    await _install(teams)
    for name in ("Ana", "Ben"):
        assert await teams.say(f"add {name}") == 201
        assert await teams.say(f"note {name}: the offsite on today") == 201
    teams.connector.reset()
    assert (await teams.runtime.sweeper.sweep()).messages == 1
    [digest] = teams.connector.sent_to(PERSONAL)
    card = _card(digest)
    assert "Ana" in json.dumps(card) and "Ben" in json.dumps(card)
    first = next(a for a in _actions(card) if a.get("verb") == "done")

    status, body = await teams.post(teams_card_action_invoke(
        first["data"], verb="done", service_url=teams.url, reply_to_id=digest.activity_id))

    assert status == 200
    [update] = teams.connector.updates()
    updated = update.body["attachments"][0]["content"]
    remaining = {a["data"]["nudge_id"] for a in _actions(updated) if "data" in a}
    assert first["data"]["nudge_id"] not in remaining and len(remaining) == 1
    assert "Nice. Logged" in json.dumps(updated)
    assert body["value"] == updated


async def _digest_of(teams: TeamsHarness, notes: tuple[tuple[str, str], ...]
                     ) -> ReceivedActivity:
    """Notes due today about these people, delivered by the real Sweeper as one card."""
    await _install(teams)
    for name in dict(notes):
        assert await teams.say(f"add {name}") == 201
    for name, what in notes:
        assert await teams.say(f"note {name}: {what} on today") == 201
    teams.connector.reset()
    assert (await teams.runtime.sweeper.sweep()).messages == 1
    [digest] = teams.connector.sent_to(PERSONAL)
    return digest


async def _click(teams: TeamsHarness, digest: ReceivedActivity, card: dict[str, Any],
                 verb: str) -> dict[str, Any]:
    """Press the first `verb` button left on the card; the card it is redrawn as."""
    action = next(a for a in _actions(card) if a.get("verb") == verb)
    status, body = await teams.post(teams_card_action_invoke(
        action["data"], verb=verb, service_url=teams.url, reply_to_id=digest.activity_id))
    assert status == 200
    redrawn: dict[str, Any] = body["value"]
    return redrawn


@pytest.mark.parametrize(("notes", "clicks", "headings"), [
    # Two of Ana's nudges and one of Ben's: once one of Ana's was done the card said
    # "3 people", counting the handled nudge as a person of its own.
    ((("Ana", "the offsite"), ("Ana", "the launch"), ("Ben", "the trip")),
     ("done", "snooze_1d", "dismiss"),
     ("2 people worth a message:", "2 people worth a message:", "A good moment to reach out:",
      "Nothing left to do on this card:")),
    # Three people: the heading counts who is left, not who was on the card.
    ((("Ana", "the offsite"), ("Ben", "the launch"), ("Cy", "the trip")), ("done", "done"),
     ("3 people worth a message:", "2 people worth a message:",
      "A good moment to reach out:")),
])
async def test_a_redrawn_digest_counts_the_people_left_on_it(
        teams: TeamsHarness, notes: tuple[tuple[str, str], ...], clicks: tuple[str, ...],
        headings: tuple[str, ...]) -> None:
    digest = await _digest_of(teams, notes)
    card = _card(digest)
    seen = [card["body"][0]["text"]]
    for verb in clicks:
        card = await _click(teams, digest, card, verb)
        seen.append(card["body"][0]["text"])
    assert tuple(seen) == headings


async def test_draft_button_sends_an_editable_card_and_copy_needs_an_edit(
        teams: TeamsHarness) -> None:
    _nudge, delivered = await _deliver_nudge(teams)
    draft_button = next(a for a in _actions(_card(delivered)) if a.get("verb") == "draft")

    status, body = await teams.post(teams_card_action_invoke(
        draft_button["data"], verb="draft", service_url=teams.url,
        reply_to_id=delivered.activity_id))

    assert status == 200 and isinstance(body["value"], str)
    nudge_message, draft_message = teams.connector.sent_to(PERSONAL)
    assert nudge_message == delivered
    card = _card(draft_message)
    [editor] = [e for e in card["body"] if e["type"] == "Input.Text"]
    assert editor["isMultiline"] and editor["value"]
    copy = next(a for a in _actions(card) if a.get("verb") == "draft_copy")
    unchanged = {**copy["data"], "draft_text": editor["value"]}
    status, body = await teams.post(teams_card_action_invoke(
        unchanged, verb="draft_copy", service_url=teams.url,
        reply_to_id=draft_message.activity_id))
    assert teams.connector.updates() == []
    [row] = await teams.rows(Draft)
    assert row.outcome is None

    edited = {**copy["data"], "draft_text": "Hi Dana, how did the launch go? Coffee soon?"}
    await teams.post(teams_card_action_invoke(
        edited, verb="draft_copy", service_url=teams.url, reply_to_id=draft_message.activity_id))

    [update] = teams.connector.updates()
    assert "how did the launch go" in json.dumps(update.body)
    [row] = await teams.rows(Draft)
    assert row.outcome == "copied" and row.final_text and "launch go" in row.final_text


async def test_ai_draft_card_offers_the_disclosure_as_slack_and_the_console_do(
        fake_openai_env: FakeOpenAI, teams: TeamsHarness) -> None:
    # fake_openai_env comes first: the teams fixture builds its DraftService from the env.
    await _install(teams)
    assert await teams.say("add Dana") == 201
    assert await teams.say("draft Dana") == 201
    draft_message = teams.connector.sent_to(PERSONAL)[-1]
    card = _card(draft_message)
    [toggle] = [e for e in card["body"] if e["type"] == "Input.Toggle"]
    assert toggle["value"] == toggle["valueOn"] == "true" and DISCLOSURE_LINE in toggle["title"]
    copy = next(a for a in _actions(card) if a.get("verb") == "draft_copy")

    # Teams merges the toggle's value into the data: unticked, no line is added.
    await teams.post(teams_card_action_invoke(
        {**copy["data"], "draft_text": "Dana, how did the launch go?", toggle["id"]: "false"},
        verb="draft_copy", service_url=teams.url, reply_to_id=draft_message.activity_id))

    [row] = await teams.rows(Draft)
    assert row.outcome == "copied" and row.final_text == "Dana, how did the launch go?"
    assert not row.disclosure
    assert DISCLOSURE_LINE not in json.dumps(teams.connector.updates()[-1].body)


async def test_action_on_another_users_nudge_is_refused_and_changes_nothing(
        teams: TeamsHarness) -> None:
    nudge, delivered = await _deliver_nudge(teams)
    assert await teams.say("help", **FOX) == 201  # Fox is a user too
    teams.connector.reset()
    before = await snapshot(teams.engine)
    data = {"rapport": "nudge", "verb": "done", "nudge_id": nudge.id}

    status, body = await teams.post(teams_card_action_invoke(
        data, verb="done", service_url=teams.url, reply_to_id=delivered.activity_id, **FOX))
    await teams.post(teams_message_back(data, service_url=teams.url,
                                        reply_to_id=delivered.activity_id, **FOX))

    assert status == 200 and "can't find nudge" in body["value"]
    assert teams.connector.updates() == []
    [refusal] = teams.connector.sent_to(FOX_PERSONAL)
    assert "can't find nudge" in (refusal.text or "")
    assert await snapshot(teams.engine) == before


async def test_stale_or_forged_button_data_is_refused(teams: TeamsHarness) -> None:
    await _install(teams)
    before = await snapshot(teams.engine)

    for data in ({"rapport": "nudge", "verb": "done", "nudge_id": "x"},
                 {"rapport": "nudge", "verb": "delete", "nudge_id": 1}, {"rapport": "?"}):
        status, body = await teams.post(teams_card_action_invoke(
            data, verb=str(data.get("verb", "")), service_url=teams.url))
        assert status == 200 and "out of date" in body["value"]

    assert await snapshot(teams.engine) == before


# -- configuration and authentication -----------------------------------------------------------


def test_emulator_mode_is_refused_on_a_public_host() -> None:
    with pytest.raises(TeamsConfigError, match="loopback"):
        installers_for(Settings(teams_enabled=True, host="0.0.0.0"))
    with pytest.raises(TeamsConfigError, match="SingleTenant"):
        installers_for(Settings(microsoft_app_id="3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d",
                                microsoft_app_type="SingleTenant", host="0.0.0.0"))


async def test_emulator_mode_logs_a_loud_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        build_adapter(_settings(teams_enabled=True))
    assert any("EMULATOR MODE" in r.getMessage() for r in caplog.records)


async def test_unauthenticated_request_gets_401_when_an_app_id_is_set(
        engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake) -> None:
    settings = _settings(microsoft_app_id="3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d",
                         microsoft_app_password="secret", host="0.0.0.0")
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    assert [m.platform for m in await messengers_for(runtime)] == ["teams"]
    app = await build_web_app(runtime, installers=installers_for(settings))
    before = await snapshot(engine)

    async with TestClient(TestServer(app)) as client:
        response = await client.post("/api/messages", json=teams_message_activity(
            "log Dana coffee", service_url=bot_connector.service_url))
        not_json = await client.post("/api/messages", data=b"log Dana coffee")

    assert response.status == 401
    assert not_json.status == 415
    assert bot_connector.requests == []
    assert await snapshot(engine) == before


async def test_names_in_cards_are_text_never_links_or_emphasis(teams: TeamsHarness) -> None:
    await _install(teams)
    assert await teams.say('add "[click](evil.example) *Bo*"') == 201
    assert await teams.say('note "[click](evil.example) *Bo*": the launch on today') \
        == 201
    teams.connector.reset()
    assert (await teams.runtime.sweeper.sweep()).sent == 1
    [delivered] = teams.connector.sent_to(PERSONAL)
    text = json.dumps(_card(delivered))
    assert "[click](evil.example)" not in text and "*Bo*" not in text
    # One backslash before each Markdown character (JSON doubles it).
    assert r"Ask \\[click\\](evil.example) about" in text


async def test_help_is_a_card_with_the_privacy_notice(teams: TeamsHarness) -> None:
    assert await teams.say("help") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    card = json.dumps(_card(reply))
    assert "Your privacy" in card and "private to you" in card and "log <person>" in card


async def test_a_long_answer_is_cut_to_what_teams_accepts_and_says_so(
        teams: TeamsHarness) -> None:
    """Teams refuses a message over 40 KB in UTF-16 (the fake answers 413 as it does): 200
    people with long names would be no answer at all."""
    actor = Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
                  user_external_id=DEFAULT_AAD_OBJECT_ID, display_name="Alex", tz="UTC")
    rows = "".join(f"Person {n:03d} {'Longname' * 8},{'Company' * 20},every 2 weeks\n"
                   for n in range(200))
    imported = await teams.runtime.rapport.handle_import(
        actor, "people.csv", ("name,company,cadence\n" + rows).encode(), dry_run=False)
    assert imported.ok, imported.text
    teams.connector.reset()
    assert await teams.say("people") == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.text is not None and reply.text.startswith("Your people:\n  Person 000")
    assert reply.text.endswith("narrow it down, for example “people #clients” or “search "
                               "Dana”.")
    assert len(json.dumps(reply.body, ensure_ascii=False).encode("utf-16-le")) <= 40 * 1024
    # A short answer is never cut.
    teams.connector.reset()
    assert await teams.say("people #nobody") == 201
    [short] = teams.connector.sent_to(PERSONAL)
    assert short.text == "Nobody is tagged nobody. Tag someone with “tag Lee nobody”."


async def test_who_did_i_talk_to_last_week_is_answered_in_the_personal_chat(
        teams: TeamsHarness) -> None:
    await _install(teams)
    teams.clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday
    for line in ("add Dana Scully", "log Dana on Nov 18: lunch", "log Dana today"):
        assert await teams.say(line) == 201
    teams.connector.reset()

    assert await teams.say("who did I talk to last week?") == 201

    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.text == ("1 conversation with Dana Scully last week (Mon Nov 16 – Sun Nov "
                          "22):\n  t1 Wed Nov 18, Dana Scully: lunch")


async def test_a_message_of_only_a_mention_names_the_person_or_shows_them(
        teams: TeamsHarness) -> None:
    # It answered “I don't know the command “<@29:fox-mulder|fox””.
    assert await teams.say("<at>Fox Mulder</at>", mentions=[("29:fox-mulder", "Fox Mulder")]) \
        == 201
    [reply] = teams.connector.sent_to(PERSONAL)
    assert reply.body["text"].endswith(
        "@Fox Mulder isn't one of your people yet. To keep in touch with them, say “add @Fox "
        "Mulder”.")
    assert await teams.rows(Contact) == []

    assert await teams.say("add <at>Fox Mulder</at> client at FBI",
                           mentions=[("29:fox-mulder", "Fox Mulder")]) == 201
    teams.connector.reset()
    assert await teams.say("<at>Fox Mulder</at>", mentions=[("29:fox-mulder", "Fox Mulder")]) \
        == 201
    [card] = teams.connector.sent_to(PERSONAL)
    assert card.body["summary"] == "Fox Mulder"  # the person card
