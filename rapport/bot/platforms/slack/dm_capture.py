"""Slack DM capture (issue 16): with the user's opt-in, a direct message between the user and
one of their contacts is logged as a `chat` touchpoint for that day.

- `settings capture slack on` (core: rapport.bot.core.chat_capture) asks `start` for a private,
  single-use link to Slack's OAuth consent page requesting the user-token scopes in
  CAPTURE_SCOPES; Slack redirects to CALLBACK_PATH, `complete` stores the user token encrypted
  and confirms by DM.
- Slack then sends `message.im` user events (app_manifest.yml) for the user's DMs; the message
  listener (messages.py) hands those to `on_message`, which reads the event's channel, sender
  and timestamp only. Message text, blocks, files and attachments are never read, stored,
  logged or sent anywhere.
- `settings capture slack off` and `forget me` call `stop`: auth.revoke with the user token,
  then the grant (and the DM channels learnt with it) is deleted.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rapport.bot.connectors.chats.capture import ChatOwner, log_chat_day
from rapport.bot.connectors.cipher import TokenCipher
from rapport.bot.core.context import UserContext
from rapport.bot.core.users import fresh_context
from rapport.bot.platforms.slack.client import make_client
from rapport.bot.platforms.slack.install import PLATFORM
from rapport.bot.platforms.slack.manifest import public_base_url
from rapport.bot.platforms.slack.platform import team_of
from rapport.bot.service.pages import consent_result_page
from rapport.storage.models import (
    SLACK_DM_SOURCE,
    ChatChannel,
    ChatGrant,
    OAuthState,
    User,
    Workspace,
)
from rapport.storage.uow import Database

if TYPE_CHECKING:
    from rapport.bot.platforms.slack.platform import SlackPlatform

logger = logging.getLogger(__name__)

PROVIDER = "slack"
CALLBACK_PATH = "/slack/capture/callback"
# im:history: Slack delivers message.im events for the user's DMs (the only way to see them);
# im:read: conversations.info tells who is on the other side of a DM the user wrote in.
CAPTURE_SCOPES = ("im:history", "im:read")
STATE_TTL = timedelta(minutes=10)
# Message subtypes that are a person writing (others are edits, deletions, joins...).
_WRITTEN_SUBTYPES = (None, "", "file_share", "me_message", "thread_broadcast")

REASONS: dict[str, str] = {
    "connected": "Done: Rapport now logs your Slack DMs with your people (who and when, never "
                 "what). You can close this tab.",
    "unknown_state": "This link was already used or is not one Rapport made. Ask Rapport for "
                     "a new one with “settings capture slack on”.",
    "expired": "This link has expired. Ask Rapport for a new one with “settings capture slack "
               "on”.",
    "denied": "Not turned on: access was not granted. Nothing was stored. To try again, "
              "type “settings capture slack on” to Rapport.",
    "scope_missing": "Not turned on: Slack did not grant access to your direct messages. "
                     "Nothing was stored. To try again, type “settings capture slack on” to "
                     "Rapport.",
    "wrong_user": "Not turned on: this link was made for another Slack account. Nothing was "
                  "stored; ask Rapport for your own link.",
    "exchange_failed": "Not turned on: Slack refused to complete the grant. Try “settings "
                       "capture slack on” again.",
}
CONFIRMATION = ("Rapport now logs your Slack DMs with your people as conversations: one "
                "“chat” per person per day, marked “logged from your Slack DMs” in “show”. It "
                "keeps only who and when, never the text. “settings capture slack off” stops "
                "it.")



def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def authorize_url_for(api_url: str) -> str:
    """Slack's consent page beside its Web API (https://slack.com/api/ -> /oauth/v2/authorize)."""
    base = api_url if api_url.endswith("/") else api_url + "/"
    return urllib.parse.urljoin(base, "../oauth/v2/authorize")


def delivered_for_user(body: Mapping[str, Any]) -> bool:
    """Whether Slack sent this event for a person's user token (a user event such as
    message.im for someone who opted in), not for the bot."""
    authorizations = body.get("authorizations")
    if not isinstance(authorizations, list):
        return False
    return any(isinstance(a, dict) and a.get("is_bot") is False for a in authorizations)


@dataclass(frozen=True, slots=True)
class _Grant:
    id: int
    workspace_id: int
    user_id: int
    external_user_id: str
    tz: str
    token_encrypted: str
    counterpart: str | None


@dataclass(frozen=True, slots=True)
class ConsentResult:
    ok: bool
    reason: str
    user_id: int | None = None


class SlackDmCapture:
    """The Slack side of chat capture: consent, revocation, and DM events (see module doc)."""

    def __init__(self, *, platform: SlackPlatform, cipher: TokenCipher, client_id: str,
                 client_secret: str, redirect_uri: str, authorize_url: str,
                 clock: Callable[[], datetime], state_ttl: timedelta = STATE_TTL) -> None:
        self.platform = platform
        self.cipher = cipher
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.authorize_url = authorize_url
        self.clock = clock
        self.state_ttl = state_ttl
        self.api = make_client(platform.runtime.settings)

    @property
    def db(self) -> Database:
        return self.platform.rapport.db

    # ------------------------------------------------------------------ consent
    async def start(self, ctx: UserContext) -> str:
        """A consent URL for this user, valid once for STATE_TTL; answered privately."""
        now = self.clock()
        state = secrets.token_urlsafe(32)

        def save(session: Session) -> None:
            # Cached ids may be another user's since a `forget me` elsewhere (SQLite reuses
            # a deleted row's id): `StaleUser`, and the command runs again with fresh ones.
            fresh_context(session, ctx)
            # Expired consents are of no use to anyone: sweep them while we are here.
            session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
            session.add(OAuthState(
                state_hash=state_hash(state), workspace_id=ctx.workspace_id,
                user_id=ctx.user_id, provider=PROVIDER,
                # Slack's confidential-client flow has no PKCE verifier to keep.
                code_verifier_encrypted=self.cipher.encrypt(""),
                expires_at=now + self.state_ttl, created_at=now))

        await self.db.run(save)
        # User scopes only (no `scope`): the bot's grant is the install's, untouched.
        params = {"client_id": self.client_id, "user_scope": ",".join(CAPTURE_SCOPES),
                  "redirect_uri": self.redirect_uri, "state": state}
        if ctx.workspace_external_id:
            params["team"] = ctx.workspace_external_id
        return f"{self.authorize_url}?{urllib.parse.urlencode(params)}"

    async def complete(self, *, state: str | None, code: str | None,
                       error: str | None = None) -> ConsentResult:
        """Finish a consent from Slack's redirect; the state is consumed whatever happens."""
        now = self.clock()
        if not state:
            return ConsentResult(False, "unknown_state")

        def take(session: Session) -> Any:
            return session.execute(
                delete(OAuthState).where(OAuthState.state_hash == state_hash(state),
                                         OAuthState.provider == PROVIDER)
                .returning(OAuthState.user_id, OAuthState.workspace_id,
                           OAuthState.expires_at)).first()

        row = await self.db.run(take)
        if row is None:
            return ConsentResult(False, "unknown_state")
        user_id, workspace_id, expires_at = row
        if expires_at <= now:
            return ConsentResult(False, "expired", user_id)
        if error or not code:
            return ConsentResult(False, "denied", user_id)
        try:
            response = await self.api.oauth_v2_access(
                client_id=self.client_id, client_secret=self.client_secret, code=code,
                redirect_uri=self.redirect_uri)
        except SlackApiError as failure:
            logger.warning("slack capture consent refused",
                           extra={"user_id": user_id, "error": failure.response.get("error")})
            return ConsentResult(False, "exchange_failed", user_id)
        authed = response.get("authed_user") or {}
        token = authed.get("access_token")
        granted = set(str(authed.get("scope") or "").split(","))
        expected = await self.db.run(lambda session: session.execute(
            select(User.external_id, Workspace.external_id)
            .join(Workspace, Workspace.id == User.workspace_id)
            .where(User.id == user_id)).first(), write=False)
        team = (response.get("team") or {}).get("id")
        if not token:
            return ConsentResult(False, "scope_missing", user_id)
        if expected is None or authed.get("id") != expected[0] or team != expected[1]:
            # Someone else opened the link: their token is none of this user's business.
            await self._revoke(str(token))
            return ConsentResult(False, "wrong_user", user_id)
        if not set(CAPTURE_SCOPES) <= granted:
            await self._revoke(str(token))
            return ConsentResult(False, "scope_missing", user_id)
        await self._store(workspace_id, user_id, str(authed["id"]), str(token),
                          ",".join(sorted(granted)), now)
        logger.info("slack dm capture on", extra={"user_id": user_id})
        await self.platform.runtime.tell(user_id, CONFIRMATION)
        return ConsentResult(True, "connected", user_id)

    async def _store(self, workspace_id: int, user_id: int, external_user_id: str, token: str,
                     scopes: str, now: datetime) -> None:
        values = dict(external_user_id=external_user_id,
                      token_encrypted=self.cipher.encrypt(token), scopes=scopes,
                      granted_at=now)

        def upsert(session: Session) -> None:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # One grant per user: a second consent replaces the first.
            session.execute(
                insert(ChatGrant)
                .values(workspace_id=workspace_id, user_id=user_id, provider=PROVIDER,
                        **values)
                .on_conflict_do_update(index_elements=[ChatGrant.user_id, ChatGrant.provider],
                                       set_=values))

        await self.db.run(upsert)

    # ------------------------------------------------------------------ off, forget me
    async def stop(self, user_id: int) -> bool | None:
        """Revoke the user token at Slack and delete the grant; None when there was none."""
        def read(session: Session) -> str | None:
            return session.scalar(select(ChatGrant.token_encrypted).where(
                ChatGrant.user_id == user_id, ChatGrant.provider == PROVIDER))

        encrypted = await self.db.run(read, write=False)

        def forget(session: Session) -> None:
            session.execute(delete(ChatGrant).where(ChatGrant.user_id == user_id,
                                                    ChatGrant.provider == PROVIDER))
            session.execute(delete(OAuthState).where(OAuthState.user_id == user_id,
                                                     OAuthState.provider == PROVIDER))

        if encrypted is None:
            await self.db.run(forget)
            return None
        revoked = await self._revoke(self.cipher.decrypt(encrypted))
        await self.db.run(forget)
        logger.info("slack dm capture off", extra={"user_id": user_id, "revoked": revoked})
        return revoked

    async def forget_user(self, user_id: int) -> None:
        await self.stop(user_id)

    async def drop_revoked(self, team_id: str, user_ids: Iterable[str] | None = None) -> int:
        """Slack revoked these users' tokens (tokens_revoked), or every token of the team
        (`user_ids` None: app_uninstalled): delete their grants; returns how many."""
        wanted = None if user_ids is None else sorted(set(user_ids))

        def drop(session: Session) -> int:
            workspaces = select(Workspace.id).where(Workspace.platform == PLATFORM,
                                                    Workspace.external_id == team_id)
            statement = delete(ChatGrant).where(ChatGrant.provider == PROVIDER,
                                                ChatGrant.workspace_id.in_(workspaces))
            if wanted is not None:
                statement = statement.where(ChatGrant.external_user_id.in_(wanted))
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]

        if wanted == []:
            return 0
        dropped = await self.db.run(drop)
        if dropped:
            logger.info("slack dm capture grants dropped", extra={"grants": dropped})
        return dropped

    async def _revoke(self, token: str) -> bool:
        """auth.revoke; True when Slack confirmed or the token was already dead."""
        try:
            response = await self.api.auth_revoke(token=token)
        except SlackApiError as failure:
            error = failure.response.get("error")
            logger.warning("slack token revocation failed", extra={"error": error})
            return error in ("invalid_auth", "token_revoked", "account_inactive")
        except (OSError, TimeoutError) as failure:
            logger.warning("slack token revocation failed",
                           extra={"error": type(failure).__name__})
            return False
        return bool(response.get("revoked", True))

    # ------------------------------------------------------------------ events
    async def on_message(self, event: Mapping[str, Any], body: Mapping[str, Any],
                         bot_user_id: str | None) -> bool:
        """A message.im event Slack sent for a user's token. Logs the day for each opted-in
        member whose counterpart is a contact; True when the DM is the bot's own (a command
        for the message listener to run). Reads channel, user and ts only."""
        subtype = event.get("subtype")
        channel = str(event.get("channel") or "")
        sender = str(event.get("user") or "")
        at = _moment(event.get("ts"))
        if subtype not in _WRITTEN_SUBTYPES or event.get("bot_id") or not channel \
                or not sender or at is None:
            return False
        team_id = team_of(dict(body))
        candidates = {sender} | {str(a.get("user_id")) for a in body.get("authorizations") or ()
                                 if isinstance(a, dict) and a.get("user_id")}
        grants = await self.db.run(lambda session: _grants(session, team_id, candidates,
                                                           channel), write=False)
        bot_dm = False
        for grant in grants:
            counterpart = sender if sender != grant.external_user_id else grant.counterpart
            if counterpart is None:
                counterpart = await self._learn_counterpart(grant, channel)
            if counterpart is None:
                continue
            if counterpart == bot_user_id:
                bot_dm = True
                continue
            owner = ChatOwner(workspace_id=grant.workspace_id, user_id=grant.user_id,
                              tz=grant.tz)
            logged = await self.db.run(functools.partial(
                log_chat_day, owner=owner, counterpart_external_id=counterpart, at=at,
                source=SLACK_DM_SOURCE, provider=PROVIDER, now=self.clock()))
            logger.debug("slack dm seen", extra={"user_id": grant.user_id, "logged": logged})
        return bot_dm

    async def _learn_counterpart(self, grant: _Grant, channel: str) -> str | None:
        """Who is on the other side of the user's DM `channel` (conversations.info, once)."""
        try:
            response = await self.api.conversations_info(
                token=self.cipher.decrypt(grant.token_encrypted), channel=channel)
        except SlackApiError as failure:
            logger.info("slack dm lookup failed", extra={"error": failure.response.get("error")})
            return None
        info = response.get("channel") or {}
        counterpart = info.get("user")
        if not info.get("is_im") or not isinstance(counterpart, str) or not counterpart:
            return None
        now = self.clock()

        def remember(session: Session) -> None:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(ChatChannel)
                .values(grant_id=grant.id, channel_id=channel,
                        counterpart_external_id=counterpart, created_at=now)
                .on_conflict_do_nothing(index_elements=[ChatChannel.grant_id,
                                                        ChatChannel.channel_id]))

        await self.db.run(remember)
        return counterpart

    # ------------------------------------------------------------------ web
    async def handle_callback(self, request: web.Request) -> web.Response:
        """GET CALLBACK_PATH: Slack's redirect after consent; a small page, never an echo."""
        query = request.query
        result = await self.complete(state=query.get("state"), code=query.get("code"),
                                     error=query.get("error"))
        title = "Slack DMs: on" if result.ok else "Slack DMs: not turned on"
        return consent_result_page(title, REASONS[result.reason], ok=result.ok)


def _moment(ts: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(ts)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _grants(session: Session, team_id: str, candidates: Iterable[str], channel: str
            ) -> list[_Grant]:
    """Opted-in members of this DM: the sender, the user Slack authorized the event for, and
    whoever learnt this channel before; with the counterpart when it is known."""
    g, c = ChatGrant, ChatChannel
    rows = session.execute(
        select(g.id, g.workspace_id, g.user_id, g.external_user_id, User.tz,
               g.token_encrypted, c.counterpart_external_id)
        .join(Workspace, Workspace.id == g.workspace_id)
        .join(User, User.id == g.user_id)
        .outerjoin(c, (c.grant_id == g.id) & (c.channel_id == channel))
        .where(Workspace.platform == PLATFORM, Workspace.external_id == team_id,
               g.provider == PROVIDER, User.active.is_(True),
               or_(g.external_user_id.in_(sorted(candidates)),
                   c.id.is_not(None))))
    return [_Grant(*row) for row in rows]


def build_dm_capture(platform: SlackPlatform) -> SlackDmCapture | None:
    """Capture when Slack OAuth, a public URL and token encryption are all set up."""
    settings = platform.runtime.settings
    store = platform.installations.store
    if store is None or not settings.slack_client_id or not settings.slack_client_secret \
            or not settings.public_url:
        return None
    if store.secrets is None:
        # User tokens are only ever stored encrypted.
        logger.warning("slack dm capture off: no RAPPORT_ENCRYPTION_KEY")
        return None
    return SlackDmCapture(
        platform=platform, cipher=store.secrets, client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        redirect_uri=public_base_url(settings.public_url) + CALLBACK_PATH,
        authorize_url=authorize_url_for(settings.slack_api_url), clock=platform.runtime.clock)


def register(platform: SlackPlatform) -> None:
    """Offer capture to the core when this deployment can do it."""
    capture = build_dm_capture(platform)
    platform.dm_capture = capture
    if capture is not None:
        platform.rapport.chat_captures[PROVIDER] = capture
