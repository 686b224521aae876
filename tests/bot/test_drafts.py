"""AI drafts through the real openai client against FakeOpenAI: privacy, failures, edit check."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core import commands as c
from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.context import Actor, UserContext
from rapport.bot.core.drafts import (
    DISCLOSURE_LINE,
    MAX_DRAFT_CHARS,
    UNCHANGED,
    DraftService,
    normalise,
    sanitise,
)
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply
from rapport.bot.service.config import Settings
from rapport.storage.models import Contact, Draft, Note, Nudge, User, Workspace
from tests.conftest import Clock, console_user, snapshot
from tests.fakes.openai_api import (
    BROADCAST_MENTIONS_REPLY,
    FAKE_API_VERSION,
    FAKE_DEPLOYMENT,
    FAKE_MODEL,
    HUGE_REPLY,
    ODD_UNICODE_REPLY,
    FakeOpenAI,
)

ALEX = console_user("alex")
BLAKE = console_user("blake")


async def _service(sessions: async_sessionmaker[AsyncSession], clock: Clock,
                   **overrides: object) -> DraftService:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    return DraftService(sessions=sessions, provider=provider_from_settings(settings), clock=clock)


async def _setup(rapport: Rapport, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Alex knows Dana (with a note, a conversation and an email) and Lee; Blake knows Dana too."""
    for line in ("add Dana Scully client at Acme every 2 weeks",
                 "note Dana: hiking trip in Yosemite after tomorrow",
                 "note Dana: allergic to peanuts",
                 "log Dana yesterday: coffee, talked about the Q3 roadmap",
                 "add Lee Adama colleague", "note Lee: secret reorg plans after tomorrow"):
        assert (await rapport.handle_text(ALEX, line)).ok, line
    for line in ("add Dana Mulder", "note Dana: Blake's private note after tomorrow"):
        assert (await rapport.handle_text(BLAKE, line)).ok, line
    async with sessions() as session, session.begin():
        await session.execute(update(Contact).values(email="dana@example.com",
                                                     platform_user_id="UDANA"))


async def _dana(sessions: async_sessionmaker[AsyncSession], ctx: UserContext) -> int:
    async with sessions() as session:
        contact_id = await session.scalar(select(Contact.id).where(
            Contact.user_id == ctx.user_id, Contact.name == "Dana Scully"))
    assert contact_id is not None
    return contact_id


async def _draft(rapport: Rapport, actor: Actor = ALEX, who: str = "Dana") -> Reply:
    return await rapport.handle_text(actor, f"draft {who}")


def _sent_text(fake: FakeOpenAI) -> str:
    return json.dumps(fake.last_request.json, ensure_ascii=False)


async def test_request_body_holds_only_the_minimum(
        fake_openai_env: FakeOpenAI, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    await rapport.handle_text(ALEX, "settings tone formal")
    reply = await _draft(rapport)
    assert reply.draft is not None and not reply.draft.is_template
    assert reply.draft.text == "Hi! It's been a while, how did the launch go?"
    assert reply.draft.provider == "openai-compatible" and reply.draft.model == FAKE_MODEL
    request = fake_openai_env.last_request
    assert request.path == "/v1/chat/completions"
    assert set(request.json) == {"model", "messages"}
    assert [m["role"] for m in request.messages] == ["system", "user"]
    user_part = request.messages[1]["content"]
    assert user_part.splitlines() == [
        "Contact's first name: Dana", "Contact's company: Acme",
        "Topic to ask about: hiking trip in Yosemite",
        "Last conversation: talked about the Q3 roadmap"]
    assert "polite and professional" in request.messages[0]["content"]
    sent = _sent_text(fake_openai_env)
    for secret in ("Scully", "dana@example.com", "UDANA", "peanuts", "Lee", "reorg", "Blake",
                   "Mulder", "alex", "Alex"):
        assert secret not in sent, secret
    async with sessions() as session:
        draft = (await session.scalars(select(Draft))).one()
    assert json.loads(draft.sent_context or "null") == request.json
    assert draft.provider == "openai-compatible" and draft.model == FAKE_MODEL


async def test_nudge_draft_uses_the_nudge_note(
        fake_openai_env: FakeOpenAI, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    ctx = await rapport.user_context(ALEX)
    dana = await _dana(sessions, ctx)
    async with sessions() as session, session.begin():
        note_id = await session.scalar(select(Note.id).where(Note.text == "allergic to peanuts"))
        nudge = Nudge(workspace_id=ctx.workspace_id, user_id=ctx.user_id, contact_id=dana,
                      note_id=note_id, reason="follow_up", dedupe_key="t", due_at=clock(),
                      deliver_after=clock(), status="sent", created_at=clock())
        session.add(nudge)
        await session.flush()
        nudge_id = nudge.id
    reply = await rapport.execute(ALEX, c.nudge_button("draft", nudge_id))
    assert reply.draft is not None and reply.draft.nudge_id == nudge_id
    assert "Topic to ask about: allergic to peanuts" in fake_openai_env.last_request.messages[1][
        "content"]
    typed = await rapport.handle_text(ALEX, f"draft #{nudge_id}")
    assert typed.draft is not None and typed.draft.nudge_id == nudge_id
    # Blake cannot draft from Alex's nudge: refused before anything is sent.
    before = len(fake_openai_env.requests)
    refused = await rapport.execute(BLAKE, c.nudge_button("draft", nudge_id))
    assert not refused.ok and refused.draft is None
    assert not (await rapport.handle_text(BLAKE, f"draft #{nudge_id}")).ok
    assert len(fake_openai_env.requests) == before


@pytest.mark.parametrize("switch", ["user", "workspace"])
async def test_ai_off_sends_nothing_and_offers_a_template(
        switch: str, fake_openai_env: FakeOpenAI, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    if switch == "user":
        assert (await rapport.handle_text(ALEX, "settings ai off")).ok
    else:
        async with sessions() as session, session.begin():
            await session.execute(update(Workspace).values(ai_enabled=False))
    reply = await _draft(rapport)
    assert fake_openai_env.requests == []
    assert reply.draft is not None and reply.draft.is_template
    assert reply.draft.provider == "template"
    assert "Template draft" in reply.text and "turned off" in reply.draft.notice \
        if switch == "workspace" else "settings ai on" in reply.draft.notice
    assert "hiking trip in Yosemite" in reply.draft.text
    async with sessions() as session:
        draft = (await session.scalars(select(Draft))).one()
    assert draft.sent_context is None and draft.provider == "template"


async def test_template_without_provider(rapport: Rapport, clock: Clock,
                                         sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await _setup(rapport, sessions)
    reply = await _draft(rapport)
    assert reply.draft is not None and reply.draft.is_template
    # Issue 14 (item 9): the trip is tomorrow, so the draft never asks "How did it go?".
    assert reply.draft.text == ("Hi Dana! I've been thinking about the hiking trip in Yosemite "
                                "you mentioned. Hope it goes great!")
    assert reply.text.startswith("Template draft for Dana Scully")
    await rapport.handle_text(ALEX, "settings tone brief")
    brief = await _draft(rapport)
    assert brief.draft is not None
    assert brief.draft.text == "Hi Dana, good luck with the hiking trip in Yosemite!"
    clock.advance(days=3)  # after the trip
    after = await _draft(rapport)
    assert after.draft is not None
    assert after.draft.text == "Hi Dana, how did the hiking trip in Yosemite go?"
    lee = await _draft(rapport, who="Lee")
    assert lee.draft is not None and "secret reorg plans" in lee.draft.text


async def test_azure_path(fake_azure_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
                          sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    reply = await _draft(rapport)
    assert reply.draft is not None and reply.draft.provider == "azure-openai"
    assert reply.draft.model == FAKE_DEPLOYMENT
    request = fake_azure_openai_env.last_request
    assert request.deployment == FAKE_DEPLOYMENT and request.api_version == FAKE_API_VERSION
    assert request.headers["api-key"] == fake_azure_openai_env.api_key


async def test_rate_limit_then_success(fake_openai_env: FakeOpenAI, rapport: Rapport,
                                       clock: Clock,
                                       sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    fake_openai_env.fail_next(429, retry_after=0.01)
    reply = await _draft(rapport)
    assert len(fake_openai_env.requests) == 2
    assert reply.draft is not None and not reply.draft.is_template


@pytest.mark.parametrize("failure", ["500", "timeout"])
async def test_provider_failure_gives_a_clear_message_and_a_template(
        failure: str, fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = await _service(sessions, clock, ai_timeout_seconds=0.3)
    await _setup(rapport, sessions)
    if failure == "500":
        fake_openai_env.fail_next(500, count=5, retry_after=0.01)
        expected = "had a problem"
    else:
        fake_openai_env.latency = 5
        expected = "took too long"
    answered = fake_openai_env.answered
    reply = await _draft(rapport)
    if failure == "timeout":
        # The draft gave up on its own timeout: the provider had not answered yet.
        assert fake_openai_env.answered == answered
    assert reply.ok and reply.draft is not None and reply.draft.is_template
    assert expected in reply.text and "template" in reply.text
    assert 1 <= len(fake_openai_env.requests) <= 3  # bounded retries
    async with sessions() as session:
        draft = (await session.scalars(select(Draft))).one()
    assert draft.provider == "template" and draft.sent_context is None
    # The rest of the bot keeps working.
    assert (await rapport.handle_text(ALEX, "people")).ok


@pytest.mark.parametrize("odd", ["broadcast", "huge", "odd_unicode", "empty"])
async def test_odd_model_answers_are_sanitised(
        odd: str, fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    fake_openai_env.reply_text = {
        "broadcast": BROADCAST_MENTIONS_REPLY + " <@UDANA> <!subteam^S1|@team> @channel hi",
        "huge": HUGE_REPLY, "odd_unicode": ODD_UNICODE_REPLY, "empty": ""}[odd]
    reply = await _draft(rapport)
    assert reply.draft is not None
    text = reply.draft.text
    for bad in ("<!", "@here", "@channel", "@everyone", "<@U999>", "\u202e", "\u0000",
                "\u200d", "\u2028"):
        assert bad not in text
    assert len(text) <= MAX_DRAFT_CHARS
    if odd == "broadcast":
        assert text == "hi <@UDANA> hi"
    elif odd == "huge":
        assert len(text) == MAX_DRAFT_CHARS and text.endswith("…")
    elif odd == "odd_unicode":
        assert text.startswith("Hi Ana") and "Zoé" in text and "\nnext line" in text
    else:
        assert reply.draft.is_template and "nothing usable" in reply.text


def test_sanitise_and_normalise_edges() -> None:
    assert sanitise("<!<!here>here> x @@here, <at>Bo</at>") == "x @, Bo"
    assert sanitise("<@UX|bob> hi", allowed_mention="UX") == "<@UX> hi"
    assert sanitise("“Hi Dana”") == "Hi Dana"
    assert normalise("  Hi,   DANA!\n") == normalise("hi dana") == "hi dana"
    assert normalise("Hi Dana") != normalise("Hi Dana, long time")


async def _ai_draft(fake: FakeOpenAI, rapport: Rapport, sessions: async_sessionmaker[AsyncSession],
                    clock: Clock, policy: str = "optional") -> tuple[DraftService, int, str]:
    service = await _service(sessions, clock)
    rapport.drafter = service
    await _setup(rapport, sessions)
    async with sessions() as session, session.begin():
        await session.execute(update(Workspace).values(disclosure_policy=policy))
    reply = await _draft(rapport)
    assert reply.draft is not None and not reply.draft.is_template
    return service, reply.draft.draft_id, reply.draft.text


async def test_unchanged_refused_edited_accepted(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock, engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    service, draft_id, text = await _ai_draft(fake_openai_env, rapport, sessions, clock)
    before = await snapshot(engine)
    for same in (text, text.upper(), "  hi   its been a while how did the launch go  "):
        refused = await service.finish(ALEX, draft_id, same, "post")
        assert not refused.ok and refused.retry and refused.message == UNCHANGED
    empty = await service.finish(ALEX, draft_id, "   ", "post")
    assert not empty.ok and empty.retry
    assert await snapshot(engine) == before
    edited = "Hi Dana! It's been a while, how did the Yosemite trip go?"
    done = await service.finish(ALEX, draft_id, edited, "post", disclose=False)
    assert done.ok and done.outcome == "posted" and done.text == edited
    assert done.contact_platform_user_id == "UDANA"
    async with sessions() as session:
        draft = (await session.scalars(select(Draft))).one()
    assert draft.outcome == "posted" and draft.final_text == edited
    assert draft.edit_distance is not None and draft.edit_distance > 5
    assert draft.finished_at == clock() and draft.disclosure is False
    again = await service.finish(ALEX, draft_id, edited + "!", "post")
    assert not again.ok and "already" in again.message


async def test_writing_from_scratch_and_discard(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    service = DraftService(sessions=sessions, clock=clock)
    rapport.drafter = service
    await _setup(rapport, sessions)
    first = await _draft(rapport)
    second = await _draft(rapport)
    assert first.draft is not None and second.draft is not None
    own = await service.finish(ALEX, first.draft.draft_id, "Coffee Thursday?", "copy")
    assert own.ok and own.outcome == "copied" and own.text == "Coffee Thursday?"
    assert not own.disclosed  # templates are not AI
    gone = await service.finish(ALEX, second.draft.draft_id, "", "discard")
    assert gone.ok and gone.outcome == "discarded"
    async with sessions() as session:
        rows = {d.id: d for d in (await session.scalars(select(Draft))).all()}
    assert rows[second.draft.draft_id].outcome == "discarded"
    assert rows[second.draft.draft_id].final_text is None


@pytest.mark.parametrize(("policy", "disclose", "expected"), [
    ("required", False, True), ("optional", True, True), ("optional", False, False),
    ("off", True, False)])
async def test_disclosure_follows_the_policy(
        policy: str, disclose: bool, expected: bool, fake_openai_env: FakeOpenAI,
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    service, draft_id, _ = await _ai_draft(fake_openai_env, rapport, sessions, clock, policy)
    done = await service.finish(ALEX, draft_id, "Hey Dana, how was Yosemite?", "post", disclose)
    assert done.ok and done.disclosed is expected
    assert done.text.endswith(DISCLOSURE_LINE) is expected
    async with sessions() as session:
        draft = (await session.scalars(select(Draft))).one()
    assert draft.disclosure is expected and draft.final_text == done.text


async def test_another_users_draft_is_refused(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock, engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    service, draft_id, _ = await _ai_draft(fake_openai_env, rapport, sessions, clock)
    blake_ctx = await rapport.user_context(BLAKE)
    before = await snapshot(engine)
    for who in (BLAKE, blake_ctx, console_user("nobody")):
        for outcome in ("post", "discard"):
            refused = await service.finish(who, draft_id, "Totally different text", outcome)
            assert not refused.ok and "can't find" in refused.message
    assert await snapshot(engine) == before
    async with sessions() as session:
        assert await session.scalar(select(User.id).where(User.external_id == "nobody")) is None


async def test_export_lists_what_was_sent_to_which_provider(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = await _service(sessions, clock)
    await _setup(rapport, sessions)
    await _draft(rapport)
    await rapport.handle_text(ALEX, "settings ai off")
    await _draft(rapport)  # a template: nothing sent, so nothing listed
    reply = await rapport.handle_text(ALEX, "export")
    assert reply.attachment is not None
    data = json.loads(reply.attachment.data)
    assert len(data["drafts"]) == 2
    [sent] = data["sent_to_ai_providers"]
    assert sent["provider"] == "openai-compatible" and sent["model"] == FAKE_MODEL
    assert sent["sent"] == fake_openai_env.last_request.json
    blake = json.loads((await rapport.handle_text(BLAKE, "export")).attachment.data)  # type: ignore[union-attr]
    assert blake["sent_to_ai_providers"] == [] and blake["drafts"] == []


async def test_logs_never_hold_draft_text_or_prompts(
        fake_openai_env: FakeOpenAI, rapport: Rapport, clock: Clock,
        sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    service, draft_id, text = await _ai_draft(fake_openai_env, rapport, sessions, clock)
    fake_openai_env.fail_next(500, count=3, retry_after=0.01)
    await _draft(rapport)
    await service.finish(ALEX, draft_id, "Secret edited words about Yosemite", "post")
    # Our loggers and the SDK's (which would log whole request bodies at DEBUG).
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records
                       if r.name.startswith(("rapport", "openai", "httpx", "httpcore")))
    assert "draft finished" in logged
    for private in (text, "Yosemite", "hiking", "Q3 roadmap", "Contact's first name"):
        assert private not in logged


async def test_build_runtime_wires_the_drafter(fake_openai_env: FakeOpenAI, tmp_path: object,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from rapport.bot.service.runtime import build_runtime

    url = f"sqlite+aiosqlite:///{tmp_path}/wired.db"
    runtime = await build_runtime(Settings(RAPPORT_DATABASE_URL=url))  # type: ignore[call-arg]
    try:
        drafter = runtime.rapport.drafter
        assert isinstance(drafter, DraftService) and drafter.provider is not None
        assert (await runtime.rapport.handle_text(ALEX, "add Dana")).ok
        reply = await runtime.rapport.handle_text(ALEX, "draft Dana")
        assert reply.draft is not None and not reply.draft.is_template
        assert len(fake_openai_env.requests) == 1
    finally:
        await runtime.close()
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name)
    runtime = await build_runtime(Settings(RAPPORT_DATABASE_URL=url))  # type: ignore[call-arg]
    try:
        reply = await runtime.rapport.handle_text(ALEX, "draft Dana")
        assert reply.draft is not None and reply.draft.is_template
    finally:
        await runtime.close()


def test_cli_turns_ai_off_for_a_workspace(tmp_path: object,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from typer.testing import CliRunner

    from rapport.bot.service.cli import app
    from rapport.storage import db

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)

    async def _rows() -> list[tuple[str, bool, str]]:
        engine = db.create_engine(url)
        await db.upgrade(engine)
        rapport = Rapport(sessions=db.session_factory(engine))
        await rapport.user_context(ALEX)
        await rapport.user_context(Actor("slack", "T1", "U1"))
        async with engine.connect() as connection:
            rows = (await connection.execute(
                select(Workspace.external_id, Workspace.ai_enabled, Workspace.disclosure_policy)
                .order_by(Workspace.external_id))).all()
        await engine.dispose()
        return [tuple(row) for row in rows]  # type: ignore[misc]

    assert asyncio.run(_rows()) == [("T1", True, "optional"), ("local", True, "optional")]
    result = CliRunner().invoke(app, ["workspace-ai", "--ai", "off", "--disclosure", "required",
                                      "--platform", "slack", "--workspace", "T1"])
    assert result.exit_code == 0 and "Updated 1 workspace(s)." in result.output
    assert asyncio.run(_rows()) == [("T1", False, "required"), ("local", True, "optional")]
    bad = CliRunner().invoke(app, ["workspace-ai", "--ai", "maybe"])
    assert bad.exit_code != 0
