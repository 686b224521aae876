"""Contact import by file upload in the personal chat: dry run card first, then Import or Cancel.

Teams hands a bot the files a user attaches in a personal chat as message attachments of
type ``application/vnd.microsoft.teams.file.download.info`` whose ``content.downloadUrl`` is a
short-lived pre-authenticated link (no bot token needed); channels and group chats never
deliver files this way. The downloaded bytes wait in memory only, for a few minutes, under a
random token tied to the uploader: a restart forgets them and the user sends the file again.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from botbuilder.schema import Activity

from rapport.bot.core.context import Actor
from rapport.bot.core.importer import ACCEPTED_FILES, MAX_BYTES, UploadFormat
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import ImportView
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.downloads import (
    DownloadFailed,
    DownloadRefused,
    TooLarge,
)
from rapport.bot.platforms.teams.downloads import download as fetch_file

logger = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
PENDING_MINUTES = 15
MAX_PENDING_PER_USER = 3
# A bound on memory across all users: at most this many files (each at most MAX_BYTES) wait.
MAX_PENDING_TOTAL = 50

_WHAT_A_TABLE_NEEDS = ("A table needs a header line with at least a name column: "
                       "name,kind,company,email,cadence,notes. I'll show you what would change "
                       "before anything is saved.")
HOW_TO_IMPORT = f"To import contacts, attach {ACCEPTED_FILES} to a message here. " + \
    _WHAT_A_TABLE_NEEDS
NOT_IMPORTABLE = (f"I can only import contacts from {ACCEPTED_FILES}; attach one to a message "
                  "here. " + _WHAT_A_TABLE_NEEDS)
TOO_LARGE = (f"That file is larger than {MAX_BYTES // 1_000_000} MB, the import limit. Split it "
             "into smaller files and send them one by one.")
DOWNLOAD_FAILED = "I couldn't download that file from Teams. Please send it again."
EXPIRED = (f"This import is no longer waiting (I keep an uploaded file for {PENDING_MINUTES} "
           "minutes, and not across restarts). Send the file again to import it.")
NOT_YOURS = "Only the person who sent this file can import it. Nothing was changed."
CANCELLED = "Import cancelled. Nothing was changed."

# (url, byte limit) -> the file's bytes; raises TooLarge, DownloadRefused or DownloadFailed.
Fetch = Callable[[str, int], Awaitable[bytes]]


def is_import_command(text: str) -> bool:
    """Whether typed text is the `import` command (a chat cannot name a file on disk)."""
    words = text.split(maxsplit=1)
    return bool(words) and words[0].lower() == "import"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a user attached in the personal chat, as Teams describes it."""

    name: str
    download_url: str
    file_type: str

    @property
    def format(self) -> UploadFormat:
        """What the core makes of its name and Teams' fileType (the files Slack takes too)."""
        return UploadFormat(self.name, self.file_type)


def find_upload(activity: Activity) -> Upload | None:
    """The first file attachment of a message, or None (cards and HTML bodies are not files)."""
    for attachment in activity.attachments or []:
        if attachment.content_type != FILE_DOWNLOAD_INFO:
            continue
        content = attachment.content if isinstance(attachment.content, Mapping) else {}
        url = content.get("downloadUrl")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            continue
        name = attachment.name if isinstance(attachment.name, str) else ""
        file_type = content.get("fileType")
        return Upload(name=name[:200], download_url=url,
                      file_type=file_type if isinstance(file_type, str) else "")
    return None


async def download(url: str, limit: int) -> bytes:
    """GET a Teams download link under the default host policy (see downloads.py)."""
    return await fetch_file(url, limit)


Owner = tuple[str, str, str]


def owner_of(actor: Actor) -> Owner:
    """Who may confirm an upload: platform, tenant and user ids of the uploader."""
    return (actor.platform, actor.workspace_external_id, actor.user_external_id)


@dataclass(frozen=True, slots=True)
class PendingImport:
    """A checked file waiting for Import or Cancel."""

    owner: Owner
    filename: str
    data: bytes
    expires_at: datetime


class PendingImports:
    """Uploaded files by random token, in this process only, expiring after a few minutes."""

    def __init__(self, clock: Callable[[], datetime], *,
                 ttl: timedelta = timedelta(minutes=PENDING_MINUTES),
                 per_user: int = MAX_PENDING_PER_USER, total: int = MAX_PENDING_TOTAL) -> None:
        self.clock = clock
        self.ttl = ttl
        self.per_user = per_user
        self.total = total
        self._items: OrderedDict[str, PendingImport] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self) -> None:
        now = self.clock()
        for token in [t for t, item in self._items.items() if item.expires_at <= now]:
            del self._items[token]

    def put(self, owner: Owner, filename: str, data: bytes) -> str:
        """Keep `data` for `owner`; returns the token; the oldest entries make room."""
        self._expire()
        mine = [t for t, item in self._items.items() if item.owner == owner]
        for token in mine[:max(0, len(mine) - self.per_user + 1)]:
            del self._items[token]
        while len(self._items) >= self.total:
            self._items.popitem(last=False)
        token = secrets.token_urlsafe(16)
        self._items[token] = PendingImport(owner=owner, filename=filename, data=data,
                                           expires_at=self.clock() + self.ttl)
        return token

    def get(self, token: str) -> PendingImport | None:
        """The waiting import, or None when unknown or expired."""
        self._expire()
        return self._items.get(token)

    def pop(self, token: str) -> PendingImport | None:
        """Take the waiting import out (a second click then finds nothing)."""
        self._expire()
        return self._items.pop(token, None)

    def restore(self, token: str, item: PendingImport) -> None:
        """Put back an import whose real run failed for a passing reason."""
        self._items[token] = item


class TeamsImports:
    """The upload flow: check the file, show a dry run card, import or cancel on click."""

    def __init__(self, rapport: Rapport, *, fetch: Fetch = download,
                 pending: PendingImports | None = None) -> None:
        self.rapport = rapport
        self.fetch = fetch
        self.pending = pending or PendingImports(rapport.clock)

    async def preview(self, actor: Actor, upload: Upload) -> dict[str, Any] | str:
        """The dry run card for an uploaded file, or a plain-text refusal."""
        upload_format = upload.format
        if not upload_format.importable:
            return NOT_IMPORTABLE
        try:
            data = await self.fetch(upload.download_url, MAX_BYTES)
        except TooLarge:
            logger.info("import upload too large")
            return TOO_LARGE
        except DownloadRefused as refusal:
            # Never the link itself: it carries a short-lived access token.
            logger.warning("import download refused", extra={"reason": str(refusal)})
            return DOWNLOAD_FAILED
        except DownloadFailed as failure:
            logger.warning("import download failed", extra={"error": str(failure)[:80]})
            return DOWNLOAD_FAILED
        content_refusal = upload_format.content_refusal(data)
        if content_refusal is not None:
            return content_refusal
        filename = upload_format.import_name
        reply = await self.rapport.handle_import(actor, filename, data, dry_run=True)
        if not reply.ok:
            return cards.import_preview_card(filename, reply.text, token=None)
        token = self.pending.put(owner_of(actor), filename, data)
        return cards.import_preview_card(filename, reply.text, token=token)

    async def action(self, actor: Actor, data: Mapping[str, Any]
                     ) -> tuple[dict[str, Any] | None, str]:
        """Import or Cancel clicked: (the card now shown, or None; a message)."""
        token = data.get("token")
        verb = data.get("verb")
        if not isinstance(token, str) or verb not in (cards.IMPORT_CONFIRM, cards.IMPORT_CANCEL):
            return None, EXPIRED
        waiting = self.pending.get(token)
        if waiting is None:
            return None, EXPIRED
        # Checked before anything touches the database: someone else's click changes nothing.
        if waiting.owner != owner_of(actor):
            logger.info("import click by another user refused")
            return None, NOT_YOURS
        item = self.pending.pop(token)
        if item is None:
            return None, EXPIRED
        if verb == cards.IMPORT_CANCEL:
            return cards.import_result_card(item.filename, CANCELLED, ok=False), CANCELLED
        reply = await self.rapport.handle_import(actor, item.filename, item.data, dry_run=False)
        if not reply.ok and not (isinstance(reply.view, ImportView) and reply.view.errors):
            # A passing failure (database busy): the same click may work in a moment.
            self.pending.restore(token, item)
            return None, reply.text
        return cards.import_result_card(item.filename, reply.text, ok=reply.ok), reply.text
