"""The core's front door: every command, button and form of every platform ends here.

`Rapport.handle_text` parses a line through the command table; `Rapport.execute` takes a
typed command that a form or button built. Both run the verb's handler for one actor in one
unit of work and answer with a `Reply`; neither ever raises to the user (a database outage
answers "try again").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.bot.core import admin, importer, journal, onboarding, overview, verbs
from rapport.bot.core import commands as c
from rapport.bot.core.context import (
    TRY_AGAIN,
    Actor,
    Admins,
    Calendars,
    ChatCapture,
    Directory,
    Drafter,
    MentionNamesNeeded,
    NotAPerson,
    Turn,
    UserContext,
    WorkspaceTokens,
)
from rapport.bot.core.users import StaleUser, Users, actor_key, fresh_context
from rapport.bot.core.views import HomeView, Reply, error
from rapport.scheduler import planner
from rapport.scheduler.messenger import NudgeItem
from rapport.storage.uow import Busy, Database, Grouped

logger = logging.getLogger(__name__)

T = TypeVar("T")
# At most this many commands share a commit (see `Rapport.commands`).
COMMANDS_PER_COMMIT = 16
BUSY = "I'm busy right now. Please try again in a moment."
# What the database refuses to store (a value too long for its column, a row that clashes
# with one already there): trying again would not help, so the answer must not say it would.
NOT_STORED = ("I couldn't store that: something in it doesn't fit, or it clashes with what "
              "you already have. Nothing changed.")
REFUSED_BY_DATABASE = (DataError, IntegrityError)
# What a database that is down or overloaded raises through SQLAlchemy and the drivers.
DATABASE_TROUBLE = (OperationalError, DBAPIError, OSError, TimeoutError)


class Rapport:
    """The application's use cases behind one small facade, shared by every platform."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = planner.utcnow,
                 drafter: Drafter | None = None,
                 on_change: Callable[[UserContext], Awaitable[None]] | None = None) -> None:
        self.sessions = sessions
        self.db = Database(sessions)
        self.clock = clock
        self.drafter = drafter
        # Platforms refresh their views (Slack's App Home) when a user's data changes.
        self.on_change = on_change
        self.users = Users(self.db, clock)
        # On a SQLite file, the writing commands that someone waits for (a platform's, with a
        # deadline) and that arrive together share one transaction, each in a savepoint of
        # its own: one commit for all of them, which costs a small command more than its
        # statements (docs/performance.md, session 19). On PostgreSQL each keeps a session
        # of its own, so commands of different people run side by side.
        self.commands = Grouped(self.db, limit=COMMANDS_PER_COMMIT) \
            if self.db.runs_inline else None
        # The calendar connector when one is configured (the runtime sets it).
        self.calendars: Calendars | None = None
        # Stored platform credentials `admin purge` deletes, by platform (Slack OAuth sets it).
        self.workspace_tokens: dict[str, WorkspaceTokens] = {}
        # Chat capture by platform ("slack"), when a platform offers it (it registers itself).
        self.chat_captures: dict[str, ChatCapture] = {}
        # Clears queued redactions of delivered messages now (the runtime sets it; without
        # it the scheduler's job does, within a minute).
        self.redact_now: Callable[[], Awaitable[int]] | None = None

    # ------------------------------------------------------------------ entry points
    async def handle_text(self, actor: Actor, text: str, *,
                          directory: Directory | None = None,
                          admins: Admins | None = None,
                          deadline: float | None = None) -> Reply:
        """Parse and run one command typed by `actor`.

        `admins` answers whether the actor may run `admin` commands (asked for those only;
        without it nobody may). `deadline` (a `time.monotonic()` moment): when the command
        cannot start by then, it is not run and the answer is "busy" (see `BUSY`).
        """

        async def parse_and_run(ctx: UserContext) -> Reply:
            command = verbs.parse_command(text, today=ctx.today(self.clock()))
            if isinstance(command, c.CommandError):
                return error(command.text())
            return await self.run(ctx, command, directory=directory, admins=admins,
                                  deadline=deadline)

        return await self.guarded(actor, parse_and_run)

    async def execute(self, actor: Actor, command: c.Command, *,
                      directory: Directory | None = None,
                      admins: Admins | None = None,
                      deadline: float | None = None) -> Reply:
        """Run a typed command built by a form or a button."""

        async def run(ctx: UserContext) -> Reply:
            return await self.run(ctx, command, directory=directory, admins=admins,
                                  deadline=deadline)

        return await self.guarded(actor, run)

    async def handle_import(self, actor: Actor, filename: str, data: bytes, *,
                            dry_run: bool) -> Reply:
        """A contacts file the actor sent (upload, console path, CLI): dry run or import."""

        async def run(ctx: UserContext) -> Reply:
            return await self.import_contacts(ctx, filename, data, dry_run=dry_run)

        return await self.guarded(actor, run)

    async def home(self, actor: Actor) -> HomeView | None:
        """What App Home shows, in one read; None when the database can't be reached."""
        return await self.with_user(actor, lambda ctx: self.read(ctx, overview.home))

    async def with_user(self, actor: Actor,
                        work: Callable[[UserContext], Awaitable[T]]) -> T | None:
        """Platform work that needs the actor's rows; None when the database can't be
        reached (logged), so a platform never turns an outage into a traceback."""
        try:
            try:
                return await work(await self.users.context(actor))
            except StaleUser:
                # The cached ids name deleted rows (or, on SQLite, someone else's since): as
                # `guarded` does, the actor's rows are found afresh and the work runs again.
                self.users.forget(*actor_key(actor))
                return await work(await self.users.context(actor))
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None

    async def guarded(self, actor: Actor,
                      use_case: Callable[[UserContext], Awaitable[Reply]]) -> Reply:
        """Run a use case for `actor`: a database outage answers "try again", an overload
        "busy"; neither raises."""
        try:
            ctx = await self.users.context(actor)
            try:
                reply = await use_case(ctx)
            except StaleUser:
                # Deleted or marked unreachable since this process cached the ids: the slow
                # path recreates or reactivates the rows, then the command runs once more.
                self.users.forget(*actor_key(actor))
                ctx = await self.users.context(actor)
                reply = await use_case(ctx)
        except Busy:
            logger.warning("command refused", extra={"reason": "busy"})
            return Reply(BUSY, ok=False, busy=True)
        except REFUSED_BY_DATABASE as failure:
            # A check the grammar or the use case should have made (or a race two commands
            # ran into): an error for the operator, a plain answer for the person.
            logger.error("database refused a change", extra={"error": type(failure).__name__})
            return error(NOT_STORED)
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return error(TRY_AGAIN)
        if reply.changed and self.on_change is not None:
            try:
                await self.on_change(ctx)
            except Exception as failure:  # a view refresh must not turn a success into an error
                logger.warning("change hook failed", extra={"error": type(failure).__name__})
        return reply

    async def run(self, ctx: UserContext, command: c.Command, *,
                  directory: Directory | None = None, admins: Admins | None = None,
                  deadline: float | None = None) -> Reply:
        """Run a command for a loaded user: its verb's handler, in one unit of work that
        starts by reading the user's current rows."""
        verb = verbs.verb_for(command)
        if verb.admin_only:
            # Asked here, before anything is read or changed, and for admin verbs only.
            refusal = await admin.refusal(ctx, admins)
            if refusal is not None:
                return refusal
        handle_async = verb.async_handler(command)
        if handle_async is not None:
            reply = await handle_async(self, ctx, command, directory)
            description = journal.not_undoable_description(command)
            if reply.ok and description is not None and (reply.changed
                                                          or isinstance(command, c.Admin)):
                # So that `undo` right after says it can't, rather than reverse an older change.
                when = self.clock()
                await self.db.run(lambda session: journal.barrier(
                    session, fresh_context(session, ctx), description, when))
            return reply
        assert verb.handle is not None
        if isinstance(command, c.Forget) and command.person is None and command.confirmed:
            # Grants are revoked at the provider before the rows that hold them go, by ids
            # read again first: cached ones may be another user's since a purge elsewhere.
            ctx = await self.recheck(ctx)
            if self.calendars is not None:
                await self.calendars.forget_user(ctx.user_id)
            for capture in self.chat_captures.values():
                await capture.forget_user(ctx.user_id)
        handle = verb.handle
        now = self.clock()
        names: dict[str, str] = {}
        not_people: dict[str, NotAPerson] = {}

        ai_configured = getattr(self.drafter, "provider", None) is not None

        def work(session: Session) -> Reply:
            return handle(Turn(session, fresh_context(session, ctx), now, names, not_people,
                               ai_configured=ai_configured), command)

        while True:
            try:
                if self.commands is not None and verb.writes and deadline is not None:
                    reply = await self.commands.run(work, deadline=deadline)
                else:
                    reply = await self.db.run(work, write=verb.writes, deadline=deadline)
            except journal.Unchanged as unchanged:
                # Rolled back (nothing to keep), and no journal entry: see `Change.save`.
                return error(unchanged.answer)
            except MentionNamesNeeded as needed:
                # The work was rolled back; ask the directory (a platform call, never inside
                # a transaction), then do it again with the names.
                await self._learn_names(needed, directory, names, not_people)
                continue
            break
        if isinstance(command, c.Forget) and command.person is None and command.confirmed:
            self.users.forget_user(ctx.workspace_id, ctx.user_id)
        elif reply.changed and isinstance(command, c.Settings | c.Pause | c.Resume
                                          | c.AnswerSuggestion | c.Undo):
            self.users.expire(ctx)
        return reply

    async def read(self, ctx: UserContext, work: Callable[[Turn], T], *,
                   directory: Directory | None = None) -> T:
        """Run read-only work for a loaded user in one unit of work; work that needs the names
        of @mentioned accounts runs again once the `directory` was asked (without one, their
        names are the mentions' own labels)."""
        now = self.clock()
        names: dict[str, str] = {}
        not_people: dict[str, NotAPerson] = {}
        while True:
            try:
                return await self.db.run(lambda session: work(Turn(
                    session, fresh_context(session, ctx), now, names, not_people)),
                    write=False)
            except MentionNamesNeeded as needed:
                await self._learn_names(needed, directory, names, not_people)

    async def _learn_names(self, needed: MentionNamesNeeded, directory: Directory | None,
                           names: dict[str, str], not_people: dict[str, NotAPerson]) -> None:
        for mention in needed.mention_ids:
            names[mention], not_a_person = await self._look_up(mention, directory)
            if not_a_person is not None:
                not_people[mention] = not_a_person

    @staticmethod
    async def _look_up(mention_id: str, directory: Directory | None
                       ) -> tuple[str, NotAPerson | None]:
        """The mentioned account's name ("" when unknown) and whether it is no person."""
        if directory is None:
            return "", None
        try:
            return (await directory.display_name(mention_id) or "",
                    await directory.not_a_person(mention_id))
        except Exception as failure:  # the directory is a nicety; fall back to the mention
            logger.warning("directory lookup failed", extra={"error": type(failure).__name__})
            return "", None

    async def welcome(self, actor: Actor) -> str | None:
        """The welcome text the first time Rapport meets `actor` (None after that, or when
        the database can't be reached: the next meeting tries again)."""

        async def once(ctx: UserContext) -> bool:
            now = self.clock()
            return await self.db.run(lambda session: onboarding.first_meeting(
                Turn(session, fresh_context(session, ctx), now)))

        first = await self.with_user(actor, once)
        return onboarding.welcome_text(actor.display_name) if first else None

    @staticmethod
    async def warm_up() -> None:
        """Load the date and fuzzy-matching libraries off the event loop, at start, so the
        first command that names a month does not pay for it (about a second)."""
        from rapport.bot.core.verbs import warm_up

        await asyncio.to_thread(warm_up)

    # ------------------------------------------------------------------ for platforms
    async def user_context(self, actor: Actor) -> UserContext:
        """The actor's loaded rows (unguarded: callers handle database trouble)."""
        return await self.users.context(actor)

    async def recheck(self, ctx: UserContext) -> UserContext:
        """The user's rows read again by `ctx`'s ids, for work outside a unit of work that
        acts on other systems by those ids (revoking a grant); `StaleUser` when they are no
        longer the actor's (`guarded` and `with_user` then find the actor's rows afresh)."""
        return await self.db.run(lambda session: fresh_context(session, ctx), write=False,
                                 short=True)

    def forget_cached(self, platform: str, workspace_external_id: str,
                      user_external_id: str | None = None) -> None:
        """Drop cached ids after deletes (forget me, uninstall) or profile changes."""
        self.users.forget(platform, workspace_external_id, user_external_id)

    async def open_nudges(self, ctx: UserContext) -> list[NudgeItem]:
        """The user's nudges that are due and not acted on, oldest first."""
        return await self.read(ctx, overview.open_nudges)

    async def import_contacts(self, ctx: UserContext, filename: str, data: bytes, *,
                              dry_run: bool = False) -> Reply:
        """Merge an uploaded CSV or vCard into the user's contacts, all or nothing."""
        now = self.clock()

        def work(session: Session) -> Reply:
            return importer.import_file(session, fresh_context(session, ctx), filename, data,
                                        dry_run=dry_run, now=now)

        return await self.db.run(work, write=not dry_run)

