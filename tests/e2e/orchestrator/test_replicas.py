"""Two orchestrator replicas share one PostgreSQL store and the partitions; SIGKILL one mid-run.

Both replicas subscribe to every partition (single active consumer); the first is active on all of
them until the second's heartbeat shows up in the store, then hands over the partitions the second
prefers. Killed, its partitions move to the survivor at once, which finishes every saga.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import pytest

from agentbus.bus import Bus
from services.orchestrator.store import store_from_url
from tests.e2e.orchestrator.checks import check_run
from tests.e2e.orchestrator.conftest import Stack, read_records, start_sagas
from tests.integration.orchestrator.helpers import Observer
from tests.support.broker import wait_for
from tests.support.stand_in_agents import EffectLog

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SAGAS = 120


def saga_inputs(rng: random.Random) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for n in range(SAGAS):
        saga_input: dict[str, object] = {"n": n, "delay_ms": rng.choice([20, 40, 60])}
        if n % 5 == 2:
            saga_input["fail"] = "store"
        out[f"replicated-{n:03d}"] = saga_input
    return out


async def stream(bus: Bus, inputs: dict[str, dict[str, object]], every_s: float) -> None:
    """Start the sagas one by one, so some are always in flight."""
    for saga_id, saga_input in inputs.items():
        await start_sagas(bus, {saga_id: saga_input})
        await asyncio.sleep(every_s)


def sources(observer: Observer) -> Counter[str]:
    """How many lifecycle events each replica published (the engine stamps its name as source)."""
    return Counter(m.source for events in observer.events.values() for m in events)


async def test_two_replicas_share_the_partitions_and_one_survives_the_other(
        postgres_store_url: str, stack: Stack, effects: EffectLog, admin_bus: Bus,
        observer: Observer, tmp_path: Path) -> None:
    # (postgres_store_url first: its database is dropped after the processes are stopped.)
    rng = random.Random(7)
    await stack.start_stand_ins(tmp_path / "effects.db")
    replica_a, _ = await stack.start_orchestrator("orchestrator-a", postgres_store_url,
                                                  AGENTBUS_INSTANCE_ID="replica-a")
    replica_b, _ = await stack.start_orchestrator("orchestrator-b", postgres_store_url,
                                                  AGENTBUS_INSTANCE_ID="replica-b")
    every = saga_inputs(rng)
    starting = asyncio.create_task(stream(admin_bus, every, every_s=0.05))

    # Sharing: a hands b the partitions b prefers, and both apply transitions.
    def shared() -> bool:
        counts = sources(observer)
        return (min(counts["orchestrator-a"], counts["orchestrator-b"]) >= 10
                and "handing partition 1 over to replica-b" in replica_a.output()
                and "handing partition 3 over to replica-b" in replica_a.output())

    await wait_for(shared, timeout=30, what="both replicas at work, a having handed over 1 and 3")
    assert not starting.done(), "every saga was started before the replicas shared the work"
    by_a_before_kill = {saga for saga, events in observer.events.items()
                        if any(m.source == "orchestrator-a" for m in events)}
    replica_a.kill9()
    await starting

    async def all_finished() -> bool:
        records = await read_records(postgres_store_url)
        return len(records) == len(every) and all(r.status.finished for r in records.values())

    await wait_for(all_finished, timeout=60, interval=0.5,
                   what=f"every saga to finish after the kill\n{stack.logs()}")
    records = await read_records(postgres_store_url)
    summary = check_run(records, every, effects)
    print(f"events by replica: {dict(sources(observer))}; {summary}")

    # The survivor finished sagas the dead replica had been running, on partitions it owned.
    finished_by_b = {saga for saga, events in observer.events.items()
                     if events and events[-1].source == "orchestrator-b"
                     and events[-1].event.status in (5, 6)}  # compensated, completed
    taken_over = by_a_before_kill & finished_by_b
    assert taken_over, "no saga the killed replica worked on was finished by the survivor"
    store = store_from_url(postgres_store_url)
    async with store:
        partitions = {await store.partition_of(saga) for saga in taken_over}
    assert partitions & {0, 2}, f"taken-over sagas on partitions {partitions} only"
    assert summary.completed + summary.compensated == SAGAS
    # Once a's heartbeat is older than the TTL, b prefers (and fires the timers of) everything.
    await wait_for(lambda: "replicas alive: replica-b; this one (replica-b) prefers partition(s) "
                   "0,1,2,3" in replica_b.output(), timeout=10, what="b to see a gone")
    # The killed replica's partitions came to b from the broker; b did not bounce them back.
    assert "handing partition" not in replica_b.output()
    assert replica_b.stop() == 0, replica_b.tail()
