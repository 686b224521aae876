"""Retention: old touchpoint summaries, notes and what drafts sent to AI providers go;
everything else (and other tenants) stays."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rapport.bot.core.context import Actor
from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.report import build_report, draft_measures
from rapport.bot.platforms.console.chat import ConsoleChat
from rapport.bot.service.cli import app
from rapport.scheduler.retention import (
    apply_retention,
    months_before,
    retention_job,
    set_retention,
)
from rapport.storage import db
from rapport.storage.models import Contact, Draft, Note, Nudge, Touchpoint, Workspace
from tests.bot import seed
from tests.conftest import Clock, console_user, say, snapshot


async def _history(rapport: Rapport, actor: Actor, now: datetime) -> None:
    ctx = await rapport.user_context(actor)
    ids = (ctx.workspace_id, ctx.user_id)
    async with rapport.sessions() as session, session.begin():
        dana = seed.contact(ids, "Dana", now - timedelta(days=800))
        await seed.add_all(session, dana)
        old_note = seed.note(dana, "old secret: divorce", now - timedelta(days=400))
        new_note = seed.note(dana, "recent: new puppy", now - timedelta(days=300))
        await seed.add_all(
            session, old_note, new_note,
            seed.touch(dana, now - timedelta(days=400), "old summary about health"),
            seed.touch(dana, now - timedelta(days=300), "recent summary"))
        await seed.add_all(
            session,
            seed.nudge(dana, "done", now - timedelta(days=399), note_id=old_note.id,
                       delivered=now - timedelta(days=399), acted=now - timedelta(days=399)),
            seed.nudge(dana, "planned", now + timedelta(days=1), note_id=old_note.id))


async def test_old_summaries_and_notes_are_removed(any_engine: AsyncEngine, clock: Clock
                                                   ) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    now = clock.now
    await _history(rapport, console_user(), now)
    other = Actor(platform="slack", workspace_external_id="T2", user_external_id="U2")
    await _history(rapport, other, now)
    async with sessions() as session, session.begin():
        await session.execute(update(Workspace).where(Workspace.platform == "console")
                              .values(retention_months=12))
    report = await apply_retention(sessions, now)
    assert (report.workspaces, report.summaries_cleared, report.notes_deleted) == (1, 1, 1)
    async with sessions() as session:
        rows = (await session.execute(
            select(Workspace.platform, Touchpoint.summary)
            .join(Workspace, Workspace.id == Touchpoint.workspace_id)
            .order_by(Workspace.platform, Touchpoint.happened_at))).all()
        notes = (await session.execute(
            select(Workspace.platform, Note.text).join(Workspace, Workspace.id == Note.workspace_id)
            .order_by(Workspace.platform, Note.created_at))).all()
        nudges = (await session.execute(
            select(Workspace.platform, Nudge.status, Nudge.note_id)
            .join(Workspace, Workspace.id == Nudge.workspace_id)
            .order_by(Workspace.platform, Nudge.id))).all()
    assert [tuple(r) for r in rows] == [
        ("console", None), ("console", "recent summary"),  # the touchpoint itself stays
        ("slack", "old summary about health"), ("slack", "recent summary")]
    assert [tuple(n) for n in notes] == [("console", "recent: new puppy"),
                                         ("slack", "old secret: divorce"),
                                         ("slack", "recent: new puppy")]
    # The delivered nudge stays for stats without its note; the pending one is gone.
    assert [(p, s, n is None) for p, s, n in nudges] == [
        ("console", "done", True), ("slack", "done", False), ("slack", "planned", False)]
    before = await snapshot(any_engine)
    again = await apply_retention(sessions, now)
    assert (again.summaries_cleared, again.notes_deleted) == (0, 0)
    assert await snapshot(any_engine) == before


async def test_what_old_drafts_sent_to_the_ai_provider_is_cleared(
        any_engine: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    now = clock.now
    sent = '{"first_name": "Dana", "topic": "old secret: divorce"}'
    for actor in (console_user(), Actor(platform="slack", workspace_external_id="T2",
                                        user_external_id="U2")):
        ctx = await rapport.user_context(actor)
        async with sessions() as session, session.begin():
            dana = seed.contact((ctx.workspace_id, ctx.user_id), "Dana", now)
            await seed.add_all(session, dana)
            for age in (400, 300):
                old = seed.draft(dana, "copied", 4, now - timedelta(days=age))
                old.provider, old.sent_context = "openai", sent
                await seed.add_all(session, old)
    async with sessions() as session, session.begin():
        await session.execute(update(Workspace).where(Workspace.platform == "console")
                              .values(retention_months=12))

    report = await apply_retention(sessions, now)

    assert report.contexts_cleared == 1
    async with sessions() as session:
        rows = (await session.execute(
            select(Workspace.platform, Draft.sent_context, Draft.outcome, Draft.edit_distance)
            .join(Workspace, Workspace.id == Draft.workspace_id)
            .order_by(Workspace.platform, Draft.created_at))).all()
    # The outcome and edit distance stay for stats; only what was sent goes, and only there.
    assert [tuple(r) for r in rows] == [("console", None, "copied", 4),
                                        ("console", sent, "copied", 4),
                                        ("slack", sent, "copied", 4),
                                        ("slack", sent, "copied", 4)]


async def _export(rapport: Rapport) -> dict[str, Any]:
    reply = await rapport.handle_text(console_user(), "export")
    assert reply.attachment is not None
    exported: dict[str, Any] = json.loads(reply.attachment.data)
    return exported


async def _console(rapport: Rapport, *lines: str) -> str:
    """The console chat, typed as a person would; what it printed."""

    async def typed() -> AsyncIterator[str]:
        for line in lines:
            yield line

    printed: list[str] = []
    await ConsoleChat(rapport=rapport, actor=console_user(), lines=typed(),
                      write=printed.append).run()
    return "".join(printed)


async def test_old_drafts_lose_their_text_and_keep_their_outcome(
        any_engine: AsyncEngine, clock: Clock) -> None:
    """A draft quotes the note it was made from, and what the person sent quotes it too:
    retention deletes the note, so both texts go, while what `stats` counts stays."""
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    sent = "Hi Dana, how was Yosemite? Send me a photo of the trail!"
    out = await _console(rapport, "settings window 0:00-24:00", "settings days all",
                         "add Dana Scully colleague every 2 weeks",
                         "note Dana: hiking trip in Yosemite on today",
                         "log Dana yesterday: coffee about the secret merger plan",
                         "draft Dana", sent)
    assert "hiking trip in Yosemite" in out and f"copy and send to Dana:\n\n  {sent}" in out
    ctx = await rapport.user_context(console_user())
    clock.advance(days=400)
    stats_before = await say(rapport, "stats")
    assert "sent after your edits (avg" in stats_before
    [made] = (await _export(rapport))["drafts"]
    assert made["draft_length"] == len(made["draft_text"]) > 20
    assert made["cleared_by_retention"] is False
    assert await set_retention(sessions, ctx.workspace_id, 12)

    report = await apply_retention(sessions, clock.now)

    exported = await _export(rapport)
    text = json.dumps(exported, ensure_ascii=False)
    for gone in ("Yosemite", "hiking", "merger", "trail", "Send me", "\u2588"):
        assert gone not in text, gone
    assert (report.notes_deleted, report.summaries_cleared, report.drafts_cleared) == (1, 1, 1)
    [draft] = exported["drafts"]
    assert (draft["outcome"], draft["draft_text"], draft["final_text"], draft["sent_context"],
            draft["cleared_by_retention"]) == ("copied", None, None, None, True)
    assert draft["edit_distance"] > 10 and draft["finished_at"] is not None
    assert draft["draft_length"] == made["draft_length"]
    # The share rewritten is the edit distance over the draft's length: that length stays.
    assert await say(rapport, "stats") == stats_before
    before = await snapshot(any_engine)
    again = await apply_retention(sessions, clock.now)
    assert (again.notes_deleted, again.drafts_cleared, again.contexts_cleared) == (0, 0, 0)
    assert await snapshot(any_engine) == before


async def test_undo_keeps_no_old_draft_text_and_still_brings_back_a_cleared_one(
        any_engine: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await _console(rapport, "add Dana Scully", "draft Dana", "Dana! Lunch at the old place?",
                   "add Lee Park", "draft Lee", "Lee, coffee on Friday?")
    ctx = await rapport.user_context(console_user())
    assert await set_retention(sessions, ctx.workspace_id, 12)
    clock.advance(days=400)
    # Forgotten before retention ran: what `undo` keeps of her holds her draft's texts.
    await say(rapport, "forget Dana Scully confirm")

    report = await apply_retention(sessions, clock.now)

    assert (report.undo_entries_emptied, report.drafts_cleared) == (1, 1)
    refused = await rapport.handle_text(console_user(), "undo")
    assert "can't be undone" in refused.text
    # Forgotten after retention: his draft holds no text any more, so `undo` still works.
    await say(rapport, "forget Lee Park confirm")
    assert (await apply_retention(sessions, clock.now)).undo_entries_emptied == 0
    assert "Lee Park" in await say(rapport, "undo")
    async with sessions() as session:
        [(text, final, length)] = (await session.execute(
            select(Draft.draft_text, Draft.final_text, Draft.draft_length)))
    assert (text, final) == (None, None) and length > 0
    exported = (await rapport.handle_text(console_user(), "export")).attachment
    assert exported is not None
    assert b"Lunch" not in exported.data and b"coffee" not in exported.data
    # Forgotten and brought back again after retention: the same cleared draft, its length kept.
    await say(rapport, "forget Lee Park confirm")
    assert "Lee Park" in await say(rapport, "undo")
    async with sessions() as session:
        assert (await session.execute(select(Draft.draft_text, Draft.draft_length))).one() \
            == (None, length)


async def test_share_rewritten_stays_after_retention(any_engine: AsyncEngine, clock: Clock
                                                     ) -> None:
    """`stats` and the team report count the share of a draft rewritten as its edit
    distance over its length: retention removes the text and neither number moves."""
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    made = clock.now - timedelta(days=400)
    for number in range(5):
        ctx = await rapport.user_context(console_user(f"user{number}"))
        async with sessions() as session, session.begin():
            dana = seed.contact((ctx.workspace_id, ctx.user_id), "Dana", made)
            await seed.add_all(session, dana)
            await seed.add_all(session, *(
                seed.draft(dana, "posted", distance, made, text="x" * 100)
                for distance in (30 + number, 60)))
    stats_before = await say(rapport, "stats", console_user("user0"))
    assert "sent after your edits (avg 45% rewritten)" in stats_before
    report_before = dict(draft_measures(await build_report(sessions, ctx.workspace_id,
                                                           clock.now)))
    assert report_before["average share rewritten"] == "46%"
    assert await set_retention(sessions, ctx.workspace_id, 12)

    assert (await apply_retention(sessions, clock.now)).drafts_cleared == 10

    async with sessions() as session:
        assert set((await session.execute(select(Draft.draft_text, Draft.draft_length))).all()) \
            == {(None, 100)}
    assert await say(rapport, "stats", console_user("user0")) == stats_before
    assert dict(draft_measures(await build_report(sessions, ctx.workspace_id, clock.now))) \
        == report_before


async def test_a_draft_cleared_before_it_was_finished_can_only_be_discarded(
        any_engine: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    drafter = rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await say(rapport, "add Dana Scully")
    ctx = await rapport.user_context(console_user())
    async with sessions() as session:
        dana = await session.scalar(select(Contact.id))
    assert dana is not None
    drafted = await drafter.draft_for(ctx, dana, None)
    assert drafted.draft is not None
    draft_id = drafted.draft.draft_id
    clock.advance(days=400)
    assert await set_retention(sessions, ctx.workspace_id, 12)
    assert (await apply_retention(sessions, clock.now)).drafts_cleared == 1

    reopened = await drafter.reopen(ctx, draft_id)
    assert reopened.draft is None and "removed by the workspace's retention" in reopened.text
    sent = await drafter.finish(ctx, draft_id, "Dana, lunch on Friday?", "copy")
    assert not sent.ok and "removed by the workspace's retention" in sent.message
    assert (await drafter.finish(ctx, draft_id, "", "discard")).ok
    async with sessions() as session:
        assert (await session.execute(select(Draft.outcome, Draft.draft_text))).one() == \
            ("discarded", None)


async def test_retention_reaches_the_undo_journals_copies(any_engine: AsyncEngine,
                                                          clock: Clock) -> None:
    """A before-image in the undo journal is a copy of what retention deletes: neither
    `export` nor `undo` may bring an old note or summary back."""
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    await _history(rapport, console_user(), clock.now)
    async with sessions() as session:
        notes = {text: note_id for note_id, text in (await session.execute(
            select(Note.id, Note.text))).all()}
        [old_touch] = (await session.scalars(select(Touchpoint.id).where(
            Touchpoint.summary == "old summary about health"))).all()
    # Corrections made a week before retention is turned on keep the old text for undo.
    await say(rapport, f"edit t{old_touch}: a checkup")
    await say(rapport, f"edit n{notes['recent: new puppy']}: recent: the puppy grew")
    await say(rapport, f"delete n{notes['old secret: divorce']}")
    async with sessions() as session, session.begin():
        await session.execute(update(Workspace).values(retention_months=12))

    report = await apply_retention(sessions, clock.now)

    assert report.undo_entries_emptied == 2
    reply = await rapport.handle_text(console_user(), "export")
    assert reply.attachment is not None
    exported = reply.attachment.data.decode()
    assert "old secret" not in exported and "old summary about health" not in exported
    assert "recent: new puppy" in exported  # inside retention: undo keeps it
    refused = await rapport.handle_text(console_user(), "undo")
    assert refused.text == (
        f"Your last change (deleted note n{notes['old secret: divorce']} about Dana, since "
        "removed by the workspace's retention) can't be undone. Nothing changed.")
    async with sessions() as session:
        assert set((await session.scalars(select(Note.text))).all()) == {
            "recent: the puppy grew"}


async def test_job_function_swallows_errors_and_applies(rapport: Rapport, clock: Clock) -> None:
    await _history(rapport, console_user(), clock.now)
    async with rapport.sessions() as session, session.begin():
        await session.execute(update(Workspace).values(retention_months=6))
    await retention_job(rapport.sessions, clock)()
    async with rapport.sessions() as session:
        assert await session.scalar(select(Note.text)) is None
        assert await session.scalar(select(Touchpoint.summary).where(
            Touchpoint.summary.is_not(None))) is None


def test_months_before_clamps_month_ends() -> None:
    assert months_before(datetime(2026, 3, 31, 12, tzinfo=UTC), 1) == \
        datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15,
                                                                             tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import shutil

    target = tmp_path / "cli.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    return url


def test_cli_sets_retention_and_refuses_unknown_workspace(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["retention", "--workspace", "slack:TNOPE", "--months", "6"])
    assert result.exit_code == 2 and "No workspace 'slack:TNOPE'" in result.output
    # The console workspace appears on first import; then retention can be set on it.
    import_file = Path(db_url.split(":///")[1]).parent / "c.csv"
    import_file.write_text("name\nDana\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(import_file), "--user",
                               "console:local:alex"]).exit_code == 0
    result = runner.invoke(app, ["retention", "--workspace", "console:local", "--months", "6",
                                 "--apply-now"])
    assert result.exit_code == 0, result.output
    assert "older than 6 month(s)" in result.output and "Cleared 0 summaries" in result.output

    async def months() -> int | None:
        engine = db.create_engine(db_url)
        async with engine.connect() as connection:
            value = await connection.scalar(select(Workspace.retention_months))
        await engine.dispose()
        return value

    import asyncio

    assert asyncio.run(months()) == 6
    assert runner.invoke(app, ["retention", "--workspace", "1", "--months", "0"]).exit_code == 0
    assert asyncio.run(months()) is None
