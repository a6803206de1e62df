"""Bytes <-> envelope: version detection, upcast_v1_v2 / downcast_v2_v1, and envelope builders.

Inside agentbus every message is an `agentbus.v2.Message`. A v1 message is upcast on receipt; a message
for a v1-only consumer is downcast on send. The v1 view lives in `kind`, `payload` and `headers`; the
v2 fields ride along as unknown fields, so a v1 consumer that echoes an envelope back keeps them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, cast

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.protobuf.struct_pb2 import Struct

from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import ContractError

CONTENT_TYPE: Final = "application/x-protobuf"
SCHEMA_HEADER: Final = "x-agentbus-schema"
TRACEPARENT_HEADER: Final = "traceparent"
V1_TYPE: Final = v1.Message.DESCRIPTOR.full_name
V2_TYPE: Final = v2.Message.DESCRIPTOR.full_name
TYPE_BY_SCHEMA: Final = {1: V1_TYPE, 2: V2_TYPE}
SCHEMA_BY_TYPE: Final = {V1_TYPE: 1, V2_TYPE: 2}
SUPPORTED_SCHEMAS: Final = frozenset(TYPE_BY_SCHEMA)

# The oneof field of v2.Message that carries each kind of body, and back.
BODY_FIELD_BY_KIND: Final = {
    "saga_start": "saga_start",
    "task": "task",
    "result": "result",
    "verdict": "verdict",
    "event": "event",
    "announcement": "announcement",
}
KIND_BY_BODY_FIELD: Final = {v: k for k, v in BODY_FIELD_BY_KIND.items()}

# Header keys that make up the v1 view of a body; stripped from v2 headers on upcast.
V1_VIEW_KEYS: Final = frozenset({
    "saga_type", "task_id", "agent", "action", "compensation", "ok", "error_code", "error",
    "retryable", "decision", "reasons", "status", "step_name", "instance_id", "actions",
    "compensations", "schema_versions", "phase", "original_message_id", "quarantine_queue",
})


@dataclass(frozen=True)
class Encoded:
    """A message ready for the wire: body plus the AMQP properties agentbus sets."""

    body: bytes
    message_type: str
    message_id: str
    correlation_id: str
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str = CONTENT_TYPE


@dataclass(frozen=True)
class Decoded:
    """A received message, upcast to v2, with the schema version it arrived in."""

    message: v2.Message
    schema: int


# ---------------------------------------------------------------- version conversion


def upcast_v1_v2(old: v1.Message) -> v2.Message:
    """Turn a v1 envelope into v2, restoring any v2 fields it carried as unknown fields."""
    new = v2.Message.FromString(old.SerializeToString())
    headers = dict(old.headers)
    kind = old.kind
    restored = new.WhichOneof("body")
    if kind == "saga_start":
        body_start = new.saga_start
        body_start.saga_type = headers.get("saga_type", body_start.saga_type)
        body_start.input.CopyFrom(old.payload)
    elif kind == "task":
        task = new.task if restored == "task" else v2.Task()
        task.task_id = headers.get("task_id", task.task_id)
        task.agent = headers.get("agent", task.agent)
        task.action = headers.get("action", task.action)
        task.compensation = headers.get("compensation", str(task.compensation).lower()) == "true"
        task.input.CopyFrom(old.payload)
        new.task.CopyFrom(task)
    elif kind == "result":
        result = v2.Result(
            task_id=headers.get("task_id", ""),
            agent=headers.get("agent", ""),
            action=headers.get("action", ""),
            compensation=headers.get("compensation") == "true",
        )
        if headers.get("ok", "true") == "true":
            result.status = v2.Result.STATUS_OK
            result.output.CopyFrom(old.payload)
        else:
            result.status = v2.Result.STATUS_FAILED
            result.error.CopyFrom(v2.Error(
                code=headers.get("error_code", "agent_error"),
                message=headers.get("error", ""),
                retryable=headers.get("retryable") == "true",
            ))
        new.result.CopyFrom(result)
    elif kind == "verdict":
        verdict = new.verdict if restored == "verdict" else v2.Verdict()
        verdict.task_id = headers.get("task_id", verdict.task_id)
        verdict.agent = headers.get("agent", verdict.agent)
        verdict.action = headers.get("action", verdict.action)
        decision = headers.get("decision", "")
        if decision:
            verdict.decision = cast(
                v2.Verdict.Decision, v2.Verdict.Decision.Value(f"DECISION_{decision.upper()}"))
        if "reasons" in headers and not verdict.reasons:
            verdict.reasons.extend(r for r in headers["reasons"].split("\n") if r)
        new.verdict.CopyFrom(verdict)
    elif kind == "event":
        event = new.event if restored == "event" else v2.LifecycleEvent()
        event.saga_type = headers.get("saga_type", event.saga_type)
        status = headers.get("status", "")
        if status:
            event.status = cast(v2.SagaStatus, v2.SagaStatus.Value(f"SAGA_STATUS_{status.upper()}"))
        event.step_name = headers.get("step_name", event.step_name)
        event.output.CopyFrom(old.payload)
        new.event.CopyFrom(event)
    elif kind == "announcement":
        ann = v2.AgentAnnouncement(
            agent=headers.get("agent", ""),
            instance_id=headers.get("instance_id", ""),
            actions=_split(headers.get("actions", "")),
            compensations=_split(headers.get("compensations", "")),
            schema_versions=[int(v) for v in _split(headers.get("schema_versions", "1"))],
        )
        phase = headers.get("phase", "")
        if phase:
            ann.phase = cast(
                v2.AgentAnnouncement.Phase, v2.AgentAnnouncement.Phase.Value(f"PHASE_{phase.upper()}"))
        new.announcement.CopyFrom(ann)
    else:
        raise ContractError(
            "unknown_kind",
            f"v1 message {old.id!r} has kind {kind!r}; expected one of "
            f"{sorted(BODY_FIELD_BY_KIND)}. Fix the producer to set a known kind.",
        )
    new.ClearField("payload")
    new.headers.clear()
    new.headers.update({k: v for k, v in headers.items() if k not in V1_VIEW_KEYS})
    if not new.saga_id:
        new.saga_id = old.correlation_id
    return new


def downcast_v2_v1(new: v2.Message) -> v1.Message:
    """Turn a v2 envelope into v1 for a v1-only consumer; v2-only fields ride along as unknown fields."""
    old = v1.Message.FromString(new.SerializeToString())
    body = new.WhichOneof("body")
    if body is None:
        raise ContractError("missing_body", f"message {new.id!r} has no body; cannot write it as v1.")
    old.kind = KIND_BY_BODY_FIELD[body]
    if not old.correlation_id:
        old.correlation_id = new.saga_id
    h = old.headers
    if body == "saga_start":
        h["saga_type"] = new.saga_start.saga_type
        old.payload.CopyFrom(new.saga_start.input)
    elif body == "task":
        t = new.task
        h.update(task_id=t.task_id, agent=t.agent, action=t.action,
                 compensation=str(t.compensation).lower())
        old.payload.CopyFrom(t.input)
    elif body == "result":
        r = new.result
        h.update(task_id=r.task_id, agent=r.agent, action=r.action,
                 compensation=str(r.compensation).lower(),
                 ok=str(r.status == v2.Result.STATUS_OK).lower())
        if r.status == v2.Result.STATUS_OK:
            old.payload.CopyFrom(r.output)
        else:
            h.update(error_code=r.error.code, error=r.error.message,
                     retryable=str(r.error.retryable).lower())
    elif body == "verdict":
        vd = new.verdict
        h.update(task_id=vd.task_id, agent=vd.agent, action=vd.action,
                 decision=v2.Verdict.Decision.Name(vd.decision).removeprefix("DECISION_").lower(),
                 reasons="\n".join(vd.reasons))
    elif body == "event":
        e = new.event
        h.update(saga_type=e.saga_type, step_name=e.step_name,
                 status=v2.SagaStatus.Name(e.status).removeprefix("SAGA_STATUS_").lower())
        old.payload.CopyFrom(e.output)
    elif body == "announcement":
        a = new.announcement
        h.update(agent=a.agent, instance_id=a.instance_id, actions=",".join(a.actions),
                 compensations=",".join(a.compensations),
                 schema_versions=",".join(str(v) for v in a.schema_versions),
                 phase=v2.AgentAnnouncement.Phase.Name(a.phase).removeprefix("PHASE_").lower())
    return old


def _split(value: str) -> list[str]:
    return [part for part in value.split(",") if part]


# ---------------------------------------------------------------- wire encoding


def encode(message: v2.Message, *, schema: int = 2, max_bytes: int | None = None) -> Encoded:
    """Serialise a v2 envelope for the wire in the given schema version (1 or 2)."""
    if schema not in SUPPORTED_SCHEMAS:
        raise ContractError(
            "unknown_schema", f"cannot write schema {schema}; agentbus writes {sorted(SUPPORTED_SCHEMAS)}.")
    if not message.id:
        raise ContractError("missing_id", "message has no id; build it with agentbus.codec.new_envelope().")
    if not message.kind and message.WhichOneof("body"):
        message.kind = KIND_BY_BODY_FIELD[message.WhichOneof("body") or ""]
    body = (downcast_v2_v1(message) if schema == 1 else message).SerializeToString()
    if max_bytes is not None and len(body) > max_bytes:
        raise ContractError(
            "oversize",
            f"message {message.id} is {len(body)} bytes, over the {max_bytes}-byte limit "
            "(AGENTBUS_MAX_MESSAGE_BYTES); send large content by reference (a URL or object key).",
        )
    headers: dict[str, Any] = {SCHEMA_HEADER: schema}
    if message.trace.traceparent:
        headers[TRACEPARENT_HEADER] = message.trace.traceparent
        if message.trace.tracestate:
            headers["tracestate"] = message.trace.tracestate
    return Encoded(
        body=body,
        message_type=TYPE_BY_SCHEMA[schema],
        message_id=message.id,
        correlation_id=message.saga_id or message.correlation_id,
        headers=headers,
    )


def detect_schema(message_type: str | None, headers: Mapping[str, Any] | None) -> int:
    """Return the schema version from the AMQP `type` and the x-agentbus-schema header, which must agree."""
    raw = (headers or {}).get(SCHEMA_HEADER)
    if raw is None:
        raise ContractError(
            "missing_schema_header",
            f"no {SCHEMA_HEADER} header; publish with agentbus (or set the header to 1 or 2 and the "
            f"AMQP type to {V1_TYPE} / {V2_TYPE}).",
        )
    try:
        schema = int(raw.decode() if isinstance(raw, bytes) else raw)
    except (TypeError, ValueError):
        schema = -1
    if schema not in SUPPORTED_SCHEMAS:
        raise ContractError(
            "unknown_schema",
            f"{SCHEMA_HEADER}={raw!r} is not a version this consumer reads ({sorted(SUPPORTED_SCHEMAS)}); "
            "upgrade the consumer or publish a supported version.",
        )
    if message_type not in SCHEMA_BY_TYPE:
        raise ContractError(
            "unknown_type",
            f"AMQP type {message_type!r} is not an agentbus message; expected {V1_TYPE} or {V2_TYPE}.",
        )
    if SCHEMA_BY_TYPE[message_type] != schema:
        raise ContractError(
            "schema_mismatch",
            f"AMQP type {message_type} disagrees with {SCHEMA_HEADER}={schema}; fix the producer.",
        )
    return schema


def decode(
    body: bytes,
    *,
    message_type: str | None,
    headers: Mapping[str, Any] | None,
    max_bytes: int | None = None,
) -> Decoded:
    """Parse wire bytes into a v2 envelope, upcasting v1; raises ContractError with a reason code."""
    if max_bytes is not None and len(body) > max_bytes:
        raise ContractError(
            "oversize",
            f"message is {len(body)} bytes, over the {max_bytes}-byte limit (AGENTBUS_MAX_MESSAGE_BYTES); "
            "send large content by reference.",
        )
    schema = detect_schema(message_type, headers)
    cls = v1.Message if schema == 1 else v2.Message
    try:
        parsed = cls.FromString(body)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise ContractError(
            "malformed_protobuf",
            f"body is not a valid {cls.DESCRIPTOR.full_name} ({exc}); check the producer serialises "
            "with the agentbus contracts.",
        ) from exc
    if not parsed.id or (parsed.kind and parsed.kind not in BODY_FIELD_BY_KIND):
        raise ContractError(
            "malformed_protobuf",
            f"body parsed as {cls.DESCRIPTOR.full_name} but has no id or an unknown kind "
            f"({parsed.kind!r}); check the producer serialises with the agentbus contracts.",
        )
    if isinstance(parsed, v1.Message):
        return Decoded(upcast_v1_v2(parsed), 1)
    return Decoded(parsed, 2)


# ---------------------------------------------------------------- builders


def new_id() -> str:
    """A fresh envelope id."""
    return uuid.uuid4().hex


def new_traceparent() -> str:
    """A fresh W3C traceparent (version 00, sampled)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_traceparent(parent: str) -> str:
    """The traceparent of a span caused by `parent`: same trace id, new span id."""
    parts = parent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return new_traceparent()
    return f"{parts[0]}-{parts[1]}-{secrets.token_hex(8)}-{parts[3]}"


BodyMessage = v2.SagaStart | v2.Task | v2.Result | v2.Verdict | v2.LifecycleEvent | v2.AgentAnnouncement
_FIELD_BY_BODY_TYPE: Final = {
    v2.SagaStart: "saga_start", v2.Task: "task", v2.Result: "result", v2.Verdict: "verdict",
    v2.LifecycleEvent: "event", v2.AgentAnnouncement: "announcement",
}


def new_envelope(
    body: BodyMessage,
    *,
    source: str,
    saga_id: str = "",
    step: str = "",
    attempt: int = 0,
    caused_by: v2.Message | None = None,
    deadline: datetime | None = None,
) -> v2.Message:
    """Wrap a body in a fresh v2 envelope; `caused_by` links trace and causation to the message it answers."""
    body_field = _FIELD_BY_BODY_TYPE[type(body)]
    msg = v2.Message(
        id=new_id(), kind=KIND_BY_BODY_FIELD[body_field], source=source, saga_id=saga_id,
        step=step, attempt=attempt,
    )
    msg.created_at.FromDatetime(datetime.now(UTC))
    getattr(msg, body_field).CopyFrom(body)
    if caused_by is not None:
        msg.causation_id = caused_by.id
        msg.saga_id = msg.saga_id or caused_by.saga_id
        msg.step = msg.step or caused_by.step
        msg.attempt = msg.attempt or caused_by.attempt
        if caused_by.trace.traceparent:
            msg.trace.traceparent = child_traceparent(caused_by.trace.traceparent)
            msg.trace.tracestate = caused_by.trace.tracestate
    if not msg.trace.traceparent:
        msg.trace.traceparent = new_traceparent()
    msg.correlation_id = msg.saga_id
    if deadline is not None:
        msg.deadline.FromDatetime(deadline)
    return msg


def struct_from(data: Mapping[str, Any] | None) -> Struct:
    """A google.protobuf.Struct from a JSON-like mapping."""
    s = Struct()
    if data:
        s.update(dict(data))
    return s


def struct_to_dict(s: Struct) -> dict[str, Any]:
    """A JSON-like dict from a google.protobuf.Struct."""
    return json_format.MessageToDict(s)


def to_json_dict(message: v2.Message) -> dict[str, Any]:
    """The envelope as a JSON-friendly dict (for `agentbus tail` and logs)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)
