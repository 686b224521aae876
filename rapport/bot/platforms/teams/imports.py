"""Contact import by file upload in the personal chat: dry run card first, then Import or Cancel.

Teams hands a bot the files a user attaches in a personal chat as message attachments of
type ``application/vnd.microsoft.teams.file.download.info`` whose ``content.downloadUrl`` is a
short-lived pre-authenticated link (no bot token needed); channels and group chats never
deliver files this way. The checked file waits for Import or Cancel in the database
(models.PendingFile), so whichever replica the click reaches, or this process after a
restart, answers it: a random token in the card's buttons, tied to the uploader, for a few
minutes. The database keeps the token's hash and the bytes sealed under a key derived from
the token, so a copy of the database reads neither; the row goes with the click that claims
it (one statement: of clicks racing on any replica, one imports), with its time, with the
user (`forget me`, removing the app) and with the workspace.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from botbuilder.schema import Activity
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from rapport.bot.core.context import TRY_AGAIN, Actor, UserContext
from rapport.bot.core.importer import ACCEPTED_FILES, MAX_BYTES, UploadFormat
from rapport.bot.core.rapport import DATABASE_TROUBLE, Rapport
from rapport.bot.core.users import fresh_context
from rapport.bot.core.views import ImportView
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.downloads import (
    DownloadFailed,
    DownloadRefused,
    TooLarge,
)
from rapport.bot.platforms.teams.downloads import download as fetch_file
from rapport.storage import queries
from rapport.storage.uow import Busy, Database

logger = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
PENDING_MINUTES = 15
MAX_PENDING_PER_USER = 3
# PendingFile.kind of an upload waiting for Import or Cancel.
IMPORT_KIND = "import"
# A card's token: 256 random bits, also the key its waiting bytes are sealed under.
TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 100
_NONCE_BYTES = 12
# What the waiting files' database may raise besides the core's DATABASE_TROUBLE.
STORE_TROUBLE = (*DATABASE_TROUBLE, Busy)

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
           "minutes). Send the file again to import it.")
NOT_KEPT = ("I checked the file but couldn't keep it for the import just now. Please send it "
            "again in a moment.")
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


def token_hash(token: str) -> str:
    """What the database keeps of a card's token (PendingFile.token_hash)."""
    return hashlib.sha256(b"rapport pending file id\0" + token.encode()).hexdigest()


def _key(token: str) -> bytes:
    # Another derivation than token_hash's: the hash in the database gives no key.
    return hashlib.sha256(b"rapport pending file key\0" + token.encode()).digest()


def seal(token: str, data: bytes) -> bytes:
    """`data` encrypted and authenticated under the key `token` gives (AES-GCM)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(_key(token)).encrypt(nonce, data, None)


def unseal(token: str, sealed: bytes) -> bytes | None:
    """What `seal(token, ...)` sealed; None when `sealed` was not sealed under this token."""
    try:
        return AESGCM(_key(token)).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None)
    except InvalidTag:
        return None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A file waiting for its owner's answer, as its token finds it."""

    owner: Owner
    workspace_id: int
    user_id: int
    filename: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A waiting file taken out by the answer that counts: its name and (an upload's) bytes."""

    filename: str
    content: bytes | None


class PendingFiles:
    """Files of one kind waiting for their owner's answer to a card, in the database
    (models.PendingFile), for `ttl`, at most `per_user` a person (the oldest make room).
    The card carries the token; the row says whose it is, until when, and what."""

    def __init__(self, database: Database, clock: Callable[[], datetime], *, kind: str,
                 ttl: timedelta = timedelta(minutes=PENDING_MINUTES),
                 per_user: int = MAX_PENDING_PER_USER) -> None:
        self.database = database
        self.clock = clock
        self.kind = kind
        self.ttl = ttl
        self.per_user = per_user

    async def put(self, ctx: UserContext, filename: str, content: bytes | None = None) -> str:
        """Keep a file (an upload's `content` sealed) for the user; returns the card's token."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        sealed = seal(token, content) if content is not None else None
        now = self.clock()

        def keep(session: Session) -> None:
            # Cached ids may be another user's since a `forget me` elsewhere (SQLite reuses
            # a deleted row's id), whose waiting files this one would push out: `StaleUser`.
            fresh_context(session, ctx)
            queries.open_pending_file(
                session, token_hash=token_hash(token), kind=self.kind,
                workspace_id=ctx.workspace_id, user_id=ctx.user_id, filename=filename[:255],
                sealed_content=sealed, now=now, expires_at=now + self.ttl,
                keep_per_user=self.per_user)

        await self.database.run(keep)
        return token

    async def find(self, token: str) -> Waiting | None:
        """The file waiting under `token`, or None when unknown, answered or expired."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        now = self.clock()
        row = await self.database.run(lambda session: queries.pending_file(
            session, token_hash(token), self.kind, now), write=False)
        if row is None:
            return None
        return Waiting(owner=(row.platform, row.workspace_external_id, row.user_external_id),
                       workspace_id=row.workspace_id, user_id=row.user_id,
                       filename=row.filename, expires_at=row.expires_at)

    async def claim(self, token: str, waiting: Waiting) -> Claimed | None:
        """Take the owner's file out (a second answer, on any replica, then finds nothing);
        None when another answer took it first or it expired meanwhile."""
        now = self.clock()
        taken = await self.database.run(lambda session: queries.claim_pending_file(
            session, token_hash(token), self.kind, waiting.user_id, now))
        if taken is None:
            return None
        filename, sealed = taken
        if sealed is None:
            return Claimed(filename, None)
        content = unseal(token, sealed)
        return Claimed(filename, content) if content is not None else None

    async def restore(self, token: str, waiting: Waiting, claimed: Claimed) -> None:
        """Put back a file whose answer failed for a passing reason (database busy), until
        its own time; if even that fails, the person sends the file (or asks) again."""
        sealed = seal(token, claimed.content) if claimed.content is not None else None
        try:
            await self.database.run(lambda session: queries.open_pending_file(
                session, token_hash=token_hash(token), kind=self.kind,
                workspace_id=waiting.workspace_id, user_id=waiting.user_id,
                filename=claimed.filename, sealed_content=sealed, now=self.clock(),
                expires_at=waiting.expires_at, keep_per_user=None))
        except STORE_TROUBLE as failure:
            logger.warning("pending file not restored", extra={"error": type(failure).__name__})


async def drop_pending_files(database: Database, user_id: int) -> None:
    """Every file waiting for the user's answer, of any kind, goes (they removed the app)."""
    try:
        await database.run(lambda session: queries.delete_pending_files(session, user_id))
    except STORE_TROUBLE as failure:
        # They expire within minutes all the same.
        logger.warning("pending files not dropped", extra={"error": type(failure).__name__})


class TeamsImports:
    """The upload flow: check the file, show a dry run card, import or cancel on click."""

    def __init__(self, rapport: Rapport, *, fetch: Fetch = download,
                 pending: PendingFiles | None = None) -> None:
        self.rapport = rapport
        self.fetch = fetch
        self.pending = pending or PendingFiles(rapport.db, rapport.clock, kind=IMPORT_KIND)

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
        token = await self.rapport.with_user(
            actor, lambda ctx: self.pending.put(ctx, filename, data))
        if token is None:
            return NOT_KEPT
        return cards.import_preview_card(filename, reply.text, token=token)

    async def waiting(self, actor: Actor, data: Mapping[str, Any]) -> Waiting | None:
        """The file a clicked import card names, when it is `actor`'s and still waiting
        (None too when the database can't say: the click then meets that itself)."""
        token = data.get("token")
        if not isinstance(token, str):
            return None
        try:
            waiting = await self.pending.find(token)
        except STORE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None
        return waiting if waiting is not None and waiting.owner == owner_of(actor) else None

    async def action(self, actor: Actor, data: Mapping[str, Any]
                     ) -> tuple[dict[str, Any] | None, str]:
        """Import or Cancel clicked: (the card now shown, or None; a message)."""
        token = data.get("token")
        verb = data.get("verb")
        if not isinstance(token, str) or verb not in (cards.IMPORT_CONFIRM, cards.IMPORT_CANCEL):
            return None, EXPIRED
        try:
            waiting = await self.pending.find(token)
            if waiting is None:
                return None, EXPIRED
            # Checked before anything is written: someone else's click changes nothing.
            if waiting.owner != owner_of(actor):
                logger.info("import click by another user refused")
                return None, NOT_YOURS
            item = await self.pending.claim(token, waiting)
        except STORE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None, TRY_AGAIN
        if item is None or item.content is None:
            return None, EXPIRED
        if verb == cards.IMPORT_CANCEL:
            return cards.import_result_card(item.filename, CANCELLED, ok=False), CANCELLED
        reply = await self.rapport.handle_import(actor, item.filename, item.content,
                                                 dry_run=False)
        if not reply.ok and not (isinstance(reply.view, ImportView) and reply.view.errors):
            # A passing failure (database busy): the same click may work in a moment.
            await self.pending.restore(token, waiting, item)
            return None, reply.text
        return cards.import_result_card(item.filename, reply.text, ok=reply.ok), reply.text
