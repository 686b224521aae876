"""Use cases: every command and button ends here, whatever the platform.

`Rapport.handle_text` parses and runs one command for one actor; `Rapport.handle_nudge_action`
runs a button click on a nudge. Both answer with a `Reply` and never raise to the user.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core import commands as c
from rapport.bot.core.replies import Actor, Attachment, Reply, error
from rapport.bot.core.resolve import ContactName, Resolved, name_key, resolve
from rapport.bot.core.touchpoints import record_touchpoint
from rapport.scheduler import planner, wording
from rapport.scheduler.delivery import IMPORTANT_DATE_LEAD_DAYS, load_nudge_items
from rapport.scheduler.messenger import NudgeItem
from rapport.storage.models import (
    Contact,
    ConversationRef,
    Draft,
    ImportantDate,
    Note,
    Nudge,
    Touchpoint,
    User,
    Workspace,
)

logger = logging.getLogger(__name__)

OPEN_NUDGE_STATUSES = ("planned", "claimed", "snoozed", "sent")
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
TRY_AGAIN = "I can't reach my database right now. Please try again in a moment."
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Directory(Protocol):
    """The platform's people directory, for names of @mentioned colleagues."""

    async def display_name(self, user_external_id: str) -> str | None: ...


class Drafter(Protocol):
    """Makes drafts (bot/drafts.py); absent until AI drafts are wired in."""

    async def draft_for(self, rapport: Rapport, actor_ids: UserContext, contact_id: int,
                        nudge_id: int | None) -> Reply: ...


@dataclass(frozen=True, slots=True)
class UserContext:
    """The acting user's ids and preferences, loaded once per command."""

    workspace_id: int
    user_id: int
    platform: str
    tz: str
    prefs: planner.DeliveryPrefs
    digest: bool
    ai_enabled: bool
    tone: str
    weekly_summary: bool
    workspace_ai_enabled: bool
    disclosure_policy: str
    active: bool = True

    def today(self, now: datetime) -> date:
        return planner.local_date(now, self.tz)


def valid_zone(name: str) -> str | None:
    """The canonical zone name, or None when it is not a known IANA zone."""
    if not name or len(name) > 64 or ".." in name:
        return None
    try:
        return str(ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError):
        for candidate in (name.title(), name.upper()):
            try:
                return str(ZoneInfo(candidate))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return None


def _format_window(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def format_days(mask: int) -> str:
    """'Mon-Fri', 'Sun-Thu', 'Mon, Wed, Fri' or 'every day'."""
    days = [i for i in range(7) if mask & (1 << i)]
    if len(days) == 7:
        return "every day"
    if not days:
        return "no days"
    for start in range(7):
        run = [(start + k) % 7 for k in range(len(days))]
        if sorted(run) == days and len(days) > 2:
            return f"{_DAY_NAMES[run[0]]}-{_DAY_NAMES[run[-1]]}"
    return ", ".join(_DAY_NAMES[d] for d in days)


def _friendly_day(day: date, today: date) -> str:
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    if day == today - timedelta(days=1):
        return "yesterday"
    if today < day < today + timedelta(days=7):
        return f"{day:%A}, {wording.short_date(day)}"
    return f"{day:%a} {wording.short_date(day)}" + (f" {day.year}" if day.year != today.year
                                                    else "")


class Rapport:
    """The application's use cases, shared by every platform."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = planner.utcnow,
                 drafter: Drafter | None = None,
                 on_change: Callable[[UserContext], Awaitable[None]] | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.drafter = drafter
        # Platforms refresh their views (Slack's App Home) when a user's data changes.
        self.on_change = on_change
        self._ids: dict[tuple[str, str, str], tuple[int, int]] = {}

    # ------------------------------------------------------------------ entry points
    async def handle_text(self, actor: Actor, text: str, *,
                          directory: Directory | None = None) -> Reply:
        """Parse and run one command typed by `actor`."""

        async def parse_and_run(ctx: UserContext) -> Reply:
            command = c.parse_command(text, today=ctx.today(self.clock()))
            if isinstance(command, c.CommandError):
                return error(command.text())
            return await self.run(ctx, command, directory=directory)

        return await self._guarded(actor, parse_and_run)

    async def handle_nudge_action(self, actor: Actor, nudge_id: int, action: str,
                                  snooze_until: date | None = None) -> Reply:
        """A button on a nudge: done, snooze, dismiss or draft; refused for others' nudges."""

        async def act(ctx: UserContext) -> Reply:
            target = c.NudgeRef(nudge_id)
            today = ctx.today(self.clock())
            if action == "done":
                return await self.done(ctx, c.Done(target))
            if action == "dismiss":
                return await self.dismiss(ctx, c.Dismiss(target))
            if action in ("snooze", "snooze_1d", "snooze_1w"):
                until = snooze_until or today + timedelta(days=7 if action == "snooze_1w" else 1)
                if until <= today or until > today + timedelta(days=366):
                    return error("Pick a day after today, within a year.")
                return await self.snooze(ctx, c.Snooze(target, until))
            if action == "draft":
                return await self.draft_for_nudge(ctx, nudge_id)
            return error("I don't know that action.")

        return await self._guarded(actor, act)

    async def handle_import(self, actor: Actor, filename: str, data: bytes, *,
                            dry_run: bool) -> Reply:
        """A contacts file the actor sent (upload, console path, CLI): dry run or import."""

        async def run(ctx: UserContext) -> Reply:
            return await self.import_contacts(ctx, filename, data, dry_run=dry_run)

        return await self._guarded(actor, run)

    async def _guarded(self, actor: Actor,
                       use_case: Callable[[UserContext], Awaitable[Reply]]) -> Reply:
        """Run a use case for `actor`: a database outage answers "try again", never raises."""
        try:
            ctx = await self.user_context(actor)
            reply = await use_case(ctx)
        except (OperationalError, DBAPIError, OSError, TimeoutError) as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return error(TRY_AGAIN)
        if reply.changed and self.on_change is not None:
            try:
                await self.on_change(ctx)
            except Exception as failure:  # a view refresh must not turn a success into an error
                logger.warning("change hook failed", extra={"error": type(failure).__name__})
        return reply

    async def run(self, ctx: UserContext, command: c.Command, *,
                  directory: Directory | None = None) -> Reply:
        """Run an already parsed command."""
        match command:
            case c.Help(topic):
                return Reply(c.help_text(topic))
            case c.Log():
                return await self.log(ctx, command, directory)
            case c.AddNote():
                return await self.note(ctx, command, directory)
            case c.SetCadence():
                return await self.every(ctx, command, directory)
            case c.AddContact():
                return await self.add(ctx, command, directory)
            case c.ShowDue():
                return await self.due(ctx)
            case c.ShowPeople():
                return await self.people(ctx)
            case c.Snooze():
                return await self.snooze(ctx, command)
            case c.Done():
                return await self.done(ctx, command)
            case c.Dismiss():
                return await self.dismiss(ctx, command)
            case c.Pause():
                return await self.pause(ctx, command)
            case c.Resume():
                return await self.resume(ctx)
            case c.Settings():
                return await self.settings(ctx, command)
            case c.Draft():
                return await self.draft(ctx, command, directory)
            case c.SetDate():
                return await self.set_date(ctx, command, directory)
            case c.Stats():
                return await self.stats(ctx)
            case c.Export():
                return await self.export(ctx)
            case c.ImportFile():
                # Reading a path on the server for a chat user would leak the server's files.
                return error("Import reads a file on your own computer, so it works in the "
                             "console (`rapport chat`) or with `rapport import FILE --user ...`.")
            case c.Forget():
                return await self.forget(ctx, command)
        return error("I don't know that command.")  # pragma: no cover - exhaustive above

    # ------------------------------------------------------------------ users
    async def user_context(self, actor: Actor) -> UserContext:
        """Load (creating on first contact) the actor's workspace and user rows."""
        key = (actor.platform, actor.workspace_external_id, actor.user_external_id)
        ids = self._ids.get(key)
        if ids is not None:
            ctx = await self._load_context(*ids)
            if ctx is not None and ctx.active:
                return ctx
            # Deleted meanwhile, or marked unreachable: the slow path recreates or reactivates.
            self._ids.pop(key, None)
        ids = await self._ensure_rows(actor)
        self._ids[key] = ids
        ctx = await self._load_context(*ids)
        assert ctx is not None
        return ctx

    def forget_cached(self, platform: str, workspace_external_id: str,
                      user_external_id: str | None = None) -> None:
        """Drop cached ids after deletes (forget me, uninstall)."""
        for key in list(self._ids):
            if key[:2] == (platform, workspace_external_id) and (
                    user_external_id is None or key[2] == user_external_id):
                self._ids.pop(key, None)

    async def _ensure_rows(self, actor: Actor) -> tuple[int, int]:
        now = self.clock()
        for _attempt in range(3):
            try:
                async with self.sessions() as session, session.begin():
                    workspace_id = await session.scalar(select(Workspace.id).where(
                        Workspace.platform == actor.platform,
                        Workspace.external_id == actor.workspace_external_id))
                    if workspace_id is None:
                        workspace = Workspace(platform=actor.platform,
                                              external_id=actor.workspace_external_id,
                                              name=actor.workspace_name[:200], ai_enabled=True,
                                              disclosure_policy="optional", active=True,
                                              created_at=now)
                        session.add(workspace)
                        await session.flush()
                        workspace_id = workspace.id
                    user = await session.scalar(select(User).where(
                        User.workspace_id == workspace_id,
                        User.external_id == actor.user_external_id))
                    if user is None:
                        tz = valid_zone(actor.tz or "") or "UTC"
                        user = User(workspace_id=workspace_id,
                                    external_id=actor.user_external_id,
                                    display_name=actor.display_name[:200], tz=tz,
                                    tz_from_platform=True, window_start_minute=9 * 60,
                                    window_end_minute=17 * 60, working_days=0b0011111,
                                    daily_cap=3, digest=True, ai_enabled=True, tone="warm",
                                    weekly_summary=True, active=True, sent_day_count=0,
                                    created_at=now)
                        session.add(user)
                        await session.flush()
                    elif user.tz_from_platform and (platform_zone := valid_zone(actor.tz or "")):
                        user.tz = platform_zone
                    if not user.active and user.inactive_reason:
                        # The user is talking to us again, so they can be reached again,
                        # and what waited for them need not wait for the next recheck.
                        user.active, user.inactive_reason = True, None
                        await session.execute(
                            update(Nudge).where(Nudge.user_id == user.id,
                                                Nudge.status == "planned")
                            .values(deliver_after=now)
                            .execution_options(synchronize_session=False))
                    return workspace_id, user.id
            except IntegrityError:
                continue  # a concurrent first message created the same rows; read them
        raise RuntimeError("could not create user rows")

    async def _load_context(self, workspace_id: int, user_id: int) -> UserContext | None:
        async with self.sessions() as session:
            row = (await session.execute(
                select(User.tz, User.window_start_minute, User.window_end_minute,
                       User.working_days, User.daily_cap, User.paused_until, User.digest,
                       User.ai_enabled, User.tone, User.weekly_summary, Workspace.platform,
                       Workspace.ai_enabled, Workspace.disclosure_policy, User.active)
                .join(Workspace, Workspace.id == User.workspace_id)
                .where(User.id == user_id, User.workspace_id == workspace_id))).first()
        if row is None:
            return None
        (tz, start, end, days, cap, paused, digest, ai, tone, summary, platform, ws_ai,
         disclosure, active) = row
        return UserContext(
            workspace_id=workspace_id, user_id=user_id, platform=platform, tz=tz,
            prefs=planner.DeliveryPrefs(tz=tz, window_start_minute=start, window_end_minute=end,
                                        working_days=days, daily_cap=cap, paused_until=paused),
            digest=digest, ai_enabled=ai, tone=tone, weekly_summary=summary,
            workspace_ai_enabled=ws_ai, disclosure_policy=disclosure, active=active)

    # ------------------------------------------------------------------ contacts
    async def contact_names(self, session: AsyncSession, ctx: UserContext) -> list[ContactName]:
        rows = await session.execute(
            select(Contact.id, Contact.name, Contact.platform_user_id)
            .where(Contact.user_id == ctx.user_id, Contact.workspace_id == ctx.workspace_id))
        return [ContactName(*row) for row in rows]

    async def find_contact(self, session: AsyncSession, ctx: UserContext, person: c.PersonRef,
                           directory: Directory | None, *, create_mentions: bool
                           ) -> tuple[Contact | None, str | None, bool]:
        """(contact, error message, created) for `person` among the user's contacts."""
        result = resolve(person, await self.contact_names(session, ctx))
        if isinstance(result, Resolved):
            return await session.get(Contact, result.contact.id), None, False
        if person.mention_id and create_mentions:
            contact = await self._create_contact(session, ctx, person, directory, kind="colleague",
                                                 company=None, cadence_days=None)
            return contact, None, True
        return None, result.message, False

    async def _mention_name(self, person: c.PersonRef, directory: Directory | None) -> str:
        name = None
        if person.mention_id and directory is not None:
            try:
                name = await directory.display_name(person.mention_id)
            except Exception as failure:  # the directory is a nicety; fall back to the id
                logger.warning("directory lookup failed", extra={"error": type(failure).__name__})
        return (name or person.mention_name or person.text or person.mention_id or "?")[:100]

    async def _create_contact(self, session: AsyncSession, ctx: UserContext,
                              person: c.PersonRef, directory: Directory | None, *, kind: str,
                              company: str | None, cadence_days: int | None) -> Contact:
        now = self.clock()
        name = await self._mention_name(person, directory) if person.mention_id \
            else person.text[:100]
        taken = {name_key(n.name) for n in await self.contact_names(session, ctx)}
        unique_name = name
        if name_key(unique_name) in taken and person.mention_id:
            unique_name = f"{name} ({person.mention_id})"[:200]
        contact = Contact(workspace_id=ctx.workspace_id, user_id=ctx.user_id, name=unique_name,
                          name_key=name_key(unique_name), kind=kind,
                          platform_user_id=person.mention_id, company=company,
                          cadence_days=cadence_days, created_at=now)
        contact.next_due_at = planner.cadence_next_due(None, cadence_days, now)
        contact.plan_at = contact.next_due_at
        session.add(contact)
        await session.flush()
        return contact

    # ------------------------------------------------------------------ commands
    async def add(self, ctx: UserContext, command: c.AddContact,
                  directory: Directory | None) -> Reply:
        async with self.sessions() as session, session.begin():
            names = await self.contact_names(session, ctx)
            person = command.person
            if person.mention_id:
                existing = [n for n in names if n.platform_user_id == person.mention_id]
            else:
                existing = [n for n in names if name_key(n.name) == name_key(person.text)]
            if existing:
                return error(f"You already keep in touch with {existing[0].name}.")
            contact = await self._create_contact(session, ctx, person, directory,
                                                 kind=command.kind, company=command.company,
                                                 cadence_days=command.cadence_days)
            label = wording.contact_label(contact.name, contact.company)
        cadence = (f" I'll remind you to talk every {planner.humanize_days(command.cadence_days)}."
                   if command.cadence_days else
                   f" Set how often with “every {contact.name.split()[0]} 2 weeks”.")
        return Reply(f"Added {label} ({command.kind}).{cadence}", changed=True)

    async def log(self, ctx: UserContext, command: c.Log, directory: Directory | None) -> Reply:
        now = self.clock()
        today = ctx.today(now)
        async with self.sessions() as session, session.begin():
            command = await self._full_name_before_kind(session, ctx, command)
            contact, problem, created = await self.find_contact(
                session, ctx, command.person, directory, create_mentions=True)
            if contact is None:
                return error(problem or "Who do you mean?")
            happened_at = now if command.day in (None, today) else min(
                now, planner.local_moment(command.day, 12 * 60, ctx.tz))
            await self._record_touch(session, ctx, contact, happened_at, command.kind,
                                     command.summary, source="command")
            name = contact.name
        when = "" if command.day in (None, today) else f" ({_friendly_day(command.day, today)})"
        added = f" I added {name} to your people." if created else ""
        return Reply(f"Logged {command.kind} with {name}{when}.{added}", changed=True)

    async def _full_name_before_kind(self, session: AsyncSession, ctx: UserContext,
                                     command: c.Log) -> c.Log:
        """`log Dana White` reads as person "Dana", kind "white"; when "Dana White" is one of
        the user's people, that is who they meant."""
        person = command.person
        if person.mention_id or command.kind in c.KNOWN_KINDS or command.summary:
            return command
        full = name_key(f"{person.text} {command.kind}")
        if any(name_key(n.name) == full for n in await self.contact_names(session, ctx)):
            return c.Log(person=c.PersonRef(text=f"{person.text} {command.kind}"),
                         day=command.day, kind="chat", summary=None)
        return command

    async def _record_touch(self, session: AsyncSession, ctx: UserContext, contact: Contact,
                            happened_at: datetime, kind: str, summary: str | None, *,
                            source: str) -> None:
        now = self.clock()
        await session.run_sync(lambda sync: record_touchpoint(
            sync, workspace_id=ctx.workspace_id, user_id=ctx.user_id, contact_id=contact.id,
            happened_at=happened_at, kind=kind, summary=summary, source=source, now=now))

    async def note(self, ctx: UserContext, command: c.AddNote,
                   directory: Directory | None) -> Reply:
        now = self.clock()
        today = ctx.today(now)
        async with self.sessions() as session, session.begin():
            contact, problem, _ = await self.find_contact(session, ctx, command.person, directory,
                                                          create_mentions=True)
            if contact is None:
                return error(problem or "Who do you mean?")
            plan_at = None
            if command.follow_up_on is not None:
                plan_at = max(planner.follow_up_moment(command.follow_up_on, ctx.prefs), now) \
                    if command.follow_up_on == today else \
                    planner.follow_up_moment(command.follow_up_on, ctx.prefs)
            session.add(Note(workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                             contact_id=contact.id, text=command.text,
                             follow_up_on=command.follow_up_on, plan_at=plan_at, created_at=now))
            name = contact.name
        if command.follow_up_on is None:
            return Reply(f"Noted for {name}.", changed=True)
        return Reply(f"Noted. I'll remind you to ask {wording.first_name(name)} about "
                     f"{wording.about_phrase(command.text)} "
                     f"{_friendly_day(command.follow_up_on, today)}.", changed=True)

    async def every(self, ctx: UserContext, command: c.SetCadence,
                    directory: Directory | None) -> Reply:
        async with self.sessions() as session, session.begin():
            contact, problem, _ = await self.find_contact(session, ctx, command.person, directory,
                                                          create_mentions=True)
            if contact is None:
                return error(problem or "Who do you mean?")
            contact.cadence_days = command.days
            contact.next_due_at = planner.cadence_next_due(contact.last_touch_at, command.days,
                                                           contact.created_at)
            contact.plan_at = contact.next_due_at
            if command.days is None:
                await session.execute(
                    update(Nudge).where(Nudge.contact_id == contact.id,
                                        Nudge.reason == "cadence",
                                        Nudge.status.in_(("planned", "snoozed")))
                    .values(status="expired").execution_options(synchronize_session=False))
            name, next_due = contact.name, contact.next_due_at
        if command.days is None:
            return Reply(f"No more keep-in-touch reminders for {name}.", changed=True)
        today = ctx.today(self.clock())
        due_day = planner.local_date(next_due, ctx.tz) if next_due else today
        when = "now" if due_day <= today else _friendly_day(due_day, today)
        return Reply(f"I'll remind you to talk to {name} every "
                     f"{planner.humanize_days(command.days)} (next: {when}).", changed=True)

    async def _open_nudge(self, session: AsyncSession, ctx: UserContext, target: c.Target
                          ) -> tuple[Nudge | None, str | None]:
        if isinstance(target, c.NudgeRef):
            nudge = await session.get(Nudge, target.nudge_id)
            if nudge is None or nudge.user_id != ctx.user_id \
                    or nudge.workspace_id != ctx.workspace_id:
                # The same answer for "missing" and "someone else's": nothing leaks.
                return None, f"I can't find nudge #{target.nudge_id} among yours."
            return nudge, None
        result = resolve(target, await self.contact_names(session, ctx))
        if not isinstance(result, Resolved):
            return None, result.message
        nudge = await session.scalar(
            select(Nudge).where(Nudge.user_id == ctx.user_id,
                                Nudge.contact_id == result.contact.id,
                                Nudge.status.in_(OPEN_NUDGE_STATUSES),
                                Nudge.due_at <= self.clock() + timedelta(days=1))
            .order_by(Nudge.due_at.desc()).limit(1))
        if nudge is None:
            return None, f"There is no open nudge for {result.contact.name}."
        return nudge, None

    async def done(self, ctx: UserContext, command: c.Done) -> Reply:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if isinstance(command.target, c.PersonRef):
                result = resolve(command.target, await self.contact_names(session, ctx))
                if not isinstance(result, Resolved):
                    return error(result.message)
            nudge, problem = await self._open_nudge(session, ctx, command.target)
            if nudge is None and isinstance(command.target, c.PersonRef):
                # Nothing open: "done Dana" still means "I talked to Dana".
                contact = await session.get(Contact, result.contact.id)
                assert contact is not None
                await self._record_touch(session, ctx, contact, now, "chat", command.summary,
                                         source="command")
                return Reply(f"Logged a chat with {contact.name}.", changed=True)
            if nudge is None:
                return error(problem or "Nothing to mark done.")
            if nudge.status not in OPEN_NUDGE_STATUSES:
                return error(f"That nudge is already {nudge.status}.")
            contact = await session.get(Contact, nudge.contact_id)
            assert contact is not None
            nudge.status, nudge.acted_at = "done", now
            await self._record_touch(session, ctx, contact, now, "chat", command.summary,
                                     source="nudge")
            if nudge.note_id is not None:
                await session.execute(update(Note).where(Note.id == nudge.note_id)
                                      .values(plan_at=None))
            name = contact.name
        return Reply(f"Nice. Logged that you reached out to {name}.", changed=True,
                     extra={"nudge_id": nudge.id, "status": "done"})

    async def dismiss(self, ctx: UserContext, command: c.Dismiss) -> Reply:
        async with self.sessions() as session, session.begin():
            nudge, problem = await self._open_nudge(session, ctx, command.target)
            if nudge is None:
                return error(problem or "Nothing to dismiss.")
            if nudge.status not in OPEN_NUDGE_STATUSES:
                return error(f"That nudge is already {nudge.status}.")
            nudge.status, nudge.acted_at = "dismissed", self.clock()
            contact = await session.get(Contact, nudge.contact_id)
            name = contact.name if contact else "them"
        return Reply(f"Dismissed the nudge about {name}.", changed=True,
                     extra={"nudge_id": nudge.id, "status": "dismissed"})

    async def snooze(self, ctx: UserContext, command: c.Snooze) -> Reply:
        today = ctx.today(self.clock())
        async with self.sessions() as session, session.begin():
            nudge, problem = await self._open_nudge(session, ctx, command.target)
            if nudge is None:
                return error(problem or "Nothing to snooze.")
            if nudge.status not in OPEN_NUDGE_STATUSES:
                return error(f"That nudge is already {nudge.status}.")
            nudge.status = "snoozed"
            nudge.snooze_count += 1
            nudge.lease_owner = None
            nudge.deliver_after = planner.local_moment(command.until,
                                                       ctx.prefs.window_start_minute, ctx.tz)
            contact = await session.get(Contact, nudge.contact_id)
            name = contact.name if contact else "them"
        return Reply(f"Snoozed the nudge about {name} until "
                     f"{_friendly_day(command.until, today)}.", changed=True,
                     extra={"nudge_id": nudge.id, "status": "snoozed",
                            "until": command.until.isoformat()})

    async def pause(self, ctx: UserContext, command: c.Pause) -> Reply:
        today = ctx.today(self.clock())
        until = FAR_FUTURE if command.until is None else planner.local_moment(
            command.until, 0, ctx.tz)
        async with self.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == ctx.user_id)
                                  .values(paused_until=until))
        if command.until is None:
            return Reply("Paused. No nudges until you type “resume”.", changed=True)
        return Reply(f"Paused until {_friendly_day(command.until, today)}.", changed=True)

    async def resume(self, ctx: UserContext) -> Reply:
        async with self.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == ctx.user_id)
                                  .values(paused_until=None))
        return Reply("Welcome back. Nudges are on again.", changed=True)

    async def settings(self, ctx: UserContext, command: c.Settings) -> Reply:
        if command.name is None:
            return Reply(self.describe_settings(ctx))
        values: dict[str, Any] = {}
        if command.name == "tz":
            zone = valid_zone(str(command.value))
            if zone is None:
                return error(f"I don't know the time zone “{str(command.value)[:40]}”. Use a "
                             "name like Europe/Berlin or America/New_York.\n"
                             f"Usage: {c.SPECS['settings'].usage}")
            values = {"tz": zone, "tz_from_platform": False}
        elif command.name == "window":
            start, end = command.value  # type: ignore[misc]
            values = {"window_start_minute": start, "window_end_minute": end}
        elif command.name == "days":
            values = {"working_days": command.value}
        elif command.name == "cap":
            values = {"daily_cap": command.value}
        elif command.name == "digest":
            values = {"digest": command.value}
        elif command.name == "ai":
            values = {"ai_enabled": command.value}
        elif command.name == "tone":
            values = {"tone": command.value}
        elif command.name == "summary":
            values = {"weekly_summary": command.value}
        async with self.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == ctx.user_id).values(**values))
            await self._reschedule_follow_ups(session, ctx.user_id)
        updated = await self._load_context(ctx.workspace_id, ctx.user_id)
        assert updated is not None
        return Reply("Saved.\n" + self.describe_settings(updated), changed=True)

    async def _reschedule_follow_ups(self, session: AsyncSession, user_id: int) -> None:
        # Follow-up moments depend on the window and zone; recompute the ones not yet planned.
        user = await session.get(User, user_id)
        if user is None:
            return
        prefs = planner.DeliveryPrefs(tz=user.tz, window_start_minute=user.window_start_minute)
        notes = (await session.scalars(select(Note).where(
            Note.user_id == user_id, Note.plan_at.is_not(None),
            Note.follow_up_on.is_not(None)))).all()
        now = self.clock()
        for note in notes:
            assert note.follow_up_on is not None
            note.plan_at = max(planner.follow_up_moment(note.follow_up_on, prefs), now) \
                if note.follow_up_on <= planner.local_date(now, user.tz) else \
                planner.follow_up_moment(note.follow_up_on, prefs)

    def describe_settings(self, ctx: UserContext) -> str:
        """The user's settings as a short text."""
        p = ctx.prefs
        paused = ""
        if p.paused_until and p.paused_until > self.clock():
            paused = "\n• Paused " + ("until you resume" if p.paused_until >= FAR_FUTURE
                                      else f"until {planner.local_date(p.paused_until, ctx.tz)}")
        ai = "on" if ctx.ai_enabled and ctx.workspace_ai_enabled else "off"
        if not ctx.workspace_ai_enabled:
            ai += " (turned off for the whole workspace)"
        return (f"Your settings:\n• Time zone: {ctx.tz}\n"
                f"• Delivery window: {_format_window(p.window_start_minute, p.window_end_minute)}"
                f" on {format_days(p.working_days)}\n"
                f"• At most {p.daily_cap} nudge message(s) a day; digest: "
                f"{'on' if ctx.digest else 'off'}\n"
                f"• AI drafts: {ai}; tone: {ctx.tone}\n"
                f"• Weekly summary: {'on' if ctx.weekly_summary else 'off'}{paused}")

    # ------------------------------------------------------------------ views
    async def open_nudges(self, ctx: UserContext, *, limit: int = 50) -> list[NudgeItem]:
        """The user's nudges that are due and not acted on, oldest first."""
        now = self.clock()
        async with self.sessions() as session:
            ids = list((await session.scalars(
                select(Nudge.id).where(
                    Nudge.user_id == ctx.user_id,
                    or_(Nudge.status == "sent",
                        Nudge.status.in_(("planned", "claimed")) & (Nudge.due_at <= now)))
                .order_by(Nudge.due_at).limit(limit))).all())
            if not ids:
                return []
            items = await load_nudge_items(session, ids, now)
        return [items[i] for i in ids if i in items]

    async def due(self, ctx: UserContext) -> Reply:
        now = self.clock()
        today = ctx.today(now)
        horizon = now + timedelta(days=7)
        items = await self.open_nudges(ctx)
        async with self.sessions() as session:
            upcoming = (await session.execute(
                select(Contact.name, Contact.next_due_at)
                .where(Contact.user_id == ctx.user_id, Contact.next_due_at.is_not(None),
                       Contact.next_due_at <= horizon)
                .order_by(Contact.next_due_at).limit(20))).all()
            follow_ups = (await session.execute(
                select(Contact.name, Note.text, Note.follow_up_on)
                .join(Contact, Contact.id == Note.contact_id)
                .where(Note.user_id == ctx.user_id, Note.plan_at.is_not(None),
                       Note.plan_at <= horizon)
                .order_by(Note.plan_at).limit(20))).all()
        open_names = {item.contact_name for item in items}
        lines: list[str] = []
        if items:
            lines.append("Due now:")
            lines += [f"  #{item.nudge_id} {item.headline}" for item in items]
        overdue = [(name, at) for name, at in upcoming if at <= now and name not in open_names]
        coming = [(name, at) for name, at in upcoming if at > now]
        if overdue:
            lines.append("Overdue, nudge on its way:")
            lines += [f"  {name} (since {_friendly_day(planner.local_date(at, ctx.tz), today)})"
                      for name, at in overdue]
        if coming or follow_ups:
            lines.append("Coming up:")
            lines += [f"  Talk to {name} {_friendly_day(planner.local_date(at, ctx.tz), today)}"
                      for name, at in coming]
            lines += [f"  Ask {wording.first_name(name)} about {wording.about_phrase(text)} "
                      f"{_friendly_day(day, today) if day else ''}".rstrip()
                      for name, text, day in follow_ups]
        if not lines:
            return Reply("Nothing is due. Add people with “add <name>” and set how often with "
                         "“every <name> 2 weeks”.")
        if items:
            lines.append("Reply “done #N”, “snooze #N 1 week” or “dismiss #N”.")
        return Reply("\n".join(lines), nudges=tuple(items))

    async def people(self, ctx: UserContext, *, limit: int = 200) -> Reply:
        now = self.clock()
        today = ctx.today(now)
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Contact.name, Contact.company, Contact.kind, Contact.cadence_days,
                       Contact.last_touch_at, Contact.next_due_at)
                .where(Contact.user_id == ctx.user_id).order_by(Contact.name_key)
                .limit(limit + 1))).all()
        if not rows:
            return Reply("You have no people yet. Add someone with “add Dana every 2 weeks”.")
        lines = ["Your people:"]
        for name, company, kind, cadence, last_touch, next_due in rows[:limit]:
            last = (f"last talked {_friendly_day(planner.local_date(last_touch, ctx.tz), today)}"
                    if last_touch else "no conversation logged")
            health = contact_health(next_due, now)
            every = f", every {planner.humanize_days(cadence)}" if cadence else ""
            lines.append(f"  {wording.contact_label(name, company)} ({kind}{every}): {last}"
                         f"{' · ' + health if health else ''}")
        if len(rows) > limit:
            lines.append(f"  … and more; showing the first {limit}.")
        return Reply("\n".join(lines))

    # ------------------------------------------------------------------ drafts
    async def draft(self, ctx: UserContext, command: c.Draft,
                    directory: Directory | None) -> Reply:
        if isinstance(command.person, c.NudgeRef):
            return await self.draft_for_nudge(ctx, command.person.nudge_id)
        async with self.sessions() as session:
            contact, problem, _ = await self.find_contact(session, ctx, command.person, directory,
                                                          create_mentions=False)
        if contact is None:
            return error(problem or "Who do you mean?")
        if self.drafter is None:
            return Reply("AI drafts are not set up yet. Write to "
                         f"{wording.first_name(contact.name)} in your own words.")
        return await self.drafter.draft_for(self, ctx, contact.id, None)

    async def draft_for_nudge(self, ctx: UserContext, nudge_id: int) -> Reply:
        async with self.sessions() as session:
            nudge = await session.get(Nudge, nudge_id)
            if nudge is None or nudge.user_id != ctx.user_id \
                    or nudge.workspace_id != ctx.workspace_id:
                return error(f"I can't find nudge #{nudge_id} among yours.")
            contact_id = nudge.contact_id
        if self.drafter is None:
            return Reply("AI drafts are not set up yet. Write in your own words.")
        return await self.drafter.draft_for(self, ctx, contact_id, nudge_id)

    # ------------------------------------------------------------------ dates
    async def set_date(self, ctx: UserContext, command: c.SetDate,
                       directory: Directory | None) -> Reply:
        now = self.clock()
        today = ctx.today(now)
        async with self.sessions() as session, session.begin():
            contact, problem, _ = await self.find_contact(session, ctx, command.person, directory,
                                                          create_mentions=True)
            if contact is None:
                return error(problem or "Who do you mean?")
            existing = await session.scalar(select(ImportantDate).where(
                ImportantDate.contact_id == contact.id, ImportantDate.kind == command.kind))
            what = "birthday" if command.kind == "birthday" else "work anniversary"
            if command.month is None or command.day is None:
                if existing is not None:
                    await session.delete(existing)
                return Reply(f"Forgot {contact.name}'s {what}.", changed=True)
            occurrence = planner.yearly_occurrence(command.month, command.day, today)
            plan_day = occurrence - timedelta(days=IMPORTANT_DATE_LEAD_DAYS)
            plan_at = max(now, planner.local_moment(plan_day, ctx.prefs.window_start_minute,
                                                    ctx.tz))
            if existing is None:
                session.add(ImportantDate(workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                                          contact_id=contact.id, kind=command.kind,
                                          month=command.month, day=command.day,
                                          plan_at=plan_at, created_at=now))
            else:
                existing.month, existing.day, existing.plan_at = command.month, command.day, \
                    plan_at
            name = contact.name
        return Reply(f"I'll remind you of {wording.first_name(name)}'s {what} "
                     f"({wording.short_date(occurrence)}) a few days before.", changed=True)

    # ------------------------------------------------------------------ stats and data
    async def stats(self, ctx: UserContext) -> Reply:
        """The user's numbers as text; the `UserStats` object is in `extra["stats"]`."""
        from rapport.bot.core.stats import compute_user_stats, format_stats_text

        async with self.sessions() as session:
            stats = await compute_user_stats(session, ctx.user_id, self.clock())
        return Reply(format_stats_text(stats), extra={"stats": stats})

    async def import_contacts(self, ctx: UserContext, filename: str, data: bytes, *,
                              dry_run: bool = False) -> Reply:
        """Merge an uploaded CSV or vCard into the user's contacts, all or nothing."""
        from rapport.bot.core.importer import import_contacts

        return await import_contacts(self, ctx, filename, data, dry_run=dry_run)

    async def export(self, ctx: UserContext) -> Reply:
        data = await self.export_data(ctx.user_id)
        payload = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
        return Reply(f"Here is everything Rapport stores about your relationships "
                     f"({len(data['contacts'])} people).",
                     attachment=Attachment("rapport-export.json", "application/json", payload))

    async def export_data(self, user_id: int) -> dict[str, Any]:
        """Every row Rapport keeps for this user, as plain JSON-ready data."""
        tables = {"contacts": Contact, "touchpoints": Touchpoint, "notes": Note,
                  "important_dates": ImportantDate, "nudges": Nudge, "drafts": Draft,
                  "conversation_refs": ConversationRef}
        async with self.sessions() as session:
            user = await session.get(User, user_id)
            assert user is not None
            result: dict[str, Any] = {"user": _row_dict(user), "exported_at": self.clock()}
            for key, model in tables.items():
                rows = (await session.scalars(select(model).where(model.user_id == user_id)
                                              .order_by(model.id))).all()
                result[key] = [_row_dict(row) for row in rows]
        result["sent_to_ai_providers"] = [
            {"draft_id": d["id"], "provider": d["provider"], "model": d["model"],
             "sent": json.loads(d["sent_context"]) if d["sent_context"] else None,
             "at": d["created_at"]}
            for d in result["drafts"] if d["sent_context"]]
        return result

    async def forget(self, ctx: UserContext, command: c.Forget) -> Reply:
        if command.person is None:
            if not command.confirmed:
                return Reply("This deletes everything Rapport stores for you: people, notes, "
                             "conversations, nudges and drafts. It cannot be undone. To go "
                             "ahead, type “forget me confirm”.")
            async with self.sessions() as session, session.begin():
                await session.execute(delete(User).where(User.id == ctx.user_id,
                                                         User.workspace_id == ctx.workspace_id))
            for key, ids in list(self._ids.items()):
                if ids == (ctx.workspace_id, ctx.user_id):
                    self._ids.pop(key, None)
            return Reply("Done. Everything Rapport stored for you is deleted.")
        async with self.sessions() as session, session.begin():
            result = resolve(command.person, await self.contact_names(session, ctx))
            if not isinstance(result, Resolved):
                return error(result.message)
            await session.execute(delete(Contact).where(Contact.id == result.contact.id,
                                                        Contact.user_id == ctx.user_id))
        return Reply(f"Forgot {result.contact.name}, with their notes, conversations, nudges "
                     "and drafts.", changed=True)


def contact_health(next_due: datetime | None, now: datetime) -> str:
    """'overdue 2 weeks', 'due in 3 days', or '' when fine or no rhythm is set."""
    if next_due is None:
        return ""
    if next_due <= now:
        return f"overdue {planner.humanize_days(max((now - next_due).days, 0))}" \
            if (now - next_due).days >= 1 else "due today"
    days = (next_due - now).days
    return f"due in {planner.humanize_days(days)}" if days < 7 else ""


def _row_dict(row: object) -> dict[str, Any]:
    mapper = row.__mapper__  # type: ignore[attr-defined]
    return {column.key: getattr(row, column.key) for column in mapper.column_attrs}
