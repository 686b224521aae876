"""app_manifest.yml is valid for Slack and names exactly what the code handles; the copy in the
wheel and the one at the repository root agree; `rapport slack-manifest` fills in the URLs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack import imports
from rapport.bot.platforms.slack.dm_capture import CALLBACK_PATH, CAPTURE_SCOPES
from rapport.bot.platforms.slack.install import BOT_SCOPES, USER_SCOPES
from rapport.bot.platforms.slack.manifest import MANIFEST_PATH, PLACEHOLDER_URL
from rapport.bot.platforms.slack.messenger import SlackMessenger
from tests.bot.processes import clean_env, run_cli, run_cli_in_process
from tests.fakes.slack_api import load_method_specs

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "schemas" / "slack-app-manifest.schema.json"
SLACK_DIR = ROOT / "rapport" / "bot" / "platforms" / "slack"
# Every module of the Slack platform package but the uploads (checked on their own below).
APP_SOURCE = "\n".join(path.read_text("utf-8") for path in sorted(SLACK_DIR.glob("*.py"))
                       if path.name != "imports.py")
IMPORTS_SOURCE = (SLACK_DIR / "imports.py").read_text("utf-8")


def _manifest() -> dict[str, Any]:
    # The source of truth is the copy inside the package (it ships in the wheel).
    return yaml.safe_load(MANIFEST_PATH.read_text("utf-8"))


def _validate(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(manifest)


def test_manifest_validates_against_slacks_schema() -> None:
    _validate(_manifest())


def test_the_repository_root_copy_is_identical_to_the_packaged_manifest() -> None:
    assert MANIFEST_PATH == SLACK_DIR / "app_manifest.yml"
    assert (ROOT / "app_manifest.yml").read_bytes() == MANIFEST_PATH.read_bytes(), (
        "edit rapport/bot/platforms/slack/app_manifest.yml, then copy it to the root")


def test_manifest_matches_the_command_shortcut_events_and_scopes_in_code() -> None:
    manifest = _manifest()
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == b.SLASH_COMMAND
    assert command["url"].endswith("/slack/events")
    [shortcut] = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", b.CALLBACK_LOG_TOUCHPOINT)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    handled = set(re.findall(r'app\.event\("([a-z_]+)"\)', APP_SOURCE))
    # "message" is the Messages tab's listener (messages.py): Slack delivers DMs as message.im.
    assert handled == {"app_home_opened", "app_uninstalled", "tokens_revoked", "message"}
    handled.discard("message")
    # Uploads in the DM with the bot arrive as message events (message.im subscription).
    assert 'app.event({"type": "message", "subtype": "file_share"})' in IMPORTS_SOURCE
    assert "imports.register(platform)" in APP_SOURCE
    handled |= set(imports.MANIFEST_EVENTS)
    assert set(events) == handled
    # Users must be able to send the bot a file: the Messages tab is not read-only.
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    # Install asks for USER_SCOPES; Slack DM capture asks for its own only when a person opts in.
    assert manifest["oauth_config"]["scopes"]["user"] == [*USER_SCOPES, *CAPTURE_SCOPES]
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert manifest["oauth_config"]["redirect_urls"][1].endswith(CALLBACK_PATH)
    # Slack DM capture: message.im for the people who granted im:history (dm_capture.py).
    assert manifest["settings"]["event_subscriptions"]["user_events"] == ["message.im"]


def test_bot_scopes_cover_every_web_api_method_the_app_calls() -> None:
    methods_dir = ROOT / "tests" / "data" / "slack-methods"
    sources = APP_SOURCE + (SLACK_DIR / "messenger.py").read_text("utf-8") + \
        (SLACK_DIR / "directory.py").read_text("utf-8") + IMPORTS_SOURCE
    called = {m.replace("_", ".", 1) for m in re.findall(
        r"client\.((?:chat|conversations|views|users|files_info)_?[a-zA-Z]*)\(", sources)}
    assert {"chat.postMessage", "conversations.open", "views.publish", "users.info",
            "files.info"} <= called
    granted = set(_manifest()["oauth_config"]["scopes"]["bot"])
    # files.info has no published reference file: the fake's hand-written entry has its scope.
    specs = load_method_specs()
    for method in called:
        reference_file = methods_dir / f"{method}.json"
        needed = (json.loads(reference_file.read_text("utf-8")).get("scope", {}).get("bot")
                  or []) if reference_file.exists() else list(specs[method].bot_scopes)
        # A method lists alternatives (any one scope suffices); views.* need none.
        assert not needed or granted & set(needed), (method, needed)
    assert SlackMessenger.platform == "slack"


def test_export_upload_and_posting_as_the_user_have_their_scopes() -> None:
    methods_dir = ROOT / "tests" / "data" / "slack-methods"
    manifest = _manifest()["oauth_config"]["scopes"]
    # /rapport export uploads with files_upload_v2 (getUploadURLExternal + completeUploadExternal).
    assert "client.files_upload_v2(" in APP_SOURCE
    for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
        needed = json.loads((methods_dir / f"{method}.json").read_text("utf-8"))["scope"]["bot"]
        assert set(manifest["bot"]) & set(needed), (method, needed)
    # An edited draft is posted with the user token: conversations.open + chat.postMessage.
    assert "user_client.conversations_open(" in APP_SOURCE
    assert "user_client.chat_postMessage(" in APP_SOURCE
    for method in ("conversations.open", "chat.postMessage"):
        needed = json.loads((methods_dir / f"{method}.json").read_text("utf-8"))["scope"]["user"]
        assert set(manifest["user"]) & set(needed), (method, needed)


def _urls(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [url for value in node.values() for url in _urls(value)]
    if isinstance(node, list):
        return [url for value in node for url in _urls(value)]
    return [node] if isinstance(node, str) and node.startswith(("http://", "https://")) else []


@pytest.mark.parametrize(("given", "base"), [
    ("https://bot.example.com", "https://bot.example.com"),
    ("https://bot.example.com/", "https://bot.example.com"),
    ("https://example.org:8443/rapport/", "https://example.org:8443/rapport"),
])
def test_slack_manifest_command_fills_in_the_public_url(tmp_path: Path, given: str,
                                                        base: str) -> None:
    # In this process through the real entry point (run_cli_in_process says why); the command
    # runs as a real process in test_slack_manifest_command_reads_rapport_public_url.
    result = run_cli_in_process("slack-manifest", "--url", given, env=clean_env(tmp_path),
                                cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert PLACEHOLDER_URL not in result.stdout
    rendered = yaml.safe_load(result.stdout)
    _validate(rendered)
    assert rendered["features"]["slash_commands"][0]["url"] == f"{base}/slack/events"
    assert rendered["settings"]["event_subscriptions"]["request_url"] == f"{base}/slack/events"
    assert rendered["settings"]["interactivity"]["request_url"] == f"{base}/slack/events"
    assert rendered["oauth_config"]["redirect_urls"] == [f"{base}/slack/oauth_redirect",
                                                         f"{base}{CALLBACK_PATH}"]
    assert rendered["settings"]["socket_mode_enabled"] is False
    # Everything else is the template unchanged.
    template = _manifest()
    assert rendered["oauth_config"]["scopes"] == template["oauth_config"]["scopes"]
    assert rendered["settings"]["event_subscriptions"]["bot_events"] == \
        template["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(_urls(rendered)) == sorted(
        url.replace(PLACEHOLDER_URL, base) for url in _urls(template))


def test_slack_manifest_command_reads_rapport_public_url(tmp_path: Path) -> None:
    env = clean_env(tmp_path, RAPPORT_PUBLIC_URL="https://rapport.acme.test")
    result = run_cli("slack-manifest", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert set(_urls(yaml.safe_load(result.stdout))) == {
        "https://rapport.acme.test/slack/events", "https://rapport.acme.test/slack/oauth_redirect",
        f"https://rapport.acme.test{CALLBACK_PATH}"}


def test_slack_manifest_for_socket_mode_needs_no_url(tmp_path: Path) -> None:
    result = run_cli_in_process("slack-manifest", "--socket-mode", env=clean_env(tmp_path),
                                cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    _validate(rendered)
    assert rendered["settings"]["socket_mode_enabled"] is True
    assert _urls(rendered) == [] and "redirect_urls" not in rendered["oauth_config"]
    assert rendered["settings"]["interactivity"]["is_enabled"] is True
    assert rendered["features"]["slash_commands"][0]["command"] == b.SLASH_COMMAND


REFUSED_URLS: list[tuple[str, ...]] = [
    ("--url", "http://bot.example.com"), ("--url", "bot.example.com"),
    ("--url", "https://bot.example.com/?x=1"), ()]


@pytest.mark.parametrize("arguments", REFUSED_URLS)
def test_slack_manifest_command_refuses_what_slack_would(tmp_path: Path,
                                                         arguments: tuple[str, ...]) -> None:
    # The first refusal runs as a real process; the others only differ in the value checked.
    run = run_cli if arguments == REFUSED_URLS[0] else run_cli_in_process
    result = run("slack-manifest", *arguments, env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "--url" in result.stderr
