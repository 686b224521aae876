"""An @mention (typed, or picked in the "Log touchpoint" shortcut) of someone the user added by
their first name alone ("add Dana every 2 weeks", README's example) is that contact, linked to
the account, never a second contact; several contacts it could be are asked about. A profile
name with pronouns or emoji ("Pat Doe (she/her) 🌴", "👩🏽‍💻 Zoë Park") is found by the name
the user sees in it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from rapport.bot.core.rapport import BUSY
from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact, Note, Nudge, Touchpoint
from tests.conftest import Clock
from tests.slack.conftest import ALEX, DANA, SlackHarness

PAT = "U0PAT"
ZOE = "U0ZOE"
CJ = "U0CJ"


async def _answer(slack: SlackHarness, line: str) -> str:
    """What `/rapport <line>` answers: in the ack, or (after a directory lookup) posted to
    the response URL. Asked again, as a person would, while a loaded machine answers busy
    (the command then ran not at all)."""
    for _attempt in range(5):
        text = await _answer_once(slack, line)
        if BUSY not in text:
            return text
    raise AssertionError(f"busy five times: {line}")


async def _answer_once(slack: SlackHarness, line: str) -> str:
    posted = len(slack.sink.posts)
    status, body = await slack.command(line)
    assert status == 200
    text = str(json.loads(body)["text"])
    if text != "Working on it…":
        return text
    await slack.until(lambda: len(slack.sink.posts) > posted)
    return str(slack.sink.posts[posted]["text"])


async def _contacts(slack: SlackHarness) -> list[tuple[Any, ...]]:
    async with slack.runtime.sessions() as session:
        return [tuple(row) for row in await session.execute(
            select(Contact.name, Contact.platform_user_id).order_by(Contact.id))]


def _submission(slack: SlackHarness, selected_user: str) -> dict[str, Any]:
    values = {"contact": {"value": {"type": "users_select", "selected_user": selected_user}},
              "kind": {"value": {"type": "static_select", "selected_option": {"value": "call"}}}}
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0MODAL", "type": "modal", "callback_id": b.CALLBACK_LOG_TOUCHPOINT,
                     "team_id": slack.team_id, "private_metadata": "", "hash": "1.a",
                     "state": {"values": values}}}


async def _cadence_nudge_sent(slack: SlackHarness, clock: Clock) -> int:
    """"add Dana every 2 weeks", then three weeks on: the rhythm's reminder is out."""
    assert "Added Dana" in await _answer(slack, "add Dana every 2 weeks")
    clock.set(clock.now + timedelta(days=21))
    report = await slack.runtime.sweeper.sweep()
    assert report.sent == 1, report
    async with slack.runtime.sessions() as session:
        [(nudge_id, status)] = list(await session.execute(select(Nudge.id, Nudge.status)))
    assert status == "sent"
    return int(nudge_id)


async def _nudge_status(slack: SlackHarness, nudge_id: int) -> str:
    async with slack.runtime.sessions() as session:
        nudge = await session.get(Nudge, nudge_id)
        assert nudge is not None
        return nudge.status


async def test_a_typed_mention_is_the_contact_added_by_first_name(
        slack: SlackHarness, clock: Clock) -> None:
    nudge_id = await _cadence_nudge_sent(slack, clock)
    answer = await _answer(slack, f"log <@{DANA}|dana> yesterday: coffee")
    assert answer.startswith("Logged coffee with Dana (yesterday)"), answer
    assert "added" not in answer
    # Dana keeps the name the user gave her; the mention is hers from now on.
    assert await _contacts(slack) == [("Dana", DANA)]
    assert await _nudge_status(slack, nudge_id) != "sent"
    answer = await _answer(slack, "log Dana today")
    assert answer.startswith("Logged chat with Dana"), answer
    # The link is part of what undo takes back, with the conversation.
    await _answer(slack, "undo")
    await _answer(slack, "undo")
    assert await _contacts(slack) == [("Dana", None)]


async def test_the_log_shortcut_picks_the_contact_added_by_first_name(
        slack: SlackHarness, clock: Clock) -> None:
    nudge_id = await _cadence_nudge_sent(slack, clock)
    status, body = await slack.interaction(_submission(slack, DANA))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    [notice] = [block for block in answer["view"]["blocks"]
                if block.get("block_id") == "person_notice"]
    assert notice["elements"][0]["text"] == "Logged call with Dana."
    assert await _contacts(slack) == [("Dana", DANA)]
    assert await _nudge_status(slack, nudge_id) != "sent"
    assert (await _answer(slack, "log Dana today")).startswith("Logged chat with Dana")


async def test_a_mention_of_someone_by_their_whole_name_links_them_beside_a_first_name(
        slack: SlackHarness) -> None:
    """This once asked "Which of your people is @Dana Scully: Dana or Dana Scully?": the
    contact with the mentioned person's whole name is them; "Dana" alone may be anyone."""
    await _answer(slack, "add Dana")
    await _answer(slack, "add Dana Scully client at FBI")
    answer = await _answer(slack, f"log <@{DANA}|dana> yesterday: coffee")
    assert answer.startswith("Logged coffee with Dana Scully (yesterday)"), answer
    assert await _contacts(slack) == [("Dana", None), ("Dana Scully", DANA)]


async def test_an_add_by_mention_links_the_whole_name_beside_a_first_name(
        slack: SlackHarness) -> None:
    await _answer(slack, "add Dana")
    await _answer(slack, "add Dana Scully client at FBI")
    answer = await _answer(slack, f"add <@{DANA}|dana>")
    assert answer.startswith("You already keep in touch with Dana Scully: I linked them"), \
        answer
    assert await _contacts(slack) == [("Dana", None), ("Dana Scully", DANA)]


async def test_a_mention_that_could_be_two_contacts_is_asked_about_and_saves_nothing(
        slack: SlackHarness) -> None:
    """Neither is the whole name: Chris and CJ are both what Chris “CJ” Johnson is called."""
    slack.fake.add_user(CJ, name="cj", real_name='Chris "CJ" Johnson', team_id=slack.team_id)
    await _answer(slack, "add Chris")
    await _answer(slack, "add CJ client at FBI")
    answer = await _answer(slack, f"log <@{CJ}|cj> yesterday: coffee")
    assert answer.startswith(
        "⚠️ Which of your people is @Chris \"CJ\" Johnson: CJ or Chris?"), answer
    assert "nothing was saved" in answer
    # The shortcut's modal says the same under its person picker and stays open.
    status, body = await slack.interaction(_submission(slack, CJ))
    assert status == 200
    refused = json.loads(body)
    assert refused["response_action"] == "errors"
    assert refused["errors"]["contact"].startswith(
        "Which of your people is @Chris \"CJ\" Johnson: CJ or Chris?")
    assert await _contacts(slack) == [("Chris", None), ("CJ", None)]
    async with slack.runtime.sessions() as session:
        assert list(await session.scalars(select(Touchpoint.id))) == []
    # `add @Chris “CJ” Johnson` asks too, rather than link one of them at random.
    answer = await _answer(slack, f"add <@{CJ}|cj>")
    assert answer.startswith("⚠️ Which of your people is @Chris \"CJ\" Johnson"), answer
    assert await _contacts(slack) == [("Chris", None), ("CJ", None)]


async def test_a_mention_of_someone_else_called_dana_is_not_linked_to_a_linked_one(
        slack: SlackHarness) -> None:
    """Dana (linked to another account already) is someone else: a new contact it is."""
    await _answer(slack, "add Dana")
    slack.fake.add_user("U0DANA2", name="dana2", real_name="Dana Fox", team_id=slack.team_id)
    await _answer(slack, "log <@U0DANA2> coffee")
    answer = await _answer(slack, f"log <@{DANA}> coffee")
    assert "I added Dana Scully to your people" in answer
    assert await _contacts(slack) == [("Dana", "U0DANA2"), ("Dana Scully", DANA)]


async def test_a_name_with_pronouns_and_emoji_is_found_by_the_name_in_it(
        slack: SlackHarness) -> None:
    slack.fake.add_user(PAT, name="pat", real_name="Pat Doe (she/her) 🌴", team_id=slack.team_id)
    assert (await _answer(slack, f"add <@{PAT}|pat> every 2 weeks")).startswith(
        "Added Pat Doe (she/her) 🌴")
    assert (await _answer(slack, "log Doe yesterday")).startswith(
        "Logged chat with Pat Doe (she/her) 🌴 (yesterday)")
    assert (await _answer(slack, "note Pat Doe: hi")).startswith("Noted for Pat Doe")
    assert "Pat Doe (she/her) 🌴" in await _answer(slack, "show Doe")
    # Typed as the profile reads, it is still her, never a second Pat Doe.
    assert (await _answer(slack, "add Pat Doe")).startswith(
        "⚠️ You already keep in touch with Pat Doe (she/her) 🌴")
    async with slack.runtime.sessions() as session:
        assert list(await session.scalars(select(Note.text))) == ["hi"]
    assert await _contacts(slack) == [("Pat Doe (she/her) 🌴", PAT)]


async def test_a_name_that_starts_with_an_emoji_is_found_by_the_first_name(
        slack: SlackHarness) -> None:
    slack.fake.add_user(ZOE, name="zoe", real_name="👩🏽‍💻 Zoë Park", team_id=slack.team_id)
    await _answer(slack, f"add <@{ZOE}>")
    assert (await _answer(slack, "log Zoë yesterday")).startswith(
        "Logged chat with 👩🏽‍💻 Zoë Park (yesterday)")
    assert (await _answer(slack, "log zoe park today")).startswith("Logged chat with 👩🏽‍💻")
    assert await _contacts(slack) == [("👩🏽‍💻 Zoë Park", ZOE)]


async def test_a_typed_emoji_sequence_is_kept_whole(slack: SlackHarness) -> None:
    """A woman technologist is one emoji (👩🏽 + zero-width joiner + 💻), a Scottish flag
    another (🏴 and tag characters): cleaning the line keeps them, never two pictures."""
    answer = await _answer(slack, 'add "👩🏽‍💻 Zoë Park 🏴󠁧󠁢󠁳󠁣󠁴󠁿"')
    assert answer.startswith("Added 👩🏽‍💻 Zoë Park 🏴󠁧󠁢󠁳󠁣󠁴󠁿"), answer
    assert await _contacts(slack) == [("👩🏽‍💻 Zoë Park 🏴󠁧󠁢󠁳󠁣󠁴󠁿", None)]
    # A joiner that joins no emoji is still dropped, as before.
    await _answer(slack, "add Lee\u200dAnn Park")
    assert (await _contacts(slack))[1] == ("LeeAnn Park", None)
