"""The orchestrator against the real broker: sagas complete, compensate, time out and retry.

No guardrail runs here, so stand-in agents read tasks straight from `agentbus.ingress` (`task.#`)
and answer on `result.<agent>.<action>`, as real agents do behind the guardrail.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentbus import codec, topology
from agentbus.bus import DEAD_LETTER_REASON, Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.settings import Settings
from agentbus.topology import Topology
from services.orchestrator.app import run
from services.orchestrator.definitions import load_definitions
from services.orchestrator.record import SagaState
from services.orchestrator.settings import OrchestratorSettings
from services.orchestrator.store.sqlite import SqliteSagaStore
from tests.support.broker import queue_depth, take_messages, wait_for

pytestmark = pytest.mark.integration

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


@pytest.fixture
def orchestrator_settings(settings: Settings, tmp_path: Path) -> OrchestratorSettings:
    sagas = tmp_path / "sagas"
    sagas.mkdir()
    (sagas / "article.yaml").write_text(ARTICLE)
    return OrchestratorSettings(
        **settings.model_dump(), saga_store_url=f"sqlite:///{tmp_path}/sagas.db",
        sagas_dir=sagas, known_agents="researcher,writer", timer_poll_s=0.1, outbox_poll_s=0.2)


@pytest.fixture
async def running(orchestrator_settings: OrchestratorSettings, topo: Topology,
                  bus: Bus) -> AsyncIterator[tuple[StandInAgents, Observer]]:
    """The orchestrator serving in this process, stand-in agents and an observer of saga.#."""
    agents, observer = StandInAgents(bus, []), Observer()
    router = Router()
    router.subscribe("test.agents", exchange=topology.INGRESS, binding_keys=["task.#"],
                     temporary=True)(agents)
    router.subscribe("test.observer", exchange=topology.INGRESS, binding_keys=["saga.#"],
                     temporary=True)(observer)
    await bus.start(router)
    stop = asyncio.Event()
    definitions = load_definitions(orchestrator_settings.sagas_dir)
    service = asyncio.create_task(run(orchestrator_settings, stop=stop, definitions=definitions))
    try:
        yield agents, observer
    finally:
        stop.set()
        await asyncio.wait_for(service, 20)


async def start_saga(bus: Bus, saga_id: str, topic: str, saga_type: str = "article") -> None:
    body = v2.SagaStart(saga_type=saga_type, input=codec.struct_from({"topic": topic}))
    await bus.publish(topology.INGRESS, f"saga.start.{saga_type}",
                      codec.new_envelope(body, source="test", saga_id=saga_id))


async def test_sagas_complete_compensate_and_survive_timeouts(
        running: tuple[StandInAgents, Observer], bus: Bus,
        orchestrator_settings: OrchestratorSettings) -> None:
    agents, observer = running
    await start_saga(bus, "ok-1", "ok")
    await start_saga(bus, "fail-1", "fail")
    await start_saga(bus, "slow-1", "slow")

    await observer.wait_for_status("ok-1", "completed")
    await observer.wait_for_status("fail-1", "compensated")
    await observer.wait_for_status("slow-1", "completed")

    # A saga that completes, once, despite a duplicate reply.
    assert observer.statuses("ok-1") == [
        "started", "step_completed:research", "step_completed:write", "completed"]
    completed = observer.events["ok-1"][-1]
    assert codec.struct_to_dict(completed.event.output) == {
        "research": {"notes": ["ok fact"]}, "write": {"draft": "About ok"}}
    assert completed.correlation_id == "ok-1"
    ok_tasks = [m.task.task_id for m in agents.tasks if m.saga_id == "ok-1"]
    assert ok_tasks == ["ok-1:research:1", "ok-1:write:1"]
    write_task = next(m for m in agents.tasks if m.task.task_id == "ok-1:write:1")
    assert codec.struct_to_dict(write_task.task.input) == {"topic": "ok", "notes": ["ok fact"]}

    # A saga that compensates: the writer failed, so research is undone.
    assert observer.statuses("fail-1") == [
        "started", "step_completed:research", "step_failed:write", "compensating", "compensated"]
    undo = [m for m in agents.tasks if m.saga_id == "fail-1" and m.task.compensation]
    assert [(m.task.task_id, m.task.action) for m in undo] == [
        ("fail-1:research:compensate:1", "discard_notes")]
    compensated = observer.events["fail-1"][-1]
    assert compensated.event.error.code == "no_words"

    # A step that timed out was retried and the saga went on.
    slow_research = [m.task.task_id for m in agents.tasks
                     if m.saga_id == "slow-1" and m.step == "research"]
    assert slow_research == ["slow-1:research:1", "slow-1:research:2"]

    store = SqliteSagaStore(orchestrator_settings.saga_store_url)
    async with store:
        records = {r.saga_id: r for r in await store.list_sagas()}
        assert {k: r.status for k, r in records.items()} == {
            "ok-1": SagaState.COMPLETED, "fail-1": SagaState.COMPENSATED,
            "slow-1": SagaState.COMPLETED}
        assert [c.step for c in records["fail-1"].compensations] == ["research"]
        attempts = records["slow-1"].step("research").attempts
        assert [a.outcome.value if a.outcome else None for a in attempts] == ["timeout", "ok"]
        await wait_for(lambda: _nothing_pending(store), timeout=5, what="outbox drained")
        assert await store.due_timers(records["ok-1"].updated_at.replace(year=2100)) == []


async def _nothing_pending(store: SqliteSagaStore) -> bool:
    return await store.pending_outbox_count() == 0


async def test_unknown_saga_type_is_dead_lettered_with_the_reason(
        running: tuple[StandInAgents, Observer], bus: Bus,
        orchestrator_settings: OrchestratorSettings) -> None:
    await start_saga(bus, "mystery-1", "x", saga_type="mystery")
    dlqs = [topology.dead_letter_queue(topology.partition_queue(i))
            for i in range(orchestrator_settings.partitions)]
    url = orchestrator_settings.amqp_url

    async def dead_lettered() -> bool:
        depths = [await queue_depth(url, q) for q in dlqs]
        return sum(depths) == 1

    await wait_for(dead_lettered, timeout=10, what="the start in a partition's dead-letter queue")
    for queue in dlqs:
        if await queue_depth(url, queue):
            (message,) = await take_messages(url, queue, 1)
            assert message["headers"][DEAD_LETTER_REASON] == "unknown_saga_type"
