"""0025_name_key_pictures: stored keys lose emoji and the pronouns that end a name, so "log
Doe" finds "Pat Doe (she/her) 🌴" and "log Zoë" finds "👩🏽‍💻 Zoë Park"; the same person saved
twice, with and without them, stays twice (the newer one numbered)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.storage import db
from rapport.storage.models import Contact
from rapport.storage.names import first_word, name_key, titled_key
from tests.storage.people import insert_people
from tests.storage.test_migrations import _contacts, _downgrade, empty_engine

__all__ = ["empty_engine"]  # the fixture, shared with the other migration tests

NAMES = ("Pat Doe", "Pat Doe (she/her) 🌴", "👩🏽‍💻 Zoë Park", "Sam Lee (he/him)",
         "Dana Scully (U0DANA)", "Dana Scully", "🌴", "Lee Chan™")


async def test_pictures_and_pronouns_leave_stored_keys_and_a_collision_gets_a_number(
        empty_engine: AsyncEngine) -> None:
    await db.upgrade(empty_engine, "0024_shared_goal_charts")
    now = datetime(2026, 12, 6, tzinfo=UTC)
    async with AsyncSession(empty_engine) as session, session.begin():
        _, user, ids = await session.run_sync(lambda s: insert_people(s, now, names=NAMES))
        for contact_id, name in zip(ids, NAMES, strict=True):  # as 0024's code keyed them
            await session.execute(update(Contact).where(Contact.id == contact_id).values(
                name_key=titled_key(name), first_key=first_word(titled_key(name))))
    await db.upgrade(empty_engine)
    expected = [(user, "Pat Doe", "pat doe", "pat"),
                (user, "Pat Doe (she/her) 🌴 (2)", "pat doe (2)", "pat"),
                (user, "👩🏽‍💻 Zoë Park", "zoe park", "zoe"),
                (user, "Sam Lee (he/him)", "sam lee", "sam"),
                (user, "Dana Scully (U0DANA)", "dana scully (u0dana)", "dana"),
                (user, "Dana Scully", "dana scully", "dana"),
                (user, "🌴", "🌴", "🌴"),
                (user, "Lee Chan™", "lee chan", "lee")]
    assert await _contacts(empty_engine) == expected
    assert all(key == name_key(name) for _, name, key, _ in expected)
    # Down again: keys as 0024 computed them, the names kept; up gives the same result.
    await _downgrade(empty_engine, "0024_shared_goal_charts")
    assert [row[1:] for row in await _contacts(empty_engine)] == [
        (name, titled_key(name), first_word(titled_key(name))) for _, name, _, _ in expected]
    assert (await _contacts(empty_engine))[2][2] == "👩🏽💻 zoe park"
    await db.upgrade(empty_engine)
    assert await _contacts(empty_engine) == expected
