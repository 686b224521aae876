"""Admin controls in chat, in the core and the console: who may, what changes, what stays
private (an admin never sees another person's contacts, notes or drafts)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core import commands as c
from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.verbs import help_text, parse_command
from rapport.bot.platforms.console.chat import ConsoleChat, console_actor
from rapport.scheduler.retention import MAX_RETENTION_MONTHS
from rapport.storage import db
from rapport.storage.models import Contact, Workspace
from tests.bot import seed
from tests.conftest import Clock, console_user, snapshot

TODAY = date(2026, 11, 23)


@dataclass
class ListedAdmins:
    """The core's `Admins` as a platform would answer: listed ids, or no answer at all."""

    ids: frozenset[str] = frozenset()
    answer: bool | None = True  # None: the platform could not tell (users.info failed)
    fails: bool = False
    asked: int = 0
    who: str = "the listed people"

    async def is_admin(self, user_external_id: str) -> bool | None:
        self.asked += 1
        if self.fails:
            raise ConnectionError("platform down")
        if self.answer is None:
            return None
        return user_external_id in self.ids


ADMIN = console_user("ada")
MEMBER = console_user("bob")
ADMINS = ListedAdmins(frozenset({"ada"}))


def _parse(text: str) -> c.Command | c.CommandError:
    return parse_command(text, today=TODAY)


# ------------------------------------------------------------------------------ grammar
@pytest.mark.parametrize(("text", "expected"), [
    ("admin", c.Admin("status")),
    ("admin status", c.Admin("status")),
    ("Admin AI off", c.Admin("ai", ai_enabled=False)),
    ("admin ai on", c.Admin("ai", ai_enabled=True)),
    ("admin disclosure required", c.Admin("disclosure", disclosure="required")),
    ("admin disclosure off", c.Admin("disclosure", disclosure="off")),
    ("admin retention 365d", c.Admin("retention", retention_months=12, retention_text="365d")),
    ("admin retention 12 months", c.Admin("retention", retention_months=12,
                                          retention_text="12 months")),
    ("admin retention 1 year", c.Admin("retention", retention_months=12,
                                       retention_text="1 year")),
    ("admin retention 90 days", c.Admin("retention", retention_months=3,
                                        retention_text="90 days")),
    ("admin retention 10 years", c.Admin("retention", retention_months=120,
                                         retention_text="10 years")),
    ("admin retention off", c.Admin("retention", retention_months=None,
                                    retention_text="off")),
    ("admin report", c.Admin("report")),
    ("admin purge", c.Admin("purge")),
    ("admin purge confirm", c.Admin("purge", confirmed=True)),
    ("/rapport admin purge confirm", c.Admin("purge", confirmed=True)),
])
def test_admin_commands_parse(text: str, expected: c.Admin) -> None:
    assert _parse(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("admin ai", "admin ai on"),
    ("admin ai maybe", "admin ai on"),
    ("admin disclosure sometimes", "required"),
    ("admin retention", "How long?"),
    ("admin retention soon", "length of time"),
    ("admin retention 2 weeks", "at least 1 month"),
    ("admin retention 11 years", "At most 120 months"),
    ("admin report now", "takes no arguments"),
    ("admin purge everything", "admin purge"),
    ("admin promote bob", "no admin setting"),
])
def test_bad_admin_commands_say_what_is_wrong(text: str, says: str) -> None:
    parsed = _parse(text)
    assert isinstance(parsed, c.CommandError)
    assert says in parsed.text() and parsed.usage == c.ADMIN_USAGE


@given(st.integers(min_value=1, max_value=MAX_RETENTION_MONTHS))
def test_any_whole_number_of_months_is_kept_as_is(months: int) -> None:
    assert _parse(f"admin retention {months} months") == c.Admin(
        "retention", retention_months=months, retention_text=f"{months} months")


@given(st.integers(min_value=1, max_value=999))
def test_days_become_the_nearest_whole_months(days: int) -> None:
    parsed = _parse(f"admin retention {days}d")
    months = round(days / (365.25 / 12))
    if months < 1:
        assert isinstance(parsed, c.CommandError)
    else:
        assert isinstance(parsed, c.Admin) and parsed.retention_months == months


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_any_admin_line_parses_or_answers(rest: str) -> None:
    parsed = _parse(f"admin {rest}")
    assert isinstance(parsed, c.Admin | c.CommandError)
    if isinstance(parsed, c.Admin) and parsed.action == "retention" and \
            parsed.retention_months is not None:
        assert 1 <= parsed.retention_months <= MAX_RETENTION_MONTHS


def test_help_names_the_admin_commands() -> None:
    assert "admin ai on|off" in help_text()
    assert "admin retention 12 months" in help_text("admin")


# ------------------------------------------------------------------------------ authority
async def _workspace(sessions: async_sessionmaker[AsyncSession], external_id: str = "local"
                     ) -> Workspace:
    async with sessions() as session:
        workspace = await session.scalar(select(Workspace).where(
            Workspace.platform == "console", Workspace.external_id == external_id))
    assert workspace is not None
    return workspace


@pytest.mark.parametrize("line", ["admin", "admin ai off", "admin disclosure required",
                                  "admin retention 12 months", "admin report",
                                  "admin purge", "admin purge confirm"])
async def test_a_non_admin_is_refused_and_nothing_changes(rapport: Rapport, engine: AsyncEngine,
                                                          clock: Clock, line: str) -> None:
    await rapport.handle_text(MEMBER, "add Dana Scully every 2 weeks")
    before = await snapshot(engine)
    admins = ListedAdmins(frozenset({"ada"}))
    reply = await rapport.handle_text(MEMBER, line, admins=admins)
    assert not reply.ok and reply.attachment is None
    assert "Only workspace admins can change that" in reply.text and "the listed people" in \
        reply.text
    assert admins.asked == 1
    assert await snapshot(engine) == before


@pytest.mark.parametrize("admins", [
    None, ListedAdmins(frozenset({"bob"}), answer=None),
    ListedAdmins(frozenset({"bob"}), fails=True)], ids=["no-admins", "no-answer", "fails"])
async def test_when_the_platform_cannot_tell_nobody_is_an_admin(
        rapport: Rapport, engine: AsyncEngine, admins: ListedAdmins | None) -> None:
    await rapport.handle_text(MEMBER, "add Dana Scully")
    before = await snapshot(engine)
    reply = await rapport.handle_text(MEMBER, "admin ai off", admins=admins)
    assert not reply.ok
    assert ("can't tell who they are" if admins is None else "could not check") in reply.text
    assert await snapshot(engine) == before


async def test_ordinary_commands_never_ask_who_is_an_admin(rapport: Rapport) -> None:
    admins = ListedAdmins(frozenset({"ada"}))
    for line in ("add Dana Scully", "people", "show Dana", "due", "settings", "help admin",
                 "stats"):
        assert (await rapport.handle_text(ADMIN, line, admins=admins)).ok
    assert admins.asked == 0


# ------------------------------------------------------------------------------ settings
async def test_an_admin_changes_their_own_workspace_only(
        rapport: Rapport, sessions: async_sessionmaker[AsyncSession]) -> None:
    other = Actor(platform="console", workspace_external_id="elsewhere",
                  user_external_id="ada", display_name="Ada")
    await rapport.handle_text(other, "due")
    status = await rapport.handle_text(ADMIN, "admin", admins=ADMINS)
    assert status.ok and "AI drafts: on" in status.text and "optional" in status.text
    assert "kept until people delete them" in status.text

    await rapport.handle_text(ADMIN, "add Dana Scully")
    reply = await rapport.handle_text(ADMIN, "admin ai off", admins=ADMINS)
    assert reply.ok and reply.changed and "AI drafts: off" in reply.text
    # A workspace setting is not undone: undo says so rather than remove Dana.
    undo = await rapport.handle_text(ADMIN, "undo", admins=ADMINS)
    assert not undo.ok and undo.text == ("Your last change (changed the workspace's ai "
                                         "setting) can't be undone. Nothing changed.")
    assert (await rapport.handle_text(ADMIN, "show Dana")).ok
    reply = await rapport.handle_text(ADMIN, "admin disclosure required", admins=ADMINS)
    assert reply.ok and "Disclosure line on AI-assisted messages: required" in reply.text
    reply = await rapport.handle_text(ADMIN, "admin retention 365d", admins=ADMINS)
    assert reply.ok and "12 months (“365d” in whole months)" in reply.text
    workspace = await _workspace(sessions)
    assert (workspace.ai_enabled, workspace.disclosure_policy,
            workspace.retention_months) == (False, "required", 12)
    untouched = await _workspace(sessions, "elsewhere")
    assert (untouched.ai_enabled, untouched.disclosure_policy,
            untouched.retention_months) == (True, "optional", None)

    await rapport.handle_text(ADMIN, "admin retention off", admins=ADMINS)
    await rapport.handle_text(ADMIN, "admin ai on", admins=ADMINS)
    workspace = await _workspace(sessions)
    assert (workspace.ai_enabled, workspace.retention_months) == (True, None)


async def test_the_change_reaches_other_users_next_command_in_every_process(
        rapport: Rapport, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    # A second replica with its own cache of Bob's settings (loaded before the change).
    replica = Rapport(sessions=sessions, clock=clock)
    for process in (rapport, replica):
        assert "turned off" not in (await process.handle_text(MEMBER, "settings")).text
    await rapport.handle_text(ADMIN, "admin ai off", admins=ADMINS)
    for process in (rapport, replica):
        shown = (await process.handle_text(MEMBER, "settings")).text
        assert "AI drafts: off (turned off for the whole workspace)" in shown
        ctx = await process.user_context(MEMBER)
        # This process's cache was expired; the replica's is read again within its TTL, and
        # every unit of work reads the policy afresh (the settings line above).
        if process is rapport:
            assert not ctx.workspace_ai_enabled


# ------------------------------------------------------------------------------ report
async def _team(rapport: Rapport, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                members: int, *, start: int = 0) -> None:
    for index in range(start, start + members):
        ctx = await rapport.user_context(console_user(f"member{index}"))
        await seed.seed_team_member(sessions, (ctx.workspace_id, ctx.user_id), clock.now, index)


async def test_the_team_report_is_a_file_of_aggregates(
        rapport: Rapport, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    await _team(rapport, sessions, clock, 4)
    small = await rapport.handle_text(ADMIN, "admin report", admins=ADMINS)
    assert not small.ok and "at least 5" in small.text and small.attachment is None
    await _team(rapport, sessions, clock, 2, start=4)
    reply = await rapport.handle_text(ADMIN, "admin report", admins=ADMINS)
    assert reply.ok and reply.attachment is not None
    assert reply.attachment.filename.endswith(".csv")
    table = reply.attachment.data.decode()
    rows = list(csv.reader(io.StringIO(table)))
    assert ["summary", "users", "6"] in rows and ["summary", "contacts", "6"] in rows
    for secret in seed.TEAM_SECRETS:
        assert secret not in table and secret not in reply.text


# ------------------------------------------------------------------------------ purge
async def test_purge_says_what_goes_then_deletes_this_workspace_only(
        rapport: Rapport, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
        clock: Clock) -> None:
    await _team(rapport, sessions, clock, 2)
    other = Actor(platform="console", workspace_external_id="elsewhere",
                  user_external_id="carol", display_name="Carol")
    await rapport.handle_text(other, "add Lee Park every 2 weeks")
    await rapport.handle_text(ADMIN, "due")  # the admin's own rows exist from their first line
    before = await snapshot(engine)
    preview = await rapport.handle_text(ADMIN, "admin purge", admins=ADMINS)
    assert preview.ok and "admin purge confirm" in preview.text
    assert "contacts: 2" in preview.text and "notes: 2" in preview.text
    assert "installed again" not in preview.text  # no stored tokens on the console
    assert await snapshot(engine) == before

    done = await rapport.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)
    assert done.ok and "Deleted everything" in done.text
    async with sessions() as session:
        left = (await session.execute(select(Workspace.external_id))).scalars().all()
        contacts = await session.scalar(select(func.count()).select_from(Contact))
    assert left == ["elsewhere"] and contacts == 1
    # The admin (and anyone) starts afresh on their next command.
    again = await rapport.handle_text(ADMIN, "people")
    assert again.ok


# ------------------------------------------------------------------------------ privacy
async def test_an_admin_never_sees_another_persons_contacts_notes_or_drafts(
        rapport: Rapport, sessions: async_sessionmaker[AsyncSession], clock: Clock,
        tmp_path: Path) -> None:
    await _team(rapport, sessions, clock, 5)
    await rapport.handle_text(ADMIN, "add Dana Scully every 2 weeks")
    await rapport.handle_text(ADMIN, "note Dana: her marathon in Porto")
    assert (await rapport.handle_text(ADMIN, "admin", admins=ADMINS)).ok
    answers = []
    # The admin probes by first name and by words of the others' notes, summaries and
    # drafts; what they typed comes back in answers ("Nothing matches “lawyer”"), the rest
    # of those rows must not.
    for line in ("people", "show Zebulon0", "Zebulon1?", "search Zebulon", "search lawyer",
                 "search chemo", "search Zeb", "search Initech", "search marathon", "due",
                 "stats", "export", "draft Zebulon0", "goals", "suggestions",
                 "admin", "admin report", "admin purge"):
        reply = await rapport.handle_text(ADMIN, line, admins=ADMINS)
        answers.append(reply.text)
        if reply.attachment is not None:
            answers.append(reply.attachment.data.decode())
    shown = "\n".join(answers)
    assert "Dana Scully" in shown and "marathon in Porto" in shown  # the admin's own data
    for secret in ("Quartermaine", "divorce lawyer", "chemo next week", "Hi Zeb, hope",
                   "Zebulon0 ", "Zebulon1 "):
        assert secret not in shown
    assert "Initech" not in shown.replace("“Initech”", "")


# ------------------------------------------------------------------------------ console
async def test_the_console_user_is_the_admin(engine: AsyncEngine, clock: Clock,
                                             sessions: async_sessionmaker[AsyncSession],
                                             tmp_path: Path) -> None:
    rapport = Rapport(sessions=sessions, clock=clock)
    output: list[str] = []
    chat = ConsoleChat(rapport=rapport, actor=console_actor("sam", "UTC"),
                       lines=_nothing(), write=output.append, export_dir=tmp_path)
    reply = await chat.answer("admin ai off")
    assert reply.ok and "AI drafts: off" in output[-1]
    reply = await chat.answer("admin retention 12 months")
    assert reply.ok
    workspace = await _workspace(sessions)
    assert (workspace.ai_enabled, workspace.retention_months) == (False, 12)
    await _team(rapport, sessions, clock, 5)
    reply = await chat.answer("admin report")
    assert reply.ok and (tmp_path / "rapport-team-report.csv").exists()
    assert "saved as" in output[-1]


async def _nothing() -> AsyncIterator[str]:
    """No typed lines: the test calls `answer` itself."""
    for line in ():
        yield line


async def test_settings_and_purge_on_every_database(any_engine: AsyncEngine,
                                                    clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    other = Actor(platform="console", workspace_external_id="elsewhere",
                  user_external_id="carol", display_name="Carol")
    await rapport.handle_text(other, "add Lee Park")
    await rapport.handle_text(MEMBER, "note Dana: hiking trip")  # unknown: asked back
    await rapport.handle_text(MEMBER, "add Dana Scully")
    for line in ("admin ai off", "admin disclosure required", "admin retention 2 years"):
        assert (await rapport.handle_text(ADMIN, line, admins=ADMINS)).ok
    workspace = await _workspace(sessions)
    assert (workspace.ai_enabled, workspace.disclosure_policy,
            workspace.retention_months) == (False, "required", 24)
    preview = await rapport.handle_text(ADMIN, "admin purge", admins=ADMINS)
    assert "people using Rapport: 2, contacts: 1, conversations: 0" in preview.text
    assert (await rapport.handle_text(ADMIN, "admin purge confirm", admins=ADMINS)).ok
    async with sessions() as session:
        left = (await session.execute(select(Workspace.external_id))).scalars().all()
    assert left == ["elsewhere"]
