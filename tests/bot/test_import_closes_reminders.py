"""An import that changes someone's rhythm follows the rule `every` follows: when the new
rhythm is not due before a later day (or there is none), the reminder already out about it
closes; a rhythm still due leaves it out."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from tests.bot.test_changes_close_open_reminders import NEW_YORK, _ny, _out_about, _sweep
from tests.conftest import Clock, say


async def _import(rapport: Rapport, data: str) -> None:
    ctx = await rapport.user_context(NEW_YORK)
    reply = await rapport.import_contacts(ctx, "contacts.csv", data.encode(), dry_run=False)
    assert reply.ok, reply.text


async def _two_out(rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 5, 10))
    await say(rapport, "add Dana Scully every 2 weeks", NEW_YORK)
    await say(rapport, "add Mei Lin every 2 weeks", NEW_YORK)
    assert len(await _sweep(engine, clock, _ny(10, 26, 10, 5))) == 2


async def test_an_imported_longer_rhythm_closes_the_reminder_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _two_out(rapport, engine, clock)
    # Dana: next due Mon Nov 16, after now; Mei every 3 weeks is still due today.
    await _import(rapport, "name,cadence\nDana Scully,6 weeks\nMei Lin,3 weeks\n")
    assert await _out_about(rapport, "Dana") == []
    assert len(await _out_about(rapport, "Mei")) == 1
    assert any("Dana" in line for line in await _sweep(engine, clock, _ny(11, 16, 10, 5)))


async def test_an_imported_rhythm_turned_off_closes_the_reminder_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _two_out(rapport, engine, clock)
    await _import(rapport, "name,cadence\nDana Scully,off\n")
    assert await _out_about(rapport, "Dana") == []
    assert len(await _out_about(rapport, "Mei")) == 1
