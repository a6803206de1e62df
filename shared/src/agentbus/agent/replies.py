"""Building an agent's reply: a Result in an envelope that answers the task, in the agent's version.

A v2 agent answers with a fresh envelope caused by the task (`codec.new_envelope(caused_by=...)`:
saga id, step, attempt, causation and trace are copied). A v1-only agent answers the way a v1
program does, by echoing the request envelope with the result in it: every field it does not know
(saga id, step, attempt, trace, and anything newer) rides back unchanged when it is written as v1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.protobuf.struct_pb2 import Struct

from agentbus import codec
from agentbus.agent.errors import TaskFailed, error_code
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError
from agentbus.llm.types import Usage

MAX_ERROR_MESSAGE = 2000


def result_for(task: v2.Task, *, output: Struct | None = None, error: v2.Error | None = None,
               usage: Usage | None = None) -> v2.Result:
    """A Result answering `task`: OK with `output`, or FAILED with `error`."""
    result = v2.Result(task_id=task.task_id, agent=task.agent, action=task.action,
                       compensation=task.compensation)
    if error is None:
        result.status = v2.Result.STATUS_OK
        result.output.CopyFrom(output or Struct())
    else:
        result.status = v2.Result.STATUS_FAILED
        result.error.CopyFrom(error)
    if usage is not None and usage.total_tokens:
        result.usage.CopyFrom(v2.TokenUsage(prompt_tokens=usage.prompt_tokens,
                                            completion_tokens=usage.completion_tokens))
    return result


def output_struct(output: Mapping[str, Any] | None) -> Struct:
    """A handler's return value as a Struct; raises TaskFailed when it is not JSON-like."""
    if output is None:
        return Struct()
    if not isinstance(output, Mapping):
        raise TaskFailed(f"the handler returned {type(output).__name__}, not a mapping; return a "
                         "dict of JSON values", code="bad_output")
    try:
        return codec.struct_from(output)
    except (ValueError, TypeError, AttributeError) as exc:
        raise TaskFailed(f"the handler's output is not JSON-like ({exc}); return only str, int, "
                         "float, bool, None, lists and dicts", code="bad_output") from exc


def error_for(exc: BaseException) -> v2.Error:
    """The Error a failed result carries for an exception raised by a handler."""
    if isinstance(exc, TaskFailed):
        code, retryable = exc.code, exc.retryable
    elif isinstance(exc, AgentBusError):  # LLM errors and the like carry their own policy
        code, retryable = error_code(exc), exc.retryable
    else:
        # A bug or an unforeseen condition: answer instead of letting the message bounce, and let
        # the saga's retry policy decide whether to try again.
        code, retryable = "agent_error", True
    text = str(exc) if isinstance(exc, AgentBusError) else f"{type(exc).__name__}: {exc}"
    return v2.Error(code=code, message=text[:MAX_ERROR_MESSAGE], retryable=retryable)


def reply_envelope(request: v2.Message, result: v2.Result, *, source: str, echo: bool) -> v2.Message:
    """The envelope answering `request`: fresh (v2 agents) or an echo of the request (v1 agents)."""
    if not echo:
        return codec.new_envelope(result, source=source, caused_by=request)
    reply = v2.Message()
    reply.CopyFrom(request)  # unknown fields included: that is the point of echoing
    reply.id = codec.new_id()
    reply.kind = "result"
    reply.source = source
    reply.created_at.FromDatetime(datetime.now(UTC))
    reply.causation_id = request.id
    reply.correlation_id = request.saga_id or request.correlation_id
    reply.ClearField("payload")
    reply.ClearField("deadline")  # the task's deadline means nothing on its answer
    reply.trace.traceparent = (codec.child_traceparent(request.trace.traceparent)
                               if request.trace.traceparent else codec.new_traceparent())
    reply.result.CopyFrom(result)  # replaces the task in the body oneof
    return reply
