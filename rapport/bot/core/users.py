"""The acting user's rows: created on first contact, their preferences loaded per command."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rapport.bot.core.context import Actor, UserContext
from rapport.bot.core.dates import valid_zone
from rapport.bot.core.preferences import replan_deliveries
from rapport.bot.core.touchpoints import day_logs_to_move, move_day_logs
from rapport.scheduler import planner
from rapport.storage import queries
from rapport.storage.uow import Database

_CREATE_ATTEMPTS = 3
# How long a process trusts a user's cached settings for parsing dates ("yesterday" is in
# their zone) before reading them again; commands re-read them in their own transaction.
CONTEXT_TTL_SECONDS = 30.0

ActorKey = tuple[str, str, str]


def actor_key(actor: Actor) -> ActorKey:
    return actor.platform, actor.workspace_external_id, actor.user_external_id


class StaleUser(Exception):
    """The cached ids no longer name the acting user's rows (deleted, or now unreachable)."""


def load_context(session: Session, workspace_id: int, user_id: int) -> UserContext | None:
    """The user's preferences and their workspace's policy, or None when the row is gone."""
    row = queries.user_context_row(session, workspace_id, user_id)
    if row is None:
        return None
    (tz, start, end, days, cap, paused, digest, ai, tone, summary, platform, ws_ai,
     disclosure, active, workspace_external_id, user_external_id, prep_minutes) = row
    return UserContext(
        workspace_id=workspace_id, user_id=user_id, platform=platform, tz=tz,
        prefs=planner.DeliveryPrefs(tz=tz, window_start_minute=start, window_end_minute=end,
                                    working_days=days, daily_cap=cap, paused_until=paused),
        digest=digest, ai_enabled=ai, tone=tone, weekly_summary=summary,
        workspace_ai_enabled=ws_ai, disclosure_policy=disclosure, active=active,
        workspace_external_id=workspace_external_id, user_external_id=user_external_id,
        prep_minutes=prep_minutes)


def fresh_context(session: Session, known: UserContext) -> UserContext:
    """The user's current rows, read at the start of a unit of work; `StaleUser` when the
    ids no longer belong to that platform user or the user was marked unreachable."""
    ctx = load_context(session, known.workspace_id, known.user_id)
    if ctx is None or not _still_theirs(ctx, context_key(known)):
        raise StaleUser()
    return ctx


def context_key(ctx: UserContext) -> ActorKey:
    """Whose rows `ctx` was read from, as the platform names them."""
    return ctx.platform, ctx.workspace_external_id, ctx.user_external_id


def _still_theirs(ctx: UserContext, key: ActorKey) -> bool:
    """Whether rows read by cached ids are still the active rows of the platform user `key`:
    after a purge elsewhere the ids may name nothing, or (SQLite hands a deleted row's id to
    the next row) another workspace's people."""
    return ctx.active and context_key(ctx) == key


def ensure_rows(session: Session, actor: Actor, now: datetime) -> tuple[int, int]:
    """(workspace id, user id) for the actor, creating or refreshing their rows."""
    workspace_id = queries.workspace_id(session, actor.platform, actor.workspace_external_id)
    if workspace_id is None:
        workspace_id = queries.insert_workspace(
            session, platform=actor.platform, external_id=actor.workspace_external_id,
            name=actor.workspace_name[:200], now=now)
    user = queries.user_row(session, workspace_id, actor.user_external_id)
    if user is None:
        user_id = queries.insert_user(
            session, workspace_id=workspace_id, external_id=actor.user_external_id,
            display_name=actor.display_name[:200], tz=valid_zone(actor.tz or "") or "UTC",
            now=now)
        return workspace_id, user_id
    if user.tz_from_platform and (platform_zone := valid_zone(actor.tz or "")) and \
            platform_zone != user.tz:
        # Travelling: the platform says another zone. Days logged stay the days they were.
        move_day_logs(session, day_logs_to_move(session, user.id, user.tz, platform_zone, now))
        queries.update_user(session, user.id, tz=platform_zone)
        # What waits for a moment of the old zone (a first command before Slack's profile
        # answered counted in UTC, a rhythm due at its midnight) comes at the new zone's.
        # Not journaled: the platform moved the zone, not a command the person could undo.
        moved = load_context(session, workspace_id, user.id)
        if moved is not None:
            replan_deliveries(session, user.id, moved.prefs, now, old_tz=user.tz)
    if not user.active and user.inactive_reason:
        # The user is talking to us again, so they can be reached again, and what waited
        # for them need not wait for the next recheck.
        queries.reactivate_user(session, user.id, now)
    return workspace_id, user.id


@dataclass
class _Cached:
    ctx: UserContext
    loaded_at: float
    # The zone the platform reported when `ensure_rows` last compared it with the user's rows
    # (None: none reported yet). Another one means they travelled: the rows are checked once
    # more; the same one needs no check, so a command costs no write for it.
    reported_zone: str | None = None


class Users:
    """The acting users of this process: their ids, and their settings for a short while.

    Ids are stable, so they are kept until a delete; settings are kept for `ttl` seconds and
    dropped on every change this process makes. Every unit of work reads the user's row
    again by primary key (`fresh_context`), so a use case always acts on current settings,
    and a stale entry can never act for another user.
    """

    def __init__(self, db: Database, clock: Callable[[], datetime], *,
                 ttl: float = CONTEXT_TTL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl
        self.monotonic = monotonic
        self._known: dict[ActorKey, _Cached] = {}

    async def context(self, actor: Actor) -> UserContext:
        """Load (creating on first contact) the actor's workspace and user rows."""
        key = actor_key(actor)
        cached = self._known.get(key)
        # The platform reports another zone than when the rows were last compared with it
        # (Teams or Slack saying they travelled): the slow path applies it, unless the person
        # chose their zone with `settings tz`.
        travelled = cached is not None and bool(actor.tz) and actor.tz != cached.reported_zone
        if cached is not None and not travelled:
            if self.monotonic() - cached.loaded_at < self.ttl:
                return cached.ctx
            known = cached.ctx
            # A command waits for this read: on the event loop's own connection (`short`).
            ctx = await self.db.run(lambda session: load_context(
                session, known.workspace_id, known.user_id), write=False, short=True)
            if ctx is not None and _still_theirs(ctx, key):
                self.remember(ctx)
                return ctx
            # Deleted meanwhile (the ids may name someone else's rows now), or marked
            # unreachable: the slow path finds, recreates or reactivates the actor's rows.
        self._known.pop(key, None)
        now = self.clock()

        def create(session: Session) -> UserContext | None:
            return load_context(session, *ensure_rows(session, actor, now))

        for _attempt in range(_CREATE_ATTEMPTS):
            try:
                # On the event loop's own connection like the command it precedes: handed to
                # the database thread, a burst of new users' rows (and of rows reloaded after
                # a profile lookup) held the write lock there, and every command arriving
                # meanwhile found the database locked and queued behind them (seconds of
                # slow answers when 200 people start at once, bench/slash_command.py).
                loaded = await self.db.run(create, short=True)
            except IntegrityError:
                continue  # a concurrent first message created the same rows; read them
            assert loaded is not None  # created in this very transaction
            self.remember(loaded, reported_zone=actor.tz)
            return loaded
        raise RuntimeError("could not create user rows")

    def remember(self, ctx: UserContext, *, reported_zone: str | None = None) -> None:
        """Keep `ctx` (just read from the database) for the next commands; `reported_zone`
        is the zone the platform reported when the rows were compared with it (kept from
        before when not given)."""
        key = context_key(ctx)
        before = self._known.get(key)
        self._known[key] = _Cached(ctx, self.monotonic(), reported_zone or (
            before.reported_zone if before is not None else None))

    def expire(self, ctx: UserContext) -> None:
        """The user's settings changed: read them again on their next command."""
        for cached in self._known.values():
            if (cached.ctx.workspace_id, cached.ctx.user_id) == (ctx.workspace_id,
                                                                  ctx.user_id):
                cached.loaded_at = float("-inf")

    def expire_workspace(self, workspace_id: int) -> None:
        """A workspace's policy changed (`admin ai off`): every one of its users reads their
        rows again on their next command. Other processes keep theirs at most `ttl` seconds,
        and every unit of work reads the policy again anyway (`fresh_context`)."""
        for cached in self._known.values():
            if cached.ctx.workspace_id == workspace_id:
                cached.loaded_at = float("-inf")

    def forget(self, platform: str, workspace_external_id: str,
               user_external_id: str | None = None) -> None:
        """Drop what is cached after deletes (forget me, uninstall) or profile changes."""
        for key in list(self._known):
            if key[:2] == (platform, workspace_external_id) and (
                    user_external_id is None or key[2] == user_external_id):
                self._known.pop(key, None)

    def forget_user(self, workspace_id: int, user_id: int) -> None:
        for key, cached in list(self._known.items()):
            if (cached.ctx.workspace_id, cached.ctx.user_id) == (workspace_id, user_id):
                self._known.pop(key, None)
