"""App Home for someone Rapport keeps nothing for (never met, or after `forget me`): opening
the tab shows that and how to start again, and stores nothing until they act."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from rapport.bot.platforms.slack import SLACK_KEY
from rapport.storage.models import User, Workspace
from tests.slack.conftest import ALEX, SlackHarness


async def _open_home(slack: SlackHarness) -> dict[str, object]:
    """Open the Home tab as Alex; the view published for it."""
    published = len(slack.fake.calls_to("views.publish"))
    status, _ = await slack.event({"type": "app_home_opened", "user": ALEX, "tab": "home",
                                   "channel": "D0HOME", "event_ts": "1.2"})
    assert status == 200
    await slack.until(lambda: len(slack.fake.calls_to("views.publish")) > published)
    view = slack.fake.home_view(ALEX)
    assert view is not None
    return view


async def _users(slack: SlackHarness) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def _welcomed(slack: SlackHarness) -> bool:
    return any("private to you" in message["text"]
               for message in slack.fake.messages_in(ALEX))


async def test_opening_home_after_forget_me_stores_nothing_and_says_it_was_erased(
        slack: SlackHarness) -> None:
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "add Dana Scully")).ok
    await slack.command("forget me confirm")
    await slack.until(lambda: any("deleted" in post["text"] for post in slack.sink.posts))
    # The refresh that follows the change has published already: what follows is the tab
    # opened afterwards.
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)
    home = json.dumps(await _open_home(slack))
    assert "stores nothing for you" in home and "was erased" in home
    assert "/rapport help" in home and "Dana Scully" not in home
    assert await _users(slack) == 0
    assert not _welcomed(slack)  # a welcome would have enrolled them again


async def test_home_opened_before_any_command_stores_nothing_until_the_person_acts(
        slack: SlackHarness) -> None:
    # Home after the command below is published at once, not paced 30 s after the opens.
    home_tab = slack.extra["app"][SLACK_KEY].home
    home_tab.refresh_delay = home_tab.min_interval = 0.0
    for _ in range(2):
        home = json.dumps(await _open_home(slack))
        assert "stores nothing for you" in home and "/rapport help" in home
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Workspace)) == 0
    assert await _users(slack) == 0 and not _welcomed(slack)
    # Nor is their Slack profile fetched for commands to come: none may come.
    assert slack.fake.calls_to("users.info") == []
    # A command is acting: from then on Home is theirs.
    status, _ = await slack.command("add Dana every 2 weeks")
    assert status == 200
    assert await _users(slack) == 1
    home = json.dumps(await _open_home(slack))
    assert "stores nothing" not in home and "Dana" in home and "Your people" in home
