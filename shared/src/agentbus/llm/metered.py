"""Wrap any backend with the per-agent token budget, the rate limit and the Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType

from agentbus.errors import AgentBusError
from agentbus.llm.budget import TokenBudget
from agentbus.llm.errors import TokenBudgetExceededError
from agentbus.llm.metrics import LLMMetrics
from agentbus.llm.ratelimit import AsyncTokenBucket
from agentbus.llm.tokens import estimate_tokens
from agentbus.llm.types import Completion, CompletionRequest, LLMBackend


def outcome_of(error: BaseException) -> str:
    """The `outcome` label for a failed completion."""
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    if isinstance(error, TokenBudgetExceededError):
        return "budget_exceeded"
    if isinstance(error, AgentBusError):
        return "retryable_error" if error.retryable else "error"
    return "error"


class MeteredBackend:
    """Check the budget, wait for the rate limit, call `inner`, then count tokens and latency."""

    def __init__(
        self,
        inner: LLMBackend,
        *,
        agent: str,
        metrics: LLMMetrics,
        budget: TokenBudget | None = None,
        limiter: AsyncTokenBucket | None = None,
    ) -> None:
        self.inner = inner
        self.agent = agent
        self.metrics = metrics
        self.budget = budget or TokenBudget(None)
        self.limiter = limiter

    @property
    def name(self) -> str:
        """The wrapped backend's name."""
        return self.inner.name

    async def complete(self, request: CompletionRequest) -> Completion:
        """Complete `request` through the wrapped backend, within budget and rate."""
        agent = request.agent or self.agent
        labels = {"agent": agent, "backend": self.inner.name}
        try:
            self.budget.check(agent, estimate_tokens(request.prompt_text()))
        except AgentBusError as error:
            self.metrics.requests.labels(**labels, outcome=outcome_of(error)).inc()
            raise
        if self.limiter is not None:
            await self.limiter.acquire()
        started = time.perf_counter()
        try:
            completion = await self.inner.complete(request)
        except BaseException as error:
            self.metrics.requests.labels(**labels, outcome=outcome_of(error)).inc()
            raise
        finally:
            self.metrics.latency.labels(**labels).observe(time.perf_counter() - started)
        usage = completion.usage
        self.budget.record(agent, usage.total_tokens)
        self.metrics.tokens.labels(**labels, kind="prompt").inc(usage.prompt_tokens)
        self.metrics.tokens.labels(**labels, kind="completion").inc(usage.completion_tokens)
        self.metrics.requests.labels(**labels, outcome="ok").inc()
        return completion

    async def aclose(self) -> None:
        """Close the wrapped backend."""
        await self.inner.aclose()

    async def __aenter__(self) -> MeteredBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
