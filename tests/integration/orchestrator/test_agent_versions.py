"""Envelope versions on the real broker: v1 and v2 starts, and a saga across a v1-only agent.

The orchestrator serves in this process; stand-in agents (tests/support/stand_in_agents.py) read
tasks from `agentbus.ingress`, announce the versions they read, and keep their effects in SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.settings import Settings
from agentbus.topology import Topology
from services.orchestrator.app import run
from services.orchestrator.definitions import load_definitions
from services.orchestrator.record import now_utc
from services.orchestrator.settings import OrchestratorSettings
from services.orchestrator.store.sqlite import SqliteSagaStore
from tests.integration.orchestrator.helpers import Observer
from tests.support.broker import wait_for
from tests.support.stand_in_agents import EffectLog, StandInAgent

pytestmark = pytest.mark.integration

MIXED = """\
name: mixed
defaults: {timeout: 20}
steps:
  - {name: research, agent: researcher, action: research, compensation: discard_notes}
  - {name: write, agent: writer, action: write, compensation: discard_draft}
  - {name: publish, agent: publisher, action: publish, compensation: unpublish}
"""


@dataclass
class System:
    settings: OrchestratorSettings
    bus: Bus
    observer: Observer
    effects: EffectLog
    writer: StandInAgent
    stop: asyncio.Event
    service: asyncio.Task[None]

    async def restart(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.service, 20)
        self.stop = asyncio.Event()
        self.service = asyncio.create_task(start_orchestrator(self.settings, self.stop))


async def start_orchestrator(settings: OrchestratorSettings, stop: asyncio.Event) -> None:
    await run(settings, stop=stop, definitions=load_definitions(settings.sagas_dir))


@pytest.fixture
def effects(tmp_path: Path) -> Iterator[EffectLog]:
    log = EffectLog(tmp_path / "effects.db")
    yield log
    log.close()


@pytest.fixture
async def system(settings: Settings, topo: Topology, bus: Bus, tmp_path: Path,
                 effects: EffectLog) -> AsyncIterator[System]:
    sagas = tmp_path / "sagas"
    sagas.mkdir()
    (sagas / "mixed.yaml").write_text(MIXED)
    orchestrator_settings = OrchestratorSettings(
        **settings.model_dump(), saga_store_url=f"sqlite:///{tmp_path}/sagas.db", sagas_dir=sagas,
        timer_poll_s=0.1, outbox_poll_s=0.2, replica_heartbeat_s=0.5, announce_warmup_s=0.5)
    observer = Observer()
    # The writer reads only v1 and announces once a minute: after a restart only the store can
    # tell the orchestrator about it.
    writer = StandInAgent(bus, "writer", effects, schema_versions=(1,), heartbeat_s=60)
    agents = [StandInAgent(bus, "researcher", effects), writer,
              StandInAgent(bus, "publisher", effects)]
    router = Router()
    for agent in agents:
        agent.subscribe(router)
    router.subscribe("test.observer", exchange=topology.INGRESS, binding_keys=["saga.#"],
                     temporary=True)(observer)
    await bus.start(router)
    stop, beats_stop = asyncio.Event(), asyncio.Event()
    service = asyncio.create_task(start_orchestrator(orchestrator_settings, stop))
    running = System(orchestrator_settings, bus, observer, effects, writer, stop, service)
    beats = []
    try:
        await wait_for(lambda: _consuming(orchestrator_settings), timeout=10,
                       what="the orchestrator's announcement queue")
        beats = [asyncio.create_task(agent.heartbeats(beats_stop)) for agent in agents]
        await wait_for(lambda: _writer_known(orchestrator_settings), timeout=10,
                       what="the writer's announcement in the store")
        yield running
    finally:
        beats_stop.set()
        await asyncio.gather(*beats, return_exceptions=True)
        running.stop.set()
        await asyncio.wait_for(running.service, 20)


async def _consuming(settings: OrchestratorSettings) -> bool:
    async with SqliteSagaStore(settings.saga_store_url) as store:
        return bool(await store.live_replicas(now_utc(), ttl_s=30))


async def _writer_known(settings: OrchestratorSettings) -> bool:
    async with SqliteSagaStore(settings.saga_store_url) as store:
        return any(i.agent == "writer" for i in await store.agent_instances())


async def start(bus: Bus, saga_id: str, saga_input: dict[str, object], *, schema: int) -> None:
    body = v2.SagaStart(saga_type="mixed", input=codec.struct_from(saga_input))
    await bus.publish(topology.INGRESS, "saga.start.mixed",
                      codec.new_envelope(body, source="test", saga_id=saga_id), schema=schema)


def by_task(effects: EffectLog, saga_id: str) -> dict[str, tuple[str, int, bool]]:
    """task id -> (agent, schema it arrived in, ok) for one saga."""
    return {e.task_id: (e.agent, e.schema, e.ok) for e in effects.effects() if e.saga_id == saga_id}


async def test_v1_and_v2_starts_both_run_and_the_v1_only_writer_gets_v1(system: System) -> None:
    starts: list[Delivery] = []

    async def keep(message: v2.Message, delivery: Delivery) -> None:
        starts.append(delivery)

    router = Router()
    router.subscribe("test.starts", exchange=topology.INGRESS, binding_keys=["saga.start.#"],
                     temporary=True)(keep)
    await system.bus.start(router)
    await start(system.bus, "started-v2", {"topic": "otters"}, schema=2)
    await start(system.bus, "started-v1", {"topic": "otters"}, schema=1)
    await wait_for(lambda: len(starts) == 2, timeout=5, what="both starts on the wire")
    # On the wire, the v1 start is a genuine agentbus.v1.Message: kind, header, payload.
    v1_start = next(d for d in starts if d.schema == 1)
    assert v1_start.message_type == "agentbus.v1.Message"
    old = v1.Message.FromString(v1_start.body)
    assert (old.kind, old.headers["saga_type"], old.correlation_id) == (
        "saga_start", "mixed", "started-v1")
    assert codec.struct_to_dict(old.payload) == {"topic": "otters"}
    for saga_id in ("started-v2", "started-v1"):
        await system.observer.wait_for_status(saga_id, "completed")
        assert system.observer.statuses(saga_id) == [
            "started", "step_completed:research", "step_completed:write",
            "step_completed:publish", "completed"]
        assert by_task(system.effects, saga_id) == {
            f"{saga_id}:research:1": ("researcher", 2, True),
            f"{saga_id}:write:1": ("writer", 1, True),
            f"{saga_id}:publish:1": ("publisher", 2, True),
        }
    # The v1 start kept its input through the trip (payload -> SagaStart.input).
    completed = system.observer.events["started-v1"][-1]
    record = codec.struct_to_dict(completed.event.record)
    assert record["input"] == {"topic": "otters"}
    # The writer's v1 reply (a genuine agentbus.v1.Message) carried its output into the saga.
    assert record["steps"][1]["output"]["task_id"] == "started-v1:write:1"
    assert system.effects.refusals() == []


async def test_a_mixed_saga_compensates_through_the_v1_only_writer(system: System) -> None:
    await start(system.bus, "mixed-fail", {"fail": "publish"}, schema=2)
    await system.observer.wait_for_status("mixed-fail", "compensated")
    assert by_task(system.effects, "mixed-fail") == {
        "mixed-fail:research:1": ("researcher", 2, True),
        "mixed-fail:write:1": ("writer", 1, True),
        "mixed-fail:publish:1": ("publisher", 2, False),
        "mixed-fail:write:compensate:1": ("writer", 1, True),
        "mixed-fail:research:compensate:1": ("researcher", 2, True),
    }
    order = [e.task_id for e in system.effects.effects() if e.saga_id == "mixed-fail"]
    assert order.index("mixed-fail:write:compensate:1") < order.index(
        "mixed-fail:research:compensate:1")
    assert system.effects.refusals() == []


async def test_a_restarted_orchestrator_remembers_the_v1_only_agent(system: System) -> None:
    await system.restart()
    # The writer's next heartbeat is a minute away: only the store knows it reads v1.
    await wait_for(lambda: _consuming(system.settings), timeout=10, what="the restarted orchestrator")
    await start(system.bus, "after-restart", {}, schema=2)
    await system.observer.wait_for_status("after-restart", "completed")
    assert by_task(system.effects, "after-restart")["after-restart:write:1"] == ("writer", 1, True)
    assert system.effects.refusals() == []


async def test_without_an_announcement_the_writer_gets_v2_and_refuses_it(system: System) -> None:
    await system.writer.announce(v2.AgentAnnouncement.PHASE_STOPPING)
    await wait_for(lambda: _writer_forgotten(system.settings), timeout=10,
                   what="the writer's STOPPING to reach the store")
    await start(system.bus, "unannounced", {}, schema=2)
    # Nothing is known about the writer any more, so the orchestrator writes v2 (the default),
    # which this v1-only stand-in cannot read.
    await wait_for(lambda: bool(system.effects.refusals()), timeout=10, what="the writer's refusal")
    assert system.effects.refusals() == [("writer", "unannounced:write:1", 2)]


async def _writer_forgotten(settings: OrchestratorSettings) -> bool:
    return not await _writer_known(settings)
