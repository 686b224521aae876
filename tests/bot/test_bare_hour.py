"""An hour said without am/pm in a log, as people at work mean it: "at 1" to "at 6" (and
"3:30") are the afternoon, "at 7" to "at 12" are read as said, and a leading zero, "am"/"pm"
or an hour past 12 is the clock it says. A moment still to come today is refused, as any
clock time still to come is ("log Dana at 3: coffee" at 10:00 was logged as 03:00)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.verbs import TABLE, parse_command
from rapport.storage import db
from rapport.storage.models import Touchpoint
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")
TODAY = date(2026, 11, 23)  # the frozen clock's day, a Monday


async def _logged(engine: AsyncEngine) -> int:
    async with db.session_factory(engine)() as session:
        return len((await session.scalars(select(Touchpoint.id))).all())


async def test_a_bare_afternoon_hour_still_to_come_is_refused(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """At 10:00, "at 3" is 15:00 today: still to come."""
    await say(rapport, "add Dana Scully", ALEX)
    before = await snapshot(engine)
    for line, at in (("log Dana at 3: coffee", "15:00"), ("log Dana at 3:30 coffee", "15:30"),
                     ("log Dana around 6", "18:00"), ("met Dana at 1 today", "13:00")):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and reply.text.startswith(
            "You can only log conversations that already happened: "
            f"{at} today is still to come (it is 10:00 now)."), (line, reply.text)
    assert await snapshot(engine) == before
    # A morning hour, the clock said in full, and any hour on a day gone by are logged.
    for line in ("log Dana at 9: standup", "log Dana at 03:00: the outage call",
                 "log Dana at 3am: the outage call", "log Dana yesterday at 3: coffee"):
        await say(rapport, line, ALEX)
    assert await _logged(engine) == 4


async def test_a_bare_afternoon_hour_gone_by_is_logged(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully", ALEX)
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    assert await say(rapport, "log Dana at 3: coffee", ALEX) == "Logged coffee with Dana Scully."
    refused = await rapport.handle_text(ALEX, "log Dana at 6: dinner")
    assert not refused.ok and "18:00 today is still to come (it is 17:00 now)" in refused.text
    # In the user's zone: 17:00 UTC is 09:00 in Los Angeles, where "at 3" has not come yet.
    sam = console_user("sam", tz="America/Los_Angeles")
    await say(rapport, "add Dana Scully", sam)
    refused = await rapport.handle_text(sam, "log Dana at 3: coffee")
    assert not refused.ok and "15:00 today is still to come (it is 09:00 now)" in refused.text
    assert await _logged(engine) == 1


def test_help_says_how_a_bare_hour_is_read() -> None:
    [log] = [verb for verb in TABLE if verb.name == "log"]
    assert "“at 3” is 3pm" in log.summary


def _minute(line: str) -> int | None:
    logged = parse_command(line, today=TODAY)
    assert isinstance(logged, c.Log), (line, logged)
    return logged.minute_of_day


@settings(max_examples=300, deadline=None)
@given(hour=st.integers(min_value=0, max_value=23), minute=st.sampled_from([None, 0, 5, 30, 59]),
       lead=st.sampled_from(["at ", "around ", ""]), zero=st.booleans(),
       suffix=st.sampled_from(["", "am", "pm", " am", " pm"]))
def test_an_hour_is_read_as_a_person_at_work_means_it(
        hour: int, minute: int | None, lead: str, zero: bool, suffix: str) -> None:
    written = f"{hour:02d}" if zero else str(hour)
    clock = written + (f":{minute:02d}" if minute is not None else "")
    if not lead and minute is None and not suffix:
        return  # "log Dana 3 coffee" is three coffees, not a time
    if suffix and not 1 <= hour <= 12:
        return  # "15pm" is no time
    said = _minute(f"log Dana {lead}{clock}{suffix}: coffee")
    minutes = minute or 0
    if suffix.strip() == "am":
        expected = (hour % 12) * 60 + minutes
    elif suffix.strip() == "pm":
        expected = (hour % 12 + 12) * 60 + minutes
    elif 1 <= hour <= 6 and not zero:
        expected = (hour + 12) * 60 + minutes
    else:
        expected = hour * 60 + minutes
    assert said == expected, (lead, clock, suffix, said)
    if not suffix and not zero and 1 <= hour <= 12:
        # Without am/pm, an hour of a working day: from 7:00 to 18:59.
        assert said is not None and 7 * 60 <= said < 19 * 60
