"""A person at a glance in Slack: the card's buttons (Log, Note, Draft, Snooze 1 week), the
person modal opened from a row of App Home's people list, and the button that confirms
"forget <person>". Every button and form hands the core a typed command naming the contact
by id; the core checks the contact is the clicker's (the same answer for missing and foreign).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.core.context import Actor
from rapport.bot.core.views import PersonView, RefusedArgument, Reply
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.home import clicked_on_home
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.modals import open_modal
from rapport.bot.platforms.slack.platform import (
    NOTHING_KEPT,
    Ack,
    Respond,
    SlackPlatform,
    team_of,
)

logger = logging.getLogger(__name__)


def _dict(value: object) -> dict[str, Any]:
    """A payload part as a dict; anything else (a forged or garbled payload) as empty."""
    return value if isinstance(value, dict) else {}


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A person modal's private_metadata (blocks.person_metadata); empty when garbled."""
    try:
        return _dict(json.loads(str(view.get("private_metadata") or "{}")))
    except ValueError:
        return {}


def _metadata_contact(view: dict[str, Any]) -> int | None:
    return row_id(_metadata(view).get("contact_id"))


def _opened_from_home(view: dict[str, Any]) -> bool:
    """Whether a person modal was opened from App Home (blocks.person_metadata)."""
    return _metadata(view).get("from_home") is True


def log_from_form(contact_id: int, values: dict[str, Any]) -> c.Log | dict[str, str]:
    """The log form's state as a typed command, or the errors to show per block."""
    def value(block: str) -> dict[str, Any]:
        return _dict(_dict(values.get(block)).get("value"))

    kind = str(_dict(value("kind").get("selected_option")).get("value") or "chat").lower()
    # Cleaned as typed text is: a NUL (which PostgreSQL refuses), an RTL override or a
    # zero-width space never reaches the core.
    summary = c.clean_text(str(value("summary").get("value") or ""))
    picked = value("day").get("selected_date")
    try:
        day = date.fromisoformat(str(picked)) if picked else None
    except ValueError:
        return {"day": "Pick a day."}
    if kind not in c.KNOWN_KINDS:
        return {"kind": "Pick how you talked."}
    if len(summary) > c.MAX_SUMMARY_CHARS:
        return {"summary": f"Keep the summary under {c.MAX_SUMMARY_CHARS:,} characters."}
    return c.Log(c.PersonRef(contact_id=contact_id), day, kind, summary or None)


def note_from_form(contact_id: int, values: dict[str, Any]) -> c.AddNote | dict[str, str]:
    """The note form's state as a typed command, or the errors to show per block."""
    def value(block: str) -> dict[str, Any]:
        return _dict(_dict(values.get(block)).get("value"))

    text = c.clean_text(str(value("text").get("value") or ""))  # as in log_from_form
    picked = value("follow_up").get("selected_date")
    try:
        day = date.fromisoformat(str(picked)) if picked else None
    except ValueError:
        return {"follow_up": "Pick a day."}
    if not text:
        return {"text": "What should I remember?"}
    if len(text) > c.MAX_SUMMARY_CHARS:
        return {"text": f"Keep notes under {c.MAX_SUMMARY_CHARS:,} characters."}
    return c.AddNote(c.PersonRef(contact_id=contact_id), text, day, event_on=day,
                     dates_unread=True)


# The Log and Note forms' input blocks by the command argument they give: a refusal about one
# shows under it (a follow-up day under the date picker that chose it).
_FORM_BLOCKS: dict[RefusedArgument, str] = {"follow_up_on": "follow_up", "day": "day"}


@dataclass
class PersonCard:
    platform: SlackPlatform

    async def card(self, actor: Actor, contact_id: int) -> Reply:
        """The person card (the core checks the contact is the actor's)."""
        return await self.platform.rapport.execute(
            actor, c.ShowPerson(c.PersonRef(contact_id=contact_id)))

    async def on_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, respond: Respond,
                        context: dict[str, Any]) -> None:
        await ack()
        platform = self.platform
        team_id, user_id = team_of(body), str(_dict(body.get("user")).get("id", ""))
        contact_id = row_id(action.get("value"))
        action_id = str(action.get("action_id", ""))
        if team_id != context.get("team_id") or not user_id or contact_id is None \
                or action_id not in b.PERSON_ACTIONS:
            logger.warning("person action refused", extra={"reason": "malformed"})
            return
        actor = platform.actor(team_id, user_id)
        container = _dict(body.get("container"))
        # A click in the card's own modal updates that modal; one on App Home (a view too,
        # of type "home") opens a modal: a Home view can't become one.
        clicked_in = _dict(body.get("view"))
        view_id = str(clicked_in.get("id") or "") \
            if container.get("type") == "view" and clicked_in.get("type") == "modal" else ""
        # A change made here shows on Home at once when the click was on Home or in a modal
        # opened from it (the person is back on Home when it closes), else paced.
        from_home = clicked_on_home(body) or (bool(view_id) and _opened_from_home(clicked_in))
        trigger = str(body.get("trigger_id") or "")
        can_respond = bool(body.get("response_url"))

        async def tell(reply: Reply) -> None:
            if can_respond:
                await platform.send_pages(respond, reply, skip_first=False, client=client,
                                          user_id=user_id)
            else:
                await open_modal(client, trigger, b.notice_view("Rapport", reply.text))

        if not await platform.keeps_rows_for(team_id, user_id):
            # A button on an old meeting brief or person card after "forget me": acting
            # would enrol them again (the core creates rows for whoever acts).
            logger.warning("person action refused", extra={"reason": "nothing kept"})
            if can_respond:
                await respond(text=NOTHING_KEPT, response_type="ephemeral",
                              replace_original=False)
            else:
                await open_modal(client, trigger, b.notice_view("Rapport", NOTHING_KEPT))
            if from_home:
                await platform.refresh_home(client, team_id, user_id, at_once=True)
            return
        changed = erased = False
        # The core's answer when the card can't be shown (not theirs, or forgotten meanwhile).
        gone: Reply | None = None
        if action_id == b.ACTION_CONFIRM_FORGET:
            reply = await platform.rapport.execute(actor, c.Forget(
                c.PersonRef(contact_id=contact_id), confirmed=True))
            changed, erased = reply.changed, reply.erased
            if can_respond:
                await respond(text=b.fallback(reply.text),
                              response_type="ephemeral", replace_original=reply.ok)
        elif action_id == b.ACTION_PERSON_DRAFT:
            editor = platform.draft_editor
            opened = await editor.open_loading(client, trigger) if editor is not None else None
            reply = await platform.rapport.execute(actor, c.Draft(
                c.PersonRef(contact_id=contact_id)), directory=platform.directory(client, team_id))
            if opened is not None and editor is not None:
                await editor.show_draft(client, opened, reply,
                                        answer=tell if can_respond else None)
            else:
                await tell(reply)
        elif action_id == b.ACTION_PERSON_SNOOZE:
            reply = await platform.rapport.execute(actor, c.Snooze(
                c.PersonRef(contact_id=contact_id), days=7))
            changed = reply.changed
            if view_id:
                card = await self.card(actor, contact_id)
                if isinstance(card.view, PersonView):
                    await platform.update_view(client, view_id, b.person_modal(
                        card.view, notice=reply.text, from_home=from_home))
                else:
                    gone = reply
            else:
                await tell(reply)
        else:
            card = await self.card(actor, contact_id)
            if not isinstance(card.view, PersonView):
                gone = card
            else:
                if action_id == b.ACTION_PERSON_OPEN:
                    form = b.person_modal(card.view, from_home=from_home)
                elif action_id == b.ACTION_PERSON_LOG:
                    form = b.person_log_view(contact_id, card.view.name,
                                             card.view.today.isoformat(), from_home=from_home)
                else:
                    form = b.person_note_view(contact_id, card.view.name, from_home=from_home)
                if view_id:
                    await platform.update_view(client, view_id, form)
                else:
                    await open_modal(client, trigger, form,
                                     respond=respond if can_respond else None)
        if gone is not None:
            # Nothing else: the answer in place of the card when the click was in it.
            if view_id:
                await platform.update_view(client, view_id, b.notice_view("Rapport", gone.text))
            else:
                await tell(gone)
        if changed or (gone is not None and from_home):
            # After a forget, Home must not show them a moment longer (docs/data.md); nor a
            # change, or someone gone, seen from Home (the person is back on it at once).
            await platform.refresh_home(client, team_id, user_id,
                                        at_once=erased or from_home)

    async def on_form_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                             client: AsyncWebClient) -> None:
        """Log or Note from a person card: a typed command, or errors on the fields."""
        team_id, user_id = team_of(body), str(_dict(body.get("user")).get("id", ""))
        contact_id = _metadata_contact(view)
        values = _dict(_dict(view.get("state")).get("values"))
        is_log = view.get("callback_id") == b.CALLBACK_PERSON_LOG
        field = "summary" if is_log else "text"
        if contact_id is None or not user_id:
            await ack(response_action="errors", errors={field: "This form is out of date."})
            return
        command = log_from_form(contact_id, values) if is_log \
            else note_from_form(contact_id, values)
        if isinstance(command, dict):
            await ack(response_action="errors", errors=command)
            return
        actor = self.platform.actor(team_id, user_id)
        reply = await self.platform.rapport.execute(actor, command)
        if not reply.ok:
            if reply.refused is not None:
                field = _FORM_BLOCKS.get(reply.refused, field)
            await ack(response_action="errors", errors={field: b.clip(reply.text, 150)})
            return
        from_home = _opened_from_home(view)
        card = await self.card(actor, contact_id)
        if isinstance(card.view, PersonView):
            await ack(response_action="update", view=b.person_modal(
                card.view, notice=reply.text, from_home=from_home))
        else:
            await ack()
        # From Home, the person is back on it when the modal closes.
        await self.platform.refresh_home(client, team_id, user_id, at_once=from_home)


def register(platform: SlackPlatform) -> None:
    card = PersonCard(platform)
    platform.app.action(re.compile(
        "^(" + "|".join(re.escape(a) for a in b.PERSON_ACTIONS) + ")$"))(
        answered_at_ack(card.on_action))
    platform.app.view(b.CALLBACK_PERSON_LOG)(answered_at_ack(card.on_form_submit))
    platform.app.view(b.CALLBACK_PERSON_NOTE)(answered_at_ack(card.on_form_submit))
