"""The goal trend chart in Slack: a PNG shared as a file in the user's DM with the bot.

`stats` shares it when the numbers changed since the chart last shared (the file's comment is
the accessible text line); opening App Home shares one too, at most once a day, and Home shows
the chart last shared for the current numbers as an image block (the user can see the file:
it is in their own DM). Without matplotlib there is no file, only the text line.

What was shared is kept with the user's row (users.chart_*), so every replica and every
restart knows it. An upload is claimed first by one conditional UPDATE of that row: when Home
opens on two replicas at once, or `stats` runs on one while Home opens on another, one of them
uploads and the other uses what it shared.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from rapport.bot.core.rapport import DATABASE_TROUBLE
from rapport.bot.core.trend_chart import trend_chart
from rapport.bot.platforms.slack.install import PLATFORM
from rapport.bot.platforms.slack.platform import SlackPlatform
from rapport.scheduler.attainment import GoalAttainment, trend_text
from rapport.storage import queries
from rapport.storage.models import User

logger = logging.getLogger(__name__)

# Opening Home shares a new chart at most this often per user (stats always may).
HOME_SHARE_INTERVAL = timedelta(days=1)
# An upload claimed this long ago by a replica that never finished it (it stopped, or Slack
# never answered) may be claimed again.
CLAIM_EXPIRES = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SharedChart:
    digest: str
    file_id: str
    at: datetime


def chart_digest(goals: Sequence[GoalAttainment]) -> str:
    """A fingerprint of the numbers a chart shows (same numbers, same chart)."""
    data = repr([(g.tag, g.cadence_days, [(p.within, p.members) for p in g.trend])
                 for g in goals])
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def _user_id(session: Session, team_id: str, user_id: str) -> int | None:
    ids = queries.user_ids(session, PLATFORM, team_id, user_id)
    return ids[1] if ids is not None else None


def _last_shared(session: Session, user_id: int) -> SharedChart | None:
    row = session.execute(select(User.chart_digest, User.chart_file_id, User.chart_shared_at)
                          .where(User.id == user_id)).first()
    if row is None or not row[0] or not row[1] or row[2] is None:
        return None
    return SharedChart(digest=row[0], file_id=row[1], at=row[2])


@dataclass(frozen=True, slots=True)
class _Claim:
    user_id: int | None
    claimed: bool
    last: SharedChart | None


def _claim(session: Session, team_id: str, slack_user_id: str, digest: str, now: datetime,
           *, shared_before: datetime | None, claimed_before: datetime) -> _Claim:
    """Claim the upload of the chart `digest` unless it is shared already, someone is
    uploading one, or (`shared_before`) one was shared since then. One UPDATE decides: two
    replicas asking together never both get it."""
    user_id = _user_id(session, team_id, slack_user_id)
    if user_id is None:
        return _Claim(None, False, None)
    conditions = [User.id == user_id,
                  or_(User.chart_digest.is_(None), User.chart_digest != digest),
                  or_(User.chart_claimed_at.is_(None), User.chart_claimed_at < claimed_before)]
    if shared_before is not None:
        conditions.append(or_(User.chart_shared_at.is_(None),
                              User.chart_shared_at <= shared_before))
    result = session.execute(update(User).where(*conditions).values(chart_claimed_at=now))
    claimed = int(result.rowcount or 0) == 1  # type: ignore[attr-defined]
    return _Claim(user_id, claimed, _last_shared(session, user_id))


def _record(session: Session, user_id: int, chart: SharedChart) -> None:
    session.execute(update(User).where(User.id == user_id).values(
        chart_digest=chart.digest, chart_file_id=chart.file_id, chart_shared_at=chart.at,
        chart_claimed_at=None))


def _release(session: Session, user_id: int, claimed_at: datetime) -> None:
    session.execute(update(User).where(User.id == user_id,
                                       User.chart_claimed_at == claimed_at)
                    .values(chart_claimed_at=None))


@dataclass
class GoalCharts:
    platform: SlackPlatform
    home_interval: timedelta = HOME_SHARE_INTERVAL
    claim_expires: timedelta = CLAIM_EXPIRES

    async def current(self, team_id: str, user_id: str,
                      goals: Sequence[GoalAttainment]) -> SharedChart | None:
        """The chart shared for exactly these numbers, if any (None, logged, when the
        database can't be reached: Home then shows the text line alone)."""

        def read(session: Session) -> SharedChart | None:
            found = _user_id(session, team_id, user_id)
            return _last_shared(session, found) if found is not None else None

        try:
            shared = await self.platform.rapport.db.run(read, write=False)
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None
        return shared if shared is not None and shared.digest == chart_digest(goals) else None

    async def share(self, client: AsyncWebClient, team_id: str, user_id: str,
                    goals: Sequence[GoalAttainment], *, from_home: bool = False
                    ) -> SharedChart | None:
        """Share the chart of `goals` in the user's DM unless it is there already; the shared
        chart, or None (no goals with people, no matplotlib, Slack refused, Home asked again
        within a day, or another replica is sharing it just now)."""
        digest = chart_digest(goals)
        db = self.platform.rapport.db
        now = self.platform.rapport.clock()
        try:
            claim = await db.run(lambda session: _claim(
                session, team_id, user_id, digest, now,
                shared_before=now - self.home_interval if from_home else None,
                claimed_before=now - self.claim_expires))
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None
        if claim.user_id is None or not claim.claimed:
            last = claim.last
            return last if last is not None and last.digest == digest else None
        rows = claim.user_id
        chart: SharedChart | None = None
        try:
            chart = await self._upload(client, user_id, goals, digest, now)
        finally:
            # Recorded, or the claim given back at once (a failed upload may be tried again).
            done = chart
            try:
                await db.run(lambda session: _release(session, rows, now) if done is None
                             else _record(session, rows, done))
            except DATABASE_TROUBLE as failure:
                # The claim expires by itself; a chart not recorded is shared once more.
                logger.warning("database unavailable", extra={"error": type(failure).__name__})
        return chart

    async def _upload(self, client: AsyncWebClient, user_id: str,
                      goals: Sequence[GoalAttainment], digest: str, now: datetime
                      ) -> SharedChart | None:
        """Render the chart and upload it into the user's DM; None when there is none."""
        # Rendering takes tens of milliseconds: off the event loop.
        chart = await asyncio.to_thread(trend_chart, goals)
        if chart is None or chart.png is None:
            return None
        try:
            opened = await client.conversations_open(users=user_id)
            response = await client.files_upload_v2(
                channel=opened["channel"]["id"], content=chart.png, filename=chart.filename,
                title=chart.title, alt_txt=chart.alt_text[:1000],
                initial_comment=chart.alt_text)
        except SlackApiError as failure:
            logger.info("chart upload failed", extra={"error": failure.response.get("error")})
            return None
        except (ClientError, TimeoutError) as failure:
            logger.warning("chart upload failed", extra={"error": type(failure).__name__})
            return None
        file_id = str((response.get("file") or {}).get("id") or "")
        return SharedChart(digest, file_id, now) if file_id else None


def alt_text(goals: Sequence[GoalAttainment]) -> str:
    """The accessible line shown beside (or instead of) the chart."""
    return trend_text([g for g in goals if any(p.members for p in g.trend)])


def register(platform: SlackPlatform) -> None:
    platform.goal_charts = GoalCharts(platform)
