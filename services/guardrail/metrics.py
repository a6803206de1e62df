"""Prometheus metrics of the guardrail: decisions, findings and scan time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from services.guardrail.handling import Outcome


@dataclass(frozen=True)
class GuardrailMetrics:
    """Counters of decisions and findings, and a histogram of scan latency."""

    decisions: Counter
    findings: Counter
    scan_seconds: Histogram
    # Labelled children by label values: `labels()` validates and hashes its arguments under a
    # lock on every call, which costs more than the increment itself.
    _children: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    _default: ClassVar[GuardrailMetrics | None] = None

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GuardrailMetrics:
        """Register the guardrail metrics in `registry`."""
        return cls(
            decisions=Counter("agentbus_guardrail_decisions_total", "Tasks scanned, by decision",
                              ["decision"], registry=registry),
            findings=Counter("agentbus_guardrail_findings_total",
                             "Findings, by type and the action the policy took",
                             ["type", "category", "action"], registry=registry),
            scan_seconds=Histogram(
                "agentbus_guardrail_scan_seconds", "Time to scan one task",
                buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1),
                registry=registry),
        )

    @classmethod
    def default(cls) -> GuardrailMetrics:
        """The metrics registered once in prometheus_client's default registry."""
        if cls._default is None:
            cls._default = cls.create(REGISTRY)
        return cls._default

    def observe(self, outcome: Outcome, seconds: float) -> None:
        """Count one scanned task."""
        children = self._children
        key: tuple[str, ...] = (outcome.decision,)
        child = children.get(key)
        if child is None:
            child = children[key] = self.decisions.labels(decision=outcome.decision)
        child.inc()
        for finding in outcome.scan.findings:
            key = (finding.type, finding.category, finding.action)
            child = children.get(key)
            if child is None:
                child = children[key] = self.findings.labels(
                    type=finding.type, category=finding.category, action=finding.action)
            child.inc()
        self.scan_seconds.observe(seconds)
