"""A workspace, a user and their contacts inserted straight into the tables, for storage tests
that need rows to point at."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from rapport.storage.models import Contact, User, Workspace


def insert_people(session: Session, now: datetime, *, names: Sequence[str] = ("Dana", "Lee"),
                  emails: Sequence[str | None] | None = None, workspace: str = "storage"
                  ) -> tuple[int, int, list[int]]:
    """(workspace id, user id, contact ids in `names` order), in a new workspace called
    `workspace`."""
    workspace_id = session.execute(insert(Workspace).values(
        platform="console", external_id=workspace, name=workspace, ai_enabled=True,
        disclosure_policy="optional", active=True, created_at=now)
        .returning(Workspace.id)).scalar_one()
    user = session.execute(insert(User).values(
        workspace_id=workspace_id, external_id="u", display_name="U", tz="UTC",
        tz_from_platform=True, window_start_minute=540, window_end_minute=1020,
        working_days=31, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
        weekly_summary=True, active=True, sent_day_count=0, created_at=now)
        .returning(User.id)).scalar_one()
    addresses = list(emails) if emails is not None else [None] * len(names)
    contacts = list(session.execute(
        insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [dict(
            workspace_id=workspace_id, user_id=user, name=name, name_key=name.lower(),
            kind="colleague", email=email, created_at=now)
            for name, email in zip(names, addresses, strict=True)]).scalars())
    return workspace_id, user, contacts
