"""The acting user's rows: created on first contact, their preferences loaded per command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rapport.bot.core.context import Actor, UserContext
from rapport.bot.core.dates import valid_zone
from rapport.scheduler import planner
from rapport.storage import queries
from rapport.storage.uow import Database

_CREATE_ATTEMPTS = 3

ActorKey = tuple[str, str, str]


def actor_key(actor: Actor) -> ActorKey:
    return actor.platform, actor.workspace_external_id, actor.user_external_id


def load_context(session: Session, workspace_id: int, user_id: int) -> UserContext | None:
    """The user's preferences and their workspace's policy, or None when the row is gone."""
    row = queries.user_context_row(session, workspace_id, user_id)
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
    if user.tz_from_platform and (platform_zone := valid_zone(actor.tz or "")):
        queries.update_user(session, user.id, tz=platform_zone)
    if not user.active and user.inactive_reason:
        # The user is talking to us again, so they can be reached again, and what waited
        # for them need not wait for the next recheck.
        queries.reactivate_user(session, user.id, now)
    return workspace_id, user.id


class Users:
    """Finds the acting user's rows; remembers their ids so a command costs one read."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self._ids: dict[ActorKey, tuple[int, int]] = {}

    async def context(self, actor: Actor) -> UserContext:
        """Load (creating on first contact) the actor's workspace and user rows."""
        key = actor_key(actor)
        cached = self._ids.get(key)
        if cached is not None:
            workspace_id, user_id = cached
            ctx = await self.db.run(lambda session: load_context(session, workspace_id, user_id),
                                    write=False)
            if ctx is not None and ctx.active:
                return ctx
            # Deleted meanwhile, or marked unreachable: the slow path recreates or reactivates.
            self._ids.pop(key, None)
        now = self.clock()

        def create(session: Session) -> tuple[tuple[int, int], UserContext | None]:
            created = ensure_rows(session, actor, now)
            return created, load_context(session, *created)

        for _attempt in range(_CREATE_ATTEMPTS):
            try:
                ids, loaded = await self.db.run(create)
            except IntegrityError:
                continue  # a concurrent first message created the same rows; read them
            assert loaded is not None  # created in this very transaction
            self._ids[key] = ids
            return loaded
        raise RuntimeError("could not create user rows")

    def forget(self, platform: str, workspace_external_id: str,
               user_external_id: str | None = None) -> None:
        """Drop cached ids after deletes (forget me, uninstall) or profile changes."""
        for key in list(self._ids):
            if key[:2] == (platform, workspace_external_id) and (
                    user_external_id is None or key[2] == user_external_id):
                self._ids.pop(key, None)

    def forget_user(self, workspace_id: int, user_id: int) -> None:
        for key, ids in list(self._ids.items()):
            if ids == (workspace_id, user_id):
                self._ids.pop(key, None)
