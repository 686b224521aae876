"""The Slack platform object: the Bolt app, installations, the directory cache, and the
helpers every listener module shares. Each feature lives in its own module with a
`register(platform)` (slash command, nudge buttons, App Home, settings form, message
shortcut, draft editor, uploads, app lifecycle); `build_platform` wires them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import DATABASE_TROUBLE, Rapport
from rapport.bot.core.views import Attachment, Reply
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.client import make_client
from rapport.bot.platforms.slack.directory import ProfileCache, SlackDirectory
from rapport.bot.platforms.slack.install import (
    BOT_SCOPES,
    PLATFORM,
    USER_SCOPES,
    Installations,
    SlackTokens,
    build_installations,
    set_workspace_active,
)
from rapport.bot.service.runtime import Runtime
from rapport.storage import queries
from rapport.storage.uow import Busy

if TYPE_CHECKING:
    from rapport.bot.platforms.slack.dm_capture import SlackDmCapture
    from rapport.bot.platforms.slack.draft_editor import DraftEditor
    from rapport.bot.platforms.slack.goal_chart import GoalCharts
    from rapport.bot.platforms.slack.home import HomeTab
    from rapport.bot.platforms.slack.messages import DirectMessages

logger = logging.getLogger(__name__)

# Bolt context key: when the HTTP request arrived (time.monotonic()).
RECEIVED_AT_KEY = "rapport_received_at"
# A command that cannot start this long after its request arrived answers "busy" instead:
# Slack gives up after 3 s, and the answer itself needs a moment.
COMMAND_START_BUDGET_SECONDS = 2.0
# Someone Rapport has no rows for waits at most this long for their Slack profile before their
# first command runs, so that it counts days in their zone and their rows start in it. A slash
# command answered in its ack waits at most half of what is left of its start budget. Past it
# the command runs in UTC, and the profile learnt after it corrects the next one.
FIRST_PROFILE_SECONDS = 1.0
# How many people's DM channel ids are remembered (SlackPlatform.dm_channel).
MAX_DM_CHANNELS = 10_000
# response_url accepts five messages within 30 minutes (the ack's own answer is not one of
# them); pages past what it takes go to the DM with the bot.
MAX_RESPONSES = 5
Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]
# A button on an old message, clicked by someone Rapport keeps no rows for (after "forget
# me", or their workspace's data was deleted): nothing is done, since acting would enrol them
# again (and could redraw a cleared message from the old copy), and they learn how to start.
NOTHING_KEPT = ("Rapport no longer keeps anything about you, so this button does nothing. "
                "Type “/rapport help” to start again.")


def where_the_rest_went(rest: int, posted: int, problem: str | None) -> str:
    """What the last message through response_url says about the pages sent to the DM."""
    if problem is None:
        return (f"This answer is longer than Slack lets me show here: the other {rest} parts "
                "are in our direct messages (open Rapport under Apps).")
    if posted:
        return (f"This answer is longer than Slack lets me show here: I sent {posted} of the "
                f"other {rest} parts to our direct messages, then Slack refused the rest "
                f"({problem}). Try the command again in a minute, or from our direct messages.")
    return ("This answer is longer than Slack lets me show here, and Slack refused to send the "
            f"rest to our direct messages ({problem}). Try the command again in a minute, or "
            "type it in our direct messages (open Rapport under Apps).")


def team_of(body: dict[str, Any]) -> str:
    """The workspace of an event or interaction payload."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")


@dataclass
class SlackPlatform:
    """Everything Slack in one object: the Bolt app, installations, directory cache."""

    runtime: Runtime
    installations: Installations
    app: AsyncApp
    cache: ProfileCache
    single_authorize: Callable[..., Awaitable[AuthorizeResult | None]] | None = None
    command_start_budget: float = COMMAND_START_BUDGET_SECONDS
    # Set by home.register and draft_editor.register; other listeners use them.
    home: HomeTab | None = field(default=None)
    draft_editor: DraftEditor | None = field(default=None)
    direct_messages: DirectMessages | None = field(default=None)
    # Set by dm_capture.register when this deployment can log users' Slack DMs (opt-in).
    dm_capture: SlackDmCapture | None = field(default=None)
    # Set by goal_chart.register: the goal trend chart shared in each user's DM.
    goal_charts: GoalCharts | None = field(default=None)
    # Each person's DM with the bot, by (team, user): the one conversation a click may edit.
    dm_channels: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def rapport(self) -> Rapport:
        return self.runtime.rapport

    def deadline(self, context: Mapping[str, Any]) -> float:
        """The moment a command must start by to be answered inside Slack's 3 s."""
        received = context.get(RECEIVED_AT_KEY)
        start = float(received) if isinstance(received, float) else time.monotonic()
        return start + self.command_start_budget

    async def start(self) -> None:
        """Single-workspace mode: check the bot token once and resume its workspace."""
        if self.single_authorize is None:
            return
        try:
            result = await self.single_authorize(team_id=None)
        except Exception as failure:  # Slack unreachable: the first request tries again
            logger.warning("slack auth.test failed at start",
                           extra={"error": type(failure).__name__})
            return
        if result is not None and result.team_id:
            # A new token after tokens_revoked means the workspace may be reached again.
            await set_workspace_active(self.runtime.sessions, result.team_id, True)

    # ------------------------------------------------------------------ helpers
    def directory(self, client: AsyncWebClient, team_id: str) -> SlackDirectory:
        return SlackDirectory(client=client, team_id=team_id, cache=self.cache)

    def actor(self, team_id: str, user_id: str, *, name: str = "",
              workspace_name: str = "") -> Actor:
        """The actor, with name and zone from the directory cache when known (no API call)."""
        profile = self.cache.get(team_id, user_id)
        return Actor(platform=PLATFORM, workspace_external_id=team_id, user_external_id=user_id,
                     display_name=(profile.display_name if profile else "") or name,
                     tz=profile.tz if profile else None, workspace_name=workspace_name)

    async def warm_profile(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """Fetch the acting user's profile after the ack so later commands know their zone."""
        if self.cache.get(team_id, user_id) is not None:
            return
        try:
            profile = await self.directory(client, team_id).profile(user_id)
        except Exception as failure:  # a nicety: the next command tries again
            logger.info("profile lookup failed", extra={"error": type(failure).__name__})
            return
        if profile is not None and profile.tz:
            # The core applies a platform zone when it (re)loads the user's rows.
            self.rapport.forget_cached(PLATFORM, team_id, user_id)

    async def profile_of_newcomer(self, client: AsyncWebClient, team_id: str, user_id: str, *,
                                  budget: float | None = None,
                                  deadline: float | None = None) -> None:
        """Learn the profile (the zone) of someone Rapport keeps no rows for before their
        first command (slash command or DM), within `budget` seconds. A user whose profile is
        cached, or who has rows (their zone is stored; a profile learnt after the command
        moves it if they travelled), costs no call to Slack here."""
        if budget is None:
            budget = FIRST_PROFILE_SECONDS  # read when called: a test may give Slack longer
        if budget <= 0 or self.cache.get(team_id, user_id) is not None:
            return
        try:
            # A command waits for this read: on the event loop's own connection (`short`).
            known = await self.rapport.db.run(lambda session: queries.user_ids(
                session, PLATFORM, team_id, user_id) is not None, write=False, short=True,
                deadline=deadline)
        except (Busy, *DATABASE_TROUBLE):
            return  # the command itself answers for the database
        if known:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.warm_profile(client, team_id, user_id), budget)

    async def dm_channel(self, client: AsyncWebClient, team_id: str, user_id: str
                         ) -> str | None:
        """The id of the user's DM with the bot (conversations.open, remembered), or None
        when Slack doesn't say."""
        channel = self.dm_channels.get((team_id, user_id))
        if channel is not None:
            return channel
        try:
            opened = await client.conversations_open(users=user_id)
        except SlackApiError as failure:
            logger.info("conversations.open failed",
                        extra={"error": failure.response.get("error")})
            return None
        except (ClientError, TimeoutError) as failure:
            logger.warning("conversations.open failed", extra={"error": type(failure).__name__})
            return None
        channel = str((opened.get("channel") or {}).get("id") or "")
        if not channel:
            return None
        if len(self.dm_channels) >= MAX_DM_CHANNELS:
            self.dm_channels.clear()  # bounded; a miss costs one conversations.open
        self.dm_channels[(team_id, user_id)] = channel
        return channel

    async def clicked_message(self, client: AsyncWebClient, body: Mapping[str, Any],
                              team_id: str, user_id: str) -> tuple[str, str] | None:
        """(channel, ts) of the message a click came from, when the bot may edit it in place:
        a message, not an ephemeral one, in the clicker's own DM with the bot. The container
        is the payload's word only: a crafted one (or Slack naming an unexpected one) must
        never make the bot edit someone else's conversation, so the click's outcome is then
        told privately instead. None for anything else (Home, a modal, an ephemeral)."""
        container = body.get("container")
        if not isinstance(container, dict) or container.get("type") != "message" \
                or container.get("is_ephemeral"):
            return None
        channel = str(container.get("channel_id") or "")
        ts = str(container.get("message_ts") or "")
        if not channel or not ts:
            return None
        if channel != await self.dm_channel(client, team_id, user_id):
            logger.warning("click not edited in place", extra={"reason": "not the clicker's DM"})
            return None
        return channel, ts

    async def keeps_rows_for(self, team_id: str, user_id: str) -> bool:
        """True when Rapport keeps rows for this Slack user (asking creates none)."""
        return await self.rapport.db.run(lambda session: queries.user_ids(
            session, PLATFORM, team_id, user_id) is not None, write=False)

    async def kept(self, team_id: str, user_id: str) -> bool | None:
        """`keeps_rows_for`, or None (logged) when the database can't be reached: a tab or a
        form then keeps what it showed."""
        try:
            return await self.keeps_rows_for(team_id, user_id)
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None

    async def owns_nudge(self, team_id: str, user_id: str, nudge_id: int) -> bool:
        """True when the nudge belongs to this Slack user in this workspace (no rows created)."""
        return await self.rapport.db.run(lambda session: queries.nudge_owned_by(
            session, nudge_id, platform=PLATFORM, workspace_external_id=team_id,
            user_external_id=user_id), write=False)

    async def nudge_exists(self, nudge_id: int) -> bool:
        """True while the nudge is stored (forgetting a person deletes their nudges)."""
        return await self.rapport.db.run(
            lambda session: queries.nudge_exists(session, nudge_id), write=False)

    async def refresh_home(self, client: AsyncWebClient, team_id: str, user_id: str, *,
                           at_once: bool = False) -> None:
        """Republish the user's App Home after a change (see home.py): paced, or `at_once`
        when they are looking at it (a click on Home) or something was forgotten."""
        if self.home is not None:
            await self.home.refresh(client, team_id, user_id, at_once=at_once)

    async def send_pages(self, respond: Respond, reply: Reply, *, skip_first: bool,
                         client: AsyncWebClient, user_id: str,
                         rendered: b.RenderedReply | None = None) -> None:
        """The reply's pages through `respond` (`rendered`: the pages when already built;
        `skip_first`: the ack showed the first). Slack takes five through response_url: a
        longer answer sends four there, the rest to the DM with the bot, in order, and a
        fifth message says where the rest went."""
        if rendered is None:
            rendered = b.reply_pages(reply)
        pages = rendered.pages[1:] if skip_first else rendered.pages
        fits = len(pages) <= MAX_RESPONSES
        for page in pages if fits else pages[:MAX_RESPONSES - 1]:
            await respond(text=rendered.text, blocks=page, response_type="ephemeral",
                          replace_original=False)
        if fits:
            return
        rest = pages[MAX_RESPONSES - 1:]
        posted, problem = await self.post_pages_to_dm(client, user_id, rendered.text, rest)
        pointer = where_the_rest_went(len(rest), posted, problem)
        await respond(text=b.fallback(pointer), blocks=b.to_dicts(b.text_sections(pointer)),
                      response_type="ephemeral", replace_original=False)

    async def post_pages_to_dm(self, client: AsyncWebClient, user_id: str, text: str,
                               pages: Sequence[list[dict[str, Any]]],
                               channel: str | None = None) -> tuple[int, str | None]:
        """Post pages in order to the DM with the bot (`channel` when already known): how
        many were posted, and Slack's error when one was refused (the rest are not sent, so
        nothing arrives out of order)."""
        posted = 0
        try:
            if channel is None:
                opened = await client.conversations_open(users=user_id)
                channel = str(opened["channel"]["id"])
            for page in pages:
                await client.chat_postMessage(channel=channel, text=text, blocks=page)
                posted += 1
        except SlackApiError as failure:
            error = str(failure.response.get("error") or "error")
            logger.info("dm pages failed", extra={"error": error, "posted": posted,
                                                  "pages": len(pages)})
            return posted, error
        except (ClientError, TimeoutError) as failure:
            logger.warning("dm pages failed", extra={"error": type(failure).__name__,
                                                     "posted": posted, "pages": len(pages)})
            return posted, type(failure).__name__
        return posted, None

    async def upload(self, client: AsyncWebClient, user_id: str, text: str,
                     attachment: Attachment) -> bool:
        """Put a file into the user's DM with the bot; False when Slack refuses it."""
        try:
            opened = await client.conversations_open(users=user_id)
            await client.files_upload_v2(
                channel=opened["channel"]["id"], content=attachment.data,
                filename=attachment.filename, title=attachment.filename,
                initial_comment=b.fallback(text))
        except SlackApiError as failure:  # e.g. missing_scope: shown inline instead
            logger.info("file upload failed", extra={"error": failure.response.get("error")})
            return False
        except (ClientError, TimeoutError) as failure:  # the upload URL is another host
            logger.warning("file upload failed", extra={"error": type(failure).__name__})
            return False
        return True

    async def update_view(self, client: AsyncWebClient, view_id: str,
                          view: dict[str, Any]) -> None:
        """views.update that tolerates a modal the user already closed."""
        if not view_id:
            return
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as failure:
            logger.info("views.update failed", extra={"error": failure.response.get("error")})


def _single_workspace_authorize(client: AsyncWebClient, token: str
                                ) -> Callable[..., Awaitable[AuthorizeResult | None]]:
    """Authorize requests from the bot token's own workspace only; auth.test runs once."""
    cached: list[AuthorizeResult] = []

    async def authorize(team_id: str | None) -> AuthorizeResult | None:
        if not cached:
            response = await client.auth_test(token=token)
            cached.append(AuthorizeResult.from_auth_test_response(
                bot_token=token, auth_test_response=response))
        result = cached[0]
        if team_id and result.team_id != team_id:
            return None
        return result

    return authorize


def build_platform(runtime: Runtime) -> SlackPlatform:
    """The Bolt app with Rapport's listeners, for HTTP or Socket Mode."""
    # Feature modules import this one; importing them here keeps that one-way.
    from rapport.bot.platforms.slack import (
        dm_capture,
        draft_editor,
        goal_chart,
        home,
        imports,
        lifecycle,
        messages,
        nudge_buttons,
        person,
        settings_form,
        shortcut,
        slash,
        suggestion_buttons,
        transport,
    )

    settings = runtime.settings
    installations = build_installations(settings, runtime.engine, runtime.sessions)
    client = make_client(settings)
    kwargs: dict[str, Any] = {}
    if installations.oauth:
        assert installations.store is not None and installations.state_store is not None
        kwargs["oauth_settings"] = AsyncOAuthSettings(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
            scopes=list(BOT_SCOPES), user_scopes=list(USER_SCOPES),
            installation_store=installations.store, state_store=installations.state_store,
            install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect")
        kwargs["installation_store"] = installations.store
    single = None
    if not installations.oauth and settings.slack_bot_token:
        single = kwargs["authorize"] = _single_workspace_authorize(client,
                                                                   settings.slack_bot_token)
    # Bolt skips signature checks only for requests that arrive over the Socket Mode socket.
    # Bolt awaits each listener until its ack (acks.py) instead of polling for the ack.
    app = AsyncApp(signing_secret=settings.slack_signing_secret or "", client=client,
                   logger=logging.getLogger("slack_bolt"), process_before_response=True,
                   **kwargs)
    platform = SlackPlatform(runtime=runtime, installations=installations, app=app,
                             cache=ProfileCache(), single_authorize=single)
    if installations.oauth:
        # `admin purge` deletes a team's stored installation too, as purge-workspace does.
        runtime.rapport.workspace_tokens[PLATFORM] = SlackTokens(runtime.engine)
    transport.register(platform)
    slash.register(platform)
    nudge_buttons.register(platform)
    suggestion_buttons.register(platform)
    goal_chart.register(platform)
    home.register(platform)
    settings_form.register(platform)
    shortcut.register(platform)
    draft_editor.register(platform)
    person.register(platform)
    lifecycle.register(platform)
    imports.register(platform)
    dm_capture.register(platform)
    # Last: the catch-all for DM messages (Bolt runs the first listener that matches).
    messages.register(platform)
    return platform
