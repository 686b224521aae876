"""A new user's very first command typed in the DM with the bot counts days in their Slack
zone, as their first slash command does: their profile is asked for before it runs (and
before the welcome, which starts their rows)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from rapport.bot.platforms.slack import platform
from rapport.storage.models import Contact, Touchpoint, User
from tests.conftest import Clock
from tests.slack.conftest import SlackHarness

WEST = "U0WEST"
# Tuesday 06:30 in UTC is still Monday 22:30 in Los Angeles (UTC-8 in November).
TUESDAY_IN_UTC = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)


async def _write(slack: SlackHarness, user: str, text: str, ts: str) -> None:
    """`user` writes `text` in their DM with the bot (a signed message.im event)."""
    channel = slack.fake.dm_channel_id(user)
    if channel not in slack.fake.channels:
        slack.fake.add_channel(channel, members=[user])
    status, _ = await slack.event({"type": "message", "channel": channel,
                                   "channel_type": "im", "user": user, "text": text,
                                   "ts": ts, "event_ts": ts})
    assert status == 200


def _said(slack: SlackHarness, user: str) -> list[str]:
    return [str(message["text"]) for message in
            slack.fake.messages_in(slack.fake.dm_channel_id(user))]


async def test_a_new_users_first_dm_command_counts_days_in_their_slack_zone(
        slack: SlackHarness, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    # What is asserted is that the profile is asked for first, not how fast the fake answers
    # on a loaded machine: Slack gets all the time it needs here.
    monkeypatch.setattr(platform, "FIRST_PROFILE_SECONDS", 60.0)
    slack.fake.add_user(WEST, name="jo", real_name="Jo West", tz="America/Los_Angeles",
                        team_id=slack.team_id)
    clock.set(TUESDAY_IN_UTC)
    await _write(slack, WEST, "log <@U0DANA> yesterday", "1.000100")
    await slack.until(lambda: any("Dana" in text for text in _said(slack, WEST)))
    async with slack.runtime.sessions() as session:
        moments = list(await session.scalars(
            select(Touchpoint.happened_at).join(Contact).where(Contact.name == "Dana Scully")))
        zone = await session.scalar(select(User.tz).where(User.external_id == WEST))
    assert len(moments) == 1, _said(slack, WEST)[1:]
    # Sunday in Los Angeles: yesterday counted in UTC would be Monday.
    assert moments[0].date() == date(2026, 11, 22), (moments, _said(slack, WEST))
    assert zone == "America/Los_Angeles"  # their rows start in their zone
