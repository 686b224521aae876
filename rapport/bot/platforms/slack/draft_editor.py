"""The draft editor modal: the draft to make your own, posted as you (with your permission)
or shown to copy; refused while it is still the draft as written."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.core.context import Actor
from rapport.bot.core.drafts import DraftOutcome
from rapport.bot.core.views import Reply
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.client import make_client
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.modals import open_modal
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform, team_of

logger = logging.getLogger(__name__)


# Bidirectional embeddings, overrides, isolates and marks: pasted, they make a line read
# backwards in the message Dana receives.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")
# Line and paragraph separators (and the old "next line") are line breaks as typed.
_LINE_BREAKS = frozenset("\x85\u2028\u2029")


def clean_draft_text(text: str) -> str:
    """The edited draft as it may be stored and sent: its line breaks kept (each one "\\n"),
    without control characters (a NUL, which PostgreSQL refuses in a text column), lone
    surrogates (no UTF-8 for them) or bidirectional controls. Other format characters
    stay: a zero-width joiner holds an emoji of several together. Commands fold lines into
    one (`clean_text`); a message keeps them."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join("\n" if ch in _LINE_BREAKS else ch for ch in text
                   if ch in "\n\t" or ch in _LINE_BREAKS or (
                       ch not in _BIDI_CONTROLS
                       and unicodedata.category(ch) not in ("Cc", "Cs")))
    return unicodedata.normalize("NFC", kept)


def editor_input(view: dict[str, Any]) -> tuple[int | None, str, bool]:
    """(draft id, typed text, disclosure wanted) from the draft modal's state."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        draft_id: int | None = int(metadata["draft_id"])
    except (ValueError, TypeError, KeyError):
        draft_id = None
    values = (view.get("state") or {}).get("values") or {}
    # Cleaned here, before the core stores it or Slack is asked to post it.
    text = clean_draft_text(str(((values.get("draft") or {}).get("value") or {})
                                .get("value") or ""))
    disclose_state = values.get("disclose")
    # Without the checkbox the policy decides alone (required, off, or a template).
    disclose = True if disclose_state is None else bool(
        (disclose_state.get("value") or {}).get("selected_options"))
    return draft_id, text, disclose


@dataclass
class DraftEditor:
    platform: SlackPlatform
    # Drafts being posted right now: a double-clicked Post must not send the message twice.
    posting: set[int] = field(default_factory=set)

    async def open_draft(self, client: AsyncWebClient, body: dict[str, Any], actor: Actor,
                         nudge_id: int, *, respond: Respond | None = None) -> None:
        """Open a modal at once (trigger ids expire in 3 s), then fill it with the draft; when
        Slack won't open it, the draft is answered through `respond` (the click's
        response_url) instead, its "Edit and send…" button opening the editor later."""
        view_id = await self.open_loading(client, str(body.get("trigger_id") or ""))
        if view_id is None and respond is None:
            return  # nowhere to show a draft (a click on Home): drafting it would be waste
        reply = await self.platform.rapport.execute(actor, c.Draft(c.NudgeRef(nudge_id)))
        if view_id is not None:
            await self.show_draft(client, view_id, reply, nudge_id=nudge_id)
        elif respond is not None:
            await self.platform.send_pages(respond, reply, skip_first=False, client=client,
                                           user_id=actor.user_external_id)

    async def open_loading(self, client: AsyncWebClient, trigger_id: str, *,
                           respond: Respond | None = None) -> str | None:
        """A "Drafting…" modal opened before the slow draft; None when Slack refuses it (then
        the answer goes through the caller's respond, or `respond` says to try again)."""
        return await open_modal(client, trigger_id, b.notice_view("Draft", "Drafting a message…"),
                                respond=respond)

    async def show_draft(self, client: AsyncWebClient, view_id: str, reply: Reply, *,
                         nudge_id: int | None = None,
                         answer: Callable[[Reply], Awaitable[None]] | None = None) -> None:
        """Fill the open modal with the draft editor, or with why there is no draft
        (`answer`: how to say so in the conversation too, when there is one)."""
        if reply.draft is not None:
            view = b.draft_view(reply.draft, nudge_id=nudge_id or reply.draft.nudge_id)
        else:
            view = b.notice_view("Draft", reply.text)
        try:
            await client.views_update(view_id=view_id, view=view)
        except SlackApiError as failure:  # the user closed the modal meanwhile
            logger.info("views.update failed", extra={"error": failure.response.get("error")})
            if answer is not None:
                await answer(reply)
            return
        if reply.draft is None and answer is not None:
            # The modal may be closed by now; the answer also stays in the conversation.
            await answer(reply)

    async def on_draft_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                              client: AsyncWebClient) -> None:
        """Post: refused while unedited; as the user when they allowed it, else to copy."""
        drafts = self.platform.runtime.drafts
        team_id, user_id = team_of(body), str(body["user"]["id"])
        draft_id, text, disclose = editor_input(view)
        if drafts is None or draft_id is None:
            await ack(response_action="errors", errors={"draft": "This draft can't be posted."})
            return
        actor = self.platform.actor(team_id, user_id)
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
        await self.platform.update_view(client, view_id, shown)

    async def post_as_user(self, team_id: str, user_id: str,
                           checked: DraftOutcome) -> tuple[bool, str]:
        """Post the final text as the user in their DM with the contact; (posted, why not)."""
        contact = checked.contact_platform_user_id
        if not contact:
            return False, "They have no Slack account linked, so Rapport can't post for you."
        token = await self.platform.installations.user_token(team_id, user_id)
        if not token:
            return False, ("Rapport may not post as you in this workspace (that needs you to "
                           "add Rapport with your own permission), so here is the text.")
        # No session passed: slack_sdk opens and closes one per call, nothing to clean up.
        user_client = make_client(self.platform.runtime.settings, token)
        try:
            opened = await user_client.conversations_open(users=contact)
            await user_client.chat_postMessage(channel=opened["channel"]["id"],
                                               text=b.escape_controls(checked.text))
        except SlackApiError as failure:
            logger.info("posting as the user failed",
                        extra={"error": failure.response.get("error")})
            return False, "Slack didn't let Rapport post for you, so here is the text."
        return True, ""

    async def on_draft_button(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                              client: AsyncWebClient) -> None:
        """Copy text or Discard inside the draft modal."""
        await ack()
        view = body.get("view") or {}
        drafts = self.platform.runtime.drafts
        draft_id, text, disclose = editor_input(view)
        if drafts is None or draft_id is None or view.get("callback_id") != b.CALLBACK_DRAFT:
            logger.warning("draft action refused", extra={"reason": "malformed"})
            return
        actor = self.platform.actor(team_of(body), str(body.get("user", {}).get("id", "")))
        view_id = str(view.get("id") or "")
        if action.get("action_id") == b.ACTION_DRAFT_DISCARD:
            done = await drafts.finish(actor, draft_id, text, "discard")
            await self.platform.update_view(client, view_id, b.notice_view("Draft", done.message))
            return
        done = await drafts.finish(actor, draft_id, text, "copy", disclose)
        if done.ok:
            shown = b.copy_view(done.contact_name, done.text)
        elif done.retry:
            shown = b.draft_view_with_error(view, done.message)
        else:
            shown = b.notice_view("Draft", done.message)
        await self.platform.update_view(client, view_id, shown)


    async def on_open_draft(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                            client: AsyncWebClient, respond: Respond) -> None:
        """"Edit and send…" under a draft answered as text: that draft in the editor."""
        await ack()
        drafts = self.platform.runtime.drafts
        draft_id = row_id(action.get("value"))
        if drafts is None or draft_id is None:
            logger.warning("draft action refused", extra={"reason": "malformed"})
            return
        # Nothing else can show a reopened draft: the person is told to click again.
        view_id = await self.open_loading(client, str(body.get("trigger_id") or ""),
                                          respond=respond if body.get("response_url") else None)
        if view_id is None:
            return
        actor = self.platform.actor(team_of(body), str(body.get("user", {}).get("id", "")))
        # The core checks the draft is the clicker's (another's reads as not found).
        await self.show_draft(client, view_id, await drafts.reopen(actor, draft_id))


def register(platform: SlackPlatform) -> None:
    editor = DraftEditor(platform)
    platform.draft_editor = editor
    platform.app.view(b.CALLBACK_DRAFT)(answered_at_ack(editor.on_draft_submit))
    platform.app.action(b.ACTION_DRAFT_COPY)(answered_at_ack(editor.on_draft_button))
    platform.app.action(b.ACTION_DRAFT_DISCARD)(answered_at_ack(editor.on_draft_button))
    platform.app.action(b.ACTION_DRAFT_OPEN)(answered_at_ack(editor.on_open_draft))
