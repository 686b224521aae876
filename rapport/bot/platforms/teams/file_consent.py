"""An export too large for a Teams message, sent as a file through Teams' file-consent flow.

In the personal chat (the app package declares ``supportsFiles``) the bot sends a
FileConsentCard; when the person accepts, Teams creates the file in their OneDrive and sends a
``fileConsent/invoke`` with an upload URL; the bot PUTs the bytes there and posts a
FileInfoCard. The card's context carries only a random token. What it stands for waits in the
database (models.PendingFile, kind "export": the token's hash, the person, the file's name)
for a few minutes, so whichever replica the answer reaches, or this process after a restart,
answers it, and:

* only that person's accept counts (the invoke's sender is checked against the row's owner);
* the export is made when they accept, from their rows at that moment, never from bytes kept
  since the offer, and not at all once they said "forget me" (which deletes the row);
* a token is spent by the one answer that deletes its row, so a card accepted twice, on one
  replica or two at once, uploads once.

The upload URL arrives inside the invoke, so it is trusted no more than a download link
(downloads.py): https on a host of ``RAPPORT_TEAMS_FILE_HOSTS`` (the OneDrive and SharePoint
hosts Teams keeps files on), public addresses only, no redirects, and no bot token sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

import aiohttp
from aiohttp.resolver import ThreadedResolver
from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import FileConsentCardResponse, FileUploadInfo

from rapport.bot.core import commands as c
from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.downloads import (
    DownloadRefused,
    FileHostPolicy,
    PublicOnlyResolver,
)
from rapport.bot.platforms.teams.imports import STORE_TROUBLE, PendingFiles, owner_of
from rapport.scheduler import planner

logger = logging.getLogger(__name__)

FILE_CONSENT_CARD = cards.FILE_CONSENT_CARD
FILE_INFO_CARD = cards.FILE_INFO_CARD
FILE_CONSENT_INVOKE = "fileConsent/invoke"
# What the card's context names, so an unrelated consent is never read as an export.
EXPORT_OFFER = "export"
OFFER_MINUTES = 15
MAX_OFFERS_PER_USER = 3
# OneDrive takes an upload session's bytes in ranges that are multiples of 320 KiB (the last
# excepted) and asks for ranges well under 60 MiB; ten of them stay under 4 MB a request.
UPLOAD_CHUNK_BYTES = 10 * 320 * 1024
UPLOAD_TIMEOUT_SECONDS = 60.0
DESCRIPTION = "Everything Rapport stores about your relationships, as JSON."

OFFERED = ("It is too large to show here: choose Allow on the file below and I'll save it to "
           "your OneDrive.")
DECLINED = "OK, I didn't send your export. Type “export” whenever you want it."
OFFER_GONE = (f"This file offer is no longer open (each works once, for {OFFER_MINUTES} "
              "minutes). Type “export” for a new one.")
NOT_YOURS = "This file was offered to someone else, so I sent nothing."
NOT_OFFERED = ("I couldn't prepare the file for you just now. Type “export” again in a "
               "moment.")
NO_DATABASE = ("I can't reach my database right now, so I sent nothing. Choose Allow again in "
               "a moment, or type “export”.")
UPLOAD_FAILED = ("I couldn't put your export into your OneDrive, so nothing was sent. Type "
                 "“export” to try again.")
NOTHING_TO_EXPORT = "Rapport no longer keeps anything about you, so there is nothing to export."
FILES_ARE_PERSONAL = "Rapport sends files only in your personal chat with Rapport."


class UploadFailed(Exception):
    """The upload URL did not take the file (network error, timeout, an HTTP error)."""


class UploadRefused(UploadFailed):
    """The upload URL points somewhere Rapport does not send files (the reason is safe to
    log; the URL itself carries a grant and is never logged)."""


async def upload(url: str, data: bytes, *, policy: FileHostPolicy | None = None,
                 chunk_bytes: int = UPLOAD_CHUNK_BYTES) -> None:
    """PUT `data` to a OneDrive upload session at `url`, in byte ranges of `chunk_bytes`;
    a URL the policy refuses raises UploadRefused before any connection is made."""
    if not data:
        raise UploadFailed("nothing to upload")
    policy = policy or FileHostPolicy()
    try:
        target = policy.check_url(url)
    except DownloadRefused as refusal:
        raise UploadRefused(str(refusal)) from refusal
    inner = policy.resolver() if policy.resolver is not None else ThreadedResolver()
    resolver = PublicOnlyResolver(inner, policy)
    connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False,
                                     ssl=policy.ssl_context if policy.ssl_context else True)
    timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_SECONDS)
    total = len(data)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         trust_env=False) as session:
            for start in range(0, total, chunk_bytes):
                end = min(start + chunk_bytes, total) - 1
                # The session answers 202 until the last range, then 200/201 with the file.
                expected = (200, 201) if end == total - 1 else (202,)
                async with session.put(
                        target, data=data[start:end + 1], allow_redirects=False,
                        headers={"Content-Range": f"bytes {start}-{end}/{total}",
                                 "Content-Length": str(end - start + 1)}) as response:
                    if response.status not in expected:
                        raise UploadFailed(f"status {response.status}")
    except (aiohttp.ClientError, TimeoutError) as failure:
        if resolver.refused:
            raise UploadRefused("address not public") from failure
        raise UploadFailed(type(failure).__name__) from failure


@dataclass(frozen=True, slots=True)
class Answer:
    """A message for the person: text, and a file card when a file went up."""

    text: str
    attachment: Attachment | None = None

    def activity(self) -> Activity:
        """A fresh activity each time (sending fills in ids and addresses)."""
        activity = MessageFactory.text(self.text)
        # Shown as written: the text names people ("Ann <Ops> *Lee*").
        activity.text_format = "plain"
        if self.attachment is not None:
            activity.attachments = [self.attachment]
        return activity


def dated_filename(filename: str, moment: datetime, tz: str | None) -> str:
    """``rapport-export.json`` -> ``rapport-export-2024-05-06.json`` (the person's date)."""
    path = PurePosixPath(filename)
    return f"{path.stem}-{planner.local_date(moment, tz or 'UTC').isoformat()}{path.suffix}"


def _token(context: object) -> str | None:
    if not isinstance(context, Mapping) or context.get("rapport") != EXPORT_OFFER:
        return None
    token = context.get("token")
    return token if isinstance(token, str) and token else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class TeamsFileOffers:
    """Offers an export as a file and answers the person's accept or decline."""

    def __init__(self, rapport: Rapport, *, policy: FileHostPolicy | None = None,
                 offers: PendingFiles | None = None) -> None:
        self.rapport = rapport
        # Where uploads may go; app.py sets the one built from RAPPORT_TEAMS_FILE_HOSTS.
        self.policy = policy or FileHostPolicy()
        self.offers = offers or PendingFiles(
            rapport.db, rapport.clock, kind=EXPORT_OFFER,
            ttl=timedelta(minutes=OFFER_MINUTES), per_user=MAX_OFFERS_PER_USER)

    async def offer(self, actor: Actor, reply: Reply) -> Callable[[], Activity]:
        """Open an offer for the export in `reply` (its bytes are not kept: the file is made
        again on accept); returns the consent message, made afresh for each sending."""
        assert reply.attachment is not None
        filename = dated_filename(reply.attachment.filename, self.rapport.clock(), actor.tz)
        token = await self.rapport.with_user(actor,
                                             lambda ctx: self.offers.put(ctx, filename))
        if token is None:
            return Answer(f"{reply.text}\n\n{NOT_OFFERED}").activity
        consent = cards.file_consent_attachment(
            filename, DESCRIPTION, len(reply.attachment.data),
            {"rapport": EXPORT_OFFER, "token": token})
        answer = Answer(f"{reply.text}\n\n{OFFERED}", consent)
        return answer.activity

    async def answer(self, actor: Actor, response: FileConsentCardResponse, *,
                     personal: bool, keeps_rows: Callable[[Actor], Awaitable[bool]]) -> Answer:
        """What to say to an accept or decline; on an accept of the person's own open offer,
        their export made now and put into their OneDrive. `keeps_rows(actor)` says whether
        Rapport still keeps rows for them (asking stores nothing)."""
        if not personal:
            return Answer(FILES_ARE_PERSONAL)
        token = _token(response.context)
        if token is None:
            return Answer(OFFER_GONE)
        try:
            offer = await self.offers.find(token)
            if offer is None:
                return Answer(OFFER_GONE)
            if offer.owner != owner_of(actor):
                # Someone else's card (forwarded or forged): theirs stays open for them.
                logger.info("file consent by another user refused")
                return Answer(NOT_YOURS)
            # Taken before any wait: a second accept arriving meanwhile, on any replica,
            # finds nothing.
            claimed = await self.offers.claim(token, offer)
        except STORE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return Answer(NO_DATABASE)
        if claimed is None:
            return Answer(OFFER_GONE)
        if response.action != "accept":
            return Answer(DECLINED)
        info = response.upload_info if isinstance(response.upload_info, FileUploadInfo) \
            else FileUploadInfo()
        upload_url, content_url = _text(info.upload_url), _text(info.content_url)
        if not await keeps_rows(actor):
            logger.info("file consent after forget me refused")
            return Answer(NOTHING_TO_EXPORT)
        reply = await self.rapport.execute(actor, c.Export())
        if not reply.ok or reply.attachment is None:
            await self.offers.restore(token, offer, claimed)
            return Answer(reply.text)
        try:
            # The card links there: a link the downloads would refuse is refused here too.
            self.policy.check_url(content_url)
            await upload(upload_url, reply.attachment.data, policy=self.policy)
        except (UploadFailed, DownloadRefused) as failure:
            logger.warning("export upload failed", extra={
                "error": type(failure).__name__, "reason": str(failure)[:80]})
            return Answer(UPLOAD_FAILED)
        logger.info("export uploaded to onedrive", extra={"bytes": len(reply.attachment.data)})
        name = _text(info.name) or claimed.filename
        return Answer(reply.text, cards.file_info_attachment(
            name, content_url, _text(info.unique_id),
            _text(info.file_type) or PurePosixPath(name).suffix.lstrip(".")))
