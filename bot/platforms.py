"""Which platforms this process serves: each platform package plugs in here, nowhere else."""

from __future__ import annotations

from bot.config import Settings
from bot.runtime import Runtime
from bot.server import RouteInstaller
from scheduler.messenger import Messenger


def installers_for(settings: Settings) -> list[RouteInstaller]:
    """Route installers of the configured platforms (Slack, Teams)."""
    installers: list[RouteInstaller] = []
    del settings
    return installers


async def messengers_for(runtime: Runtime) -> list[Messenger]:
    """Messengers of the configured platforms, for proactive nudges."""
    del runtime
    return []
