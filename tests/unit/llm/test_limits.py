"""Token budget, rate limit and metrics registration, through the backends the factory builds."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from agentbus.llm import (
    AsyncTokenBucket,
    ChatMessage,
    CompletionRequest,
    LLMSettings,
    TokenBudget,
    TokenBudgetExceededError,
    create_backend,
    metrics_for,
)
from tests.support.fake_openai import FakeOpenAI

SettingsFactory = Callable[..., LLMSettings]


def request(text: str, agent: str = "researcher") -> CompletionRequest:
    return CompletionRequest(messages=(ChatMessage.user(text),), agent=agent)


async def test_token_budget_refuses_before_calling_once_spent(
    fake_openai: FakeOpenAI, openai_settings: SettingsFactory, registry: CollectorRegistry,
) -> None:
    fake_openai.reply("first", prompt_tokens=40, completion_tokens=20)
    fake_openai.reply("never sent")
    backend = create_backend(openai_settings(token_budget=60), agent="researcher",
                             registry=registry)
    try:
        assert (await backend.complete(request("hello"))).text == "first"
        with pytest.raises(TokenBudgetExceededError) as caught:
            await backend.complete(request("hello again"))
    finally:
        await backend.aclose()

    assert len(fake_openai.requests) == 1  # the second request never left the process
    error = caught.value
    assert error.retryable is False
    assert (error.agent, error.used, error.budget) == ("researcher", 60, 60)
    assert "AGENTBUS_LLM_TOKEN_BUDGET" in str(error)
    assert registry.get_sample_value(
        "agentbus_llm_requests_total",
        {"agent": "researcher", "backend": "openai", "outcome": "budget_exceeded"}) == 1


async def test_token_budget_refuses_a_prompt_larger_than_what_is_left() -> None:
    backend = create_backend(LLMSettings(token_budget=50), agent="writer")
    with pytest.raises(TokenBudgetExceededError):
        await backend.complete(request("word " * 100, agent="writer"))  # ~125 tokens


def test_token_budget_is_counted_per_agent() -> None:
    budget = TokenBudget(100)
    budget.record("writer", 90)
    budget.check("editor", 50)  # another agent's spending does not count
    with pytest.raises(TokenBudgetExceededError):
        budget.check("writer", 20)
    assert budget.remaining("writer") == 10
    assert TokenBudget(None).remaining("writer") is None


async def test_rate_limit_spaces_requests(registry: CollectorRegistry) -> None:
    # 1200 per minute = one every 50 ms; five calls with a burst of one need at least 200 ms.
    backend = create_backend(LLMSettings(requests_per_minute=1200), agent="editor",
                             registry=registry)
    loop = asyncio.get_running_loop()
    stamps: list[float] = []
    for i in range(5):
        await backend.complete(request(f"edit draft {i}", agent="editor"))
        stamps.append(loop.time())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(gap >= 0.045 for gap in gaps), gaps
    assert stamps[-1] - stamps[0] < 1.0
    assert registry.get_sample_value(
        "agentbus_llm_requests_total",
        {"agent": "editor", "backend": "deterministic", "outcome": "ok"}) == 5


async def test_token_bucket_allows_a_burst_then_spaces_concurrent_callers() -> None:
    bucket = AsyncTokenBucket(600, burst=2)  # one every 100 ms after two free ones
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def stamp() -> float:
        await bucket.acquire()
        return loop.time() - started

    times = sorted(await asyncio.gather(*(stamp() for _ in range(4))))
    assert times[1] < 0.05  # the burst goes out at once
    assert times[2] >= 0.095
    assert times[3] >= 0.195
    assert times[3] < 0.6


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        AsyncTokenBucket(0)
    with pytest.raises(ValueError, match="burst"):
        AsyncTokenBucket(60, burst=0)


async def test_many_backends_share_metrics_without_duplicate_registration() -> None:
    registry = CollectorRegistry()
    backends = [create_backend(LLMSettings(), agent=f"agent_{i}", registry=registry)
                for i in range(3)]
    # The default registry too: creating backends twice in one process must not raise.
    backends += [create_backend(LLMSettings(), agent="default_a"),
                 create_backend(LLMSettings(), agent="default_b")]
    for backend in backends:
        await backend.complete(request("count me", agent="counted"))
        await backend.aclose()
    assert metrics_for(registry) is metrics_for(registry)
    assert registry.get_sample_value(
        "agentbus_llm_requests_total",
        {"agent": "counted", "backend": "deterministic", "outcome": "ok"}) == 3
