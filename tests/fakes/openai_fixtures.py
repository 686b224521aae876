"""Pytest fixtures around FakeOpenAI; registered through ``pytest_plugins`` in the root conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.openai_api import FAKE_API_VERSION, FAKE_DEPLOYMENT, FAKE_MODEL, FakeOpenAI

__all__ = ["fake_azure_openai_env", "fake_openai", "fake_openai_env"]


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A started FakeOpenAI, fresh for each test."""
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake_openai_env(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """Point the OPENAI_* / RAPPORT_AI_MODEL settings at the fake, Azure settings removed."""
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "RAPPORT_AI_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", fake_openai.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("RAPPORT_AI_MODEL", FAKE_MODEL)
    return fake_openai


@pytest.fixture
def fake_azure_openai_env(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """Point the AZURE_OPENAI_* settings at the fake, plain OpenAI settings removed."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAPPORT_AI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake_openai.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", fake_openai.api_key)
    monkeypatch.setenv("OPENAI_API_VERSION", FAKE_API_VERSION)
    monkeypatch.setenv("RAPPORT_AI_DEPLOYMENT", FAKE_DEPLOYMENT)
    return fake_openai
