"""The `log` path's read of a contact (`queries.touch_state`, `contact_by_key_touched`) also
reads the newest meeting the calendar logged with them: through the partial index of calendar
touchpoints, not by walking every touchpoint the person typed for that contact.

Found reading the statement: for a contact with thousands of typed touchpoints and no meeting,
both planners walked all of that contact's entries in `ix_touchpoints_contact_id_happened_at`
looking for a calendar one. On PostgreSQL the plan checked is the generic one, made without
the parameters' values: asyncpg keeps the statement prepared, and after five runs PostgreSQL
may keep a plan that must serve any value, which can use a partial index only when the
statement spells the index's condition itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.bot.core.journal import CLOCK, NUDGE_OUTCOME
from rapport.storage import queries
from rapport.storage.models import CALENDAR_SOURCE, TYPED_SOURCE, Touchpoint
from tests.storage.people import insert_people

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
INDEX = "ix_touchpoints_calendar_contact_id_happened_at"
TYPED_PER_CONTACT = 1500


async def _many_typed_few_meetings(engine: AsyncEngine) -> tuple[int, int, int]:
    """(workspace id, user id, Dana's contact id): Dana has many typed touchpoints and a few
    meetings, Lee as many typed ones and no meeting at all."""
    async with AsyncSession(engine) as session, session.begin():
        workspace, user, (dana, lee) = await session.run_sync(
            lambda sync: insert_people(sync, NOW))
        await session.execute(insert(Touchpoint), [
            {"workspace_id": workspace, "user_id": user, "contact_id": contact,
             "happened_at": NOW - timedelta(hours=hour), "kind": "chat",
             "source": CALENDAR_SOURCE if contact == dana and hour % 500 == 0
             else TYPED_SOURCE, "created_at": NOW}
            for contact in (dana, lee) for hour in range(TYPED_PER_CONTACT)])
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE touchpoints"))
    return workspace, user, dana


def _statements() -> list[tuple[Any, dict[str, Any]]]:
    by_id, _ = queries._touch_state(CLOCK, NUDGE_OUTCOME, "id")
    by_key, _ = queries._touch_state(CLOCK, NUDGE_OUTCOME, "key")
    return [(by_id.statement, {"contact_id": "contact"}), (by_key.statement, {"key": "dana"})]


def _literals(arguments: tuple[Any, ...]) -> str:
    """The arguments as SQL literals: EXECUTE takes no parameters of its own."""
    return ", ".join(str(value) if isinstance(value, int)
                     else "'" + str(value).replace("'", "''") + "'" for value in arguments)


async def _plan(engine: AsyncEngine, statement: Any, values: dict[str, Any]) -> str:
    compiled = statement.compile(dialect=engine.dialect)
    params = compiled.construct_params(values)
    arguments = tuple(getattr(value, "value", value)
                      for value in (params[name] for name in compiled.positiontup))
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = (await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled.string}", arguments)).all()
            return " ".join(str(row[-1]) for row in rows)
        # The plan a prepared statement may keep for good, made without its values.
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("SET plan_cache_mode = force_generic_plan")
        await driver.execute(f"PREPARE touch_state AS {compiled.string}")
        try:
            rows = await driver.fetch(f"EXPLAIN EXECUTE touch_state({_literals(arguments)})")
        finally:
            await driver.execute("DEALLOCATE touch_state")
            await driver.execute("RESET plan_cache_mode")
        return "\n".join(row[0] for row in rows)


async def test_the_newest_meeting_is_read_through_the_calendar_touchpoints_index(
        any_engine: AsyncEngine) -> None:
    _, user, dana = await _many_typed_few_meetings(any_engine)
    for statement, values in _statements():
        named = {name: dana if value == "contact" else value for name, value in values.items()}
        plan = await _plan(any_engine, statement, {"user_id": user, **named})
        if any_engine.dialect.name == "sqlite":
            assert f"SEARCH touchpoints USING INDEX {INDEX} (contact_id=?)" in plan, plan
        else:
            assert f"using {INDEX} on touchpoints" in plan, plan
        assert "ix_touchpoints_contact_id_happened_at" not in plan, plan


async def test_the_read_finds_the_newest_meeting_the_calendar_still_owns(
        any_engine: AsyncEngine) -> None:
    """What the index serves, read through the log path's own query: the newest calendar
    touchpoint, skipping one the person gave a summary or a day (theirs now)."""
    workspace, user, dana = await _many_typed_few_meetings(any_engine)
    async with AsyncSession(any_engine) as session, session.begin():
        await session.execute(insert(Touchpoint), [
            {"workspace_id": workspace, "user_id": user, "contact_id": dana, "kind": "meeting",
             "source": CALENDAR_SOURCE, "created_at": NOW, **changes}
            for changes in ({"happened_at": NOW + timedelta(hours=3), "summary": "theirs"},
                            {"happened_at": NOW + timedelta(hours=2), "day_only": True},
                            {"happened_at": NOW + timedelta(hours=1)})])
        state = await session.run_sync(lambda sync: queries.touch_state(
            sync, user, dana, CLOCK, NUDGE_OUTCOME))
    assert state is not None and state.calendar_touch_at == NOW + timedelta(hours=1)


def test_the_index_is_declared_on_the_model() -> None:
    # So that tests/storage/test_migrations.py finds the migrated schema and the models alike.
    [index] = [index for index in Touchpoint.__table__.indexes  # type: ignore[attr-defined]
               if index.name == INDEX]
    assert [column.name for column in index.columns] == ["contact_id", "happened_at"]
