""""Who is due" must stay an index range scan, not a walk over every contact or nudge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import ACTIVE_NUDGE_STATUSES, Contact, ImportantDate, Note, Nudge

NOW = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(("query", "index"), [
    (select(Contact.id).where(Contact.plan_at <= NOW).order_by(Contact.plan_at),
     "ix_contacts_plan_at"),
    (select(Note.id).where(Note.plan_at <= NOW).order_by(Note.plan_at), "ix_notes_plan_at"),
    (select(ImportantDate.id).where(ImportantDate.plan_at <= NOW),
     "ix_important_dates_plan_at"),
    (select(Nudge.id).where(Nudge.status.in_(ACTIVE_NUDGE_STATUSES), Nudge.deliver_after <= NOW)
     .order_by(Nudge.deliver_after), "ix_nudges_active_deliver_after"),
])
async def test_sweep_queries_use_their_partial_index(engine: AsyncEngine, query: object,
                                                     index: str) -> None:
    async with engine.connect() as connection:
        compiled = query.compile(engine.sync_engine,  # type: ignore[attr-defined]
                                 compile_kwargs={"literal_binds": True})
        plan = (await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert f"USING INDEX {index}" in details or f"USING COVERING INDEX {index}" in details, \
        details


async def test_the_sweeps_claim_reads_through_the_active_nudges_index(
        engine: AsyncEngine) -> None:
    # The claim's joined read, as prepared: its status condition must be the partial index's
    # own, spelled with literals (a bound status list would not prove the index applies).
    from rapport.scheduler.delivery import _DELIVERABLE

    sql = str(_DELIVERABLE.compile(engine.sync_engine))
    async with engine.connect() as connection:
        plan = (await connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {sql}",
            (NOW.isoformat(" "), '["console", "slack"]', 500, 0))).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH nudges USING INDEX ix_nudges_active_deliver_after" in details, details
    assert "TEMP B-TREE" not in details, details  # read in order, not sorted


async def test_the_brief_jobs_read_walks_only_meetings_still_to_brief(engine: AsyncEngine
                                                                      ) -> None:
    """Every minute the brief job reads everyone's next two hours: through the partial index
    of meetings still to brief, not one of every meeting's start (which a first sync filled
    with its whole past week)."""
    from sqlalchemy.dialects import sqlite

    from rapport.bot.connectors.calendars.briefs import upcoming_query

    compiled = upcoming_query(NOW, NOW).compile(dialect=sqlite.dialect(paramstyle="named"))
    async with engine.connect() as connection:
        plan = (await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"),
                                         dict.fromkeys(compiled.params, "x"))).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH captured_events USING INDEX ix_captured_events_unbriefed_start_at" \
        in details, details
