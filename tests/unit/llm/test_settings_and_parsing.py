"""Settings from the environment, factory checks, Retry-After parsing and lenient JSON parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import RetryCallState

from agentbus.errors import ConfigurationError
from agentbus.llm import LLMSettings, StructuredOutputError, create_backend, parse_json_object
from agentbus.llm.errors import LLMTimeoutError, LLMUnavailableError
from agentbus.llm.retrying import BackoffWait, parse_retry_after


def test_settings_come_from_agentbus_llm_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBUS_LLM_BACKEND", "openai")
    monkeypatch.setenv("AGENTBUS_LLM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("AGENTBUS_LLM_MODEL", "llama3.2")
    monkeypatch.setenv("AGENTBUS_LLM_API_KEY", "sk-from-env")
    monkeypatch.setenv("AGENTBUS_LLM_TIMEOUT_S", "12.5")
    monkeypatch.setenv("AGENTBUS_LLM_MAX_RETRIES", "5")
    monkeypatch.setenv("AGENTBUS_LLM_TOKEN_BUDGET", "10000")
    monkeypatch.setenv("AGENTBUS_LLM_REQUESTS_PER_MINUTE", "30")
    settings = LLMSettings()
    assert settings.backend == "openai"
    assert settings.base_url == "http://localhost:11434/v1"
    assert settings.model == "llama3.2"
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(settings)
    assert (settings.timeout_s, settings.max_retries) == (12.5, 5)
    assert (settings.token_budget, settings.requests_per_minute) == (10000, 30)


def test_settings_embed_in_an_agents_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    class AgentSettings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="AGENTBUS_", extra="ignore")
        health_port: int = 8080
        llm: LLMSettings = Field(default_factory=LLMSettings)

    monkeypatch.setenv("AGENTBUS_LLM_MODEL", "qwen2.5")
    monkeypatch.setenv("AGENTBUS_HEALTH_PORT", "0")
    settings = AgentSettings()
    assert settings.llm.model == "qwen2.5"
    assert settings.health_port == 0


def test_defaults_need_nothing() -> None:
    settings = LLMSettings()
    assert settings.backend == "deterministic"
    assert settings.api_key is None
    assert settings.token_budget is None
    assert settings.requests_per_minute is None


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBUS_LLM_BACKEND", "gpt")
    with pytest.raises(ValueError, match="backend"):
        LLMSettings()


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [({"base_url": "api.example.com/v1"}, "is not an http"),
     ({"base_url": "https://api.openai.com/v1", "api_key": None}, "AGENTBUS_LLM_API_KEY")],
)
def test_factory_refuses_unusable_openai_settings(overrides: dict[str, object], needle: str) -> None:
    settings = LLMSettings(backend="openai", **overrides)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=needle):
        create_backend(settings, agent="writer")


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def _state_after(error: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_backoff_prefers_retry_after_and_caps_every_wait() -> None:
    wait = BackoffWait(initial_s=0.5, max_s=10.0)
    assert wait(_state_after(LLMUnavailableError("x", status=429, retry_after_s=3.0), 1)) == 3.0
    assert wait(_state_after(LLMUnavailableError("x", status=429, retry_after_s=3600), 1)) == 10.0
    first = wait(_state_after(LLMTimeoutError("x"), 1))
    third = wait(_state_after(LLMTimeoutError("x"), 3))
    assert 0.25 <= first <= 0.5
    assert 1.0 <= third <= 2.0
    assert wait(_state_after(LLMTimeoutError("x"), 30)) <= 10.0


@pytest.mark.parametrize(
    "text",
    [
        '{"title": "T", "body": "B"}',
        '```json\n{"title": "T", "body": "B"}\n```',
        '```\n{"title": "T", "body": "B"}\n```',
        'Sure! Here it is: {"title": "T", "body": "B"} Hope it helps.',
    ],
    ids=["bare", "fenced-json", "fenced", "prose"],
)
def test_json_parsing_is_lenient_about_wrapping(text: str) -> None:
    assert parse_json_object(text, expected_keys=("title", "body")) == {"title": "T", "body": "B"}


@pytest.mark.parametrize("text", ["no json here", "[1, 2]", '{"title": '])
def test_json_parsing_refuses_non_objects(text: str) -> None:
    with pytest.raises(StructuredOutputError, match="JSON object"):
        parse_json_object(text)
