"""Build the backend an agent's settings ask for, wrapped with its budget, rate limit and metrics."""

from __future__ import annotations

from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from agentbus.errors import ConfigurationError
from agentbus.llm.budget import TokenBudget
from agentbus.llm.deterministic import DeterministicBackend
from agentbus.llm.metered import MeteredBackend
from agentbus.llm.metrics import metrics_for
from agentbus.llm.openai_compat import OpenAICompatibleBackend
from agentbus.llm.ratelimit import AsyncTokenBucket
from agentbus.llm.settings import LLMSettings
from agentbus.llm.types import LLMBackend

# Hosted APIs that always need a key; local servers (vLLM, Ollama, LiteLLM) usually do not.
_KEYED_HOSTS = frozenset({"api.openai.com"})


def _check(settings: LLMSettings) -> None:
    parts = urlsplit(settings.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"AGENTBUS_LLM_BASE_URL={settings.base_url!r} is not an http(s) URL; "
            "use e.g. http://localhost:11434/v1")
    if settings.api_key is None and parts.hostname in _KEYED_HOSTS:
        raise ConfigurationError(
            f"{parts.hostname} needs an API key: set AGENTBUS_LLM_API_KEY in the environment "
            "(or AGENTBUS_LLM_BACKEND=deterministic to run offline)")


def create_backend(
    settings: LLMSettings,
    *,
    agent: str,
    registry: CollectorRegistry | None = None,
) -> MeteredBackend:
    """Return the backend `settings.backend` names for `agent`, metered in `registry` (default global).

    The result is an `LLMBackend` and an async context manager (`async with create_backend(...)`).
    """
    metrics = metrics_for(registry)
    inner: LLMBackend
    if settings.backend == "deterministic":
        inner = DeterministicBackend()
    elif settings.backend == "openai":
        _check(settings)
        inner = OpenAICompatibleBackend(settings, agent=agent, metrics=metrics)
    else:  # pragma: no cover - pydantic already restricts the value
        raise ConfigurationError(f"unknown AGENTBUS_LLM_BACKEND {settings.backend!r}")
    limiter = None
    if settings.requests_per_minute is not None:
        limiter = AsyncTokenBucket(settings.requests_per_minute, burst=settings.rate_limit_burst)
    return MeteredBackend(
        inner, agent=agent, metrics=metrics,
        budget=TokenBudget(settings.token_budget), limiter=limiter,
    )
