"""Prometheus metrics of the guardrail: decisions, findings and scan time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from services.guardrail.handling import Outcome


@dataclass(frozen=True)
class GuardrailMetrics:
    """Counters of decisions and findings, and a histogram of scan latency."""

    decisions: Counter
    findings: Counter
    scan_seconds: Histogram

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
        self.decisions.labels(decision=outcome.decision).inc()
        for finding in outcome.scan.findings:
            self.findings.labels(type=finding.type, category=finding.category,
                                 action=finding.action).inc()
        self.scan_seconds.observe(seconds)
