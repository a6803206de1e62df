"""Replies: fresh v2 envelopes, v1 echoes whose unknown fields ride back, and failures from exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentbus import codec
from agentbus.agent.errors import TaskFailed
from agentbus.agent.replies import error_for, output_struct, reply_envelope, result_for
from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.llm import LLMRequestError, LLMUnavailableError
from agentbus.llm.types import Usage

# Field 99 (length-delimited) is unknown even to v2: what a newer sender might add.
FUTURE_FIELD = b"\x9a\x06\x05later"


def task_message() -> v2.Message:
    task = v2.Task(task_id="s1:edit:2", agent="editor", action="edit",
                   input=codec.struct_from({"draft": "text"}))
    msg = codec.new_envelope(task, source="orchestrator", saga_id="s1", step="edit", attempt=2,
                             deadline=datetime.now(UTC) + timedelta(minutes=1))
    msg.headers["x-request-note"] = "keep me"
    return msg


def test_a_v2_reply_answers_the_task_with_saga_coordinates() -> None:
    request = task_message()
    result = result_for(request.task, output=codec.struct_from({"article": "A"}), usage=Usage(5, 7))
    reply = reply_envelope(request, result, source="editor", echo=False)
    assert (reply.saga_id, reply.step, reply.attempt) == ("s1", "edit", 2)
    assert reply.causation_id == request.id
    assert reply.trace.traceparent.split("-")[1] == request.trace.traceparent.split("-")[1]
    assert reply.id != request.id
    assert reply.result.status == v2.Result.STATUS_OK
    assert (reply.result.usage.prompt_tokens, reply.result.usage.completion_tokens) == (5, 7)
    assert reply.result.task_id == "s1:edit:2"


def test_a_v1_echo_reply_keeps_fields_it_does_not_know() -> None:
    request_bytes = codec.encode(task_message(), schema=1).body + FUTURE_FIELD
    received = codec.decode(request_bytes, message_type=codec.V1_TYPE, headers={codec.SCHEMA_HEADER: 1})
    assert received.schema == 1
    request = received.message
    result = result_for(request.task, output=codec.struct_from({"article": "A"}))
    reply = reply_envelope(request, result, source="editor", echo=True)
    wire = codec.encode(reply, schema=1)
    assert wire.message_type == codec.V1_TYPE
    assert FUTURE_FIELD in wire.body  # unknown to v1 and to v2, and still carried back
    as_v1 = v1.Message.FromString(wire.body)
    assert as_v1.kind == "result"
    assert as_v1.headers["ok"] == "true"
    assert as_v1.headers["x-request-note"] == "keep me"
    back = codec.decode(wire.body, message_type=wire.message_type, headers=wire.headers).message
    assert back.WhichOneof("body") == "result"
    assert codec.struct_to_dict(back.result.output) == {"article": "A"}
    assert (back.saga_id, back.step, back.attempt) == ("s1", "edit", 2)
    assert back.causation_id == request.id
    assert back.trace.traceparent.split("-")[1] == request.trace.traceparent.split("-")[1]
    assert not back.HasField("deadline")


def test_a_v1_failure_carries_code_message_and_retryable() -> None:
    request = task_message()
    result = result_for(request.task, error=v2.Error(code="llm_unavailable", message="busy",
                                                     retryable=True))
    wire = codec.encode(reply_envelope(request, result, source="editor", echo=True), schema=1)
    back = codec.decode(wire.body, message_type=wire.message_type, headers=wire.headers).message
    assert back.result.status == v2.Result.STATUS_FAILED
    assert (back.result.error.code, back.result.error.message, back.result.error.retryable) == (
        "llm_unavailable", "busy", True)


@pytest.mark.parametrize(("exc", "code", "retryable"), [
    (TaskFailed("no", retryable=False), "task_failed", False),
    (TaskFailed("later", retryable=True, code="busy"), "busy", True),
    (LLMUnavailableError("503"), "llm_unavailable", True),
    (LLMRequestError("400", status=400), "llm_request", False),
    (KeyError("topic"), "agent_error", True),
])
def test_errors_become_failed_results(exc: BaseException, code: str, retryable: bool) -> None:
    error = error_for(exc)
    assert (error.code, error.retryable) == (code, retryable)
    assert error.message


def test_outputs_must_be_json_like_mappings() -> None:
    assert codec.struct_to_dict(output_struct({"a": [1, "b"], "c": None})) == {"a": [1.0, "b"], "c": None}
    assert output_struct(None) == output_struct({})
    with pytest.raises(TaskFailed, match="not a mapping"):
        output_struct(["a"])  # type: ignore[arg-type]
    with pytest.raises(TaskFailed, match="not JSON-like"):
        output_struct({"when": datetime.now(UTC)})
