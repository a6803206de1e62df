"""The scanner: detections plus the policy give findings, a redacted text and a decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agentbus.contracts.v2 import message_pb2
from services.guardrail.policy import Policy
from services.guardrail.scanning.detector import detect
from services.guardrail.scanning.redaction import Placeholders, apply_redactions
from services.guardrail.scanning.task_fields import replaced, replaced_headers, text_fields
from services.guardrail.scanning.types import Action, Decision, Detection, Finding, ScanResult


def decide(findings: list[Finding] | tuple[Finding, ...]) -> Decision:
    """Blocked if any finding blocks, redacted if any redacts, allowed otherwise."""
    actions = {f.action for f in findings}
    if "block" in actions:
        return "blocked"
    if "redact" in actions:
        return "redacted"
    return "allowed"


def reason(finding: Finding) -> str:
    """A human-readable reason for a blocking finding (never the value itself)."""
    what = "PII" if finding.category == "pii" else "executable payload"
    return f"{what} {finding.type} at {finding.start}:{finding.end}"


def apply_policy(text: str, detections: list[Detection], actions: Mapping[str, Action],
                 placeholders: Placeholders) -> tuple[list[Finding], str]:
    """Turn detections into findings under `actions`, and redact the text accordingly."""
    # Longest redactions first: a span inside another (the IP inside a redacted shell command)
    # is covered by the outer placeholder.
    to_redact = sorted((d for d in detections if actions.get(d.type, "block") == "redact"),
                       key=lambda d: (d.start - d.end, d.start))
    chosen: list[tuple[int, int, str]] = []
    placeholder_of: dict[tuple[str, int, int], str] = {}
    for d in to_redact:
        cover = next((c for c in chosen if c[0] <= d.start and d.end <= c[1]), None)
        if cover is not None:
            placeholder_of[(d.type, d.start, d.end)] = cover[2]
            continue
        if any(d.start < c[1] and c[0] < d.end for c in chosen):
            continue  # a partial overlap: the longer span already hides this one's overlap
        value = d.value if d.category == "pii" and d.value else text[d.start:d.end]
        placeholder = placeholders.for_value(d.type, value)
        chosen.append((d.start, d.end, placeholder))
        placeholder_of[(d.type, d.start, d.end)] = placeholder
    findings = []
    for d in detections:
        action = actions.get(d.type, "block")
        findings.append(Finding(d.type, d.category, d.start, d.end, action,
                                placeholder_of.get((d.type, d.start, d.end), "")))
    return findings, apply_redactions(text, chosen)


_DECISIONS: dict[Decision, int] = {
    "allowed": message_pb2.Verdict.DECISION_ALLOWED,
    "redacted": message_pb2.Verdict.DECISION_REDACTED,
    "blocked": message_pb2.Verdict.DECISION_BLOCKED,
}


@dataclass(frozen=True, slots=True)
class TaskScanResult:
    """What scanning a task gave: per-field findings, the task to forward, and the decision."""

    decision: Decision
    # Every finding, with `field` naming the text it was found in (offsets index that text).
    findings: tuple[message_pb2.Finding, ...]
    # A redacted copy of the task, its `redactions` set; the original when nothing was redacted.
    task: message_pb2.Task
    # The scanned headers, redacted.
    headers: dict[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()

    def verdict(self, *, quarantine_queue: str = "",
                original_message_id: str = "") -> message_pb2.Verdict:
        """The Verdict body the guardrail publishes (e.g. on `guardrail.blocked.<agent>.<action>`)."""
        return message_pb2.Verdict(
            task_id=self.task.task_id, agent=self.task.agent, action=self.task.action,
            decision=_DECISIONS[self.decision],  # type: ignore[arg-type]
            findings=self.findings, reasons=self.reasons, quarantine_queue=quarantine_queue,
            original_message_id=original_message_id)


class Scanner:
    """Scans texts and whole tasks under a policy."""

    def __init__(self, policy: Policy | None = None) -> None:
        """Use `policy`, or the built-in defaults (redact all PII, block all executables)."""
        self.policy = policy if policy is not None else Policy({})

    def scan_text(self, text: str, *, agent: str | None = None,
                  routing_key: str | None = None,
                  placeholders: Placeholders | None = None) -> ScanResult:
        """Scan one text; `agent`/`routing_key` select the policy rules that apply."""
        detections = detect(text)
        if not detections:
            return ScanResult(text, (), text, "allowed", ())
        actions = self.policy.actions_for(agent=agent, routing_key=routing_key)
        findings, redacted = apply_policy(text, detections, actions,
                                          placeholders if placeholders is not None
                                          else Placeholders())
        decision = decide(findings)
        reasons = tuple(reason(f) for f in findings if f.action == "block")
        return ScanResult(text, tuple(findings), redacted, decision, reasons)

    def scan_task(self, task: message_pb2.Task, *, routing_key: str | None = None,
                  headers: Mapping[str, str] | None = None) -> TaskScanResult:
        """Scan every text field of a task (and the given headers) as one message.

        Placeholders are shared across fields, so one value gets one placeholder everywhere.
        `routing_key` defaults to `task.<agent>.<action>`.
        """
        routing_key = routing_key or f"task.{task.agent}.{task.action}"
        actions = self.policy.actions_for(agent=task.agent or None, routing_key=routing_key)
        placeholders = Placeholders()
        findings: list[message_pb2.Finding] = []
        all_findings: list[Finding] = []
        reasons: list[str] = []
        texts: dict[str, str] = {}
        for path, text in text_fields(task, headers):
            if not text:
                continue
            field_findings, redacted = apply_policy(text, detect(text), actions, placeholders)
            if redacted != text:
                texts[path] = redacted
            all_findings.extend(field_findings)
            for f in field_findings:
                findings.append(message_pb2.Finding(
                    type=f.type, category=f.category, field=path, start=f.start, end=f.end,
                    action=f.action, placeholder=f.placeholder))
                if f.action == "block":
                    reasons.append(f"{path}: {reason(f)}")
        forwarded = task
        if texts:
            forwarded = replaced(task, texts)
            forwarded.redactions.extend(f for f in findings if f.action == "redact")
        return TaskScanResult(
            decision=decide(all_findings), findings=tuple(findings), task=forwarded,
            headers=replaced_headers(headers or {}, texts), reasons=tuple(reasons))
