"""Run lines as people type them through the console chat and read what was stored via export.

Every case starts from the same small world (eight people, a few nudges, a note and a
conversation, see `seed_world`), types its `given` lines, then its line, and compares the
export before and after that line. The stored rows are written compactly, one string each
("touch: Dana Scully | 2026-11-22 | coffee | -"), so the table in `phrases.yaml` reads like
what a person would check by hand.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply
from rapport.bot.platforms.console.chat import ConsoleChat
from rapport.storage import db
from rapport.storage.models import Contact, Note, Nudge, Touchpoint, UndoEntry
from tests.conftest import Clock, console_user, copy_database

# Eight colleagues and clients, as in the issue.
PEOPLE = ("add Dana Scully colleague every 2 weeks", "add Lee Park client at Acme",
          "add Priya Natarajan", "add Marco Rossi client at Globex", "add Sam Okafor",
          "add Ana Lima client at Initech", "add Tom Becker", "add Mei Chen")
ACTOR = console_user("alex")


async def seed_world(path: Path, clock: Clock) -> None:
    """The world every case starts from, in the database file at `path` (migrated)."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
        for line in PEOPLE:
            reply = await rapport.handle_text(ACTOR, line)
            assert reply.ok, (line, reply.text)
        ctx = await rapport.user_context(ACTOR)
        now = clock.now
        async with db.session_factory(engine)() as session, session.begin():
            ids = {name: cid for cid, name in (await session.execute(
                Contact.__table__.select().with_only_columns(Contact.id, Contact.name)))}
            common = {"workspace_id": ctx.workspace_id, "user_id": ctx.user_id}
            # n1 and n2; t1.
            session.add(Note(id=1, contact_id=ids["Priya Natarajan"], text="the offsite",
                             follow_up_on=datetime(2026, 11, 27).date(),
                             event_on=datetime(2026, 11, 27).date(),
                             plan_at=datetime(2026, 11, 27, 9, 0, tzinfo=now.tzinfo),
                             created_at=now - timedelta(days=10), **common))
            session.add(Note(id=2, contact_id=ids["Dana Scully"],
                             text="hiking trip in Yosemite", created_at=now - timedelta(days=5),
                             **common))
            session.add(Touchpoint(id=1, contact_id=ids["Dana Scully"], kind="coffee",
                                   summary="Q3 roadmap",
                                   happened_at=datetime(2026, 11, 20, 12, 0,
                                                        tzinfo=now.tzinfo),
                                   source="command", created_at=now, **common))
            # Nudges #1-#3 about Tom, #4-#6 about Mei: delivered, waiting for an answer.
            for number in range(1, 7):
                name = "Tom Becker" if number <= 3 else "Mei Chen"
                due = now - timedelta(hours=10 - number)
                session.add(Nudge(id=number, contact_id=ids[name], reason="cadence",
                                  dedupe_key=f"seed:{number}", due_at=due, deliver_after=due,
                                  status="sent", snooze_count=0, attempts=1,
                                  delivered_at=due, created_at=due, **common))
            # A new session: nothing to undo yet.
            await session.execute(delete(UndoEntry))
    finally:
        await engine.dispose()


def compact(export: dict[str, Any]) -> set[str]:
    """The stored rows a person cares about, one string each."""
    names = {c["id"]: c["name"] for c in export["contacts"]}
    rows: set[str] = set()
    for c in export["contacts"]:
        cadence = (f"{c['cadence_months']} mo" if c["cadence_months"]
                   else f"{c['cadence_days']} d" if c["cadence_days"] else "-")
        rows.add(f"contact: {c['name']} | {c['kind']} | {c['company'] or '-'} | "
                 f"{c['email'] or '-'} | {cadence}")
        if c.get("role"):
            rows.add(f"role: {c['name']} | {c['role']}")
    for t in export["touchpoints"]:
        rows.add(f"touch: {names[t['contact_id']]} | {str(t['happened_at'])[:10]} | "
                 f"{t['kind']} | {t['summary'] or '-'}")
    for n in export["notes"]:
        rows.add(f"note: {names[n['contact_id']]} | {n['text']} | {n['follow_up_on'] or '-'}")
    for d in export["important_dates"]:
        rows.add(f"date: {names[d['contact_id']]} | {d['kind']} | "
                 f"{d['month']:02d}-{d['day']:02d} | {d['year'] or '-'}")
    for n in export["nudges"]:
        status = n["status"]
        if status == "snoozed":
            status += f" until {str(n['deliver_after'])[:16]}"
        rows.add(f"nudge #{n['id']}: {status}")
    user = export["user"]
    for key in ("tz", "window_start_minute", "window_end_minute", "working_days", "daily_cap",
                "digest", "ai_enabled", "tone", "weekly_summary"):
        rows.add(f"setting: {key}={user[key]}")
    paused = user["paused_until"]
    rows.add(f"setting: paused_until={str(paused)[:10] if paused else '-'}")
    return rows


@dataclass
class Outcome:
    """What one line did: the reply, and the rows it added and removed."""

    reply: Reply
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


async def _no_lines() -> AsyncIterator[str]:
    return
    yield ""  # pragma: no cover - makes this an async generator


def copy_world(template: Path, folder: Path) -> None:
    """A fresh copy of the world's database in `folder`."""
    folder.mkdir(parents=True)
    copy_database(template, folder / "rapport.db")


async def run_case(template: Path, folder: Path, clock: Clock, given: list[str],
                   line: str) -> Outcome:
    """Copy the world, type `given` then `line` in the console, and diff the exports."""
    copy_world(template, folder)
    engine = db.create_engine(f"sqlite+aiosqlite:///{folder / 'rapport.db'}")
    output: list[str] = []
    try:
        rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
        chat = ConsoleChat(rapport=rapport, actor=ACTOR, lines=_no_lines(),
                           write=output.append, export_dir=folder)
        for earlier in given:
            assert (await chat.answer(earlier)).ok, (earlier, "".join(output))
        before = await _export(chat, folder)
        reply = await chat.answer(line)
        after = await _export(chat, folder)
    finally:
        await engine.dispose()
    return Outcome(reply, after - before, before - after)


async def _export(chat: ConsoleChat, folder: Path) -> set[str]:
    reply = await chat.answer("export")
    assert reply.ok and reply.attachment is not None
    return compact(json.loads((folder / "rapport-export.json").read_text()))
