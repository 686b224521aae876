"""Small pieces of the Teams platform: settings checks, mention handling, the CLI, card shapes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from botbuilder.schema import Activity
from typer.testing import CliRunner

from rapport.bot.core.views import DraftView
from rapport.bot.platforms.teams.adapter import TeamsConfigError, check_settings, is_loopback
from rapport.bot.platforms.teams.cards import card_versions, draft_card, nudge_card
from rapport.bot.platforms.teams.handler import actor_for, command_text, mentions_bot
from rapport.bot.service.cli import app
from rapport.bot.service.config import Settings
from rapport.scheduler.messenger import NudgeItem
from tests.fakes.teams_activities import teams_message_activity

APP_ID = "3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
    ("10.0.0.5", False), ("rapport.example.com", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_settings_checks_per_app_type() -> None:
    # A managed identity has no password, but botbuilder needs its tenant.
    check_settings(Settings(microsoft_app_id=APP_ID, microsoft_app_type="UserAssignedMSI",
                            microsoft_app_tenant_id="t", host="0.0.0.0"))
    with pytest.raises(TeamsConfigError, match="UserAssignedMSI needs MicrosoftAppTenantId"):
        check_settings(Settings(microsoft_app_id=APP_ID, microsoft_app_type="UserAssignedMSI"))
    check_settings(Settings(microsoft_app_id=APP_ID, microsoft_app_password="s",
                            microsoft_app_type="SingleTenant", microsoft_app_tenant_id="t",
                            host="0.0.0.0"))
    with pytest.raises(TeamsConfigError, match="MicrosoftAppPassword"):
        check_settings(Settings(microsoft_app_id=APP_ID, host="0.0.0.0"))
    with pytest.raises(TeamsConfigError, match="MicrosoftAppType"):
        check_settings(Settings(microsoft_app_id=APP_ID, microsoft_app_password="s",
                                microsoft_app_type="Bogus"))


def test_bot_mention_is_removed_once_and_people_become_tokens() -> None:
    activity = Activity().deserialize(teams_message_activity(
        "log <at>Fox Mulder</at> lunch at Rapport HQ", service_url="http://127.0.0.1:1/",
        conversation_type="channel", mentions_bot=True,
        mentions=[("29:fox-mulder", "Fox Mulder")]))

    assert mentions_bot(activity)
    assert command_text(activity) == "log <@29:fox-mulder|Fox Mulder> lunch at Rapport HQ"


def test_only_the_mention_that_addresses_the_bot_is_removed() -> None:
    # In a channel the first mention of the bot addresses it; a second one is a mention like
    # any other (so the core can refuse it as a bot), as is one in a personal chat that does
    # not lead the line.
    channel = Activity().deserialize(teams_message_activity(
        "add <at>Rapport</at>", service_url="http://127.0.0.1:1/", conversation_type="channel",
        mentions_bot=True, mentions=[("28:rapport-bot", "Rapport")]))
    personal = Activity().deserialize(teams_message_activity(
        "add <at>Rapport</at>", service_url="http://127.0.0.1:1/",
        mentions=[("28:rapport-bot", "Rapport")]))

    assert command_text(channel) == "add <@28:rapport-bot|Rapport>"
    assert command_text(personal) == "add <@28:rapport-bot|Rapport>"

def test_actor_uses_tenant_aad_id_and_client_time_zone() -> None:
    activity = Activity().deserialize(teams_message_activity(
        "due", service_url="http://127.0.0.1:1/", local_timezone="Asia/Kolkata",
        tenant_id="tenant-9"))

    actor = actor_for(activity)

    assert (actor.platform, actor.workspace_external_id, actor.tz) == (
        "teams", "tenant-9", "Asia/Kolkata")
    assert actor.user_external_id == activity.from_property.aad_object_id


def test_cards_use_a_schema_version_teams_renders() -> None:
    items = [NudgeItem(nudge_id=n, contact_id=n, contact_name=f"P{n}", reason="cadence",
                       headline=f"Catch up with P{n}") for n in (1, 2)]
    draft = DraftView(draft_id=7, contact_id=1, contact_name="Dana", text="Hi Dana",
                      provider="template", is_template=True, disclosure_policy="optional",
                      can_post=True)
    for card in (nudge_card(items), draft_card(draft)):
        assert card["version"] == "1.5"
        assert all(float(v) <= 1.5 for v in card_versions(card))
    # The card says what kind of draft it is, as a sentence.
    assert draft_card(draft)["body"][1]["text"] == \
        "Template draft. Make it your own before you send it."
    text = json.dumps(nudge_card(items))
    # Each item's date input has its own id, so a digest's inputs do not collide.
    assert "snooze_until_1" in text and "snooze_until_2" in text


def test_teams_package_command_writes_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "rapport-teams.zip"

    result = CliRunner().invoke(app, ["teams-package", "--app-id", APP_ID, "--out", str(out)])

    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID


def test_teams_package_command_rejects_a_bad_id(tmp_path: Path) -> None:
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(app, ["teams-package", "--app-id", "not-a-guid", "--out",
                                      str(out)])
    assert result.exit_code != 0 and not out.exists()
