"""Retry policy for LLM HTTP calls: which errors to retry and how long to wait (Retry-After first)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState

from agentbus.errors import AgentBusError
from agentbus.llm.errors import LLMUnavailableError


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/invalid."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            # RFC 9110 dates are always GMT; treat a naive result as UTC.
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def is_retryable(error: BaseException) -> bool:
    """True for agentbus errors flagged retryable (429, 5xx, timeouts, transport errors)."""
    return isinstance(error, AgentBusError) and error.retryable


class BackoffWait:
    """Tenacity wait: the server's Retry-After if given, else exponential backoff with full jitter.

    Every wait is capped at `max_s`, so a hostile or confused Retry-After cannot stall an agent.
    """

    def __init__(self, *, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self._rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        """Seconds to wait before the next attempt."""
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, LLMUnavailableError) and error.retry_after_s is not None:
            return min(self.max_s, error.retry_after_s)
        ceiling = min(self.max_s, self.initial_s * 2 ** max(0, state.attempt_number - 1))
        # Jitter spreads the retries of many agents hitting one endpoint at once.
        return self._rng.uniform(ceiling / 2, ceiling)
