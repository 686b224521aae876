"""FakeOpenAI driven by the real openai async clients over HTTP."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes.openai_api import (
    FAKE_API_VERSION,
    FAKE_DEPLOYMENT,
    FAKE_MODEL,
    ODD_REPLIES,
    FakeOpenAI,
)

# Lets this file run before the root conftest registers the plugin; registering twice is a no-op.
pytest_plugins = ["tests.fakes.openai_fixtures"]

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Write a short, warm check-in."},
    {"role": "user", "content": "Contact: Ana. Topic: the launch."},
]


def _client(fake: FakeOpenAI, **kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key, **kwargs)


async def test_completion_returns_reply_and_records_messages(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply_text = "Hi Ana, how did the launch go?"
    async with _client(fake_openai) as client:
        completion = await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert completion.choices[0].message.content == "Hi Ana, how did the launch go?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == FAKE_MODEL
    assert completion.usage is not None and completion.usage.total_tokens > 0
    request = fake_openai.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {fake_openai.api_key}"
    assert request.messages == MESSAGES
    assert request.json["model"] == FAKE_MODEL
    assert request.deployment is None and request.api_version is None


async def test_azure_client_uses_deployment_path_api_version_and_api_key(
    fake_openai: FakeOpenAI,
) -> None:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=fake_openai.azure_endpoint,
        api_version=FAKE_API_VERSION,
        api_key=fake_openai.api_key,
    )
    async with client:
        completion = await client.chat.completions.create(model=FAKE_DEPLOYMENT, messages=MESSAGES)

    assert completion.choices[0].message.content == fake_openai.reply_text
    request = fake_openai.last_request
    assert request.path == f"/openai/deployments/{FAKE_DEPLOYMENT}/chat/completions"
    assert request.deployment == FAKE_DEPLOYMENT
    assert request.api_version == FAKE_API_VERSION
    assert request.headers["api-key"] == fake_openai.api_key
    assert "Authorization" not in request.headers


async def test_rate_limit_is_retried_by_the_sdk_honouring_retry_after_ms(
    fake_openai: FakeOpenAI,
) -> None:
    # retry-after-ms=10 replaces the SDK's own 0.375-0.5 s first backoff.
    fake_openai.fail_next(429, retry_after=0.01)
    async with _client(fake_openai, max_retries=2) as client:
        completion = await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert completion.choices[0].message.content == fake_openai.reply_text
    # What the client did, not how long it took: one retry, sent at least the advised 10 ms
    # after the 429 (its own first backoff would be 0.375-0.5 s; only a lower bound is safe).
    first, retry = fake_openai.requests
    assert [r.headers["x-stainless-retry-count"] for r in (first, retry)] == ["0", "1"]
    assert retry.received_at - first.received_at >= timedelta(milliseconds=10)
    assert fake_openai.pending_failures == 0


async def test_rate_limit_beyond_max_retries_raises_rate_limit_error(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.fail_next(429, count=3, retry_after=0.01)
    async with _client(fake_openai, max_retries=2) as client:
        with pytest.raises(openai.RateLimitError) as raised:
            await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["retry-after-ms"] == "10"
    assert len(fake_openai.requests) == 3


@pytest.mark.parametrize("status", [500, 503])
async def test_server_error_without_retries_raises_internal_server_error(
    fake_openai: FakeOpenAI, status: int
) -> None:
    fake_openai.fail_next(status)
    async with _client(fake_openai, max_retries=0) as client:
        with pytest.raises(openai.InternalServerError) as raised:
            await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert raised.value.status_code == status
    assert raised.value.type == "server_error"
    assert raised.value.request_id is not None
    assert len(fake_openai.requests) == 1


async def test_latency_beyond_client_timeout_raises_timeout_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.latency = 2.0
    async with _client(fake_openai, max_retries=0, timeout=0.1) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)


async def test_wrong_key_raises_authentication_error(fake_openai: FakeOpenAI) -> None:
    async with openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key="sk-wrong") as client:
        with pytest.raises(openai.AuthenticationError) as raised:
            await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert raised.value.code == "invalid_api_key"
    assert raised.value.type == "invalid_request_error"


async def test_unknown_deployment_raises_not_found(fake_openai: FakeOpenAI) -> None:
    fake_openai.known_models = {FAKE_DEPLOYMENT}
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=fake_openai.azure_endpoint,
        api_version=FAKE_API_VERSION,
        api_key=fake_openai.api_key,
        max_retries=0,
    )
    async with client:
        with pytest.raises(openai.NotFoundError) as raised:
            await client.chat.completions.create(model="typo-deployment", messages=MESSAGES)

    assert raised.value.code == "DeploymentNotFound"


async def test_reply_with_sees_the_request_body(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply_with(lambda body: f"echo: {body['messages'][-1]['content']}")
    async with _client(fake_openai) as client:
        completion = await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert completion.choices[0].message.content == "echo: Contact: Ana. Topic: the launch."


@pytest.mark.parametrize("name", sorted(ODD_REPLIES))
async def test_odd_replies_reach_the_client_unchanged(fake_openai: FakeOpenAI, name: str) -> None:
    fake_openai.reply_text = ODD_REPLIES[name]
    async with _client(fake_openai) as client:
        completion = await client.chat.completions.create(model=FAKE_MODEL, messages=MESSAGES)

    assert completion.choices[0].message.content == ODD_REPLIES[name]


async def test_env_fixtures_configure_clients_built_from_the_environment(
    fake_openai_env: FakeOpenAI,
) -> None:
    # The SDK reads OPENAI_API_KEY and OPENAI_BASE_URL itself when given no arguments.
    async with openai.AsyncOpenAI() as client:
        await client.chat.completions.create(
            model=os.environ["RAPPORT_AI_MODEL"],
            messages=MESSAGES,
        )

    assert fake_openai_env.last_request.json["model"] == FAKE_MODEL


async def test_azure_env_fixture_configures_azure_client_from_the_environment(
    fake_azure_openai_env: FakeOpenAI,
) -> None:
    # The SDK reads AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and OPENAI_API_VERSION itself.
    async with openai.AsyncAzureOpenAI() as client:
        await client.chat.completions.create(
            model=os.environ["RAPPORT_AI_DEPLOYMENT"],
            messages=MESSAGES,
        )

    assert fake_azure_openai_env.last_request.deployment == FAKE_DEPLOYMENT
    assert fake_azure_openai_env.last_request.api_version == os.environ["OPENAI_API_VERSION"]
