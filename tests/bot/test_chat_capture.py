"""Chat capture in the core: the settings grammar, answers off Slack, and the one write that
logs a day of DMs (idempotent on SQLite and PostgreSQL, even when two replicas race)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.connectors.chats.capture import ChatOwner, log_chat_day
from rapport.bot.core import commands as c
from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import SLACK_DM_SOURCE, CapturedChat, Contact, Touchpoint
from rapport.storage.uow import Database
from tests.bot import seed as rows
from tests.conftest import Clock, console_user


def test_settings_capture_grammar() -> None:
    today = Clock().now.date()
    assert c.parse_settings("capture slack on", today) == c.CaptureChat("slack", True)
    assert c.parse_settings("capture Slack DMs off", today) == c.CaptureChat("slack", False)
    for wrong in ("capture", "capture slack", "capture teams on", "capture slack maybe"):
        problem = c.parse_settings(wrong, today)
        assert isinstance(problem, c.CommandError) and "capture slack on" in problem.text()


async def test_capture_off_slack_says_it_needs_slack_and_settings_show_it_off(
        rapport: Rapport) -> None:
    reply = await rapport.handle_text(console_user(), "settings capture slack on")
    assert not reply.ok and "works from Slack" in reply.text
    shown = await rapport.handle_text(console_user(), "settings")
    # Only Slack can log Slack DMs: the console and Teams are not asked about it.
    assert "Slack DMs" not in shown.text
    off = await rapport.handle_text(console_user(), "settings capture slack off")
    assert not off.ok and "type “settings capture slack off” to Rapport there" in off.text


async def test_a_day_of_dms_logs_one_chat_even_when_replicas_race(any_engine: AsyncEngine,
                                                                   clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    actor = console_user()
    assert (await rapport.handle_text(actor, "add Dana Scully")).ok
    ctx = await rapport.user_context(actor)
    async with rapport.sessions() as session, session.begin():
        await session.execute(update(Contact).values(platform_user_id="U0DANA"))
    owner = ChatOwner(workspace_id=ctx.workspace_id, user_id=ctx.user_id, tz="America/New_York")

    async def message(minutes: int, who: str = "U0DANA") -> int:
        # Each replica has its own connection: a separate Database over the same engine.
        replica = Database(db.session_factory(any_engine))
        return await replica.run(lambda session: log_chat_day(
            session, owner, counterpart_external_id=who,
            at=clock.now + timedelta(minutes=minutes), source=SLACK_DM_SOURCE,
            provider="slack", now=clock.now))

    written = await asyncio.gather(*(message(minutes) for minutes in (0, 1, 2, 3)))
    assert sorted(written) == [0, 0, 0, 1]
    assert await message(5, who="U0STRANGER") == 0
    # 10:00 UTC Monday and 03:00 UTC Tuesday are both Monday in New York: the same day.
    assert await message(17 * 60) == 0
    assert await message(24 * 60) == 1
    async with rapport.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CapturedChat)) == 2
        kinds = (await session.scalars(select(Touchpoint.kind))).all()
    assert kinds == ["chat", "chat"]


async def test_a_day_of_slack_dms_is_marked_automatic_in_stats_and_export(
        rapport: Rapport, clock: Clock) -> None:
    """Like the calendar's, the conversations Slack DMs logged say so in `stats` and
    `export`; a typed one does not."""
    actor = console_user("alex")
    ctx = await rapport.user_context(actor)
    async with rapport.sessions() as session, session.begin():
        dana = rows.contact((ctx.workspace_id, ctx.user_id), "Dana Scully", clock.now)
        await rows.add_all(session, dana)
        dm = rows.touch(dana, clock.now - timedelta(days=1))
        dm.source = SLACK_DM_SOURCE
        await rows.add_all(session, dm, rows.touch(dana, clock.now - timedelta(days=2), "lunch"))
    stats = await rapport.handle_text(actor, "stats")
    assert "2 in 30 days (1 from your Slack DMs)" in stats.text.splitlines()[0]
    export = await rapport.handle_text(actor, "export")
    assert export.attachment is not None
    data = json.loads(export.attachment.data)
    assert sorted((t["logged_from"], t["automatic"]) for t in data["touchpoints"]) == [
        ("Slack DMs", True), ("typed", False)]


async def test_help_finds_calendars_briefs_and_capture(rapport: Rapport) -> None:
    """`help prep` and `help capture` answered "There is no command called …"."""
    for topic, first_line in (("calendar", "connect calendar [google|microsoft]"),
                              ("prep", "settings ["), ("briefs", "settings ["),
                              ("capture slack", "settings ["),
                              ("settings capture slack on", "settings [")):
        reply = await rapport.handle_text(console_user(), f"help {topic}")
        assert reply.text.startswith(first_line), topic
    settings = (await rapport.handle_text(console_user(), "help settings")).text
    assert "briefs you before meetings (prep)" in settings and "e.g. settings prep 1h" in settings


async def test_help_for_the_answers_says_what_they_do_to_an_offer(rapport: Rapport) -> None:
    """`silence` said "no more suggestions of that kind" only; on an offer to add someone
    met, it is Never for that person alone."""
    silence = (await rapport.handle_text(console_user(), "help silence")).text
    assert "(for someone you met: Never, for that person only)" in silence
    assert "(for someone you met: Add)" in (await rapport.handle_text(console_user(),
                                                                      "help accept")).text
    assert "(for someone you met: Not now)" in (await rapport.handle_text(console_user(),
                                                                          "help keep")).text
