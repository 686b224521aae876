"""The AI provider behind drafts: any OpenAI-compatible server or Azure OpenAI, via `openai`.

Only this module talks to a model. It sends exactly the request body it is given and returns the
raw answer text, which callers must treat as untrusted (see bot/drafts.py `sanitise`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)

# The SDK retries 408/409/429/5xx and connection errors with exponential backoff and honours
# Retry-After; two retries keep the worst case bounded by RAPPORT_AI_TIMEOUT_SECONDS anyway.
MAX_RETRIES = 2
DEFAULT_AZURE_API_VERSION = "2024-10-21"
# Local servers (Ollama, llama.cpp) ignore the key, but the SDK insists on one.
NO_KEY = "not-needed"


class AISettings(Protocol):
    """The provider settings this module reads (`rapport.bot.service.config.Settings`)."""

    @property
    def openai_api_key(self) -> str | None: ...
    @property
    def openai_base_url(self) -> str | None: ...
    @property
    def ai_model(self) -> str: ...
    @property
    def azure_openai_endpoint(self) -> str | None: ...
    @property
    def azure_openai_api_key(self) -> str | None: ...
    @property
    def openai_api_version(self) -> str | None: ...
    @property
    def ai_deployment(self) -> str | None: ...
    @property
    def ai_timeout_seconds(self) -> float: ...


class ProviderError(Exception):
    """The provider gave no usable answer; `user_message` says why in plain words."""

    def __init__(self, kind: str, user_message: str, status: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.user_message = user_message
        self.status = status


@dataclass
class AIProvider:
    """One configured chat-completions endpoint with its model (or Azure deployment)."""

    name: str
    model: str
    client: openai.AsyncOpenAI
    timeout_seconds: float

    async def complete(self, body: dict[str, Any]) -> str:
        """Send `body` (model, messages, limits) and return the answer text; raise ProviderError."""
        import openai  # lazy: importing the SDK costs over a second of start-up

        try:
            # The SDK's timeout is per attempt; this caps attempts and backoff together.
            async with asyncio.timeout(self.timeout_seconds):
                completion = await self.client.chat.completions.create(**body)
        except (TimeoutError, openai.APITimeoutError) as failure:
            logger.warning("ai provider timed out", extra={"provider": self.name,
                                                           "error": type(failure).__name__})
            raise ProviderError("timeout", "The AI provider took too long to answer.") from None
        except openai.APIStatusError as failure:
            status = failure.status_code
            logger.warning("ai provider refused", extra={"provider": self.name, "status": status})
            if status == 429:
                message = "The AI provider is busy right now (rate limited)."
            elif status in (401, 403):
                message = "The AI provider refused the request (check the API key setup)."
            elif status == 404:
                message = "The AI provider does not know the configured model or deployment."
            else:
                message = "The AI provider had a problem answering."
            raise ProviderError(f"http_{status}", message, status) from None
        except openai.APIError as failure:
            logger.warning("ai provider unreachable", extra={"provider": self.name,
                                                             "error": type(failure).__name__})
            raise ProviderError("unreachable", "I couldn't reach the AI provider.") from None
        try:
            content = completion.choices[0].message.content
        except (IndexError, AttributeError):
            content = None
        if not isinstance(content, str):
            logger.warning("ai provider answered without text", extra={"provider": self.name})
            raise ProviderError("empty", "The AI provider answered with nothing usable.")
        return content

    async def close(self) -> None:
        """Release the HTTP connection pool."""
        await self.client.close()


def provider_from_settings(settings: AISettings) -> AIProvider | None:
    """The configured provider (Azure first, then OpenAI-compatible), or None for templates."""
    # The SDK logs whole request bodies (prompts) at DEBUG; ours must never reach a log.
    logging.getLogger("openai").setLevel(logging.INFO)
    if not (settings.azure_openai_endpoint and settings.ai_deployment) and not (
            settings.openai_api_key or settings.openai_base_url):
        return None
    import openai  # lazy: only when a provider is configured
    timeout = settings.ai_timeout_seconds
    if settings.azure_openai_endpoint and settings.ai_deployment:
        client: openai.AsyncOpenAI = openai.AsyncAzureOpenAI(
            azure_endpoint=settings.azure_openai_endpoint,
            api_key=settings.azure_openai_api_key or NO_KEY,
            api_version=settings.openai_api_version or DEFAULT_AZURE_API_VERSION,
            azure_deployment=settings.ai_deployment,
            timeout=timeout, max_retries=MAX_RETRIES)
        return AIProvider(name="azure-openai", model=settings.ai_deployment, client=client,
                          timeout_seconds=timeout)
    if settings.openai_api_key or settings.openai_base_url:
        client = openai.AsyncOpenAI(api_key=settings.openai_api_key or NO_KEY,
                                    base_url=settings.openai_base_url or None,
                                    timeout=timeout, max_retries=MAX_RETRIES)
        host = urlparse(settings.openai_base_url or "").hostname
        name = "openai" if host in (None, "api.openai.com") else "openai-compatible"
        return AIProvider(name=name, model=settings.ai_model, client=client,
                          timeout_seconds=timeout)
    return None
