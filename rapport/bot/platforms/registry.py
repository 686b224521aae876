"""Which platforms this process serves: each platform package plugs in here, nowhere else."""

from __future__ import annotations

from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import RouteInstaller
from rapport.scheduler.messenger import Messenger


def installers_for(settings: Settings) -> list[RouteInstaller]:
    """Route installers of the configured platforms (Slack, Teams)."""
    installers: list[RouteInstaller] = []
    if settings.slack_configured:
        from rapport.bot.platforms.slack import slack_installer

        installers.append(slack_installer())
    if settings.teams_configured:
        from rapport.bot.platforms.teams.adapter import check_settings
        from rapport.bot.platforms.teams.app import install_teams

        check_settings(settings)  # refuse to start (e.g. emulator mode off loopback) up front
        installers.append(install_teams)
    return installers


async def messengers_for(runtime: Runtime) -> list[Messenger]:
    """Messengers of the configured platforms, for proactive nudges."""
    messengers: list[Messenger] = []
    if runtime.settings.slack_configured:
        from rapport.bot.platforms.slack import messenger_for

        messengers.append(messenger_for(runtime.settings, runtime))
    if runtime.settings.teams_configured:
        from rapport.bot.platforms.teams.app import teams_messenger

        messengers.append(teams_messenger(runtime))
    return messengers
