"""The Bolt AsyncApp: slash command, nudge buttons, App Home, shortcut, modals, uninstall."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from rapport.bot.core import commands as c
from rapport.bot.core.actions import UserContext, valid_zone
from rapport.bot.core.drafts import DraftOutcome, DraftService
from rapport.bot.core.replies import Actor, Attachment, Reply
from rapport.bot.core.stats import UserStats
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack import imports, transport
from rapport.bot.platforms.slack.client import make_client
from rapport.bot.platforms.slack.directory import ProfileCache, SlackDirectory
from rapport.bot.platforms.slack.install import (
    BOT_SCOPES,
    PLATFORM,
    USER_SCOPES,
    Installations,
    build_installations,
    set_workspace_active,
)
from rapport.bot.platforms.slack.replay import ReplayGuard, ReplayStore
from rapport.bot.service.runtime import Runtime
from rapport.storage.models import Nudge, User, Workspace

logger = logging.getLogger(__name__)

# Verbs that may take longer than Slack's 3 s: acknowledged first, answered through respond.
SLOW_VERBS = frozenset({"draft", "export", "stats"})
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
# response_url accepts five messages; the first page goes in the ack itself.
MAX_RESPONSES = 5
# A view_submission must be answered within 3 s, including a users.info for the author.
LOOKUP_BUDGET_SECONDS = 1.5
Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]


def _team_of(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")


def _window_text(ctx: UserContext) -> str:
    start, end = ctx.prefs.window_start_minute, ctx.prefs.window_end_minute
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


@dataclass
class SlackPlatform:
    """Everything Slack in one object: the Bolt app, installations, directory cache."""

    runtime: Runtime
    installations: Installations
    app: AsyncApp
    cache: ProfileCache
    single_authorize: Callable[..., Awaitable[AuthorizeResult | None]] | None = None
    # Users whose Home is being republished -> "changed again meanwhile" (see refresh_home).
    _home_refreshing: dict[tuple[str, str], bool] = field(default_factory=dict)
    # Seconds a Home refresh waits after a change, collecting further changes.
    home_refresh_delay: float = 1.0
    # Drafts being posted right now: a double-clicked Post must not send the message twice.
    posting: set[int] = field(default_factory=set)
    # Slack's 5-minute timestamp window alone would let a captured request be replayed
    # (logging the same conversation twice), to any replica: see replay.py.
    replays: ReplayGuard | None = None

    async def is_replay(self, headers: Any, body: bytes) -> bool:
        """True for a correctly signed request that some replica has already accepted."""
        if self.replays is None:
            self.replays = ReplayGuard(ReplayStore(self.runtime.sessions),
                                       self.runtime.settings.slack_signing_secret)
        return await self.replays.is_replay(headers, body)

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

    @property
    def rapport(self) -> Any:
        return self.runtime.rapport

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

    async def owns_nudge(self, team_id: str, user_id: str, nudge_id: int) -> bool:
        """True when the nudge belongs to this Slack user in this workspace (no rows created)."""
        async with self.runtime.sessions() as session:
            found = await session.scalar(
                select(Nudge.id).join(User, User.id == Nudge.user_id)
                .join(Workspace, Workspace.id == Nudge.workspace_id)
                .where(Nudge.id == nudge_id, User.external_id == user_id,
                       Workspace.platform == PLATFORM, Workspace.external_id == team_id))
        return found is not None

    async def publish_home(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """views.publish the user's Home tab with current data."""
        ctx = await self.rapport.user_context(self.actor(team_id, user_id))
        due = await self.rapport.due(ctx)
        coming = "\n".join(line.strip() for line in due.text.split("\n")
                           if line.startswith("  ") and not line.startswith("  #"))
        people = await self.rapport.people(ctx)
        stats = await self.rapport.stats(ctx)
        numbers = stats.extra.get("stats")
        view = b.home_view(b.HomeContent(
            due=due.nudges, coming_up=coming, people=people.text, stats_text=stats.text,
            stats=numbers if isinstance(numbers, UserStats) else None))
        await client.views_publish(user_id=user_id, view=view)

    async def refresh_home(self, client: AsyncWebClient, team_id: str, user_id: str, *,
                           delay: float | None = None) -> None:
        """Republish Home after a change; a failure here never undoes the change."""
        key = (team_id, user_id)
        if key in self._home_refreshing:
            # Coalesce: one publish is pending or running; it runs once more after it
            # finishes, so a burst of commands costs one or two Home builds, not one each.
            self._home_refreshing[key] = True
            return
        self._home_refreshing[key] = False
        try:
            while True:
                # Wait a moment first: Home is several queries, and building it right away
                # for every command would compete with the commands for the database
                # (bench/slash_command.py: four times fewer commands per second).
                await asyncio.sleep(self.home_refresh_delay if delay is None else delay)
                self._home_refreshing[key] = False
                try:
                    await self.publish_home(client, team_id, user_id)
                except SlackApiError as failure:
                    logger.info("home refresh failed",
                                extra={"error": failure.response.get("error")})
                except Exception as failure:
                    logger.warning("home refresh failed", extra={"error": type(failure).__name__})
                if not self._home_refreshing.get(key):
                    break
                self._home_refreshing[key] = False
        finally:
            self._home_refreshing.pop(key, None)

    def is_slow(self, text: str, team_id: str) -> bool:
        """Commands that may outlast the ack: slow verbs, or @mentions not in the cache."""
        words = text.strip().split(maxsplit=1)
        if words and words[0].lower() in SLOW_VERBS:
            return True
        return any(self.cache.get(team_id, uid) is None for uid in _MENTION.findall(text))

    @staticmethod
    async def send_pages(respond: Respond, reply: Reply, *, skip_first: bool) -> None:
        rendered = b.reply_pages(reply)
        pages = rendered.pages[1:] if skip_first else rendered.pages
        for page in pages[:MAX_RESPONSES - (1 if skip_first else 0)]:
            await respond(text=rendered.text, blocks=page, response_type="ephemeral",
                          replace_original=False)

    # ------------------------------------------------------------------ listeners
    async def on_command(self, ack: Ack, command: dict[str, Any], respond: Respond,
                         client: AsyncWebClient) -> None:
        """`/rapport <text>`: fast commands answer in the ack, slow ones right after it."""
        team_id, user_id = str(command.get("team_id", "")), str(command.get("user_id", ""))
        text = str(command.get("text") or "")
        if not team_id or not user_id:
            # Without both ids there is nobody to act for; never create rows for "".
            logger.warning("command refused", extra={"reason": "malformed"})
            await ack(response_type="ephemeral", text="Sorry, I couldn't tell who you are.")
            return
        actor = self.actor(team_id, user_id, name=str(command.get("user_name") or ""),
                           workspace_name=str(command.get("team_domain") or ""))
        directory = self.directory(client, team_id)
        if self.is_slow(text, team_id):
            await ack(response_type="ephemeral", text="Working on it…")
            verb = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
            opened = await self.open_loading(client, str(command.get("trigger_id") or "")) \
                if verb == "draft" else None
            reply = await self.rapport.handle_text(actor, text, directory=directory)
            if opened is not None:
                await self.show_draft(client, opened, reply, respond=respond)
            elif reply.attachment is not None and reply.ok and await self.upload(
                    client, user_id, reply.text, reply.attachment):
                await respond(text="I've sent the file to our direct messages.",
                              response_type="ephemeral", replace_original=False)
            else:
                await self.send_pages(respond, reply, skip_first=False)
        else:
            reply = await self.rapport.handle_text(actor, text, directory=directory)
            rendered = b.reply_pages(reply)
            await ack(text=rendered.text, blocks=rendered.pages[0], response_type="ephemeral")
            await self.send_pages(respond, reply, skip_first=True)
        if reply.changed:
            await self.refresh_home(client, team_id, user_id)
        await self.warm_profile(client, team_id, user_id)

    async def on_nudge_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                              client: AsyncWebClient, respond: Respond,
                              context: dict[str, Any]) -> None:
        """A button (or the date picker) on a nudge: act, then update the message in place."""
        await ack()
        team_id, user_id = _team_of(body), str(body.get("user", {}).get("id", ""))
        action_id = str(action.get("action_id", ""))
        raw_id = action.get("value") or str(action.get("block_id", "")).removeprefix(
            b.NUDGE_BLOCK_PREFIX)
        can_respond = bool(body.get("response_url"))
        if team_id != context.get("team_id") or not str(raw_id).isdigit() \
                or action_id not in b.NUDGE_ACTIONS:
            logger.warning("nudge action refused", extra={"reason": "malformed"})
            return
        nudge_id = int(raw_id)
        if not await self.owns_nudge(team_id, user_id, nudge_id):
            logger.warning("nudge action refused", extra={"reason": "not the owner"})
            if can_respond:
                await respond(text="That nudge isn't yours.", response_type="ephemeral",
                              replace_original=False)
            return
        actor = self.actor(team_id, user_id)
        name = b.NUDGE_ACTIONS[action_id]
        if name == "draft":
            await self.open_draft(client, body, actor, nudge_id)
            return
        until: date | None = None
        if name == "snooze":
            try:
                until = date.fromisoformat(str(action.get("selected_date")))
            except ValueError:
                return
        reply = await self.rapport.handle_nudge_action(actor, nudge_id, name, until)
        container = body.get("container") or {}
        message = body.get("message") or {}
        if reply.ok and container.get("type") == "message" and message.get("blocks"):
            try:
                await client.chat_update(
                    channel=container["channel_id"], ts=container["message_ts"],
                    text=b.clip(reply.text, b.MAX_FALLBACK_TEXT),
                    blocks=b.outcome_blocks(message["blocks"], nudge_id, reply.text))
            except SlackApiError as failure:
                logger.info("chat.update failed", extra={"error": failure.response.get("error")})
        elif not reply.ok and can_respond:
            await respond(text=reply.text, response_type="ephemeral", replace_original=False)
        await self.refresh_home(client, team_id, user_id)

    async def open_draft(self, client: AsyncWebClient, body: dict[str, Any], actor: Actor,
                         nudge_id: int) -> None:
        """Open a modal at once (trigger ids expire in 3 s), then fill it with the draft."""
        opened = await client.views_open(trigger_id=body["trigger_id"],
                                         view=b.notice_view("Draft", "Drafting a message…"))
        reply = await self.rapport.handle_nudge_action(actor, nudge_id, "draft")
        await self.show_draft(client, str(opened["view"]["id"]), reply, nudge_id=nudge_id)

    async def open_loading(self, client: AsyncWebClient, trigger_id: str) -> str | None:
        """A "Drafting…" modal opened before the slow draft; None when Slack refuses it."""
        if not trigger_id:
            return None
        try:
            opened = await client.views_open(trigger_id=trigger_id, view=b.notice_view(
                "Draft", "Drafting a message…"))
        except SlackApiError as failure:  # expired trigger: the answer goes through respond
            logger.info("views.open failed", extra={"error": failure.response.get("error")})
            return None
        return str(opened["view"]["id"])

    async def show_draft(self, client: AsyncWebClient, view_id: str, reply: Reply, *,
                         nudge_id: int | None = None, respond: Respond | None = None) -> None:
        """Fill the open modal with the draft editor, or with why there is no draft."""
        if reply.draft is not None:
            view = b.draft_view(reply.draft, nudge_id=nudge_id or reply.draft.nudge_id)
        else:
            view = b.notice_view("Draft", reply.text)
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as failure:  # the user closed the modal meanwhile
            logger.info("views.update failed", extra={"error": failure.response.get("error")})
            if respond is not None:
                await self.send_pages(respond, reply, skip_first=False)
            return
        if reply.draft is None and respond is not None:
            # The modal may be closed by now; the answer also stays in the conversation.
            await self.send_pages(respond, reply, skip_first=False)

    async def upload(self, client: AsyncWebClient, user_id: str, text: str,
                     attachment: Attachment) -> bool:
        """Put a file into the user's DM with the bot; False when Slack refuses it."""
        try:
            opened = await client.conversations_open(users=user_id)
            await client.files_upload_v2(
                channel=opened["channel"]["id"], content=attachment.data,
                filename=attachment.filename, title=attachment.filename,
                initial_comment=b.clip(text, b.MAX_FALLBACK_TEXT))
        except SlackApiError as failure:  # e.g. missing_scope: shown inline instead
            logger.info("file upload failed", extra={"error": failure.response.get("error")})
            return False
        except (ClientError, TimeoutError) as failure:  # the upload URL is another host
            logger.warning("file upload failed", extra={"error": type(failure).__name__})
            return False
        return True

    async def on_open_settings(self, ack: Ack, body: dict[str, Any],
                               client: AsyncWebClient) -> None:
        """The Home tab's Settings button."""
        await ack()
        team_id, user_id = _team_of(body), str(body["user"]["id"])
        ctx = await self.rapport.user_context(self.actor(team_id, user_id))
        await client.views_open(trigger_id=body["trigger_id"], view=b.settings_view(
            tz=ctx.tz, window=_window_text(ctx), working_days=ctx.prefs.working_days,
            daily_cap=ctx.prefs.daily_cap, digest=ctx.digest, ai_enabled=ctx.ai_enabled))

    async def on_settings_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                                 client: AsyncWebClient) -> None:
        """Apply changed settings through the same commands a user could type."""
        team_id, user_id = _team_of(body), str(body["user"]["id"])
        actor = self.actor(team_id, user_id)
        ctx = await self.rapport.user_context(actor)
        values = view.get("state", {}).get("values", {})

        def pick(block: str) -> Any:
            return values.get(block, {}).get("value", {})

        tz = str(pick("tz").get("value") or "").strip()
        window = str(pick("window").get("value") or "").strip()
        days = [int(o["value"]) for o in pick("days").get("selected_options") or []]
        cap = (pick("cap").get("selected_option") or {}).get("value")
        digest = (pick("digest").get("selected_option") or {}).get("value")
        ai = (pick("ai").get("selected_option") or {}).get("value")
        wanted: list[tuple[str, str]] = []
        errors: dict[str, str] = {}
        if tz and tz != ctx.tz:
            if valid_zone(tz) is None:
                errors["tz"] = "Use a zone name like Europe/Berlin."
            wanted.append(("tz", f"settings tz {tz}"))
        if window and window != _window_text(ctx):
            wanted.append(("window", f"settings window {window}"))
        mask = sum(1 << d for d in days if 0 <= d < 7)
        if not mask:
            errors["days"] = "Pick at least one day."
        elif mask != ctx.prefs.working_days:
            names = ",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d]
                             for d in sorted(set(days)))
            wanted.append(("days", f"settings days {names}"))
        if cap and int(cap) != ctx.prefs.daily_cap:
            wanted.append(("cap", f"settings cap {cap}"))
        if digest and (digest == "on") != ctx.digest:
            wanted.append(("digest", f"settings digest {digest}"))
        if ai and (ai == "on") != ctx.ai_enabled:
            wanted.append(("ai", f"settings ai {ai}"))
        today = ctx.today(self.rapport.clock())
        for block, text in wanted:
            parsed = c.parse_command(text, today=today)
            if isinstance(parsed, c.CommandError) and block not in errors:
                errors[block] = b.clip(parsed.message, 150)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        for _block, text in wanted:
            await self.rapport.handle_text(actor, text)
        if wanted:
            await self.refresh_home(client, team_id, user_id)

    async def on_log_shortcut(self, ack: Ack, body: dict[str, Any],
                              client: AsyncWebClient) -> None:
        """Message shortcut "Log touchpoint": a modal prefilled with the author and text."""
        await ack()
        message = body.get("message") or {}
        author = message.get("user")
        text = str(message.get("text") or "")
        await client.views_open(trigger_id=body["trigger_id"], view=b.log_touchpoint_view(
            author_id=str(author) if author else None, summary=text))
        if author:
            await self.warm_profile(client, _team_of(body), str(author))

    async def on_log_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                            client: AsyncWebClient) -> None:
        """Log the touchpoint from the shortcut modal."""
        team_id, user_id = _team_of(body), str(body["user"]["id"])
        values = view.get("state", {}).get("values", {})
        contact = (values.get("contact", {}).get("value", {}) or {}).get("selected_user")
        kind = ((values.get("kind", {}).get("value", {}) or {}).get("selected_option")
                or {}).get("value") or "chat"
        summary = " ".join(str((values.get("summary", {}).get("value", {}) or {})
                               .get("value") or "").split())
        if not contact:
            await ack(response_action="errors", errors={"contact": "Pick who you talked to."})
            return
        directory = self.directory(client, team_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(directory.profile(str(contact)), LOOKUP_BUDGET_SECONDS)
        text = f"log <@{contact}>: {kind}" + (f", {summary}" if summary else "")
        reply = await self.rapport.handle_text(self.actor(team_id, user_id), text,
                                               directory=directory)
        if not reply.ok:
            await ack(response_action="errors", errors={"contact": b.clip(reply.text, 150)})
            return
        await ack()
        await self.refresh_home(client, team_id, user_id)

    # ------------------------------------------------------------------ the draft editor
    @property
    def drafts(self) -> DraftService | None:
        drafter = self.rapport.drafter
        return drafter if isinstance(drafter, DraftService) else None

    @staticmethod
    def _editor_input(view: dict[str, Any]) -> tuple[int | None, str, bool]:
        """(draft id, typed text, disclosure wanted) from the draft modal's state."""
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
            draft_id = int(metadata["draft_id"])
        except (ValueError, TypeError, KeyError):
            draft_id = None
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get("draft") or {}).get("value") or {}).get("value") or "")
        disclose_state = values.get("disclose")
        # Without the checkbox the policy decides alone (required, off, or a template).
        disclose = True if disclose_state is None else bool(
            (disclose_state.get("value") or {}).get("selected_options"))
        return draft_id, text, disclose

    async def on_draft_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                              client: AsyncWebClient) -> None:
        """Post: refused while unedited; as the user when they allowed it, else to copy."""
        drafts = self.drafts
        team_id, user_id = _team_of(body), str(body["user"]["id"])
        draft_id, text, disclose = self._editor_input(view)
        if drafts is None or draft_id is None:
            await ack(response_action="errors", errors={"draft": "This draft can't be posted."})
            return
        actor = self.actor(team_id, user_id)
        checked = await drafts.prepare(actor, draft_id, text, "post", disclose)
        if checked.ok and draft_id in self.posting:
            checked = DraftOutcome(False, "That draft is being sent already.", draft_id)
        if not checked.ok:
            # Nothing posted, nothing recorded: the modal stays open with the reason.
            await ack(response_action="errors", errors={"draft": b.clip(checked.message, 500)})
            return
        first = checked.contact_name.split()[0] if checked.contact_name.split() else "them"
        await ack(response_action="update",
                  view=b.notice_view("Sending", f"Sending your message to {first}…"))
        view_id = str(view.get("id") or "")
        self.posting.add(draft_id)
        try:
            posted, why = await self.post_as_user(team_id, user_id, checked)
            if posted:
                done = await drafts.finish(actor, draft_id, text, "post", disclose)
                shown = b.notice_view("Sent", f"Sent to {first} as you, in your direct messages.")
                if not done.ok:
                    logger.warning("posted draft not recorded", extra={"draft_id": draft_id})
            else:
                done = await drafts.finish(actor, draft_id, text, "copy", disclose)
                shown = b.copy_view(done.contact_name, done.text, why=why) if done.ok \
                    else b.notice_view("Draft", done.message)
        finally:
            self.posting.discard(draft_id)
        await self.update_view(client, view_id, shown)

    async def post_as_user(self, team_id: str, user_id: str,
                           checked: DraftOutcome) -> tuple[bool, str]:
        """Post the final text as the user in their DM with the contact; (posted, why not)."""
        contact = checked.contact_platform_user_id
        if not contact:
            return False, "They have no Slack account linked, so Rapport can't post for you."
        token = await self.installations.user_token(team_id, user_id)
        if not token:
            return False, ("Rapport may not post as you in this workspace (that needs you to "
                           "add Rapport with your own permission), so here is the text.")
        # No session passed: slack_sdk opens and closes one per call, nothing to clean up.
        user_client = make_client(self.runtime.settings, token)
        try:
            opened = await user_client.conversations_open(users=contact)
            await user_client.chat_postMessage(channel=opened["channel"]["id"],
                                               text=checked.text)
        except SlackApiError as failure:
            logger.info("posting as the user failed",
                        extra={"error": failure.response.get("error")})
            return False, "Slack didn't let Rapport post for you, so here is the text."
        return True, ""

    async def update_view(self, client: AsyncWebClient, view_id: str,
                          view: dict[str, Any]) -> None:
        """views.update that tolerates a modal the user already closed."""
        if not view_id:
            return
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as failure:
            logger.info("views.update failed", extra={"error": failure.response.get("error")})

    async def on_draft_button(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                              client: AsyncWebClient) -> None:
        """Copy text or Discard inside the draft modal."""
        await ack()
        view = body.get("view") or {}
        drafts = self.drafts
        draft_id, text, disclose = self._editor_input(view)
        if drafts is None or draft_id is None or view.get("callback_id") != b.CALLBACK_DRAFT:
            logger.warning("draft action refused", extra={"reason": "malformed"})
            return
        actor = self.actor(_team_of(body), str(body.get("user", {}).get("id", "")))
        view_id = str(view.get("id") or "")
        if action.get("action_id") == b.ACTION_DRAFT_DISCARD:
            done = await drafts.finish(actor, draft_id, text, "discard")
            await self.update_view(client, view_id, b.notice_view("Draft", done.message))
            return
        done = await drafts.finish(actor, draft_id, text, "copy", disclose)
        if done.ok:
            shown = b.copy_view(done.contact_name, done.text)
        elif done.retry:
            shown = b.draft_view_with_error(view, done.message)
        else:
            shown = b.notice_view("Draft", done.message)
        await self.update_view(client, view_id, shown)

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any],
                             client: AsyncWebClient) -> None:
        """Publish Home whenever the user opens it."""
        if event.get("tab", "home") != "home":
            return
        team_id, user_id = _team_of(body), str(event.get("user", ""))
        await self.warm_profile(client, team_id, user_id)
        await self.refresh_home(client, team_id, user_id, delay=0)

    async def on_uninstalled(self, body: dict[str, Any]) -> None:
        """app_uninstalled: drop every token and stop deliveries to the workspace."""
        team_id = _team_of(body)
        # Stop deliveries first, so a sweep in between never meets a workspace without tokens.
        await set_workspace_active(self.runtime.sessions, team_id, False)
        await self.installations.remove(team_id, enterprise_id=body.get("enterprise_id"))
        self.rapport.forget_cached(PLATFORM, team_id)
        logger.warning("slack app uninstalled", extra={"team_id": team_id})

    async def on_tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """tokens_revoked: drop revoked user tokens; a revoked bot token stops deliveries."""
        team_id = _team_of(body)
        tokens = event.get("tokens") or {}
        users = tuple(str(u) for u in tokens.get("oauth") or ())
        bot_revoked = bool(tokens.get("bot"))
        if bot_revoked:
            await set_workspace_active(self.runtime.sessions, team_id, False)
            self.rapport.forget_cached(PLATFORM, team_id)
        await self.installations.remove(team_id, enterprise_id=body.get("enterprise_id"),
                                        user_ids=users, bot=bot_revoked)
        logger.warning("slack tokens revoked", extra={"team_id": team_id, "users": len(users),
                                                      "bot": bot_revoked})

    @staticmethod
    async def on_error(error: Exception) -> BoltResponse | None:
        """A payload of the wrong shape is the sender's fault: 400, never a 500 or a traceback."""
        # KeyError/TypeError/AttributeError/ValueError come from fields that are missing or of
        # the wrong type (a forged or garbled payload), or a response_url that is no URL.
        if isinstance(error, KeyError | TypeError | AttributeError | ValueError):
            logger.warning("slack request refused", extra={"reason": "malformed payload",
                                                           "error": type(error).__name__})
            return BoltResponse(status=400, body="")
        logger.error("slack listener failed", extra={"error": type(error).__name__})
        return None

    def register(self) -> None:
        """Attach every listener to the Bolt app."""
        app = self.app
        app.error(self.on_error)
        app.command(b.SLASH_COMMAND)(self.on_command)
        app.action(re.compile(r"^nudge_(done|snooze_1d|snooze_1w|snooze_pick|draft|dismiss)$"))(
            self.on_nudge_action)
        app.action(b.ACTION_OPEN_SETTINGS)(self.on_open_settings)
        app.view(b.CALLBACK_SETTINGS)(self.on_settings_submit)
        app.shortcut(b.CALLBACK_LOG_TOUCHPOINT)(self.on_log_shortcut)
        app.view(b.CALLBACK_LOG_TOUCHPOINT)(self.on_log_submit)
        app.view(b.CALLBACK_DRAFT)(self.on_draft_submit)
        app.action(b.ACTION_DRAFT_COPY)(self.on_draft_button)
        app.action(b.ACTION_DRAFT_DISCARD)(self.on_draft_button)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)
        # Last: it ends with a catch-all for DM messages (Bolt runs the first match).
        imports.register(self)

    # ------------------------------------------------------------------ HTTP
    async def handle_events(self, request: web.Request) -> web.Response:
        """POST /slack/events: Bolt verifies the signature, dispatches, answers."""
        body = await request.read()
        malformed = transport.refusal(request.headers, body)
        if malformed is not None:
            return malformed
        if await self.is_replay(request.headers, body):
            logger.warning("slack request refused", extra={"reason": "replayed signature"})
            return web.Response(status=401, text="replayed request")
        try:
            bolt_request = await to_bolt_request(request)
            # Listener errors reach on_error; what escapes dispatch is Bolt's own parsing and
            # matching, which assume Slack's shapes (a JSON object payload, "user" and "view"
            # objects with a "type"): anything else is bad input, not a 500.
            response = await self.app.async_dispatch(bolt_request)
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            logger.warning("slack request refused", extra={"reason": "malformed body",
                                                           "error": type(error).__name__})
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(response)

    async def handle_install(self, request: web.Request) -> web.Response:
        """GET /slack/install: the "Add to Slack" page with a fresh OAuth state."""
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_installation(
            await to_bolt_request(request)))

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        """GET /slack/oauth_redirect: exchange the code, store the installation."""
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_callback(
            await to_bolt_request(request)))


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
    app = AsyncApp(signing_secret=settings.slack_signing_secret or "", client=client,
                   logger=logging.getLogger("slack_bolt"), **kwargs)
    platform = SlackPlatform(runtime=runtime, installations=installations, app=app,
                             cache=ProfileCache(), single_authorize=single)
    platform.register()
    return platform
