"""The settings modal from App Home: filled from the core's SettingsView, saved as one typed
`Settings` command with every changed field. Someone Rapport keeps no rows for (a Home or a
form left open from before "forget me") is told so, and nothing is stored: reading their
settings would enrol them again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.core.context import TRY_AGAIN
from rapport.bot.core.dates import read_zone
from rapport.bot.core.views import SettingsView
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.modals import open_modal
from rapport.bot.platforms.slack.platform import NOTHING_KEPT, Ack, SlackPlatform, team_of

logger = logging.getLogger(__name__)

# A Settings form submitted after "forget me" (it was open meanwhile).
NOTHING_SAVED = ("Rapport no longer keeps anything about you, so nothing was saved. "
                 "Type “/rapport help” to start again.")
# Where a Settings click that Slack would not open a modal for is answered (there is no
# response_url on Home).
NOT_OPENED = ("Slack didn't let me open Settings just now. Click Settings again, or type "
              "“/rapport settings”.")
# The values the form's options carry (blocks.settings_view): days 0 (Mon) to 6, caps 1 to 20.
_DAYS = range(7)
_CAPS = range(1, 21)


def _option_number(option: object, allowed: range) -> int | None:
    """The number an option of the form carries, as Rapport wrote it (ASCII digits within
    `allowed`); None for anything else a forged payload holds ("²", which `str.isdigit`
    takes and `int` refuses, "٣", "7" for a day)."""
    value = option.get("value") if isinstance(option, dict) else None
    number = row_id(value)
    return number if number is not None and number in allowed else None


def _dict(value: object) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: a forged payload may hold anything
    where the form puts an object."""
    return value if isinstance(value, dict) else {}


def settings_change(current: SettingsView, values: dict[str, Any]
                    ) -> tuple[c.Settings, dict[str, str]]:
    """The changed fields of a submitted form as one command, and per-field errors."""
    def pick(block: str) -> dict[str, Any]:
        return _dict(_dict(values.get(block)).get("value"))

    errors: dict[str, str] = {}
    tz_text = str(pick("tz").get("value") or "").strip()
    tz = None
    if tz_text and tz_text != current.tz:
        # The form has no answer to say "I read EST as America/New_York": the zone it saves
        # shows in the form and on Home.
        reading = read_zone(tz_text)
        tz = reading.zone
        if tz is None:
            errors["tz"] = b.clip(reading.question or "Use a zone name like Europe/Berlin.", 150)
    window_text = str(pick("window").get("value") or "").strip()
    window = None
    if window_text and window_text != current.window:
        window = c.parse_window(window_text)
        if window is None:
            errors["window"] = b.clip(c.window_problem(window_text), 150)
    picked_days = pick("days").get("selected_options") or []
    days = [_option_number(option, _DAYS)
            for option in (picked_days if isinstance(picked_days, list) else [None])]
    mask = sum(1 << day for day in set(days) if day is not None)
    if None in days:
        errors["days"] = "Pick your working days from the list."
    elif not mask:
        errors["days"] = "Pick at least one day."
    picked_cap = pick("cap").get("selected_option")
    cap = _option_number(picked_cap, _CAPS) if picked_cap else None
    if picked_cap and cap is None:
        errors["cap"] = "The daily cap is a number from 1 to 20."
    digest = _dict(pick("digest").get("selected_option")).get("value")
    ai = _dict(pick("ai").get("selected_option")).get("value")
    change = c.Settings(
        tz=tz, window=window, days=mask if mask and mask != current.working_days else None,
        cap=cap if cap is not None and cap != current.daily_cap else None,
        digest=(digest == "on") if digest in ("on", "off") and (digest == "on") != current.digest
        else None,
        ai=(ai == "on") if ai in ("on", "off") and (ai == "on") != current.ai_enabled else None)
    return change, errors


@dataclass
class SettingsForm:
    platform: SlackPlatform

    async def current(self, team_id: str, user_id: str) -> SettingsView | None:
        reply = await self.platform.rapport.execute(self.platform.actor(team_id, user_id),
                                                    c.Settings())
        return reply.view if isinstance(reply.view, SettingsView) else None

    async def open(self, client: AsyncWebClient, trigger_id: str, view: dict[str, Any]
                   ) -> bool:
        """views.open; False when Slack refuses it (a trigger older than its 3 s, or used):
        a click on Home has no response_url, so the caller answers in its own way."""
        return await open_modal(client, trigger_id, view) is not None

    async def on_open_settings(self, ack: Ack, body: dict[str, Any],
                               client: AsyncWebClient) -> None:
        """The Home tab's Settings button: the settings modal, or why there is none."""
        await ack()
        platform = self.platform
        team_id, user_id = team_of(body), str(_dict(body.get("user")).get("id") or "")
        trigger = str(body.get("trigger_id") or "")
        if not team_id or not user_id:
            logger.warning("settings refused", extra={"reason": "malformed"})
            return
        kept = await self.platform.kept(team_id, user_id)
        if kept is None:
            await self.open(client, trigger, b.notice_view("Rapport", TRY_AGAIN))
            return
        if not kept:
            # A Home from before "forget me": the modal says why the button did nothing (its
            # trigger lasts 3 s, so first), and Home shows what is kept now (nothing) at once.
            logger.warning("settings refused", extra={"reason": "nothing kept"})
            await self.open(client, trigger, b.notice_view("Rapport", NOTHING_KEPT))
            await platform.refresh_home(client, team_id, user_id, at_once=True)
            return
        current = await self.current(team_id, user_id)
        if current is None:
            await self.open(client, trigger, b.notice_view("Rapport", TRY_AGAIN))
        elif not await self.open(client, trigger, b.settings_view(current)):
            # Home has no response_url, and the modal's moment has passed: the answer goes
            # to the DM with the bot.
            await platform.post_pages_to_dm(client, user_id, NOT_OPENED,
                                            [b.to_dicts(b.text_sections(NOT_OPENED))])

    async def on_settings_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                                 client: AsyncWebClient) -> None:
        """Save every changed field in one command; refuse the form with per-field errors."""
        team_id, user_id = team_of(body), str(_dict(body.get("user")).get("id") or "")
        if not team_id or not user_id:
            await ack(response_action="errors", errors={"tz": "This form is out of date."})
            return
        kept = await self.platform.kept(team_id, user_id)
        if kept is False:
            # The form stayed open across "forget me" (or was forged): saving would enrol
            # them again.
            logger.warning("settings refused", extra={"reason": "nothing kept"})
            await ack(response_action="update", view=b.notice_view("Settings", NOTHING_SAVED))
            return
        current = await self.current(team_id, user_id) if kept else None
        if current is None:
            await ack(response_action="errors", errors={"tz": TRY_AGAIN})
            return
        change, errors = settings_change(current, _dict(_dict(view.get("state")).get("values")))
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        if change.is_change:
            reply = await self.platform.rapport.execute(
                self.platform.actor(team_id, user_id), change)
            if reply.changed:
                # The form is opened from Home, where the person is back when it closes.
                await self.platform.refresh_home(client, team_id, user_id, at_once=True)


def register(platform: SlackPlatform) -> None:
    form = SettingsForm(platform)
    platform.app.action(b.ACTION_OPEN_SETTINGS)(answered_at_ack(form.on_open_settings))
    platform.app.view(b.CALLBACK_SETTINGS)(answered_at_ack(form.on_settings_submit))
