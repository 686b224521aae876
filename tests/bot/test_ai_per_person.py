"""Per-person AI control (`set Dana ai off`, `set Dana sensitive`) through the real openai
client and its fake, and whether drafts earn their place: the stats line and the team report."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core import commands as c
from rapport.bot.core.ai import provider_from_settings
from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.report import build_report, draft_measures, report_csv
from rapport.bot.core.stats import compute_user_stats, drafts_line
from rapport.bot.service.config import Settings
from rapport.storage import db
from rapport.storage.models import Contact, Draft, Nudge
from tests.bot import seed
from tests.conftest import Clock, console_user, snapshot
from tests.fakes.openai_api import FakeOpenAI

ALEX = console_user("alex")


async def _ai_rapport(rapport: Rapport, sessions: async_sessionmaker[AsyncSession],
                      clock: Clock) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock,
                                   provider=provider_from_settings(Settings()))
    for line in ("add Dana Scully client at Acme every 2 weeks",
                 "note Dana: her board presentation after tomorrow",
                 "add Lee Park colleague"):
        assert (await rapport.handle_text(ALEX, line)).ok, line


async def test_ai_off_for_one_person_gives_templates_and_sends_nothing_about_them(
        fake_openai_env: FakeOpenAI, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    await _ai_rapport(rapport, sessions, clock)
    reply = await rapport.handle_text(ALEX, "set Dana ai off")
    assert reply.ok and reply.text == (
        "AI drafts are off for Dana Scully: drafts for Dana are templates you fill in yourself, "
        "and nothing about them goes to an AI provider.")
    dana = await rapport.handle_text(ALEX, "draft Dana")
    assert dana.draft is not None and dana.draft.is_template and dana.draft.provider == "template"
    assert dana.draft.notice == ("AI drafts are off for Dana Scully (“set Dana Scully ai on” "
                                 "turns them back on).")
    assert "board presentation" in dana.draft.text
    assert fake_openai_env.requests == []
    lee = await rapport.handle_text(ALEX, "draft Lee")  # everyone else still gets AI drafts
    assert lee.draft is not None and not lee.draft.is_template
    assert len(fake_openai_env.requests) == 1
    assert "Dana" not in json.dumps(fake_openai_env.last_request.json)
    await rapport.handle_text(ALEX, "set Dana ai on")
    again = await rapport.handle_text(ALEX, "draft Dana")
    assert again.draft is not None and not again.draft.is_template
    assert len(fake_openai_env.requests) == 2


async def test_sensitive_person_gets_no_draft_at_all(
        fake_openai_env: FakeOpenAI, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    await _ai_rapport(rapport, sessions, clock)
    marked = await rapport.handle_text(ALEX, "set Dana sensitive")
    assert marked.text == ("Marked Dana Scully as sensitive: no drafts for Dana, AI or template. "
                           "Write to Dana personally.")
    reply = await rapport.handle_text(ALEX, "draft Dana")
    assert reply.ok and reply.draft is None
    assert reply.text == ("You marked Dana Scully as sensitive, so there is no draft: write to "
                          "Dana personally, in your own words. (“set Dana Scully sensitive off” "
                          "allows drafts again.)")
    # The Draft button on a nudge about her answers the same.
    ctx = await rapport.user_context(ALEX)
    async with sessions() as session, session.begin():
        contact = await session.scalar(select(Contact).where(Contact.name == "Dana Scully"))
        assert contact is not None
        nudge = seed.nudge(contact, "sent", clock.now, delivered=clock.now)
        await seed.add_all(session, nudge)
        nudge_id = nudge.id
    button = await rapport.execute(ALEX, c.nudge_button("draft", nudge_id))
    assert button.draft is None and "sensitive" in button.text
    assert fake_openai_env.requests == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Draft)) == 0
    export = await rapport.handle_text(ALEX, "export")
    assert export.attachment is not None
    exported = {row["name"]: row for row in json.loads(export.attachment.data)["contacts"]}
    assert (exported["Dana Scully"]["sensitive"], exported["Dana Scully"]["ai_drafts"]) == (
        True, True)
    await rapport.handle_text(ALEX, "set Dana sensitive off")
    assert (await rapport.handle_text(ALEX, "draft Dana")).draft is not None
    assert ctx.user_id  # the same user throughout


async def test_set_refuses_bad_fields_and_foreign_people(any_engine: AsyncEngine,
                                                         clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await rapport.handle_text(ALEX, "add Dana Scully")
    await rapport.handle_text(console_user("sam"), "add Kim Wu")
    before = await snapshot(any_engine)
    for line, answer in (("set Dana", "Which field? One of: company, email, kind, role, ai, "
                                      "sensitive, name, birthday, anniversary."),
                         ("set Dana ai", "Say “on” or “off” after ai."),
                         ("set Dana sensitive perhaps", "Say “on” or “off” after sensitive."),
                         ("set Kim ai off", "I don't know anyone called “Kim” yet."),
                         ("set ai off", "Who do you mean?")):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and answer in reply.text, (line, reply.text)
    assert await snapshot(any_engine) == before


async def _drafts_history(session: AsyncSession, ids: tuple[int, int], clock: Clock, *,
                          name: str = "Dana Scully") -> None:
    """30 answered nudges over ten weeks: 12 with a draft (10 acted on within 48 hours), 18
    without (11 acted on); 10 drafts sent after edits rewriting 46% on average, 2 left."""
    now, hour = clock.now, timedelta(hours=1)
    person = seed.contact(ids, name, now - timedelta(weeks=12), cadence=14)
    await seed.add_all(session, person)
    draft_text = "x" * 100
    distances = [30, 40, 50, 60, 46, 46, 46, 46, 48, 48]
    for i in range(30):
        at = now - timedelta(days=70 - 2 * i)
        with_draft = i < 12
        acted = i < 10 if with_draft else i < 23
        nudge = seed.nudge(person, "done" if acted else "dismissed", at, delivered=at,
                           acted=at + (3 * hour if acted else hour))
        await seed.add_all(session, nudge)
        if with_draft:
            sent = i < 10
            await seed.add_all(session, seed.draft(
                person, "posted" if sent else None, distances[i] if sent else None, at,
                nudge_id=nudge.id, text=draft_text))


async def test_stats_say_whether_drafts_help(rapport: Rapport, clock: Clock) -> None:
    ctx = await rapport.user_context(ALEX)
    async with rapport.sessions() as session, session.begin():
        await _drafts_history(session, (ctx.workspace_id, ctx.user_id), clock)
    stats = await rapport.handle_text(ALEX, "stats")
    assert ("Drafts: used on 12 nudges, 10 sent after your edits (avg 46% rewritten); nudges "
            "with a draft were acted on 83% vs 61% without.") in stats.text.splitlines()
    async with rapport.sessions() as session:
        numbers = await session.run_sync(compute_user_stats, ctx.user_id, clock.now, tz="UTC")
    assert (numbers.with_draft, numbers.without_draft) == ((10, 12), (11, 18))
    # A discarded draft and one made for a person (not a nudge) show up in the same line.
    async with rapport.sessions() as session, session.begin():
        dana = await session.scalar(select(Contact).where(Contact.user_id == ctx.user_id))
        assert dana is not None
        await seed.add_all(session, seed.draft(dana, "discarded", None, clock.now))
    async with rapport.sessions() as session:
        numbers = await session.run_sync(compute_user_stats, ctx.user_id, clock.now, tz="UTC")
    assert drafts_line(numbers) == (
        "Drafts: 13 made, 12 of them on nudges, 10 sent after your edits (avg 46% rewritten), "
        "1 discarded; nudges with a draft were acted on 83% vs 61% without.")


async def test_team_report_shows_the_draft_comparison_only_for_five_people(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    contexts = [await rapport.user_context(console_user(f"user{i}")) for i in range(5)]
    for index, ctx in enumerate(contexts[:4]):
        async with rapport.sessions() as session, session.begin():
            await _drafts_history(session, (ctx.workspace_id, ctx.user_id), clock,
                                  name=f"Secret Person {index}")
    last = contexts[4]
    async with rapport.sessions() as session, session.begin():
        person = seed.contact((last.workspace_id, last.user_id), "Secret Person 4", clock.now)
        await seed.add_all(session, person)
    report = await build_report(rapport.sessions, last.workspace_id, clock.now)
    assert report.draft_users == 4 and report.draft_comparison is None
    assert dict(draft_measures(report))["acted-on rate with a draft"] == \
        "not shown: fewer than 5 people used drafts on nudges"
    async with rapport.sessions() as session, session.begin():
        await session.execute(Nudge.__table__.delete().where(Nudge.user_id == last.user_id))
        await _drafts_history(session, (last.workspace_id, last.user_id), clock,
                              name="Secret Person 5")
    report = await build_report(rapport.sessions, last.workspace_id, clock.now)
    assert report.draft_users == 5
    assert (report.drafts_on_nudges, report.drafts_used, report.drafts_discarded) == (60, 50, 0)
    assert dict(draft_measures(report)) == {
        "nudges with a draft": "60", "drafts sent after edits": "50",
        "average share rewritten": "46%", "drafts discarded": "0",
        "acted-on rate with a draft": "83%", "acted-on rate without a draft": "61%"}
    table = report_csv(report)
    assert "drafts,acted-on rate with a draft,83%" in table
    assert "Secret" not in table
