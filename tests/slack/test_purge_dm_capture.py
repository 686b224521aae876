"""`admin purge` withdraws Slack DM capture first, as `forget me` does: every person's user
token is revoked at Slack (auth.revoke) before the workspace's rows go, and the preview says
so."""

from __future__ import annotations

from sqlalchemy import func, select

from rapport.storage.models import ChatGrant
from tests.fakes.slack_api import DEFAULT_TEAM_ID
from tests.slack.conftest import ALEX, SAM, HarnessFactory
from tests.slack.test_admin import BOSS, _answer
from tests.slack.test_dm_capture import _harness, _opt_in


async def test_admin_purge_revokes_every_dm_capture_grant_first(
        make_harness: HarnessFactory) -> None:
    slack = await _harness(make_harness)
    slack.fake.add_user(BOSS, name="boss", real_name="Bo Boss", team_id=DEFAULT_TEAM_ID,
                        is_admin=True)
    tokens = {await _opt_in(slack, ALEX), await _opt_in(slack, SAM)}

    await slack.command("admin purge", user=BOSS)
    preview = await _answer(slack, "admin purge confirm")
    assert "the logging of 2 people's Slack DMs" in preview
    assert slack.fake.calls_to("auth.revoke") == []
    await slack.command("admin purge confirm", user=BOSS)
    await _answer(slack, "Deleted everything Rapport stored for this workspace")

    assert {call.token for call in slack.fake.calls_to("auth.revoke")} == tokens
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatGrant)) == 0
