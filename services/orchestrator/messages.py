"""Between the wire and the state machine: v2 Messages in, outbox messages out. No I/O.

Incoming: `saga.start.<type>` (SagaStart), `result.<agent>.<action>` (Result) and
`guardrail.blocked.<agent>.<action>` (Verdict) become a start request or a machine event. The
(step, attempt) of a reply comes from its `task_id`, which the orchestrator wrote and agents echo.

Outgoing: SendTask and EmitEvent commands become v2 envelopes, serialised into outbox rows. Their
ids derive from (saga id, record version, position), so a transition written twice (it cannot be,
but a replayed outbox row can be published twice) carries the same message id and consumers can
drop the copy. So does the span id of their trace context (the message id's first 16 hex digits),
and the events of one transition share one serialised record.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from google.protobuf.struct_pb2 import Struct

from agentbus import codec, topology
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import RejectMessage
from services.orchestrator.machine import (
    Command,
    CompensationResult,
    EmitEvent,
    Event,
    GuardrailBlocked,
    LifecycleStatus,
    SendTask,
    StepResult,
    parse_task_id,
)
from services.orchestrator.record import ErrorInfo
from services.orchestrator.store.base import OutboxMessage, WireProperties

# uuid5 namespace of orchestrator message ids (a fixed random uuid).
MESSAGE_NAMESPACE: Final = uuid.UUID("6f1c1f0e-3a53-4f4e-9c55-5b0f5d1f7a21")

STATUS_ENUM: Final = {
    LifecycleStatus.STARTED: v2.SAGA_STATUS_STARTED,
    LifecycleStatus.STEP_COMPLETED: v2.SAGA_STATUS_STEP_COMPLETED,
    LifecycleStatus.STEP_FAILED: v2.SAGA_STATUS_STEP_FAILED,
    LifecycleStatus.COMPENSATING: v2.SAGA_STATUS_COMPENSATING,
    LifecycleStatus.COMPENSATED: v2.SAGA_STATUS_COMPENSATED,
    LifecycleStatus.COMPLETED: v2.SAGA_STATUS_COMPLETED,
    LifecycleStatus.ESCALATED: v2.SAGA_STATUS_ESCALATED,
}


@dataclass(frozen=True)
class StartRequest:
    """Someone asked for a saga."""

    saga_id: str
    saga_type: str
    input: dict[str, Any]


@dataclass(frozen=True)
class SagaEvent:
    """An event for an existing saga."""

    saga_id: str
    event: Event


def read_incoming(message: v2.Message) -> StartRequest | SagaEvent | None:
    """What a message means to the orchestrator; None for what it does not act on.

    Raises RejectMessage (dead letter, with the reason) for a message it should act on but cannot
    read, such as a result whose task id is not one the orchestrator wrote.
    """
    body = message.WhichOneof("body")
    if body == "saga_start":
        start = message.saga_start
        if not start.saga_type:
            raise RejectMessage("SagaStart without saga_type", reason="bad_saga_start")
        # The client should set saga_id (it is also the partition key); the envelope id will do.
        saga_id = message.saga_id or message.correlation_id or message.id
        return StartRequest(saga_id, start.saga_type, codec.struct_to_dict(start.input))
    if body == "result":
        result = message.result
        ref = parse_task_id(result.task_id)
        if ref is None:
            raise RejectMessage(f"result with task id {result.task_id!r}, which the orchestrator "
                                "never wrote", reason="unknown_task_id")
        error = None
        if result.status == v2.Result.STATUS_UNSPECIFIED and not result.HasField("error"):
            error = ErrorInfo("no_status", "the agent's Result has no status; agents must set "
                              "STATUS_OK or STATUS_FAILED", retryable=False)
        elif result.status != v2.Result.STATUS_OK:
            error = ErrorInfo(
                result.error.code or "failed",
                result.error.message or "the agent reported a failure without a message",
                result.error.retryable)
        if result.compensation or ref.compensation:
            return SagaEvent(ref.saga_id, CompensationResult(ref.step, ref.attempt, error))
        output = codec.struct_to_dict(result.output) if result.HasField("output") else {}
        return SagaEvent(ref.saga_id, StepResult(ref.step, ref.attempt, output, error))
    if body == "verdict":
        verdict = message.verdict
        if verdict.decision != v2.Verdict.DECISION_BLOCKED:
            return None
        ref = parse_task_id(verdict.task_id)
        if ref is None:
            raise RejectMessage(f"verdict for task id {verdict.task_id!r}, which the orchestrator "
                                "never wrote", reason="unknown_task_id")
        return SagaEvent(ref.saga_id, GuardrailBlocked(
            ref.step, ref.attempt, ref.compensation, tuple(verdict.reasons)))
    return None


def to_outbox(commands: Sequence[Command], *, saga_id: str, version: int, now: datetime,
              source: str, caused_by: v2.Message | None = None) -> list[OutboxMessage]:
    """The messages a transition publishes, in command order."""
    out: list[OutboxMessage] = []
    records: dict[int, Struct] = {}  # the transition's snapshot, built once for all its events
    for command in commands:
        body: v2.Task | v2.LifecycleEvent
        if isinstance(command, SendTask):
            body_field, body = "task", task_body(command)
            step, attempt = command.step, command.attempt
        elif isinstance(command, EmitEvent):
            body_field, body = "event", event_body(command, records)
            # A lifecycle event answers no particular attempt.
            step, attempt = command.step, 0
        else:
            continue
        message_id = str(uuid.uuid5(MESSAGE_NAMESPACE, f"{saga_id}:{version}:{len(out)}"))
        envelope = v2.Message(id=message_id, kind=body_field, source=source,
                              saga_id=command.saga_id, correlation_id=command.saga_id, step=step,
                              attempt=attempt)
        getattr(envelope, body_field).CopyFrom(body)
        envelope.created_at.FromDatetime(now)
        if isinstance(command, SendTask):
            envelope.deadline.FromDatetime(command.deadline)
        _trace(envelope, caused_by)
        wire = WireProperties(command.saga_id, envelope.trace.traceparent,
                              envelope.trace.tracestate)
        out.append(OutboxMessage(message_id, topology.INGRESS, command.routing_key,
                                 envelope.SerializeToString(), wire))
    return out


def _trace(envelope: v2.Message, caused_by: v2.Message | None) -> None:
    """Continue the cause's trace (a new one without it), with a span id fixed by the message id."""
    if caused_by is not None:
        envelope.causation_id = caused_by.id
        parent = caused_by.trace.traceparent.split("-")
        if len(parent) == 4 and len(parent[1]) == 32:
            envelope.trace.traceparent = (
                f"{parent[0]}-{parent[1]}-{envelope.id.replace('-', '')[:16]}-{parent[3]}")
            envelope.trace.tracestate = caused_by.trace.tracestate
            return
    envelope.trace.traceparent = codec.new_traceparent()


def task_body(command: SendTask) -> v2.Task:
    """The Task of a step or compensation."""
    return v2.Task(task_id=command.task_id, agent=command.agent, action=command.action,
                   input=_struct(command.input), compensation=command.compensation)


def event_body(command: EmitEvent, records: dict[int, Struct] | None = None) -> v2.LifecycleEvent:
    """The LifecycleEvent of an EmitEvent; `records` caches record Structs by snapshot identity."""
    event = v2.LifecycleEvent(saga_type=command.saga_type, status=STATUS_ENUM[command.status],
                              step_name=command.step)
    if command.output is not None:
        event.output.CopyFrom(_struct(command.output))
    if command.error is not None:
        event.error.CopyFrom(v2.Error(code=command.error.code, message=command.error.message,
                                      retryable=command.error.retryable))
    if command.record is not None:
        cache = {} if records is None else records
        record = cache.get(id(command.record))
        if record is None:
            record = cache[id(command.record)] = codec.struct_from(command.record)
        event.record.CopyFrom(record)
    return event


def task_envelope(command: SendTask, *, source: str,
                  caused_by: v2.Message | None = None) -> v2.Message:
    """The envelope of a step or compensation task."""
    return codec.new_envelope(task_body(command), source=source, saga_id=command.saga_id,
                              step=command.step, attempt=command.attempt, caused_by=caused_by,
                              deadline=command.deadline)


def event_envelope(command: EmitEvent, *, source: str,
                   caused_by: v2.Message | None = None) -> v2.Message:
    """The envelope of a lifecycle event."""
    envelope = codec.new_envelope(event_body(command), source=source, saga_id=command.saga_id,
                                  step=command.step, caused_by=caused_by)
    # A lifecycle event answers no particular attempt: do not inherit step/attempt from the cause.
    envelope.step = command.step
    envelope.attempt = 0
    return envelope


def _struct(value: Any) -> Struct:
    """A Struct for a mapping; anything else is wrapped as {"value": ...} (Struct needs a mapping)."""
    if value is None:
        return codec.struct_from({})
    if isinstance(value, dict):
        return codec.struct_from(value)
    return codec.struct_from({"value": value})
