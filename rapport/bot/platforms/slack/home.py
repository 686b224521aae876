"""App Home: built from the core's HomeView when the tab opens, refreshed after changes:
at once after a click on Home itself (or in a modal opened from it) or a forget, paced after
anything else."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.goal_chart import alt_text
from rapport.bot.platforms.slack.modals import open_modal
from rapport.bot.platforms.slack.platform import Respond, SlackPlatform, team_of

logger = logging.getLogger(__name__)

# After a change, Home is rebuilt at most this often per user (opening the tab always is).
HOME_MIN_INTERVAL_SECONDS = 30.0
# ...and not while commands are being answered, unless it has waited this long for a pause.
HOME_MAX_DEFER_SECONDS = 30.0
MAX_REMEMBERED_HOMES = 50_000


def clicked_on_home(body: dict[str, Any]) -> bool:
    """True for an interaction on the App Home tab (which has no response_url: what the
    click did shows only as Home republished)."""
    container, view = body.get("container"), body.get("view")
    return isinstance(container, dict) and container.get("type") == "view" \
        and isinstance(view, dict) and view.get("type") == "home"


async def tell_home_click(platform: SlackPlatform, client: AsyncWebClient,
                          body: dict[str, Any], user_id: str, text: str) -> None:
    """Why a click on Home did nothing (its nudge handled meanwhile, its suggestion answered,
    its person forgotten): Home has no response_url, so a modal says it, or the DM with the
    bot when Slack won't open one. The caller republishes Home at once, after this: the
    click's trigger id lasts 3 s."""
    if await open_modal(client, str(body.get("trigger_id") or ""),
                        b.notice_view("Rapport", text)) is None:
        await platform.post_pages_to_dm(client, user_id, b.fallback(text),
                                        [b.to_dicts(b.text_sections(text))])


async def tell_refused_click(platform: SlackPlatform, client: AsyncWebClient,
                             body: dict[str, Any], respond: Respond, team_id: str,
                             user_id: str, why: str) -> None:
    """Why a button did nothing (its row gone, not the clicker's, nothing kept after `forget
    me`): privately under its message, or, clicked on Home, as `tell_home_click` says it,
    with Home republished at once."""
    if body.get("response_url"):
        await respond(text=why, response_type="ephemeral", replace_original=False)
    elif clicked_on_home(body):
        await tell_home_click(platform, client, body, user_id, why)
        await platform.refresh_home(client, team_id, user_id, at_once=True)


@dataclass
class _Refresh:
    """A user's Home refresh, pending or running (see HomeTab.refresh)."""

    # Changed again meanwhile: publish once more after the current publish.
    again: bool = False
    # The next publish is for the tab just opened (it may share the goal chart).
    opened: bool = False
    # Set when the next publish may not wait for the pacing (see HomeTab.refresh).
    now: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class HomeTab:
    """App Home is built when the user opens it, and after changes at most once per
    `min_interval` per user: a burst of commands costs one Home, not one each, and no
    command waits for it (a refresh waits up to `max_defer` for no request to be in
    flight, so it does not take the event loop from commands either). A change the person
    is looking at (a click on Home itself) or must not see any longer (a forget) publishes
    at once instead."""

    platform: SlackPlatform
    # Seconds a refresh waits after a change, collecting further changes.
    refresh_delay: float = 1.0
    min_interval: float = HOME_MIN_INTERVAL_SECONDS
    max_defer: float = HOME_MAX_DEFER_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    # How a refresh waits (tests wake waiting refreshes when they shut the app down).
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # Users whose Home is being republished (see refresh).
    _refreshing: dict[tuple[str, str], _Refresh] = field(default_factory=dict)
    _published_at: dict[tuple[str, str], float] = field(default_factory=dict)

    async def publish(self, client: AsyncWebClient, team_id: str, user_id: str, *,
                      opened: bool = False) -> None:
        """views.publish the user's Home tab with current data (one unit of work)."""
        known = await self.platform.kept(team_id, user_id)
        if known is None:
            return  # the database is away; the tab keeps what it showed
        if not known:
            # Never met, or gone ("forget me"): say so, and create no rows for them; building
            # Home would enrol them again.
            await client.views_publish(user_id=user_id, view=b.nothing_stored_view())
            return
        view = await self.platform.rapport.home(self.platform.actor(team_id, user_id))
        if view is None:
            return  # the database is away; the tab keeps what it showed
        goals = view.stats.goals
        chart, charts = None, self.platform.goal_charts
        if goals and charts is not None:
            chart = await charts.current(team_id, user_id, goals)
            if chart is None and opened:
                chart = await charts.share(client, team_id, user_id, goals, from_home=True)
        content = b.home_content(view, chart_file_id=chart.file_id if chart else None,
                                 chart_alt_text=alt_text(goals) if goals else "")
        await client.views_publish(user_id=user_id, view=b.home_view(content))

    def _wait(self, key: tuple[str, str]) -> float:
        last = self._published_at.get(key)
        since = self.monotonic() - last if last is not None else self.min_interval
        return max(self.refresh_delay, self.min_interval - since)

    async def _paced(self, key: tuple[str, str]) -> None:
        await self.sleep(self._wait(key))
        # A refresh after a change steps aside while commands are answered.
        await self.platform.runtime.load.quiet(self.max_defer)

    async def _pace(self, key: tuple[str, str], now: asyncio.Event) -> None:
        """Wait out the pacing, or until `now` is set (whichever comes first)."""
        paced = asyncio.ensure_future(self._paced(key))
        hurried = asyncio.ensure_future(now.wait())
        try:
            await asyncio.wait((paced, hurried), return_when=asyncio.FIRST_COMPLETED)
        finally:
            paced.cancel()
            hurried.cancel()
        if paced.done() and not paced.cancelled():
            paced.result()

    async def refresh(self, client: AsyncWebClient, team_id: str, user_id: str, *,
                      opened: bool = False, at_once: bool = False) -> None:
        """Republish Home: now when the tab opens or `at_once` (a click on Home, a forget),
        else later after a change (paced and coalesced). One publish per user runs at a
        time, so an older view never lands after a newer one; a prompt request cuts the
        wait of one pending."""
        key = (team_id, user_id)
        pending = self._refreshing.get(key)
        if pending is not None:
            # One publish is pending or running; it runs once more after it finishes.
            pending.again = True
            pending.opened = pending.opened or opened
            if opened or at_once:
                pending.now.set()
            return
        pending = self._refreshing[key] = _Refresh(opened=opened)
        if opened or at_once:
            pending.now.set()
        try:
            while True:
                if not pending.now.is_set():
                    await self._pace(key, pending.now)
                was_opened, pending.opened = pending.opened, False
                pending.again = False
                pending.now.clear()
                try:
                    await self.publish(client, team_id, user_id, opened=was_opened)
                except SlackApiError as failure:
                    logger.info("home refresh failed",
                                extra={"error": failure.response.get("error")})
                except Exception as failure:
                    logger.warning("home refresh failed", extra={"error": type(failure).__name__})
                self._remember_publish(key)
                if not pending.again:
                    break
        finally:
            self._refreshing.pop(key, None)

    def _remember_publish(self, key: tuple[str, str]) -> None:
        now = self.monotonic()
        if len(self._published_at) > MAX_REMEMBERED_HOMES:
            self._published_at = {k: at for k, at in self._published_at.items()
                                  if now - at < self.min_interval}
        self._published_at[key] = now

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any],
                             client: AsyncWebClient) -> None:
        """Publish Home whenever the user opens it; welcome them the first time they open
        the Messages tab or Home once Rapport keeps rows for them. Someone with no rows
        (never met, or after "forget me": the same, by design) who opens Home gets a page
        saying so, and who opens the Messages tab a welcome only they see; nothing is stored
        or looked up until they send a command or write."""
        team_id, user_id = team_of(body), str(event.get("user", ""))
        if not team_id or not user_id:
            return
        home = event.get("tab", "home") == "home"
        known = await self.platform.kept(team_id, user_id)
        if known is None:
            return  # the database is away; the tab keeps what it showed
        messages = self.platform.direct_messages
        if messages is not None and known:
            await messages.welcome(client, team_id, user_id)
        elif messages is not None and not home:
            # A welcome posted once would take remembering whom it was posted to.
            await messages.greet(client, str(event.get("channel") or ""), user_id)
        if not home:
            return
        if known:
            await self.platform.warm_profile(client, team_id, user_id)
        await self.refresh(client, team_id, user_id, opened=True)


def register(platform: SlackPlatform) -> None:
    tab = HomeTab(platform)
    platform.home = tab
    platform.app.event("app_home_opened")(answered_at_ack(tab.on_home_opened))
