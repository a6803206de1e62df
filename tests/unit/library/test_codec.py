"""The codec: version detection, upcast/downcast field by field, and clear contract errors."""

from __future__ import annotations

import pytest
from google.protobuf.internal import api_implementation

from agentbus import codec
from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import ContractError


def _task_message() -> v2.Message:
    task = v2.Task(task_id="s1:research:1", agent="researcher", action="research",
                   input=codec.struct_from({"topic": "quorum queues", "depth": 2, "tags": ["a", "b"]}))
    task.context.add(name="brief", text="keep it short")
    return codec.new_envelope(task, source="orchestrator", saga_id="s1", step="research", attempt=3)


def test_protobuf_runs_on_upb() -> None:
    # The pure-Python backend is ~15x slower per message and would eat the hop budget.
    assert api_implementation.Type() == "upb"


def test_v2_roundtrip_keeps_every_field() -> None:
    msg = _task_message()
    enc = codec.encode(msg)
    assert enc.message_type == "agentbus.v2.Message"
    assert enc.headers[codec.SCHEMA_HEADER] == 2
    assert enc.headers[codec.TRACEPARENT_HEADER] == msg.trace.traceparent
    assert enc.correlation_id == "s1"
    dec = codec.decode(enc.body, message_type=enc.message_type, headers=enc.headers)
    assert dec.schema == 2
    assert dec.message == msg


def test_downcast_task_exposes_v1_view_and_keeps_v2_fields() -> None:
    msg = _task_message()
    enc = codec.encode(msg, schema=1)
    assert enc.message_type == "agentbus.v1.Message"
    old = v1.Message.FromString(enc.body)
    assert old.kind == "task"
    assert old.correlation_id == "s1"
    assert old.headers["agent"] == "researcher"
    assert old.headers["action"] == "research"
    assert old.headers["task_id"] == "s1:research:1"
    assert codec.struct_to_dict(old.payload) == {"topic": "quorum queues", "depth": 2, "tags": ["a", "b"]}
    # Upcasting what a v1 consumer holds restores v2-only data (saga, step, attempt, context).
    back = codec.decode(enc.body, message_type=enc.message_type, headers=enc.headers)
    assert back.schema == 1
    assert back.message.saga_id == "s1"
    assert back.message.step == "research"
    assert back.message.attempt == 3
    assert back.message.task == msg.task
    assert back.message.trace.traceparent == msg.trace.traceparent


def test_v1_reply_built_from_echoed_request_upcasts_to_result() -> None:
    request = v1.Message.FromString(codec.encode(_task_message(), schema=1).body)
    reply = v1.Message()
    reply.CopyFrom(request)  # a v1 agent answers by echoing the envelope: unknown fields ride along
    reply.id = "reply-1"
    reply.kind = "result"
    reply.payload.Clear()
    reply.payload.update({"notes": "three findings"})
    reply.headers["ok"] = "true"
    up = codec.upcast_v1_v2(reply)
    assert up.WhichOneof("body") == "result"
    assert up.result.status == v2.Result.STATUS_OK
    assert up.result.task_id == "s1:research:1"
    assert up.result.agent == "researcher"
    assert codec.struct_to_dict(up.result.output) == {"notes": "three findings"}
    assert (up.saga_id, up.step, up.attempt) == ("s1", "research", 3)
    assert "ok" not in up.headers  # the v1 view does not leak into v2 headers


def test_v1_failed_result_upcasts_with_error_and_retryable() -> None:
    old = v1.Message(id="r1", kind="result", correlation_id="s9",
                     headers={"ok": "false", "error": "model overloaded", "retryable": "true",
                              "task_id": "t", "agent": "writer", "action": "write", "trace": "x"})
    up = codec.upcast_v1_v2(old)
    assert up.result.status == v2.Result.STATUS_FAILED
    assert up.result.error.message == "model overloaded"
    assert up.result.error.retryable is True
    assert up.saga_id == "s9"
    assert dict(up.headers) == {"trace": "x"}


@pytest.mark.parametrize("body", [
    v2.SagaStart(saga_type="content_pipeline", input=codec.struct_from({"topic": "x"})),
    v2.Result(task_id="t", agent="w", action="a", status=v2.Result.STATUS_FAILED,
              error=v2.Error(code="boom", message="bad", retryable=False)),
    v2.Verdict(task_id="t", agent="w", action="a", decision=v2.Verdict.DECISION_BLOCKED,
               reasons=["shell payload", "email"]),
    v2.LifecycleEvent(saga_type="content_pipeline", status=v2.SAGA_STATUS_COMPENSATED,
                      step_name="publish", output=codec.struct_from({"k": 1})),
    v2.AgentAnnouncement(agent="writer", instance_id="i1", actions=["write"], compensations=["discard"],
                         schema_versions=[1], phase=v2.AgentAnnouncement.PHASE_HEARTBEAT),
])
def test_every_body_survives_a_v1_trip(body: codec.BodyMessage) -> None:
    msg = codec.new_envelope(body, source="test", saga_id="s2")
    old = codec.downcast_v2_v1(msg)
    # Strip the unknown (v2) fields: the v1 view alone must carry the body.
    bare = v1.Message(id=old.id, kind=old.kind, correlation_id=old.correlation_id, source=old.source,
                      payload=old.payload, headers=dict(old.headers))
    up = codec.upcast_v1_v2(bare)
    field = up.WhichOneof("body")
    assert field == msg.WhichOneof("body")
    assert getattr(up, field or "") == getattr(msg, field or "")


@pytest.mark.parametrize(("message_type", "headers", "reason"), [
    ("agentbus.v2.Message", {}, "missing_schema_header"),
    ("agentbus.v2.Message", {codec.SCHEMA_HEADER: 7}, "unknown_schema"),
    ("agentbus.v3.Message", {codec.SCHEMA_HEADER: 2}, "unknown_type"),
    ("agentbus.v1.Message", {codec.SCHEMA_HEADER: 2}, "schema_mismatch"),
])
def test_version_detection_errors_name_the_reason(message_type: str, headers: dict[str, object],
                                                   reason: str) -> None:
    body = codec.encode(_task_message()).body
    with pytest.raises(ContractError) as info:
        codec.decode(body, message_type=message_type, headers=headers)
    assert info.value.reason == reason
    assert info.value.retryable is False


@pytest.mark.parametrize("body", [b"\xff\xff\xff\xff", b"not a protobuf at all", b""])
def test_malformed_bytes_are_a_contract_error(body: bytes) -> None:
    with pytest.raises(ContractError) as info:
        codec.decode(body, message_type="agentbus.v2.Message", headers={codec.SCHEMA_HEADER: 2})
    assert info.value.reason == "malformed_protobuf"
    assert "producer" in str(info.value)


def test_oversize_is_refused_on_both_sides() -> None:
    msg = _task_message()
    msg.task.input.update({"blob": "x" * 5000})
    with pytest.raises(ContractError, match="send large content by reference") as info:
        codec.encode(msg, max_bytes=1024)
    assert info.value.reason == "oversize"
    body = codec.encode(msg).body
    with pytest.raises(ContractError) as info2:
        codec.decode(body, message_type="agentbus.v2.Message", headers={codec.SCHEMA_HEADER: 2},
                     max_bytes=1024)
    assert info2.value.reason == "oversize"


def test_schema_header_accepts_string_and_bytes() -> None:
    enc = codec.encode(_task_message())
    for raw in ("2", b"2", 2):
        decoded = codec.decode(enc.body, message_type=enc.message_type, headers={codec.SCHEMA_HEADER: raw})
        assert decoded.schema == 2


def test_child_traceparent_keeps_trace_id() -> None:
    parent = codec.new_traceparent()
    child = codec.child_traceparent(parent)
    assert child.split("-")[1] == parent.split("-")[1]
    assert child.split("-")[2] != parent.split("-")[2]
    reply = codec.new_envelope(v2.Result(), source="x", caused_by=_task_message())
    assert reply.saga_id == "s1"
    assert reply.causation_id
