"""Prometheus metrics of the LLM layer, registered once per registry however many backends exist."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

# LLM calls take from tens of milliseconds (local, deterministic) to a minute (large completions).
LATENCY_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True, slots=True)
class LLMMetrics:
    """The counters and histogram every backend of one registry shares."""

    tokens: Counter
    requests: Counter
    retries: Counter
    latency: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> LLMMetrics:
        """Register the metrics in `registry` (use `metrics_for` to get them without duplicates)."""
        return cls(
            tokens=Counter(
                "agentbus_llm_tokens", "LLM tokens consumed.",
                ["agent", "backend", "kind"], registry=registry,
            ),
            requests=Counter(
                "agentbus_llm_requests", "LLM completions by outcome.",
                ["agent", "backend", "outcome"], registry=registry,
            ),
            retries=Counter(
                "agentbus_llm_retries", "LLM HTTP attempts retried, by reason.",
                ["agent", "backend", "reason"], registry=registry,
            ),
            latency=Histogram(
                "agentbus_llm_request_duration_seconds",
                "Time for one LLM completion, retries included, rate-limit wait excluded.",
                ["agent", "backend"], buckets=LATENCY_BUCKETS, registry=registry,
            ),
        )


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, LLMMetrics] = weakref.WeakKeyDictionary()


def metrics_for(registry: CollectorRegistry | None = None) -> LLMMetrics:
    """Return the LLM metrics registered in `registry` (default: the global one), creating them once."""
    target = REGISTRY if registry is None else registry
    with _lock:
        found = _by_registry.get(target)
        if found is None:
            found = LLMMetrics.create(target)
            _by_registry[target] = found
        return found
