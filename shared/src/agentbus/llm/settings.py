"""LLM settings, read from environment variables prefixed AGENTBUS_LLM_.

An agent's settings embed them as `llm: LLMSettings = Field(default_factory=LLMSettings)`, so the
same AGENTBUS_LLM_* variables configure a standalone backend and an agent alike.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "AGENTBUS_LLM_"

BackendName = Literal["deterministic", "openai"]


class LLMSettings(BaseSettings):
    """Which backend an agent uses and how it talks to it; every field is AGENTBUS_LLM_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    backend: BackendName = Field(
        "deterministic",
        description="`deterministic` (built in, offline, repeatable) or `openai` (any "
        "OpenAI-compatible /v1/chat/completions endpoint: OpenAI, vLLM, Ollama, LiteLLM).",
    )
    base_url: str = Field(
        "https://api.openai.com/v1",
        description="Endpoint root; `/chat/completions` is appended (Ollama: http://localhost:11434/v1).",
    )
    model: str = Field("gpt-4o-mini", description="Model name sent to the endpoint.")
    api_key: SecretStr | None = Field(
        None, description="Bearer token; set it from the environment or a Kubernetes Secret only.")
    timeout_s: float = Field(60.0, gt=0, description="Longest wait for the endpoint's answer.")
    connect_timeout_s: float = Field(5.0, gt=0, description="Longest wait to open a connection.")
    max_retries: int = Field(
        3, ge=0, le=20, description="Retries after the first attempt on 429, 5xx, timeouts, resets.")
    retry_initial_wait_s: float = Field(
        0.5, ge=0, description="First backoff when the endpoint gives no Retry-After.")
    retry_max_wait_s: float = Field(
        30.0, ge=0, description="Cap on any wait between attempts, Retry-After included.")
    token_budget: int | None = Field(
        None, ge=1, description="Tokens (prompt + completion) an agent may spend; unset = unlimited.")
    requests_per_minute: float | None = Field(
        None, gt=0, description="Request rate limit per agent; unset = unlimited.")
    rate_limit_burst: int = Field(
        1, ge=1, description="Requests allowed back to back before the rate limit spaces them.")
    json_mode: bool = Field(
        True, description="Send response_format json_object when JSON is asked for; turn off for "
        "servers that reject it (the prompt still asks for JSON and the reply is parsed leniently).")
    max_tokens: int = Field(1024, ge=1, description="Default completion length cap.")
    temperature: float = Field(0.2, ge=0, le=2, description="Default sampling temperature.")
