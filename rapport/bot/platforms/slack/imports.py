"""Contacts import in Slack: a CSV or vCard uploaded in the DM with the bot, dry run, confirm."""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import importer
from rapport.bot.core.views import Reply
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform

logger = logging.getLogger(__name__)

# The bot event app_manifest.yml subscribes to for this (tests/slack/test_manifest.py checks it).
MANIFEST_EVENTS = ("message.im",)
ACTION_IMPORT_CONFIRM = "import_confirm"
ACTION_IMPORT_CANCEL = "import_cancel"
MAX_BYTES = importer.MAX_BYTES
DOWNLOAD_TIMEOUT_SECONDS = 15.0
_CHUNK_BYTES = 64 * 1024
# Slack's own file hosts; the configured API host is allowed too (GovSlack, the local test fake).
_FILE_HOSTS = frozenset({"files.slack.com", "files.slack-gov.com"})


# Typed `import` (the console's command that names a file on disk) gets this in Slack instead.
HOW_TO_IMPORT = ("To import contacts, upload a CSV (.csv), a vCard (.vcf) or a spreadsheet saved "
                 f"as text (.txt, .tsv), of at most {MAX_BYTES // 1_000_000} MB, in your direct "
                 "messages with Rapport (its Messages "
                 "tab: drag the file in, or + then Upload). I'll show you what would change "
                 "before anything is saved.")


def is_import_command(text: str) -> bool:
    """Whether typed text is the `import` command (a chat cannot name a file on disk)."""
    words = text.split(maxsplit=1)
    return bool(words) and words[0].lower() == "import"


class ImportRefused(Exception):
    """A reason, fit to show the user, why a file can't be imported."""


@dataclass(frozen=True, slots=True)
class SlackFile:
    """The parts of a Slack file object an import needs."""

    id: str
    name: str
    size: int | None
    filetype: str
    url: str
    user: str

    @classmethod
    def from_slack(cls, data: dict[str, Any]) -> SlackFile:
        size = data.get("size")
        return cls(id=str(data.get("id") or ""), name=str(data.get("name") or ""),
                   size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                   filetype=str(data.get("filetype") or "").lower(),
                   url=str(data.get("url_private_download") or ""),
                   user=str(data.get("user") or ""))

    @property
    def complete(self) -> bool:
        return bool(self.id and self.name and self.size is not None and self.url)

    @property
    def format(self) -> importer.UploadFormat:
        """What the core makes of its name and filetype (the files Teams takes too)."""
        return importer.UploadFormat(self.name, self.filetype)

    @property
    def importable(self) -> bool:
        return self.format.importable

    @property
    def import_name(self) -> str:
        """The name the importer sees: it picks CSV or vCard by the extension."""
        return self.format.import_name


def size_refusal(file: SlackFile) -> str | None:
    """Why the file can't be imported, judged from its metadata alone (no download)."""
    if not file.importable:
        return (f"I can import contacts from a .csv or .vcf (vCard) file, or a table saved as "
                f"text (.txt, .tsv); “{b.clip(file.name, 80)}” is none of these, so I left it "
                "alone.")
    if file.size is not None and file.size > MAX_BYTES:
        return (f"“{b.clip(file.name, 80)}” is {file.size / 1_000_000:.1f} MB; I import files of "
                f"up to {MAX_BYTES // 1_000_000} MB ({importer.MAX_ROWS} rows). Split it and "
                "upload the parts.")
    if file.size == 0:
        return f"“{b.clip(file.name, 80)}” is empty."
    return None


def allowed_download_url(url: str, api_url: str) -> bool:
    """Only Slack's file hosts (or the configured API host) ever see the bot token."""
    target, api = urllib.parse.urlsplit(url), urllib.parse.urlsplit(api_url)
    if target.scheme == "https" and target.hostname in _FILE_HOSTS:
        return True
    return (target.scheme, target.hostname, target.port) == (api.scheme, api.hostname, api.port)


async def download(url: str, token: str, *, limit: int = MAX_BYTES,
                   within: float = DOWNLOAD_TIMEOUT_SECONDS) -> bytes:
    """The file's bytes, read with the bot token; refused past `limit` bytes or `within` seconds."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=within)) as http, \
                http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            # Slack answers a refused download with its HTML sign-in page, not an error code.
            if response.status != 200 or response.content_type == "text/html":
                logger.warning("slack file download refused", extra={"status": response.status})
                raise ImportRefused("Slack didn't let me read that file. Try uploading it again.")
            if (response.content_length or 0) > limit:
                raise ImportRefused(_too_large(limit))
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                data += chunk
                if len(data) > limit:  # stop reading: the rest is never held in memory
                    raise ImportRefused(_too_large(limit))
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as failure:
        logger.warning("slack file download failed", extra={"error": type(failure).__name__})
        raise ImportRefused("I couldn't download that file from Slack. Try again in a "
                            "minute.") from failure


def _too_large(limit: int) -> str:
    return (f"That file is larger than {limit // 1_000_000} MB, the import limit. Split it and "
            "upload the parts.")


def dry_run_blocks(file: SlackFile, reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    """The dry-run answer: what would change (or the row errors), and Import / Cancel."""
    if reply.ok:
        text = (f"Importing “{b.clip(file.name, 80)}”: {reply.text}\n"
                "Press Import to save these contacts, or Cancel.")
    else:
        text = (f"“{b.clip(file.name, 80)}”: {reply.text}\n"
                "Upload a corrected file here to try again.")
    sections = b.text_sections(text)[:b.MAX_MESSAGE_BLOCKS - 1]
    shown: list[Block] = list(sections)
    if reply.ok:
        shown.append(ActionsBlock(block_id="import_actions", elements=[
            ButtonElement(text="Import", action_id=ACTION_IMPORT_CONFIRM, value=file.id,
                          style="primary"),
            ButtonElement(text="Cancel", action_id=ACTION_IMPORT_CANCEL, value=file.id),
        ]))
    return b.fallback(text), b.to_dicts(shown)


def notice_blocks(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A plain message (no buttons left to press)."""
    return b.fallback(text), b.to_dicts(
        b.text_sections(text)[:b.MAX_MESSAGE_BLOCKS])


@dataclass
class SlackImports:
    """Listeners for uploads in the DM with the bot and the Import / Cancel buttons."""

    platform: SlackPlatform
    # Files being imported right now: a double click must not run the import twice at once.
    importing: set[tuple[str, str]] = field(default_factory=set)

    @property
    def api_url(self) -> str:
        return self.platform.runtime.settings.slack_api_url

    async def file_info(self, client: AsyncWebClient, file_id: str) -> SlackFile | None:
        """files.info with the bot token of the request's workspace; None when not visible."""
        try:
            found = await client.files_info(file=file_id)
        except SlackApiError as failure:
            logger.info("files.info failed", extra={"error": failure.response.get("error")})
            return None
        data = found.get("file")
        return SlackFile.from_slack(data) if isinstance(data, dict) else None

    async def fetch(self, client: AsyncWebClient, file: SlackFile) -> bytes:
        """Download after the checks that need no download (type, size, host)."""
        refusal = size_refusal(file)
        if refusal is not None:
            raise ImportRefused(refusal)
        if not allowed_download_url(file.url, self.api_url) or not client.token:
            logger.warning("slack file download refused", extra={"reason": "unexpected host"})
            raise ImportRefused("I couldn't download that file from Slack.")
        data = await download(file.url, client.token)
        refusal = file.format.content_refusal(data)
        if refusal is not None:
            raise ImportRefused(refusal)
        return data

    async def post(self, client: AsyncWebClient, channel: str,
                   message: tuple[str, list[dict[str, Any]]]) -> None:
        text, shown = message
        try:
            await client.chat_postMessage(channel=channel, text=text, blocks=shown)
        except SlackApiError as failure:
            logger.info("import answer failed", extra={"error": failure.response.get("error")})

    async def update(self, client: AsyncWebClient, body: dict[str, Any], respond: Respond,
                     message: tuple[str, list[dict[str, Any]]]) -> None:
        """The clicked dry run's message becomes `message`: edited in place when it is the
        bot's message in the clicker's own DM (see clicked_message), else told privately."""
        text, shown = message
        clicked = await self.platform.clicked_message(
            client, body, self.platform_team(body), str((body.get("user") or {}).get("id")))
        if clicked is None:
            if body.get("response_url"):
                await respond(text=text, blocks=shown, response_type="ephemeral",
                              replace_original=False)
            return
        channel, ts = clicked
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=shown)
        except SlackApiError as failure:
            logger.info("import update failed", extra={"error": failure.response.get("error")})

    # ------------------------------------------------------------------ listeners
    async def on_file_share(self, event: dict[str, Any], body: dict[str, Any],
                            client: AsyncWebClient, context: dict[str, Any]) -> None:
        """A file shared in the DM with the bot: dry run, then offer Import / Cancel."""
        team_id, user_id = str(body.get("team_id") or ""), str(event.get("user") or "")
        channel = str(event.get("channel") or "")
        user_team = event.get("user_team") or event.get("team") or team_id
        reason = None
        if event.get("channel_type") != "im" or not channel.startswith("D"):
            reason = "not a direct message"
        elif event.get("bot_id") or not user_id or user_id == context.get("bot_user_id"):
            reason = "not from a person"
        elif not team_id or team_id != context.get("team_id") or user_team != team_id:
            reason = "another workspace"
        if reason is not None:
            logger.info("file share ignored", extra={"reason": reason})
            return
        files = [f for f in event.get("files") or () if isinstance(f, dict) and f.get("id")]
        for raw in files[:5]:
            file = SlackFile.from_slack({"user": user_id, **raw})
            if not file.complete or raw.get("file_access") == "check_file_info":
                # Events may carry a stub ("check_file_info"); files.info has the real object.
                found = await self.file_info(client, file.id)
                if found is None:  # e.g. hidden by the workspace's file limits
                    await self.post(client, channel, notice_blocks(
                        "Slack didn't let me read that file, so nothing was imported."))
                    continue
                file = found
            if file.user != user_id:
                logger.info("file share ignored", extra={"reason": "not the uploader"})
                continue
            await self.dry_run(client, team_id, user_id, channel, file)

    async def dry_run(self, client: AsyncWebClient, team_id: str, user_id: str, channel: str,
                      file: SlackFile) -> None:
        """Check the file without saving anything and answer in the DM."""
        try:
            data = await self.fetch(client, file)
        except ImportRefused as refused:
            await self.post(client, channel, notice_blocks(str(refused)))
            return
        reply = await self.platform.rapport.handle_import(
            self.platform.actor(team_id, user_id), file.import_name, data, dry_run=True)
        await self.post(client, channel, dry_run_blocks(file, reply))

    async def uploader_file(self, body: dict[str, Any], action: dict[str, Any],
                            client: AsyncWebClient, context: dict[str, Any],
                            respond: Respond) -> SlackFile | None:
        """The file behind a button, when the clicking user uploaded it in this workspace."""
        team_id = self.platform_team(body)
        user_id = str((body.get("user") or {}).get("id") or "")
        file_id = str(action.get("value") or "")
        if not team_id or team_id != context.get("team_id") or not user_id or not file_id:
            logger.warning("import action refused", extra={"reason": "malformed"})
            return None
        file = await self.file_info(client, file_id)
        if file is None:
            # Deleted in Slack since the dry run (or never this workspace's): nothing to import.
            await self.update(client, body, respond, notice_blocks(
                "I can't find that file in Slack any more, so nothing was imported. Upload it "
                "again to import it."))
            return None
        if file.user != user_id:
            logger.warning("import action refused", extra={"reason": "not the uploader"})
            if body.get("response_url"):
                await respond(text="Only the person who uploaded this file can import it.",
                              response_type="ephemeral", replace_original=False)
            return None
        return file

    @staticmethod
    def platform_team(body: dict[str, Any]) -> str:
        """The workspace of an interaction payload."""
        team = body.get("team")
        if isinstance(team, dict) and team.get("id"):
            return str(team["id"])
        return str((body.get("user") or {}).get("team_id") or "")

    async def on_confirm(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient, context: dict[str, Any],
                         respond: Respond) -> None:
        """Import: download the file again, import for real, and update the message."""
        await ack()
        file = await self.uploader_file(body, action, client, context, respond)
        if file is None:
            return
        team_id, user_id = self.platform_team(body), str(body["user"]["id"])
        key = (team_id, file.id)
        if key in self.importing:
            return
        self.importing.add(key)
        try:
            try:
                data = await self.fetch(client, file)
            except ImportRefused as refused:
                await self.update(client, body, respond, notice_blocks(str(refused)))
                return
            reply = await self.platform.rapport.handle_import(
                self.platform.actor(team_id, user_id), file.import_name, data, dry_run=False)
        finally:
            self.importing.discard(key)
        prefix = f"Imported “{b.clip(file.name, 80)}”: " if reply.ok else \
            f"“{b.clip(file.name, 80)}”: "
        await self.update(client, body, respond, notice_blocks(prefix + reply.text))
        if reply.changed:
            await self.platform.refresh_home(client, team_id, user_id)

    async def on_cancel(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, context: dict[str, Any],
                        respond: Respond) -> None:
        """Cancel: nothing is imported; the message says so."""
        await ack()
        file = await self.uploader_file(body, action, client, context, respond)
        if file is None:
            return
        await self.update(client, body, respond, notice_blocks(
            f"Import cancelled: nothing from “{b.clip(file.name, 80)}” was saved."))


def register(platform: SlackPlatform) -> SlackImports:
    """Attach the upload and button listeners to the platform's Bolt app."""
    imports = SlackImports(platform)
    app = platform.app
    app.event({"type": "message", "subtype": "file_share"})(answered_at_ack(imports.on_file_share))
    app.action(ACTION_IMPORT_CONFIRM)(answered_at_ack(imports.on_confirm))
    app.action(ACTION_IMPORT_CANCEL)(answered_at_ack(imports.on_cancel))
    return imports
