"""Row builders for tests that need a hand-made history (stats, report, data rights)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.storage.models import Contact, Draft, Note, Nudge, Suggestion, Touchpoint
from rapport.storage.names import name_key

_keys = itertools.count(1)


def contact(ctx_ids: tuple[int, int], name: str, now: datetime, *, cadence: int | None = None,
            next_due: datetime | None = None, company: str | None = None) -> Contact:
    """A contact row for (workspace_id, user_id)."""
    workspace_id, user_id = ctx_ids
    return Contact(workspace_id=workspace_id, user_id=user_id, name=name, name_key=name_key(name),
                   kind="colleague", company=company, cadence_days=cadence, next_due_at=next_due,
                   plan_at=None, created_at=now)


def touch(c: Contact, at: datetime, summary: str | None = None) -> Touchpoint:
    return Touchpoint(workspace_id=c.workspace_id, user_id=c.user_id, contact_id=c.id,
                      happened_at=at, kind="chat", summary=summary, source="command",
                      created_at=at)


def note(c: Contact, text: str, at: datetime) -> Note:
    return Note(workspace_id=c.workspace_id, user_id=c.user_id, contact_id=c.id, text=text,
                created_at=at)


def nudge(c: Contact, status: str, due: datetime, *, delivered: datetime | None = None,
          acted: datetime | None = None, snoozes: int = 0, note_id: int | None = None) -> Nudge:
    return Nudge(workspace_id=c.workspace_id, user_id=c.user_id, contact_id=c.id,
                 note_id=note_id, reason="follow_up" if note_id else "cadence",
                 dedupe_key=f"test:{next(_keys)}", due_at=due, deliver_after=due, status=status,
                 snooze_count=snoozes, attempts=1 if delivered else 0, delivered_at=delivered,
                 acted_at=acted, created_at=due)


def draft(c: Contact, outcome: str | None, distance: int | None, at: datetime,
          nudge_id: int | None = None, text: str = "Hi there") -> Draft:
    return Draft(workspace_id=c.workspace_id, user_id=c.user_id, contact_id=c.id,
                 nudge_id=nudge_id, provider="template", draft_text=text,
                 final_text=text + "!" if distance else None, edit_distance=distance,
                 disclosure=False, outcome=outcome, created_at=at)


def suggestion(c: Contact, kind: str, at: datetime, *, proposed_days: int | None = None,
               about_contact: bool = True, status: str = "open") -> Suggestion:
    """A suggestion row of c's user (about c unless `about_contact` is False)."""
    return Suggestion(workspace_id=c.workspace_id, user_id=c.user_id,
                      contact_id=c.id if about_contact else None, kind=kind,
                      dedupe_key=f"test:{next(_keys)}", text=f"A {kind} suggestion.",
                      proposed_days=proposed_days, status=status, created_at=at)


async def add_all(session: AsyncSession, *rows: object) -> None:
    """Add and flush so ids are assigned."""
    session.add_all(rows)
    await session.flush()


# Distinctive strings in other people's data: an admin must never see one of them.
TEAM_SECRETS = ("Zebulon", "Quartermaine", "divorce lawyer", "chemo next week",
                "Hi Zeb, hope", "Initech")


async def seed_team_member(sessions: async_sessionmaker[AsyncSession], ids: tuple[int, int],
                           now: datetime, index: int) -> None:
    """One person's contact with a note, a summarised conversation, a nudge and a draft,
    all named with `TEAM_SECRETS` (for admin and team report tests)."""
    async with sessions() as session, session.begin():
        person = contact(ids, f"Zebulon{index} Quartermaine", now, cadence=7,
                         company="Initech", next_due=now + timedelta(days=3))
        await add_all(session, person)
        await add_all(session,
                      note(person, "divorce lawyer", now),
                      touch(person, now - timedelta(hours=1), "chemo next week"),
                      nudge(person, "done", now - timedelta(days=2),
                            delivered=now - timedelta(days=2),
                            acted=now - timedelta(days=2, hours=-1)),
                      draft(person, "posted", 7, now, text="Hi Zeb, hope all is well"))
