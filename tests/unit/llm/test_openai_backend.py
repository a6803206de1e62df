"""The OpenAI-compatible backend against a real local HTTP server speaking the same API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from prometheus_client import CollectorRegistry

from agentbus.errors import AgentBusError
from agentbus.llm import (
    ChatMessage,
    CompletionRequest,
    LLMRequestError,
    LLMResponseError,
    LLMTimeoutError,
    LLMUnavailableError,
    StructuredOutputError,
    create_backend,
)
from agentbus.llm.settings import LLMSettings
from tests.support.fake_openai import FakeOpenAI, ScriptedResponse, chat_completion

SettingsFactory = Callable[..., LLMSettings]

AGENT = "writer"


def request(text: str = "Write about tide pools", **kwargs: object) -> CompletionRequest:
    return CompletionRequest(messages=(ChatMessage.user(text),), system="You are a writer.",
                             agent=AGENT, **kwargs)  # type: ignore[arg-type]


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, {"agent": AGENT, "backend": "openai", **labels}) or 0.0


async def test_success_parses_content_usage_and_sends_the_chat_request(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, registry: CollectorRegistry,
) -> None:
    fake_openai.reply("Tide pools are small worlds.", prompt_tokens=21, completion_tokens=7,
                      model="fake-model-2024")
    backend = create_backend(openai_settings(temperature=0.3, max_tokens=99),
                             agent=AGENT, registry=registry)
    try:
        completion = await backend.complete(request())
    finally:
        await backend.aclose()

    assert completion.text == "Tide pools are small worlds."
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (21, 7)
    assert completion.model == "fake-model-2024"
    assert completion.backend == "openai"
    assert completion.data is None
    assert completion.finish_reason == "stop"

    [sent] = fake_openai.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.json == {
        "model": "fake-model",
        "messages": [{"role": "system", "content": "You are a writer."},
                     {"role": "user", "content": "Write about tide pools"}],
        "max_tokens": 99,
        "temperature": 0.3,
    }
    assert sample(registry, "agentbus_llm_tokens_total", kind="prompt") == 21
    assert sample(registry, "agentbus_llm_tokens_total", kind="completion") == 7
    assert sample(registry, "agentbus_llm_requests_total", outcome="ok") == 1
    assert sample(registry, "agentbus_llm_request_duration_seconds_count") == 1


async def test_bearer_key_and_request_overrides_are_sent(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.reply("ok")
    backend = create_backend(openai_settings(api_key="sk-secret-xyz"), agent=AGENT)
    try:
        await backend.complete(request(max_tokens=7, temperature=0.0))
    finally:
        await backend.aclose()
    [sent] = fake_openai.requests
    assert sent.headers["authorization"] == "Bearer sk-secret-xyz"
    assert sent.headers["content-type"] == "application/json"
    assert (sent.json["max_tokens"], sent.json["temperature"]) == (7, 0.0)


async def test_no_key_sends_no_authorization_header(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.reply("ok")
    backend = create_backend(openai_settings(api_key=None), agent=AGENT)
    try:
        await backend.complete(request())
    finally:
        await backend.aclose()
    assert "authorization" not in fake_openai.requests[0].headers


async def test_429_with_retry_after_is_honoured_then_succeeds(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, registry: CollectorRegistry,
) -> None:
    fake_openai.fail(429, retry_after="1", message="slow down")
    fake_openai.reply("after the wait", prompt_tokens=3, completion_tokens=3)
    # retry_max_wait_s above 1 s so the server's Retry-After, not the cap, decides the wait.
    backend = create_backend(openai_settings(retry_max_wait_s=5.0), agent=AGENT,
                             registry=registry)
    try:
        completion = await backend.complete(request())
    finally:
        await backend.aclose()

    assert completion.text == "after the wait"
    first, second = fake_openai.requests
    assert second.received_at - first.received_at >= 0.95
    assert sample(registry, "agentbus_llm_retries_total", reason="429") == 1
    assert sample(registry, "agentbus_llm_requests_total", outcome="ok") == 1


async def test_retry_after_as_http_date_is_honoured(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    # HTTP dates have one-second resolution: two seconds ahead means a wait between 1 and 2 s.
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    fake_openai.fail(503, retry_after=when)
    fake_openai.reply("back")
    backend = create_backend(openai_settings(retry_max_wait_s=5.0), agent=AGENT)
    try:
        assert (await backend.complete(request())).text == "back"
    finally:
        await backend.aclose()
    first, second = fake_openai.requests
    assert 0.9 <= second.received_at - first.received_at < 3.0


async def test_huge_retry_after_is_capped_by_retry_max_wait(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.fail(429, retry_after="3600")
    fake_openai.reply("soon")
    backend = create_backend(openai_settings(retry_max_wait_s=0.1), agent=AGENT)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        assert (await backend.complete(request())).text == "soon"
    finally:
        await backend.aclose()
    assert loop.time() - started < 2.0
    assert len(fake_openai.requests) == 2


async def test_500s_exhaust_bounded_retries_and_the_error_stays_retryable(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, registry: CollectorRegistry,
) -> None:
    fake_openai.fail(500, times=10, message="boom")
    backend = create_backend(openai_settings(max_retries=2), agent=AGENT, registry=registry)
    try:
        with pytest.raises(LLMUnavailableError) as caught:
            await backend.complete(request())
    finally:
        await backend.aclose()

    assert len(fake_openai.requests) == 3  # the first attempt and two retries, no more
    error = caught.value
    assert isinstance(error, AgentBusError)
    assert error.retryable is True
    assert error.status == 500
    assert "attempt 3 of 3" in str(error)
    assert "boom" in str(error)
    assert sample(registry, "agentbus_llm_retries_total", reason="500") == 2
    assert sample(registry, "agentbus_llm_requests_total", outcome="retryable_error") == 1


async def test_client_errors_are_not_retried(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.fail(401, message="invalid api key")
    backend = create_backend(openai_settings(), agent=AGENT)
    try:
        with pytest.raises(LLMRequestError) as caught:
            await backend.complete(request())
    finally:
        await backend.aclose()
    assert len(fake_openai.requests) == 1
    assert caught.value.retryable is False
    assert caught.value.status == 401
    assert "AGENTBUS_LLM_API_KEY" in str(caught.value)
    assert "invalid api key" in str(caught.value)


async def test_malformed_json_body_is_a_clear_non_retryable_error(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, registry: CollectorRegistry,
) -> None:
    fake_openai.enqueue(ScriptedResponse(200, b'{"choices": [ this is not json'))
    backend = create_backend(openai_settings(), agent=AGENT, registry=registry)
    try:
        with pytest.raises(LLMResponseError) as caught:
            await backend.complete(request())
    finally:
        await backend.aclose()
    assert len(fake_openai.requests) == 1
    assert caught.value.retryable is False
    assert "not JSON" in str(caught.value)
    assert sample(registry, "agentbus_llm_requests_total", outcome="error") == 1


@pytest.mark.parametrize(
    "body",
    [{"id": "x", "object": "chat.completion"}, {"choices": []}, {"choices": [{"index": 0}]},
     [1, 2, 3]],
    ids=["no-choices", "empty-choices", "no-message", "not-an-object"],
)
async def test_a_body_without_choices_is_a_clear_non_retryable_error(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, body: object,
) -> None:
    fake_openai.enqueue(ScriptedResponse(200, body))  # type: ignore[arg-type]
    backend = create_backend(openai_settings(), agent=AGENT)
    try:
        with pytest.raises(LLMResponseError) as caught:
            await backend.complete(request())
    finally:
        await backend.aclose()
    assert len(fake_openai.requests) == 1
    assert caught.value.retryable is False


async def test_slow_answers_time_out_and_stay_retryable_after_retries(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, registry: CollectorRegistry,
) -> None:
    slow = ScriptedResponse(body=chat_completion("too late"), delay_s=2.0)
    fake_openai.enqueue(slow, slow)
    backend = create_backend(openai_settings(timeout_s=0.2, max_retries=1), agent=AGENT,
                             registry=registry)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(LLMTimeoutError) as caught:
            await backend.complete(request())
    finally:
        await backend.aclose()
    elapsed = loop.time() - started
    assert 0.4 <= elapsed < 1.5  # two attempts of 0.2 s each, not the server's 2 s
    assert len(fake_openai.requests) == 2
    assert caught.value.retryable is True
    assert "AGENTBUS_LLM_TIMEOUT_S" in str(caught.value)
    assert sample(registry, "agentbus_llm_retries_total", reason="timeout") == 1


async def test_unreachable_endpoint_is_a_retryable_error(openai_settings: SettingsFactory) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = create_backend(
        openai_settings(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1), agent=AGENT)
    try:
        with pytest.raises(LLMUnavailableError) as caught:
            await backend.complete(request())
    finally:
        await backend.aclose()
    assert caught.value.retryable is True
    assert "AGENTBUS_LLM_BASE_URL" in str(caught.value)


async def test_json_mode_sends_response_format_and_parses_fenced_json(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.reply('Here you go:\n```json\n{"title": "Tide Pools", "body": "Small worlds."}\n```')
    backend = create_backend(openai_settings(), agent=AGENT)
    try:
        completion = await backend.complete(request(expected_keys=("title", "body")))
    finally:
        await backend.aclose()

    assert completion.data == {"title": "Tide Pools", "body": "Small worlds."}
    sent = fake_openai.requests[0].json
    assert sent["response_format"] == {"type": "json_object"}
    system = sent["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are a writer.")
    assert 'JSON object with exactly these keys: "title", "body"' in system["content"]


async def test_json_mode_can_be_turned_off_for_servers_that_reject_it(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.reply('{"verdict": "APPROVE"}')
    backend = create_backend(openai_settings(json_mode=False), agent=AGENT)
    try:
        completion = await backend.complete(request(expected_keys=("verdict",)))
    finally:
        await backend.aclose()
    assert completion.data == {"verdict": "APPROVE"}
    sent = fake_openai.requests[0].json
    assert "response_format" not in sent
    assert "JSON" in sent["messages"][0]["content"]


async def test_json_reply_missing_expected_keys_is_a_structured_output_error(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.reply('{"title": "only a title"}')
    backend = create_backend(openai_settings(), agent=AGENT)
    try:
        with pytest.raises(StructuredOutputError) as caught:
            await backend.complete(request(expected_keys=("title", "body")))
    finally:
        await backend.aclose()
    assert caught.value.retryable is False
    assert "['body']" in str(caught.value)


async def test_missing_usage_falls_back_to_an_estimate(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory,
) -> None:
    fake_openai.reply("a reply of some forty characters, roughly", prompt_tokens=None,
                      completion_tokens=None)
    backend = create_backend(openai_settings(), agent=AGENT)
    try:
        completion = await backend.complete(request())
    finally:
        await backend.aclose()
    assert completion.usage.completion_tokens == 11  # 42 characters at four per token
    assert completion.usage.prompt_tokens > 0
