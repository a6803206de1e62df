"""The orchestrator against the real broker: sagas complete, compensate, time out and retry.

No guardrail runs here, so stand-in agents read tasks straight from `agentbus.ingress` (`task.#`)
and answer on `result.<agent>.<action>`, as real agents do behind the guardrail.
"""

from __future__ import annotations

import pytest

from agentbus import codec, topology
from agentbus.bus import DEAD_LETTER_REASON, Bus
from services.orchestrator.record import SagaState
from services.orchestrator.settings import OrchestratorSettings
from services.orchestrator.store.sqlite import SqliteSagaStore
from tests.integration.orchestrator.helpers import Observer, StandInAgents, start_saga
from tests.support.broker import queue_depth, take_messages, wait_for

pytestmark = pytest.mark.integration

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
    _, observer = running
    await start_saga(bus, "mystery-1", "x", saga_type="mystery")
    # Whoever follows the saga hears that it will not run: saga.escalated.<type>, no record.
    await observer.wait_for_status("mystery-1", "escalated")
    (refusal,) = observer.events["mystery-1"]
    assert refusal.event.saga_type == "mystery"
    assert refusal.event.error.code == "unknown_saga_type"
    assert "no saga type 'mystery' is defined (known: article)" in refusal.event.error.message
    assert not refusal.event.HasField("record")
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
