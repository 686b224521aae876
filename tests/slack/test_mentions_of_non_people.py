"""@mentions that are no one to keep in touch with (bots, Slackbot, deactivated accounts), and
a line that is only an @mention: answered with the person's name, never Slack's markup."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from rapport.storage.models import Contact, Note, Touchpoint
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN
from tests.slack.conftest import ALEX, DANA, SlackHarness

STANDUP_BOT = "U0STANDUP"
GONE = "U0GONE"
SLACKBOT = "USLACKBOT"


def _seed_non_people(slack: SlackHarness) -> None:
    """A workflow's bot user, Slackbot (`is_bot: false`, as Slack says of it) and someone
    whose account was deactivated, as users.info describes each."""
    slack.fake.add_user(STANDUP_BOT, name="standup", real_name="Standup Bot", is_bot=True,
                        team_id=slack.team_id)
    slack.fake.add_user(SLACKBOT, name="slackbot", real_name="Slackbot", team_id=slack.team_id)
    slack.fake.add_user(GONE, name="fox", real_name="Fox Mulder", deleted=True,
                        team_id=slack.team_id)


async def _contacts(slack: SlackHarness) -> list[tuple[str, str | None]]:
    async with slack.runtime.sessions() as session:
        return [(row.name, row.platform_user_id) for row in await session.execute(
            select(Contact.name, Contact.platform_user_id).order_by(Contact.id))]


async def _touchpoints(slack: SlackHarness) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Touchpoint)) or 0)


async def _answer(slack: SlackHarness, text: str) -> str:
    """The answer to a slash command: in the ack, or after it when an @mention's name is not
    known yet (users.info)."""
    posted = len(slack.sink.posts)
    status, body = await slack.command(text)
    assert status == 200
    acked: str = json.loads(body)["text"]
    if "Working on it" not in acked:
        return acked
    await slack.until(lambda: len(slack.sink.posts) > posted)
    answer: str = slack.sink.posts[-1]["text"]
    return answer


def _dm_event(slack: SlackHarness, text: str, ts: str) -> dict[str, object]:
    if slack.fake.dm_channel_id(ALEX) not in slack.fake.channels:
        slack.fake.add_channel(slack.fake.dm_channel_id(ALEX), members=[ALEX])
    return {"type": "message", "channel": slack.fake.dm_channel_id(ALEX), "channel_type": "im",
            "user": ALEX, "text": text, "ts": ts, "event_ts": ts}


async def _dm_answer(slack: SlackHarness, text: str, ts: str) -> str:
    """The bot's answer in the DM to `text` (after the one-time welcome)."""
    before = len(slack.fake.messages_in(ALEX))
    status, _ = await slack.event(_dm_event(slack, text, ts))
    assert status == 200
    await slack.until(lambda: len(slack.fake.messages_in(ALEX)) >= max(before + 1, 2))
    answer: str = slack.fake.messages_in(ALEX)[-1]["text"]
    return answer


# -- bots and deactivated accounts are not added -----------------------------------------------


async def test_adding_a_bot_by_mention_is_refused_and_adds_nobody(slack: SlackHarness) -> None:
    _seed_non_people(slack)
    answer = await _answer(slack, f"add <@{STANDUP_BOT}|standup>")
    assert "Standup Bot is a bot, not a person" in answer
    answer = await _answer(slack, f"log <@{STANDUP_BOT}> coffee")
    assert "Standup Bot is a bot, not a person" in answer
    assert await _contacts(slack) == []
    assert await _touchpoints(slack) == 0


async def test_slackbot_is_a_bot_though_slack_says_is_bot_false(slack: SlackHarness) -> None:
    _seed_non_people(slack)
    answer = await _dm_answer(slack, f"add <@{SLACKBOT}>", "1.000100")
    assert "Slackbot is a bot, not a person" in answer
    assert await _contacts(slack) == []


async def test_a_deactivated_account_is_not_added_from_a_mention(slack: SlackHarness) -> None:
    _seed_non_people(slack)
    answer = await _answer(slack, f"log <@{GONE}|fox> coffee")
    assert "Fox Mulder's account is deactivated" in answer
    assert "“add Fox Mulder”" in answer  # by name they can still be kept in touch with
    answer = await _answer(slack, f"add <@{GONE}>")
    assert "Fox Mulder's account is deactivated" in answer
    assert await _contacts(slack) == []
    assert await _touchpoints(slack) == 0


async def test_a_contact_linked_before_the_account_was_deactivated_still_works(
        slack: SlackHarness) -> None:
    # Linked while the account was active (the mention's own label named them then).
    added = await slack.runtime.rapport.handle_text(slack.actor(), f"add <@{GONE}|Fox Mulder>")
    assert added.ok, added.text
    _seed_non_people(slack)
    answer = await _answer(slack, f"log <@{GONE}> coffee")
    assert answer == "Logged coffee with Fox Mulder."
    assert await _contacts(slack) == [("Fox Mulder", GONE)]
    assert await _touchpoints(slack) == 1


async def test_a_deactivated_mention_still_links_the_contact_added_by_that_name(
        slack: SlackHarness) -> None:
    _seed_non_people(slack)
    await slack.command("add Fox Mulder")
    answer = await _answer(slack, f"log <@{GONE}> coffee")
    assert answer == "Logged coffee with Fox Mulder."
    assert await _contacts(slack) == [("Fox Mulder", GONE)]


def _shortcut_on(slack: SlackHarness, message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": "log_touchpoint",
            "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(), "response_url": slack.sink.url,
            "channel": {"id": "D0RAPPORT", "name": "directmessage"},
            "message_ts": message["ts"], "message": message}


def _log_submission(slack: SlackHarness, selected_user: str) -> dict[str, Any]:
    values = {"contact": {"value": {"type": "users_select", "selected_user": selected_user}},
              "kind": {"value": {"type": "static_select", "selected_option": {
                  "value": "chat", "text": {"type": "plain_text", "text": "Chat"}}}},
              "summary": {"value": {"type": "plain_text_input", "value": None}}}
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0MODAL", "type": "modal", "callback_id": "log_touchpoint",
                     "team_id": slack.team_id, "private_metadata": "", "hash": "1.a",
                     "state": {"values": values}}}


async def test_the_shortcut_on_rapports_own_message_offers_nobody_and_refuses_the_bot(
        slack: SlackHarness) -> None:
    bot = slack.fake.tokens[DEFAULT_BOT_TOKEN]
    slack.fake.add_user(bot.user_id, name="rapport", real_name="Rapport", is_bot=True,
                        team_id=slack.team_id)
    # A nudge Rapport posted in the DM, as Slack hands it to the shortcut.
    nudge = {"type": "message", "user": bot.user_id, "bot_id": bot.bot_id,
             "app_id": slack.fake.app_id, "ts": "1.000100",
             "text": "🔔 #1 It has been 6 weeks since you talked to Dana Scully"}
    status, _ = await slack.interaction(_shortcut_on(slack, nudge))
    assert status == 200
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert "initial_user" not in blocks["contact"]["element"]

    # Picked anyway: the field says why, and nothing is stored.
    status, body = await slack.interaction(_log_submission(slack, bot.user_id))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "Rapport is a bot, not a person" in answer["errors"]["contact"]
    assert await _contacts(slack) == []
    assert await _touchpoints(slack) == 0


# -- a line that is only an @mention ------------------------------------------------------------


async def test_a_slash_command_of_only_a_mention_names_the_person_and_says_how_to_add_them(
        slack: SlackHarness) -> None:
    answer = await _answer(slack, f"<@{DANA}|dana>")
    # It answered “I don't know the command “&lt;@u0dana|dana&gt;””.
    assert answer == ("⚠️ @Dana Scully isn't one of your people yet. To keep in touch with "
                      "them, say “add @Dana Scully”.")
    assert await _contacts(slack) == []


async def test_a_dm_of_only_a_mention_shows_the_person_when_they_are_one_of_yours(
        slack: SlackHarness) -> None:
    await _answer(slack, f"add <@{DANA}|dana> client at FBI")
    answer = await _dm_answer(slack, f"<@{DANA}>", "1.000100")
    assert answer.startswith("Dana Scully: client at FBI"), answer
    answer = await _dm_answer(slack, f"<@{DANA}>?", "1.000200")
    assert answer.startswith("Dana Scully: client at FBI"), answer


async def test_a_mention_alone_of_a_bot_or_of_oneself_says_so(slack: SlackHarness) -> None:
    _seed_non_people(slack)
    answer = await _dm_answer(slack, f"<@{STANDUP_BOT}>", "1.000100")
    assert "Standup Bot is a bot, not a person" in answer
    answer = await _dm_answer(slack, f"<@{ALEX}|alex>", "1.000200")
    assert "That's you" in answer


async def test_a_mention_that_is_not_one_of_yours_is_named_in_the_answer(
        slack: SlackHarness) -> None:
    for line in (f"set <@{DANA}|dana> ai off", f"untag <@{DANA}> clients", f"show <@{DANA}>",
                 f"forget <@{DANA}>"):
        answer = await _answer(slack, line)
        assert "@Dana Scully is" in answer or "@Dana Scully isn't" in answer, (line, answer)
        assert "&lt;@" not in answer and DANA not in answer, (line, answer)


# -- the shortcut on one's own message, and authors Slack can't find ----------------------------


async def test_the_shortcut_on_your_own_message_offers_nobody(slack: SlackHarness) -> None:
    # Offering yourself made the submit always fail with "That's you".
    own = {"type": "message", "user": ALEX, "ts": "1.000100", "text": "my own words"}
    status, _ = await slack.interaction(_shortcut_on(slack, own))
    assert status == 200
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert "initial_user" not in blocks["contact"]["element"]
    assert blocks["summary"]["element"]["initial_value"] == "my own words"


@pytest.mark.parametrize("error", ["user_not_found", "user_not_visible"])
async def test_an_author_slack_cannot_find_is_not_offered_nor_asked_about_again(
        slack: SlackHarness, error: str) -> None:
    # Someone from another organisation, say: users.info says there is no such account.
    outsider = "U0OUTSIDER"
    slack.fake.fail_next("users.info", error=error)
    message = {"type": "message", "user": outsider, "ts": "1.000100", "text": "hello there"}
    status, _ = await slack.interaction(_shortcut_on(slack, message))
    assert status == 200
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert "initial_user" not in blocks["contact"]["element"]

    # Picked anyway: not "try again in a moment", which would never work.
    status, body = await slack.interaction(_log_submission(slack, outsider))
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "can't find that person" in answer["errors"]["contact"]
    assert "just now" not in answer["errors"]["contact"]
    answer_text = await _answer(slack, f"log <@{outsider}> coffee")
    assert "can't find that person" in answer_text and "just now" not in answer_text
    assert [call.args["user"] for call in slack.fake.calls_to("users.info")].count(outsider) == 1
    assert await _contacts(slack) == []
    assert await _touchpoints(slack) == 0


# -- @here, @channel, @everyone and user groups are no one person ------------------------------


@pytest.mark.parametrize("said, shown", [("<!channel>", "@channel"), ("<!here>", "@here"),
                                         ("<!everyone>", "@everyone"),
                                         ("<!subteam^S0ENG|@eng>", "@eng")])
async def test_a_mention_of_many_people_is_refused_where_a_person_goes(
        slack: SlackHarness, said: str, shown: str) -> None:
    for line in (f"add {said}", f"log {said} coffee"):
        answer = await _answer(slack, line)
        assert f"{shown} is a group, not a person" in answer, (line, answer)
    answer = await _dm_answer(slack, f"add {said}", "1.000100")
    assert f"{shown} is a group, not a person" in answer
    assert await _contacts(slack) == []
    assert await _touchpoints(slack) == 0
    # Slack is never asked who a group is (users.info knows people only).
    assert all(call.args["user"] == ALEX for call in slack.fake.calls_to("users.info"))


async def test_a_mention_of_many_people_in_a_note_reads_as_typed(slack: SlackHarness) -> None:
    await _answer(slack, "add Dana Scully")
    answer = await _answer(slack, "note Dana: told <!here> and <!subteam^S0ENG|@eng> about it")
    assert answer.startswith("Noted"), answer
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Note.text)) == "told @here and @eng about it"


# Every verb that names someone it must find among the user's people (not add one).
_FINDING_A_PERSON = ("snooze {g}", "done {g}", "dismiss {g}", "draft {g}", "forget {g}",
                     "forget {g} confirm", "rename {g} to Bob", "set {g} company to Acme",
                     "untag {g} clients", "every {g} 2 weeks", "show {g}")


@pytest.mark.parametrize("said, shown", [("<!channel>", "@channel"), ("<!here>", "@here"),
                                         ("<!everyone>", "@everyone"),
                                         ("<!subteam^S0ENG|@eng>", "@eng")])
async def test_every_command_naming_a_person_refuses_a_mention_of_many_people_as_add_does(
        slack: SlackHarness, said: str, shown: str) -> None:
    # They answered "@channel is not in your people yet", as if it were someone to add.
    refusal = f"{shown} is a group, not a person: I keep track of the people you talk to."
    assert refusal in await _answer(slack, f"add {said}")
    await _answer(slack, "add Dana Scully")
    for line in _FINDING_A_PERSON:
        answer = await _answer(slack, line.format(g=said))
        assert refusal in answer and "not in your people" not in answer, (line, answer)
    for n, line in enumerate(("forget {g}", "draft {g}")):
        answer = await _dm_answer(slack, line.format(g=said), f"1.00010{n}")
        assert refusal in answer, (line, answer)
    assert await _contacts(slack) == [("Dana Scully", None)]
    assert all(call.args["user"] == ALEX for call in slack.fake.calls_to("users.info"))
