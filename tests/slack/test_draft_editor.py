"""The Slack draft editor: Post / Copy / Discard, the edit check, disclosure, the user token."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from rapport.bot.core.drafts import DISCLOSURE_LINE, DraftService, build_draft_service
from rapport.bot.core.views import DraftView
from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.service.config import Settings
from rapport.storage.models import Contact, Draft, User
from tests.conftest import Clock, snapshot
from tests.fakes.openai_api import DEFAULT_REPLY, FakeOpenAI
from tests.slack.conftest import ALEX, DANA, SAM, HarnessFactory, SlackHarness

NEW_TEAM = "T0DRAFTS"
EDITED = "Dana! How did the launch go? Coffee next week is on me."


MakeDrafts = Callable[[SlackHarness], DraftService]


@pytest.fixture
async def drafts(fake_openai_env: FakeOpenAI, clock: Clock) -> AsyncIterator[MakeDrafts]:
    """Give a harness a DraftService pointed at FakeOpenAI (env set by fake_openai_env)."""
    services: list[DraftService] = []

    def make(slack: SlackHarness) -> DraftService:
        service = build_draft_service(sessions=slack.runtime.sessions,
                                      settings=Settings(ai_timeout_seconds=10), clock=clock)
        slack.runtime.rapport.drafter = service
        services.append(service)
        return service

    yield make
    for service in services:
        if service.provider is not None:
            await service.provider.close()


async def _with_dana(slack: SlackHarness, user: str = ALEX) -> None:
    """Dana as a contact linked to her Slack account (an @mention through the real app)."""
    status, _ = await slack.command(f"add <@{DANA}>", user=user)
    assert status == 200

    async def linked() -> bool:
        async with slack.runtime.sessions() as session:
            return await session.scalar(select(Contact.id).join(User).where(
                Contact.platform_user_id == DANA, User.external_id == user)) is not None

    await slack.until(linked)


async def _open_editor(slack: SlackHarness, user: str = ALEX) -> dict[str, Any]:
    """`/rapport draft Dana`, then the modal as Slack holds it after views.update."""
    before = len(slack.fake.calls_to("views.update"))
    status, body = await slack.command("draft Dana", user=user)
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    await slack.until(lambda: len(slack.fake.calls_to("views.update")) > before, within=12)
    update = slack.fake.calls_to("views.update")[-1]
    assert update.ok, update.response
    view = update.response["view"]
    assert view["callback_id"] == b.CALLBACK_DRAFT, view["blocks"]
    return view


async def _settled_snapshot(slack: SlackHarness) -> dict[str, list[tuple[object, ...]]]:
    """The database once Alex's zone, learnt from users.info after an earlier ack, has been
    applied (by the next unit that loads Alex): so a comparison sees only what came after."""
    await slack.until(slack.profile_cached)
    await slack.command("due")
    return await snapshot(slack.runtime.engine)


def _state(text: str, *, disclose: bool | None = True) -> dict[str, Any]:
    values: dict[str, Any] = {"draft": {"value": {"type": "plain_text_input", "value": text}}}
    if disclose is not None:
        option = {"value": "yes", "text": {"type": "plain_text", "text": DISCLOSURE_LINE}}
        values["disclose"] = {"value": {"type": "checkboxes",
                                        "selected_options": [option] if disclose else []}}
    return {"values": values}


def _submission(slack: SlackHarness, view: dict[str, Any], text: str, *,
                disclose: bool | None = True, user: str = ALEX,
                metadata: str | None = None) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": user, "username": user.lower(), "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {**view, "private_metadata": metadata or view["private_metadata"],
                     "state": _state(text, disclose=disclose)}}


def _button(slack: SlackHarness, view: dict[str, Any], action_id: str, text: str, *,
            disclose: bool | None = True, metadata: str | None = None) -> dict[str, Any]:
    payload = slack.block_action(user=ALEX, action={
        "type": "button", "action_id": action_id, "block_id": "draft_actions", "value": "x"})
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload["view"] = {**view, "private_metadata": metadata or view["private_metadata"],
                       "state": _state(text, disclose=disclose)}
    return payload


def _draft_text(view: dict[str, Any]) -> str:
    field = next(block for block in view["blocks"] if block.get("block_id") == "draft")
    return str(field["element"]["initial_value"])


async def _draft(slack: SlackHarness, view: dict[str, Any]) -> Draft:
    draft_id = json.loads(view["private_metadata"])["draft_id"]
    async with slack.runtime.sessions() as session:
        draft = await session.get(Draft, draft_id)
    assert draft is not None
    return draft


async def test_unchanged_draft_is_refused_and_changes_nothing(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    assert _draft_text(view) == DEFAULT_REPLY
    # The optional policy (the default) shows the disclosure checkbox, pre-checked.
    disclose = next(bl for bl in view["blocks"] if bl.get("block_id") == "disclose")
    assert disclose["element"]["initial_options"][0]["value"] == "yes"
    before = await _settled_snapshot(slack)
    # Case, spacing and punctuation changes are not edits.
    status, body = await slack.interaction(_submission(
        slack, view, "  hi  its been a while how did the LAUNCH go "))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert "still the draft" in answer["errors"]["draft"]
    assert await snapshot(slack.runtime.engine) == before
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_edited_draft_without_user_token_is_shown_to_copy(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    status, body = await slack.interaction(_submission(slack, view, EDITED, disclose=False))
    assert status == 200 and json.loads(body)["response_action"] == "update"
    await slack.until(lambda: "Copy your message" in json.dumps(
        slack.fake.views[view["id"]]["title"]))
    shown = json.dumps(slack.fake.views[view["id"]]["blocks"])
    assert "Coffee next week is on me" in shown and DISCLOSURE_LINE not in shown
    draft = await _draft(slack, view)
    assert (draft.outcome, draft.disclosure, draft.final_text) == ("copied", False, EDITED)
    assert draft.edit_distance and draft.edit_distance > 0
    assert slack.fake.calls_to("chat.postMessage") == []


async def _oauth_with_user_token(make_harness: HarnessFactory) -> tuple[SlackHarness, str]:
    """Install in NEW_TEAM through the real OAuth flow, Alex granting the user scopes."""
    slack = await make_harness(slack_bot_token=None, slack_client_id="1111111111.2222222222",
                               slack_client_secret="fake-client-secret")
    async with slack.http.get(f"{slack.base}/slack/install") as response:
        page = await response.text()
        cookie = next(c.split(";")[0] for c in response.headers.getall("Set-Cookie")
                      if c.startswith("slack-app-oauth-state"))
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link.group(1).replace("&amp;", "&")).query)
    code = slack.fake.add_oauth_code(team_id=NEW_TEAM, user_id=ALEX,
                                     scopes=("commands", "chat:write", "im:write", "users:read",
                                             "files:write"),
                                     user_scopes=query["user_scope"][0].split(","))
    async with slack.http.get(f"{slack.base}/slack/oauth_redirect",
                              params={"code": code, "state": query["state"][0]},
                              headers={"Cookie": cookie}) as response:
        assert response.status == 200, await response.text()
    slack.team_id = NEW_TEAM
    for user, name in ((ALEX, "Alex Kim"), (DANA, "Dana Scully"), (SAM, "Sam Lee")):
        slack.fake.add_user(user, name=name.split()[0].lower(), real_name=name, team_id=None)
    store = slack.extra["app"][SLACK_KEY].installations.store
    installation = await store.async_find_installation(enterprise_id=None, team_id=NEW_TEAM,
                                                       user_id=ALEX)
    assert installation is not None and installation.user_token
    return slack, str(installation.user_token)


async def test_edited_draft_is_posted_as_the_user_with_the_disclosure(
        make_harness: HarnessFactory, drafts: MakeDrafts) -> None:
    slack, user_token = await _oauth_with_user_token(make_harness)
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    status, body = await slack.interaction(_submission(slack, view, EDITED, disclose=True))
    assert status == 200 and json.loads(body)["response_action"] == "update"
    await slack.until(lambda: bool(slack.fake.calls_to("chat.postMessage")))
    [opened] = [c for c in slack.fake.calls_to("conversations.open") if c.token == user_token]
    assert opened.ok and opened.args["users"] == DANA
    [posted] = slack.fake.calls_to("chat.postMessage")
    assert posted.ok and posted.token == user_token
    assert posted.args["channel"] == opened.response["channel"]["id"]
    assert posted.args["text"] == f"{EDITED}\n{DISCLOSURE_LINE}"

    async def recorded() -> bool:
        return (await _draft(slack, view)).outcome == "posted"

    await slack.until(recorded)
    draft = await _draft(slack, view)
    assert draft.disclosure is True and draft.final_text == f"{EDITED}\n{DISCLOSURE_LINE}"
    await slack.until(lambda: "Sent to Dana" in json.dumps(slack.fake.views[view["id"]]))

    # Sam never granted the user scopes: his Post falls back to the text to copy, and Alex's
    # token is never used for him.
    await _with_dana(slack, SAM)
    sam_view = await _open_editor(slack, user=SAM)
    await slack.interaction(_submission(slack, sam_view, EDITED, user=SAM))

    async def copied() -> bool:
        return (await _draft(slack, sam_view)).outcome == "copied"

    await slack.until(copied)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_required_policy_forces_the_disclosure_and_off_drops_it(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    from rapport.bot.core.drafts import set_workspace_ai

    drafts(slack)
    await _with_dana(slack)
    await set_workspace_ai(slack.runtime.sessions, platform="slack", disclosure_policy="required")
    view = await _open_editor(slack)
    ids = [bl.get("block_id") for bl in view["blocks"]]
    assert "disclose" not in ids and "disclose_required" in ids
    # Unchecking is impossible; even a forged "no" state gets the line.
    await slack.interaction(_button(slack, view, b.ACTION_DRAFT_COPY, EDITED, disclose=False))
    await slack.until(lambda: "Copy your message" in json.dumps(slack.fake.views[view["id"]]))
    assert DISCLOSURE_LINE in json.dumps(slack.fake.views[view["id"]]["blocks"])

    await set_workspace_ai(slack.runtime.sessions, platform="slack", disclosure_policy="off")
    view = await _open_editor(slack)
    ids = [bl.get("block_id") for bl in view["blocks"]]
    assert "disclose" not in ids and "disclose_required" not in ids
    await slack.interaction(_button(slack, view, b.ACTION_DRAFT_COPY, EDITED, disclose=None))
    await slack.until(lambda: "Copy your message" in json.dumps(slack.fake.views[view["id"]]))
    assert DISCLOSURE_LINE not in json.dumps(slack.fake.views[view["id"]]["blocks"])
    assert (await _draft(slack, view)).disclosure is False


def test_template_drafts_have_no_disclosure_checkbox() -> None:
    template = DraftView(draft_id=1, contact_id=1, contact_name="Dana", text="Hi Dana!",
                         provider="template", is_template=True, disclosure_policy="optional",
                         can_post=True)
    view = b.draft_view(template, nudge_id=None)
    ids = [bl.get("block_id") for bl in view["blocks"]]
    assert "disclose" not in ids and "disclose_required" not in ids
    assert view["submit"]["text"] == "Post"
    actions = next(bl for bl in view["blocks"] if bl.get("block_id") == "draft_actions")
    assert [e["action_id"] for e in actions["elements"]] == ["draft_copy", "draft_discard"]


async def test_copy_unchanged_keeps_the_editor_and_discard_records_it(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    drafts(slack)
    await _with_dana(slack)
    view = await _open_editor(slack)
    before = await _settled_snapshot(slack)
    updates = len(slack.fake.calls_to("views.update"))
    await slack.interaction(_button(slack, view, b.ACTION_DRAFT_COPY, DEFAULT_REPLY))
    await slack.until(lambda: len(slack.fake.calls_to("views.update")) > updates)
    shown = slack.fake.views[view["id"]]
    assert shown["callback_id"] == b.CALLBACK_DRAFT  # still the editor, with the reason on top
    assert shown["blocks"][0]["block_id"] == b.DRAFT_ERROR_BLOCK
    assert "still the draft" in shown["blocks"][0]["text"]["text"]
    assert await snapshot(slack.runtime.engine) == before

    await slack.interaction(_button(slack, view, b.ACTION_DRAFT_DISCARD, DEFAULT_REPLY))
    await slack.until(lambda: "Discarded" in json.dumps(slack.fake.views[view["id"]]))
    draft = await _draft(slack, view)
    assert draft.outcome == "discarded" and draft.final_text is None
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_another_users_draft_id_is_refused(slack: SlackHarness, drafts: MakeDrafts) -> None:
    drafts(slack)
    await slack.runtime.rapport.handle_text(slack.actor(SAM), "add Dana")
    sams = await slack.runtime.rapport.handle_text(slack.actor(SAM), "draft Dana")
    assert sams.draft is not None
    await _with_dana(slack)
    view = await _open_editor(slack)
    forged = json.dumps({"draft_id": sams.draft.draft_id, "contact_id": None, "nudge_id": None})
    before = await _settled_snapshot(slack)
    status, body = await slack.interaction(_submission(slack, view, EDITED, metadata=forged))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert "can't find that draft" in answer["errors"]["draft"]
    updates = len(slack.fake.calls_to("views.update"))
    await slack.interaction(_button(slack, view, b.ACTION_DRAFT_DISCARD, EDITED, metadata=forged))
    await slack.until(lambda: len(slack.fake.calls_to("views.update")) > updates)
    assert "can't find that draft" in json.dumps(slack.fake.views[view["id"]])
    assert await snapshot(slack.runtime.engine) == before
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_draft_command_acks_fast_while_the_provider_is_slow(
        slack: SlackHarness, drafts: MakeDrafts, fake_openai_env: FakeOpenAI) -> None:
    drafts(slack)
    await _with_dana(slack)
    fake_openai_env.latency = 5.0
    answered = fake_openai_env.answered
    started = time.monotonic()
    status, body = await slack.command("draft Dana")
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    # Acknowledged before the provider answered, however slow it is.
    assert fake_openai_env.answered == answered
    # The modal opens at once (the trigger id would expire), and fills in when the model answers.
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    assert slack.fake.calls_to("views.open")[0].ok
    await slack.until(lambda: bool(slack.fake.calls_to("views.update")), within=12)
    [update] = slack.fake.calls_to("views.update")
    assert update.ok and _draft_text(update.args["view"]) == DEFAULT_REPLY
    assert time.monotonic() - started >= 5.0


async def test_provider_failure_gives_a_clear_message_and_a_template(
        slack: SlackHarness, drafts: MakeDrafts, fake_openai_env: FakeOpenAI) -> None:
    drafts(slack)
    await _with_dana(slack)
    fake_openai_env.fail_next(500, count=3, retry_after=0.01)
    view = await _open_editor(slack)
    shown = json.dumps(view["blocks"])
    assert "The AI provider had a problem answering" in shown
    assert "Template draft" in shown
    assert "disclose" not in [bl.get("block_id") for bl in view["blocks"]]
    assert (await _draft(slack, view)).provider == "template"


async def test_a_draft_typed_in_the_messages_tab_opens_in_the_editor_from_its_button(
        slack: SlackHarness, drafts: MakeDrafts) -> None:
    """`draft Dana` typed in the DM has no window to open (no trigger): the answer carries
    "Edit and send…", which opens that same draft in the editor, and only for its owner."""
    from tests.slack.test_import_upload import buttons, dm

    drafts(slack)
    await _with_dana(slack)
    await slack.until(slack.profile_cached)
    await slack.event({"type": "message", "text": "draft Dana", "user": ALEX,
                       "channel": dm(slack), "channel_type": "im", "ts": f"{time.time():.6f}"})
    await slack.until(lambda: any(buttons(m) for m in slack.fake.messages_in(dm(slack))
                                  if m.get("bot_id")), within=12)
    drafted = next(m for m in reversed(slack.fake.messages_in(dm(slack)))
                   if m.get("bot_id") and buttons(m))
    [(action_id, draft_id)] = buttons(drafted)
    assert action_id == b.ACTION_DRAFT_OPEN and "for Dana Scully. Edit it" in drafted["text"]

    def click(user: str) -> dict[str, Any]:
        return slack.block_action(user=user, action={
            "type": "button", "action_id": b.ACTION_DRAFT_OPEN, "block_id": "draft_open",
            "value": draft_id})

    updates = len(slack.fake.calls_to("views.update"))
    await slack.interaction(click(ALEX))
    await slack.until(lambda: len(slack.fake.calls_to("views.update")) > updates)
    editor = slack.fake.calls_to("views.update")[-1].response["view"]
    assert editor["callback_id"] == b.CALLBACK_DRAFT
    assert json.loads(editor["private_metadata"])["draft_id"] == int(draft_id)
    async with slack.runtime.sessions() as session:
        [draft] = (await session.scalars(select(Draft))).all()  # the same draft, not a new one
    assert _draft_text(editor) == draft.draft_text
    # Someone else's click finds nothing of Alex's.
    updates = len(slack.fake.calls_to("views.update"))
    await slack.interaction(click(SAM))
    await slack.until(lambda: len(slack.fake.calls_to("views.update")) > updates)
    notice = json.dumps(slack.fake.calls_to("views.update")[-1].response["view"])
    assert "I can't find that draft among yours." in notice and draft.draft_text not in notice
    # Once discarded, it is done: the button says so and a new draft is one command away.
    await slack.interaction(_button(slack, editor, b.ACTION_DRAFT_DISCARD, draft.draft_text))
    await slack.until(lambda: _recorded(slack, draft.id))
    updates = len(slack.fake.calls_to("views.update"))
    await slack.interaction(click(ALEX))
    await slack.until(lambda: len(slack.fake.calls_to("views.update")) > updates)
    notice = json.dumps(slack.fake.calls_to("views.update")[-1].response["view"])
    assert "That draft is discarded already" in notice


async def _recorded(slack: SlackHarness, draft_id: int) -> bool:
    async with slack.runtime.sessions() as session:
        draft = await session.get(Draft, draft_id)
        return draft is not None and draft.outcome is not None
