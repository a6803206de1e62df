"""Helpers for the agent broker tests: publish tasks as the guardrail would, collect what comes back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2


@dataclass
class Received:
    """A message that arrived, with the version it arrived in."""

    message: v2.Message
    routing_key: str
    schema: int


@dataclass
class Collector:
    """Everything on `result.#` and `agent.announce.#` (and more, if bound), in arrival order."""

    received: list[Received] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, message: v2.Message, delivery: Delivery) -> None:
        self.received.append(Received(message, delivery.routing_key, delivery.schema))
        self.changed.set()

    async def start(self, bus: Bus, *keys: str) -> Collector:
        router = Router()
        router.subscribe(f"test.collector.{uuid.uuid4().hex[:8]}", exchange=topology.INGRESS,
                         binding_keys=list(keys or ("result.#", "agent.announce.#")),
                         temporary=True)(self)
        await bus.start(router)
        return self

    def results(self, task_id: str | None = None) -> list[Received]:
        return [r for r in self.received if r.message.WhichOneof("body") == "result"
                and (task_id is None or r.message.result.task_id == task_id)]

    def announcements(self, agent: str | None = None) -> list[Received]:
        return [r for r in self.received if r.message.WhichOneof("body") == "announcement"
                and (agent is None or r.message.announcement.agent == agent)]

    async def wait(self, predicate: Callable[[], bool], *, timeout: float = 15.0,
                   what: str = "a message") -> None:
        async def reached() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            seen = [(r.routing_key, r.message.WhichOneof("body")) for r in self.received]
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; saw {seen}") from None

    async def result(self, task_id: str, *, count: int = 1, timeout: float = 15.0) -> Received:
        await self.wait(lambda: len(self.results(task_id)) >= count, timeout=timeout,
                        what=f"{count} result(s) for {task_id}")
        return self.results(task_id)[count - 1]


def task_envelope(agent: str, action: str, payload: dict[str, Any] | None = None, *,
                  saga_id: str = "saga-1", step: str = "", attempt: int = 1,
                  task_id: str | None = None, compensation: bool = False,
                  deadline_s: float | None = 30.0) -> v2.Message:
    """A task as the orchestrator writes it."""
    step = step or action
    task = v2.Task(task_id=task_id or f"{saga_id}:{step}:{attempt}", agent=agent, action=action,
                   input=codec.struct_from(payload or {}), compensation=compensation)
    deadline = None if deadline_s is None else datetime.now(UTC) + timedelta(seconds=deadline_s)
    return codec.new_envelope(task, source="orchestrator", saga_id=saga_id, step=step,
                              attempt=attempt, deadline=deadline)


async def send_task(bus: Bus, message: v2.Message, *, schema: int = 2) -> None:
    """Publish a task on agentbus.agents, where the guardrail would put it (the test user is admin)."""
    task = message.task
    await bus.publish(topology.AGENTS, f"task.{task.agent}.{task.action}", message, schema=schema)
