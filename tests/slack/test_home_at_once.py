"""App Home republished at once, past its pacing, when the person is looking at it or must
not see something a moment longer: a click on a button shown in Home (Home has no
response_url, so Home republished is its answer, with a modal saying why when the click
could do nothing), a change made in a person card opened from Home (the person is back on
Home when it closes), and a forget (nothing about a forgotten person is shown anywhere).
Every other change stays paced (one Home per 30 s per person, after the burst of requests is
over). The Settings button and form store nothing for someone Rapport keeps no rows for, and
a Settings click Slack won't open a modal for is answered, not dropped.

The pacing is set to an hour and a request is held in flight throughout, so a paced refresh
cannot publish while a test waits (bounded real waits, as in test_home_pacing.py): every
publish a test sees came at once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from rapport.bot.platforms.slack.acks import finish_answers
from rapport.bot.platforms.slack.settings_form import NOT_OPENED, NOTHING_SAVED
from rapport.storage.models import Base, Contact, Nudge, User
from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness
from tests.slack.test_access import _action, _view_submission
from tests.slack.test_access import _deliver as _deliver_nudge
from tests.slack.test_suggestion_redraw import _summary

NOTHING_KEPT = ("Rapport no longer keeps anything about you, so this button does nothing. "
                "Type “/rapport help” to start again.")
HOUR = 3600.0




@pytest.fixture
async def busy(slack: SlackHarness) -> AsyncIterator[None]:
    """Home paced to an hour, and another person's request in flight all along: a paced
    refresh would wait for both, so none publishes during the test."""
    home = slack.home_tab()
    home.min_interval = home.max_defer = HOUR
    slack.runtime.load.started()
    try:
        yield
    finally:
        slack.runtime.load.finished()


def _on_home(slack: SlackHarness, action: dict[str, Any], home: dict[str, Any]
             ) -> dict[str, Any]:
    """A block_actions payload for a click on Alex's Home tab, as Slack sends it: the
    container is the view, and there is no response_url."""
    payload = slack.block_action(user=ALEX, action=action)
    del payload["response_url"]
    payload["container"] = {"type": "view", "view_id": home["id"]}
    payload["view"] = home
    return payload


async def _republished(slack: SlackHarness, published: int) -> str:
    """Wait for Home published once more than `published` times; the view, as text."""
    await slack.until(lambda: slack.publishes() > published)
    assert slack.publishes() == published + 1
    return json.dumps(slack.fake.home_view(ALEX), ensure_ascii=False)


async def _count(slack: SlackHarness, model: type[Base]) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_done_clicked_on_home_republishes_home_at_once(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    nudge_id, _, _ = await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    assert f'"nudge_{nudge_id}"' in json.dumps(home)
    published = slack.publishes()

    status, _ = await slack.interaction(_on_home(slack, _action("nudge_done", nudge_id), home))
    assert status == 200

    shown = await _republished(slack, published)
    assert f'"nudge_{nudge_id}"' not in shown  # no Done/Snooze left for a nudge done
    async with slack.runtime.sessions() as session:
        assert (await session.get(Nudge, nudge_id)).status == "done"  # type: ignore[union-attr]
    assert slack.sink.posts == []  # nothing went anywhere but Home

    # A command's change stays paced: it waits for the interval and the burst's end.
    status, _ = await slack.command("log Dana coffee")
    assert status == 200
    await asyncio.sleep(0.3)  # its listener awaits the paced refresh
    assert slack.publishes() == published + 1
    assert (slack.team_id, ALEX) in slack.home_tab()._refreshing


async def test_a_click_on_a_nudge_in_a_message_stays_paced(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    nudge_id, channel, message = await _deliver_nudge(slack, clock)
    await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    published = slack.publishes()
    status, _ = await slack.interaction(slack.block_action(
        user=ALEX, action=_action("nudge_done", nudge_id), channel=channel, message=message))
    assert status == 200
    await slack.until(lambda: len(slack.fake.calls_to("chat.update")) == 1)
    await asyncio.sleep(0.3)  # its listener awaits the paced refresh
    assert slack.publishes() == published  # the message showed the outcome; Home can wait


async def test_a_suggestion_answered_on_home_republishes_home_at_once(
        slack: SlackHarness, busy: None) -> None:
    (lee, _ana), _, _ = await _summary(slack)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    assert f'"suggestion_{lee}"' in json.dumps(home)
    published = slack.publishes()

    action = {"type": "button", "action_id": "suggestion_keep",
              "block_id": f"suggestion_{lee}", "value": str(lee)}
    status, _ = await slack.interaction(_on_home(slack, action, home))
    assert status == 200

    shown = await _republished(slack, published)
    assert f'"suggestion_{lee}"' not in shown


async def test_a_click_on_home_cuts_the_wait_of_a_paced_refresh(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    """A change paced a moment before the click is published with it, once."""
    nudge_id, _, _ = await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    published = slack.publishes()
    status, _ = await slack.command("log Dana coffee")  # paced: an hour away
    assert status == 200
    await asyncio.sleep(0.3)  # its listener awaits the paced refresh
    assert (slack.team_id, ALEX) in slack.home_tab()._refreshing

    await slack.interaction(_on_home(slack, _action("nudge_done", nudge_id), home))

    shown = await _republished(slack, published)
    assert f'"nudge_{nudge_id}"' not in shown
    await finish_answers()
    assert slack.publishes() == published + 1
    assert (slack.team_id, ALEX) not in slack.home_tab()._refreshing


@pytest.mark.parametrize("how", ["command", "message", "button"])
async def test_forgetting_someone_takes_them_off_home_at_once(
        slack: SlackHarness, clock: Clock, busy: None, how: str) -> None:
    await _deliver_nudge(slack, clock)
    assert "Yosemite" in json.dumps(await slack.open_home(channel=slack.fake.dm_channel_id(ALEX)))
    published = slack.publishes()

    if how == "command":
        status, _ = await slack.command("forget Dana confirm")
    elif how == "message":
        status, _ = await slack.event({
            "type": "message", "channel_type": "im", "user": ALEX, "ts": "1700000000.000100",
            "channel": slack.fake.dm_channel_id(ALEX), "text": "forget Dana confirm"})
    else:
        async with slack.runtime.sessions() as session:
            contact_id = int(await session.scalar(select(Contact.id)) or 0)
        status, _ = await slack.interaction(slack.block_action(user=ALEX, action={
            "type": "button", "action_id": "confirm_forget", "block_id": f"confirm_{contact_id}",
            "value": str(contact_id)}))
    assert status == 200

    shown = await _republished(slack, published)
    assert await _count(slack, Contact) == 0
    assert "Yosemite" not in shown and "You have no people yet" in shown


async def test_forget_me_shows_the_nothing_stored_home_at_once(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    await _deliver_nudge(slack, clock)
    await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    published = slack.publishes()

    status, _ = await slack.command("forget me confirm")
    assert status == 200

    shown = await _republished(slack, published)
    assert "stores nothing for you" in shown and "Yosemite" not in shown
    assert await _count(slack, User) == 0


async def test_settings_on_a_home_from_before_forget_me_stores_nothing_and_says_why(
        slack: SlackHarness, clock: Clock) -> None:
    await _deliver_nudge(slack, clock)
    # As it stays on a device that missed the refresh.
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    await slack.command("forget me confirm")
    await slack.until(lambda: any("deleted" in post["text"] for post in slack.sink.posts))
    assert await _count(slack, User) == 0
    slack.home_tab().min_interval = slack.home_tab().max_defer = HOUR
    published = slack.publishes()

    status, _ = await slack.interaction(_on_home(slack, {
        "type": "button", "action_id": "open_settings", "block_id": "home_actions",
        "value": "open"}, home))
    assert status == 200

    shown = await _republished(slack, published)
    assert "stores nothing for you" in shown  # the stale Home, replaced at once
    assert await _count(slack, User) == 0
    [opened] = slack.fake.calls_to("views.open")
    assert NOTHING_KEPT in json.dumps(opened.args["view"], ensure_ascii=False)


async def test_a_settings_form_submitted_after_forget_me_saves_nothing(
        slack: SlackHarness) -> None:
    status, _ = await slack.command("add Dana")
    assert status == 200
    await slack.command("forget me confirm")
    await slack.until(lambda: any("deleted" in post["text"] for post in slack.sink.posts))
    assert await _count(slack, User) == 0

    status, body = await slack.interaction(_view_submission(
        slack, user=ALEX, callback_id="settings",
        values={"cap": {"value": {"selected_option": {"value": "5"}}}}))

    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    assert NOTHING_SAVED in json.dumps(answer["view"], ensure_ascii=False)
    await finish_answers()
    assert await _count(slack, User) == 0


async def test_settings_slack_would_not_open_is_answered_in_the_dm(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    status, _ = await slack.command("add Dana")
    assert status == 200
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    slack.fake.fail_next("views.open", error="expired_trigger_id")
    caplog.set_level(logging.INFO)

    status, _ = await slack.interaction(_on_home(slack, {
        "type": "button", "action_id": "open_settings", "block_id": "home_actions",
        "value": "open"}, home))
    assert status == 200

    await slack.until(lambda: any(NOT_OPENED in message["text"]
                                  for message in slack.fake.messages_in(ALEX)))
    await finish_answers()
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


# -- a click on Home the core refuses: why, in a modal, and Home as it is now, at once --------


def _opened_text(slack: SlackHarness, calls: int) -> str:
    """The one modal opened since views.open had `calls` calls (the click opens it before it
    republishes Home), as text."""
    opened = slack.fake.calls_to("views.open")
    assert len(opened) == calls + 1
    assert opened[-1].ok, opened[-1].response
    return json.dumps(opened[-1].args["view"], ensure_ascii=False)


async def test_done_on_home_for_a_nudge_done_from_the_dm_says_so_and_republishes_home(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    nudge_id, channel, message = await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    await slack.click_to_update(_action("nudge_done", nudge_id), channel=channel,
                                message=message)
    published, modals = slack.publishes(), len(slack.fake.calls_to("views.open"))

    # Home still shows the nudge's buttons (another device, or before the paced refresh).
    status, _ = await slack.interaction(_on_home(slack, _action("nudge_snooze_1w", nudge_id),
                                                 home))
    assert status == 200

    shown = await _republished(slack, published)
    assert f'"nudge_{nudge_id}"' not in shown
    assert "That nudge is already done." in _opened_text(slack, modals)
    async with slack.runtime.sessions() as session:
        assert (await session.get(Nudge, nudge_id)).status == "done"  # type: ignore[union-attr]


async def test_done_on_home_after_the_person_was_forgotten_says_so_and_republishes_home(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    nudge_id, _, _ = await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    published = slack.publishes()
    status, _ = await slack.command("forget Dana confirm")
    assert status == 200
    await _republished(slack, published)  # a device that missed it keeps the old Home
    published = slack.publishes()

    status, _ = await slack.interaction(_on_home(slack, _action("nudge_done", nudge_id), home))
    assert status == 200

    shown = await _republished(slack, published)
    assert "Yosemite" not in shown
    assert f"I can't find nudge #{nudge_id} among yours." in _opened_text(slack, 0)
    assert await _count(slack, Contact) == 0


async def test_a_suggestion_answered_in_the_summary_then_on_home_says_so_and_republishes_home(
        slack: SlackHarness, busy: None) -> None:
    (lee, _ana), channel, summary = await _summary(slack)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    keep = {"type": "button", "action_id": "suggestion_keep", "block_id": f"suggestion_{lee}",
            "value": str(lee)}
    await slack.click_to_update(keep, channel=channel, message=summary)
    published = slack.publishes()

    status, _ = await slack.interaction(_on_home(slack, {**keep,
                                                         "action_id": "suggestion_accept"},
                                                 home))
    assert status == 200

    shown = await _republished(slack, published)
    assert f'"suggestion_{lee}"' not in shown
    assert f"You already answered suggestion {lee}" in _opened_text(slack, 0)


async def test_a_refused_click_on_home_slack_opens_no_modal_for_is_answered_in_the_dm(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    nudge_id, channel, message = await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    await slack.click_to_update(_action("nudge_done", nudge_id), channel=channel,
                                message=message)
    published = slack.publishes()
    slack.fake.fail_next("views.open", error="expired_trigger_id")

    await slack.interaction(_on_home(slack, _action("nudge_dismiss", nudge_id), home))

    await _republished(slack, published)
    await slack.until(lambda: any("That nudge is already done." in posted["text"]
                                  for posted in slack.fake.messages_in(ALEX)))


# -- a change in a person card opened from Home: Home republished at once when it closes ------


def _in_modal(slack: SlackHarness, action: dict[str, Any], modal: dict[str, Any]
              ) -> dict[str, Any]:
    """A block_actions payload for a click inside an open modal, as Slack sends it: the
    container is that view, and there is no response_url."""
    payload = slack.block_action(user=ALEX, action=action)
    del payload["response_url"]
    payload["container"] = {"type": "view", "view_id": modal["id"]}
    payload["view"] = modal
    return payload


def _person_button(action_id: str, contact_id: int) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "block_id": f"person_{contact_id}",
            "value": str(contact_id)}


async def _card_from_home(slack: SlackHarness, home: dict[str, Any]) -> tuple[int, str]:
    """Alex clicks Open on Dana's row of Home: (Dana's contact id, the modal's view id)."""
    async with slack.runtime.sessions() as session:
        contact_id = int(await session.scalar(select(Contact.id)) or 0)
    assert f'"person_row_{contact_id}"' in json.dumps(home)
    opened = len(slack.fake.calls_to("views.open"))
    status, _ = await slack.interaction(_on_home(slack, {
        "type": "button", "action_id": "person_open", "block_id": f"person_row_{contact_id}",
        "value": str(contact_id)}, home))
    assert status == 200
    await slack.until(lambda: len(slack.fake.calls_to("views.open")) > opened)
    modal = slack.fake.calls_to("views.open")[-1]
    assert modal.ok and modal.args["view"]["callback_id"] == "person", modal.response
    return contact_id, str(modal.response["view"]["id"])


async def test_snooze_in_a_person_card_opened_from_home_republishes_home_at_once(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    nudge_id, _, _ = await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    assert f'"nudge_{nudge_id}"' in json.dumps(home)
    contact_id, modal_id = await _card_from_home(slack, home)
    published = slack.publishes()

    status, _ = await slack.interaction(_in_modal(
        slack, _person_button("person_snooze", contact_id), slack.fake.views[modal_id]))
    assert status == 200

    shown = await _republished(slack, published)  # it waited 30 s: stale when the card closed
    assert f'"nudge_{nudge_id}"' not in shown
    async with slack.runtime.sessions() as session:
        assert (await session.get(Nudge, nudge_id)).status == "snoozed"  # type: ignore[union-attr]
    assert "Snoozed" in json.dumps(slack.fake.views[modal_id])  # the card says so too


async def test_a_log_saved_from_a_person_card_opened_from_home_republishes_home_at_once(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    contact_id, modal_id = await _card_from_home(slack, home)
    status, _ = await slack.interaction(_in_modal(
        slack, _person_button("person_log", contact_id), slack.fake.views[modal_id]))
    assert status == 200
    await slack.until(lambda: slack.fake.views[modal_id]["callback_id"] == "person_log")
    published = slack.publishes()

    form = slack.fake.views[modal_id]
    status, body = await slack.interaction(_view_submission(
        slack, user=ALEX, callback_id="person_log",
        private_metadata=form["private_metadata"], values={
            "kind": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
            "summary": {"value": {"type": "plain_text_input", "value": "Yosemite photos"}}}))
    assert status == 200 and json.loads(body)["response_action"] == "update"

    shown = await _republished(slack, published)
    assert "1 this week" in shown


async def test_a_log_saved_from_a_card_shown_in_a_message_stays_paced(
        slack: SlackHarness, busy: None) -> None:
    status, _ = await slack.command("add Dana")
    assert status == 200
    await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    async with slack.runtime.sessions() as session:
        contact_id = int(await session.scalar(select(Contact.id)) or 0)
    # The Log button of `/rapport show Dana`'s card: the form opens from a message.
    await slack.interaction(slack.block_action(user=ALEX, action=_person_button(
        "person_log", contact_id), channel="C0GENERAL", message={"ts": "1.1", "blocks": []}))
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    form = slack.fake.calls_to("views.open")[-1].args["view"]
    published = slack.publishes()

    status, _ = await slack.interaction(_view_submission(
        slack, user=ALEX, callback_id="person_log", private_metadata=form["private_metadata"],
        values={"kind": {"value": {"type": "static_select",
                                   "selected_option": {"value": "call"}}}}))
    assert status == 200
    await asyncio.sleep(0.3)  # its listener awaits the paced refresh
    assert slack.publishes() == published


async def test_a_card_opened_from_home_whose_person_was_forgotten_meanwhile_says_so(
        slack: SlackHarness, clock: Clock, busy: None) -> None:
    await _deliver_nudge(slack, clock)
    home = await slack.open_home(channel=slack.fake.dm_channel_id(ALEX))
    contact_id, modal_id = await _card_from_home(slack, home)
    published = slack.publishes()
    status, _ = await slack.command("forget Dana confirm")
    assert status == 200
    await _republished(slack, published)
    published, modals = slack.publishes(), len(slack.fake.calls_to("views.open"))

    # The card, still open, and Home, on a device that missed the refresh.
    status, _ = await slack.interaction(_in_modal(
        slack, _person_button("person_snooze", contact_id), slack.fake.views[modal_id]))
    assert status == 200
    await _republished(slack, published)
    assert "I can't find that person among yours." in json.dumps(slack.fake.views[modal_id])
    published = slack.publishes()
    status, _ = await slack.interaction(_on_home(slack, {
        "type": "button", "action_id": "person_open", "block_id": f"person_row_{contact_id}",
        "value": str(contact_id)}, home))
    assert status == 200

    shown = await _republished(slack, published)
    assert f'"person_row_{contact_id}"' not in shown
    assert "I can't find that person among yours." in _opened_text(slack, modals)
