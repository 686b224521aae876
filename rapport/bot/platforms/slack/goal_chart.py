"""The goal trend chart in Slack: a PNG shared as a file in the user's DM with the bot.

`stats` shares it when the numbers changed since the chart last shared (the file's comment is
the accessible text line); opening App Home shares one too, at most once a day, and Home shows
the chart last shared for the current numbers as an image block (the user can see the file:
it is in their own DM). Without matplotlib there is no file, only the text line.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core.trend_chart import trend_chart
from rapport.bot.platforms.slack.platform import SlackPlatform
from rapport.scheduler.attainment import GoalAttainment, trend_text

logger = logging.getLogger(__name__)

# Opening Home shares a new chart at most this often per user (stats always may).
HOME_SHARE_INTERVAL_SECONDS = 24 * 3600.0
MAX_REMEMBERED = 50_000


@dataclass(frozen=True, slots=True)
class SharedChart:
    digest: str
    file_id: str
    alt_text: str
    at: float


def chart_digest(goals: Sequence[GoalAttainment]) -> str:
    """A fingerprint of the numbers a chart shows (same numbers, same chart)."""
    data = repr([(g.tag, g.cadence_days, [(p.within, p.members) for p in g.trend])
                 for g in goals])
    return hashlib.sha256(data.encode()).hexdigest()[:32]


@dataclass
class GoalCharts:
    platform: SlackPlatform
    home_interval: float = HOME_SHARE_INTERVAL_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    _shared: dict[tuple[str, str], SharedChart] = field(default_factory=dict)

    def current(self, team_id: str, user_id: str,
                goals: Sequence[GoalAttainment]) -> SharedChart | None:
        """The chart shared for exactly these numbers, if any."""
        shared = self._shared.get((team_id, user_id))
        return shared if shared is not None and shared.digest == chart_digest(goals) else None

    async def share(self, client: AsyncWebClient, team_id: str, user_id: str,
                    goals: Sequence[GoalAttainment], *, from_home: bool = False
                    ) -> SharedChart | None:
        """Share the chart of `goals` in the user's DM unless it is there already; the shared
        chart, or None (no goals with people, no matplotlib, Slack refused, or Home asked
        again within a day)."""
        key = (team_id, user_id)
        digest = chart_digest(goals)
        shared = self._shared.get(key)
        if shared is not None and shared.digest == digest:
            return shared
        if from_home and shared is not None \
                and self.monotonic() - shared.at < self.home_interval:
            return None
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
        if not file_id:
            return None
        if len(self._shared) > MAX_REMEMBERED:
            self._shared.clear()
        result = SharedChart(digest, file_id, chart.alt_text, self.monotonic())
        self._shared[key] = result
        return result


def alt_text(goals: Sequence[GoalAttainment]) -> str:
    """The accessible line shown beside (or instead of) the chart."""
    return trend_text([g for g in goals if any(p.members for p in g.trend)])


def register(platform: SlackPlatform) -> None:
    platform.goal_charts = GoalCharts(platform)
