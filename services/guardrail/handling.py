"""What the guardrail does with one task envelope: forward it, forward a redacted copy, or block it.

Pure: no broker here, so the decision is testable on its own; `app.py` carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentbus import codec, topology
from agentbus.contracts.v2 import message_pb2 as v2
from services.guardrail.scanning.scanner import Scanner, TaskScanResult
from services.guardrail.scanning.types import Decision

BLOCKED_PREFIX = "guardrail.blocked"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision on one task and the messages it calls for."""

    decision: Decision
    scan: TaskScanResult
    # The envelope to send on to the agent: the original when allowed, a redacted copy (same id)
    # when redacted, None when blocked.
    forward: v2.Message | None
    # When blocked: the Verdict envelope and the routing key to publish it with on the ingress.
    verdict: v2.Message | None = None
    verdict_routing_key: str = ""


def blocked_routing_key(task: v2.Task, routing_key: str) -> str:
    """`guardrail.blocked.<agent>.<action>`, from the task (or its routing key when empty)."""
    words = routing_key.split(".")
    agent = task.agent or (words[1] if len(words) > 1 else "unknown")
    action = task.action or (words[2] if len(words) > 2 else "unknown")
    return f"{BLOCKED_PREFIX}.{agent}.{action}"


def inspect(message: v2.Message, *, routing_key: str, scanner: Scanner, source: str,
            quarantine_queue: str = topology.QUARANTINE_QUEUE) -> Outcome:
    """Scan a task envelope (task fields and envelope headers) and decide what to publish."""
    task = message.task
    scan = scanner.scan_task(task, routing_key=routing_key, headers=dict(message.headers))
    if scan.decision == "blocked":
        verdict = codec.new_envelope(
            scan.verdict(quarantine_queue=quarantine_queue, original_message_id=message.id),
            source=source, caused_by=message)
        return Outcome("blocked", scan, None, verdict, blocked_routing_key(task, routing_key))
    if scan.decision == "redacted":
        redacted = v2.Message()
        redacted.CopyFrom(message)
        redacted.task.CopyFrom(scan.task)
        redacted.headers.clear()
        redacted.headers.update(scan.headers)
        return Outcome("redacted", scan, redacted)
    return Outcome("allowed", scan, message)
