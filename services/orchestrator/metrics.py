"""Prometheus metrics of the orchestrator (served on /metrics with the bus's own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class OrchestratorMetrics:
    """Transitions applied, sagas finished, outbox and timer activity."""

    transitions: Counter
    finished: Counter
    outbox_published: Counter
    timers_fired: Counter
    transition_seconds: Histogram

    _default: ClassVar[OrchestratorMetrics | None] = None

    @classmethod
    def create(cls, registry: CollectorRegistry) -> OrchestratorMetrics:
        """Register the metrics in `registry`."""
        return cls(
            transitions=Counter(
                "agentbus_saga_transitions_total",
                "Events handled by the saga state machine, by outcome",
                ["outcome"], registry=registry),
            finished=Counter(
                "agentbus_sagas_finished_total", "Sagas that reached a final status",
                ["saga_type", "status"], registry=registry),
            outbox_published=Counter(
                "agentbus_outbox_published_total", "Outbox rows published, by outcome",
                ["outcome"], registry=registry),
            timers_fired=Counter(
                "agentbus_saga_timers_fired_total", "Due timers handled, by kind",
                ["kind"], registry=registry),
            transition_seconds=Histogram(
                "agentbus_saga_transition_seconds",
                "Time to load, apply and commit one saga event", registry=registry),
        )

    @classmethod
    def default(cls) -> OrchestratorMetrics:
        """The metrics registered once in prometheus_client's default registry."""
        if cls._default is None:
            cls._default = cls.create(REGISTRY)
        return cls._default
