"""Stand-in agents, a lifecycle observer and saga helpers for the orchestrator's broker tests.

No guardrail runs here, so stand-in agents read tasks straight from `agentbus.ingress` (`task.#`)
and answer on `result.<agent>.<action>`, as real agents do behind the guardrail.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery
from agentbus.contracts.v2 import message_pb2 as v2

ARTICLE = """\
name: article
steps:
  - name: research
    agent: researcher
    action: research
    compensation: discard_notes
    timeout: 1
    retry: {attempts: 2, backoff: {initial: 0.1}}
    input:
      topic: ${saga.input.topic}
  - name: write
    agent: writer
    action: write
    compensation: discard_draft
    timeout: 5
    input:
      topic: ${saga.input.topic}
      notes: ${steps.research.output.notes}
"""

STATUS_NAMES = {value: name.removeprefix("SAGA_STATUS_").lower()
                for name, value in v2.SagaStatus.items()}


@dataclass
class StandInAgents:
    """researcher and writer: answer every task, with behaviour chosen by the saga's topic.

    "ok": answer (the researcher answers twice: a duplicate); "fail": the writer fails for good;
    "slow": the researcher ignores attempt 1, so only its timeout and retry move the saga.
    """

    bus: Bus
    tasks: list[v2.Message]

    async def __call__(self, message: v2.Message, delivery: Delivery) -> None:
        self.tasks.append(message)
        task = message.task
        topic = codec.struct_to_dict(task.input).get("topic")
        if task.compensation:
            await self.reply(message, v2.Result.STATUS_OK, {"undone": task.action})
        elif task.agent == "researcher" and topic == "slow" and message.attempt == 1:
            return
        elif task.agent == "writer" and topic == "fail":
            await self.reply(message, v2.Result.STATUS_FAILED, {},
                             v2.Error(code="no_words", message="writer's block", retryable=False))
        else:
            output: dict[str, object] = (
                {"notes": [f"{topic} fact"]} if task.agent == "researcher"
                else {"draft": f"About {topic}"})
            await self.reply(message, v2.Result.STATUS_OK, output)
            if task.agent == "researcher" and topic == "ok":
                await self.reply(message, v2.Result.STATUS_OK, output)

    async def reply(self, task_message: v2.Message, status: v2.Result.Status,
                    output: dict[str, object], error: v2.Error | None = None) -> None:
        task = task_message.task
        result = v2.Result(task_id=task.task_id, agent=task.agent, action=task.action,
                           status=status, output=codec.struct_from(output),
                           compensation=task.compensation)
        if error is not None:
            result.error.CopyFrom(error)
        envelope = codec.new_envelope(result, source=task.agent, caused_by=task_message)
        await self.bus.publish(topology.INGRESS, f"result.{task.agent}.{task.action}", envelope)


class Observer:
    """Collects lifecycle events per saga and wakes waiters."""

    def __init__(self) -> None:
        self.events: dict[str, list[v2.Message]] = defaultdict(list)
        self.changed = asyncio.Event()

    async def __call__(self, message: v2.Message, delivery: Delivery) -> None:
        if message.WhichOneof("body") != "event":
            return  # saga.# also matches the saga.start.<type> requests
        self.events[message.saga_id].append(message)
        self.changed.set()

    def statuses(self, saga_id: str) -> list[str]:
        out = []
        for m in self.events[saga_id]:
            status = STATUS_NAMES[m.event.status]
            out.append(f"{status}:{m.event.step_name}" if status.startswith("step_") else status)
        return out

    async def wait_for_status(self, saga_id: str, status: str, timeout: float = 15.0) -> None:
        async def reached() -> None:
            while status not in self.statuses(saga_id):
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise AssertionError(f"saga {saga_id} never reached {status}: "
                                 f"{self.statuses(saga_id)}") from None


async def start_saga(bus: Bus, saga_id: str, topic: str, saga_type: str = "article") -> None:
    body = v2.SagaStart(saga_type=saga_type, input=codec.struct_from({"topic": topic}))
    await bus.publish(topology.INGRESS, f"saga.start.{saga_type}",
                      codec.new_envelope(body, source="test", saga_id=saga_id))
