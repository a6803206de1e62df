"""The agent registry: liveness from announcements, the version a task is written in, persistence."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest

from agentbus.contracts.v2 import message_pb2 as v2
from services.orchestrator.app import task_agent
from services.orchestrator.registry import AgentInstance, AgentRegistry, Change
from tests.unit.orchestrator.harness import T0

STARTED = v2.AgentAnnouncement.PHASE_STARTED
HEARTBEAT = v2.AgentAnnouncement.PHASE_HEARTBEAT
STOPPING = v2.AgentAnnouncement.PHASE_STOPPING


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.mono = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> AgentRegistry:
    return AgentRegistry(default_ttl_s=60, grace_s=10, clock=clock, monotonic=clock.monotonic)


def announce(agent: str, instance: str, versions: list[int],
             phase: v2.AgentAnnouncement.Phase = STARTED,
             interval: int = 5) -> v2.AgentAnnouncement:
    return v2.AgentAnnouncement(agent=agent, instance_id=instance, schema_versions=versions,
                                phase=phase, heartbeat_interval_s=interval,
                                actions=["write"], compensations=["discard_draft"])


def test_nothing_known_means_v2(registry: AgentRegistry) -> None:
    assert registry.schema_for("writer") == 2
    assert registry.live_agents() == frozenset()


def test_an_agent_whose_instances_read_only_v1_gets_v1(registry: AgentRegistry) -> None:
    registry.observe(announce("writer", "w-1", [1]))
    registry.observe(announce("writer", "w-2", [1]))
    assert registry.schema_for("writer") == 1
    assert registry.schema_for("editor") == 2
    assert registry.live_agents() == {"writer"}


def test_a_mixed_rollout_gets_what_every_instance_reads(registry: AgentRegistry) -> None:
    registry.observe(announce("writer", "old", [1]))
    registry.observe(announce("writer", "new", [1, 2]))
    assert registry.schema_for("writer") == 1
    registry.observe(announce("writer", "old", [1], STOPPING))
    assert registry.schema_for("writer") == 2
    # Versions it does not know are ignored; an instance that names none does not constrain.
    registry.observe(announce("writer", "future", [2, 3]))
    registry.observe(announce("writer", "quiet", []))
    assert registry.schema_for("writer") == 2


def test_instances_with_nothing_in_common_get_v2_with_a_warning(
        registry: AgentRegistry, caplog: pytest.LogCaptureFixture) -> None:
    registry.observe(announce("writer", "old", [1]))
    registry.observe(announce("writer", "v2-only", [2]))
    assert registry.schema_for("writer") == 2
    assert registry.schema_for("writer") == 2
    warnings = [r for r in caplog.records if "share no envelope version" in r.getMessage()]
    assert len(warnings) == 1


def test_instances_expire_after_three_missed_heartbeats(registry: AgentRegistry,
                                                        clock: Clock) -> None:
    registry.observe(announce("writer", "w-1", [1], interval=5))
    registry.observe(announce("editor", "e-1", [1], interval=0))  # no interval: the default TTL
    clock.advance(14.9)
    assert registry.live_agents() == {"writer", "editor"}
    clock.advance(0.1)
    assert registry.live_agents() == {"editor"}
    assert registry.schema_for("writer") == 2
    clock.advance(45)
    assert registry.live_agents() == frozenset()


def test_heartbeats_are_written_to_the_store_only_now_and_then(registry: AgentRegistry,
                                                               clock: Clock) -> None:
    first = registry.observe(announce("writer", "w-1", [1], interval=6))
    assert first is not None
    assert first[0] is Change.SAVE
    assert first[1].schema_versions == {1}
    assert first[1].actions == ("write",)
    clock.advance(3)
    assert registry.observe(announce("writer", "w-1", [1], HEARTBEAT, interval=6)) is None
    clock.advance(3)  # a third of the 18 s lifetime since the last write
    refreshed = registry.observe(announce("writer", "w-1", [1], HEARTBEAT, interval=6))
    assert refreshed is not None
    assert refreshed[1].last_seen == clock.now
    changed = registry.observe(announce("writer", "w-1", [1, 2], HEARTBEAT, interval=6))
    assert changed is not None
    assert changed[0] is Change.SAVE
    gone = registry.observe(announce("writer", "w-1", [1, 2], STOPPING))
    assert gone is not None
    assert gone[0] is Change.REMOVE


def test_what_the_store_kept_is_restored_unless_expired(registry: AgentRegistry,
                                                        clock: Clock) -> None:
    fresh = AgentInstance("writer", "w-1", frozenset({1}), (), (), 5.0, T0 - timedelta(seconds=10))
    stale = AgentInstance("editor", "e-1", frozenset({1}), (), (), 5.0, T0 - timedelta(seconds=20))
    assert registry.restore([fresh, stale]) == [stale]
    assert registry.schema_for("writer") == 1
    assert registry.schema_for("editor") == 2
    clock.advance(5)
    assert registry.schema_for("writer") == 2  # its heartbeats stopped


def test_the_registry_settles_after_its_grace_period(registry: AgentRegistry, clock: Clock) -> None:
    assert not registry.settled
    clock.advance(10)
    assert registry.settled


def test_the_agent_of_a_routing_key() -> None:
    assert task_agent("task.writer.write") == "writer"
    assert task_agent("task.writer.discard_draft") == "writer"
    assert task_agent("saga.completed.content_pipeline") is None
    assert task_agent("task.writer") is None


async def test_during_the_warm_up_a_task_waits_for_its_agent_to_announce() -> None:
    registry = AgentRegistry(warmup_s=5)
    waiting = asyncio.create_task(registry.schema_for_task("writer"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    registry.observe(announce("editor", "e-1", [1]))  # another agent: keeps waiting
    await asyncio.sleep(0.05)
    assert not waiting.done()
    registry.observe(announce("writer", "w-1", [1]))
    assert await asyncio.wait_for(waiting, 1) == 1


async def test_after_the_warm_up_an_unknown_agent_gets_v2_at_once() -> None:
    registry = AgentRegistry(warmup_s=0.2)
    started = time.monotonic()
    assert await registry.schema_for_task("writer") == 2
    assert 0.15 < time.monotonic() - started < 1
    started = time.monotonic()
    assert await registry.schema_for_task("writer") == 2
    assert time.monotonic() - started < 0.05
