"""Prometheus metrics of agents: tasks by outcome, handler time, duplicates answered from the inbox."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

# From a deterministic reply (milliseconds) to a slow model with retries (minutes).
TASK_BUCKETS = (0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True, slots=True)
class AgentMetrics:
    """The counters and histogram of every agent runtime in one registry."""

    tasks: Counter
    seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> AgentMetrics:
        """Register the metrics in `registry` (use `agent_metrics` to get them without duplicates)."""
        return cls(
            tasks=Counter("agentbus_agent_tasks", "Tasks answered, by outcome (ok, failed, duplicate).",
                          ["agent", "action", "outcome"], registry=registry),
            seconds=Histogram("agentbus_agent_task_seconds", "Time a handler took on one task.",
                              ["agent", "action"], buckets=TASK_BUCKETS, registry=registry),
        )


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, AgentMetrics] = weakref.WeakKeyDictionary()


def agent_metrics(registry: CollectorRegistry | None = None) -> AgentMetrics:
    """The agent metrics registered in `registry` (default: the global one), created once."""
    target = REGISTRY if registry is None else registry
    with _lock:
        found = _by_registry.get(target)
        if found is None:
            found = AgentMetrics.create(target)
            _by_registry[target] = found
        return found
