"""The botbuilder ``CloudAdapter`` built from Settings, and the emulator-mode safety check."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from rapport.bot.service.config import MICROSOFT_APP_TYPES, Settings, is_loopback

logger = logging.getLogger(__name__)


class TeamsConfigError(ValueError):
    """The Teams settings cannot work (or would be unsafe); the message says how to fix it."""


@dataclass(frozen=True)
class BotIdentity:
    """The attribute names ``ConfigurationBotFrameworkAuthentication`` reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def emulator_mode(settings: Settings) -> bool:
    """No app id: botbuilder authenticates nothing (Bot Framework Emulator, local tests)."""
    return not (settings.microsoft_app_id or "").strip()


def check_settings(settings: Settings) -> None:
    """Refuse settings that cannot work or would expose an unauthenticated bot endpoint."""
    if emulator_mode(settings):
        if not is_loopback(settings.host):
            raise TeamsConfigError(
                f"Teams is enabled without MicrosoftAppId, which turns off authentication "
                f"(Bot Framework Emulator mode); that is only allowed when RAPPORT_HOST is a "
                f"loopback address, not {settings.host!r}. Set MicrosoftAppId and "
                f"MicrosoftAppPassword, or listen on 127.0.0.1.")
        return
    # What botbuilder's ConfigurationServiceClientCredentialFactory needs of each type, asked
    # here so that a missing one is a line before any migration, not its bare Exception later.
    app_type = settings.microsoft_app_type
    if app_type not in MICROSOFT_APP_TYPES:
        raise TeamsConfigError(f"MicrosoftAppType must be one of "
                               f"{', '.join(MICROSOFT_APP_TYPES)}, "
                               f"not {app_type!r}.")
    if app_type in ("SingleTenant", "UserAssignedMSI") \
            and not (settings.microsoft_app_tenant_id or "").strip():
        raise TeamsConfigError(f"MicrosoftAppType={app_type} needs MicrosoftAppTenantId.")
    # A managed identity has no client secret.
    if app_type != "UserAssignedMSI" and not settings.microsoft_app_password:
        raise TeamsConfigError(f"MicrosoftAppType={app_type} needs MicrosoftAppPassword "
                               f"(the client secret of the bot's app registration).")


def bot_app_id(settings: Settings) -> str:
    """The app id botbuilder expects for proactive calls ("" in emulator mode)."""
    return (settings.microsoft_app_id or "").strip()


def build_adapter(settings: Settings, *, serves_requests: bool = True) -> CloudAdapter:
    """A CloudAdapter authenticated as the configured bot (or unauthenticated on loopback).

    Only the adapter behind /api/messages (`serves_requests`) warns about emulator mode: the
    messenger's adapter accepts nothing, and one warning per start is enough to be seen.
    """
    check_settings(settings)
    if emulator_mode(settings) and serves_requests:
        logger.warning("TEAMS EMULATOR MODE: no MicrosoftAppId, /api/messages accepts "
                       "unauthenticated activities; allowed only because the server listens "
                       "on loopback", extra={"host": settings.host})
    identity = BotIdentity(
        APP_ID=bot_app_id(settings),
        APP_PASSWORD=settings.microsoft_app_password or "",
        APP_TYPE=settings.microsoft_app_type if not emulator_mode(settings) else "MultiTenant",
        APP_TENANTID=settings.microsoft_app_tenant_id or "",
    )
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(identity))
    adapter.on_turn_error = _on_turn_error
    return adapter


async def _on_turn_error(turn_context: TurnContext, failure: Exception) -> None:
    # Type and code location only: exception text from the Connector can echo message content.
    frames = traceback.extract_tb(failure.__traceback__)[-3:]
    logger.error("teams turn failed", extra={
        "error": type(failure).__name__, "activity_type": turn_context.activity.type,
        "where": " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames)})
    if turn_context.activity.type == "message":
        try:
            await turn_context.send_activity("Sorry, something went wrong on my side. "
                                             "Please try again in a moment.")
        except Exception as second:  # the Connector itself may be what failed
            logger.warning("could not report the failure", extra={"error": type(second).__name__})
