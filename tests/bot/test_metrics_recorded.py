"""Every metric docs/operations.md lists moves when its event happens, as an operator scraping a
real `rapport serve` sees it: a Slack slash command and Teams messages record how long the
command took and how long the platform waited for its answer, and a draft copied from Teams
counts one outcome by its provider.

Found by a tester: rapport_command_duration_seconds, rapport_ack_duration_seconds and
rapport_draft_outcomes_total were created and documented, and nothing ever recorded them.
"""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.bot.processes import (
    clean_env,
    free_port,
    running_cli,
    stop_cleanly,
    wait_until_answering,
)
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack
from tests.fakes.teams_activities import (
    default_conversation_id,
    teams_card_action_invoke,
    teams_message_activity,
)

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PERSONAL = default_conversation_id("personal")


def _signed(body: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp,
                                                                      body=body)
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def _samples(exposition: str) -> dict[str, float]:
    """`name{labels}` -> value for every sample line of the Prometheus text format."""
    samples: dict[str, float] = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def _copy_action(card_activity: Any) -> dict[str, Any]:
    [attachment] = card_activity.body["attachments"]
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("verb") == "draft_copy":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(attachment["content"])
    return found[0]


async def test_commands_acks_and_draft_outcomes_show_in_metrics(
        tmp_path: Path, bot_connector: BotConnectorFake) -> None:
    public, operator = free_port(), free_port()
    async with FakeSlack() as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, bot_token=DEFAULT_BOT_TOKEN)
        env = clean_env(tmp_path, SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN,
                        SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.base_url,
                        TEAMS_ENABLED="true", RAPPORT_PORT=str(public),
                        RAPPORT_METRICS_PORT=str(operator), RAPPORT_LOG_LEVEL="WARNING")
        base = f"http://127.0.0.1:{public}"
        async with running_cli("serve", "--no-console", "--no-scheduler", env=env,
                               cwd=tmp_path) as process:
            await wait_until_answering(process, f"{base}/healthz")
            async with aiohttp.ClientSession() as http:
                for text in ("add Dana", "draft Dana"):
                    async with http.post(f"{base}/api/messages", json=teams_message_activity(
                            text, service_url=bot_connector.service_url)) as response:
                        assert response.status == 201, await response.text()
                draft = bot_connector.sent_to(PERSONAL)[-1]
                copy = _copy_action(draft)
                edited = {**copy["data"], "draft_text": "Dana, how did the launch go?"}
                async with http.post(f"{base}/api/messages", json=teams_card_action_invoke(
                        edited, verb="draft_copy", service_url=bot_connector.service_url,
                        reply_to_id=draft.activity_id)) as response:
                    assert response.status == 200, await response.text()

                command = urllib.parse.urlencode({
                    "token": "legacy", "team_id": DEFAULT_TEAM_ID, "team_domain": "rapport",
                    "channel_id": "C0GENERAL", "user_id": "U0ALEX", "user_name": "alex",
                    "command": "/rapport", "text": "due", "api_app_id": fake.app_id,
                    "response_url": f"{base}/nowhere", "trigger_id": fake.new_trigger_id()})
                async with http.post(f"{base}/slack/events", data=command,
                                     headers=_signed(command)) as response:
                    assert response.status == 200, await response.text()

                async with http.get(f"http://127.0.0.1:{operator}/metrics") as response:
                    samples = _samples(await response.text())
            await stop_cleanly(process)

    assert samples['rapport_command_duration_seconds_count{platform="slack"}'] == 1
    assert samples['rapport_ack_duration_seconds_count{platform="slack"}'] == 1
    # The two typed messages; the card's button is an invoke, answered by the draft service.
    assert samples['rapport_command_duration_seconds_count{platform="teams"}'] == 2
    assert samples['rapport_ack_duration_seconds_count{platform="teams"}'] == 2
    assert samples['rapport_draft_outcomes_total{outcome="copied",provider="template"}'] == 1
    for platform in ("slack", "teams"):
        assert samples[f'rapport_ack_duration_seconds_sum{{platform="{platform}"}}'] > 0
