"""Pytest fixtures around the Teams fakes (the root conftest lists this in pytest_plugins)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.onedrive_upload import OneDriveUploadFake


@pytest_asyncio.fixture
async def bot_connector() -> AsyncIterator[BotConnectorFake]:
    """A started Bot Connector fake on a free loopback port, stopped after the test."""
    async with BotConnectorFake() as connector:
        yield connector


@pytest_asyncio.fixture
async def onedrive_upload() -> AsyncIterator[OneDriveUploadFake]:
    """A started OneDrive upload-session fake (HTTPS under a SharePoint name), stopped after."""
    fake = OneDriveUploadFake()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
