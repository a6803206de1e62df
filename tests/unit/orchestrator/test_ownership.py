"""Partition ownership between replicas (pure), and the replica loop on a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from services.orchestrator.ownership import PartitionOwnership
from services.orchestrator.partitions import PartitionConsumers
from services.orchestrator.replicas import ReplicaLoop
from services.orchestrator.store.sqlite import SqliteSagaStore
from tests.unit.orchestrator.harness import T0


class Clock:
    def __init__(self) -> None:
        self.mono = 100.0
        self.now = T0

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ownership(instance: str, clock: Clock, partitions: int = 4) -> PartitionOwnership:
    return PartitionOwnership(instance, partitions, lease_s=10, clock=clock.monotonic)


def test_alone_a_replica_holds_everything(clock: Clock) -> None:
    mine = ownership("a", clock)
    assert mine.held() is None
    mine.set_replicas([])  # its own heartbeat not visible yet: still alone
    assert mine.held() is None
    assert mine.to_hand_over() == []


def test_replicas_agree_on_a_balanced_split(clock: Clock) -> None:
    a, b, c = ownership("a", clock, 6), ownership("b", clock, 6), ownership("c", clock, 6)
    for replica in (a, b, c):
        replica.set_replicas(["c", "a", "b"])
    owners = [a.preferred_owner(p) for p in range(6)]
    assert owners == ["a", "b", "c", "a", "b", "c"]
    assert owners == [b.preferred_owner(p) for p in range(6)] == [c.preferred_owner(p)
                                                                   for p in range(6)]
    assert a.held() == frozenset({0, 3})
    assert b.held() == frozenset({1, 4})


def test_a_replica_holds_what_it_consumes_and_hands_over_what_another_prefers(clock: Clock) -> None:
    a = ownership("a", clock)
    for partition in range(4):
        a.delivered(partition)  # a started first: the broker made it active everywhere
    assert a.to_hand_over() == []  # alone: keeps everything
    a.set_replicas(["a", "b"])
    assert a.held() == frozenset({0, 1, 2, 3})
    assert a.to_hand_over() == [1, 3]
    a.released(1)
    a.released(3)
    assert a.held() == frozenset({0, 2})
    assert a.to_hand_over() == []
    # The broker gave partition 1 back (b was not there after all): not released again at once...
    a.delivered(1)
    assert a.to_hand_over() == []
    assert a.held() == frozenset({0, 1, 2})
    # ...but after a lease period, if b is still preferred.
    clock.advance(10)
    a.delivered(1)
    assert a.to_hand_over() == [1]


def test_consumption_is_held_only_for_the_lease(clock: Clock) -> None:
    a = ownership("a", clock)
    a.set_replicas(["a", "b"])
    a.delivered(1)
    clock.advance(9.9)
    assert a.consuming() == frozenset({1})
    clock.advance(0.1)
    assert a.consuming() == frozenset()
    assert a.held() == frozenset({0, 2})


class Consumers:
    """Records releases instead of talking to the broker (the broker side is in e2e tests)."""

    def __init__(self) -> None:
        self.released: list[int] = []

    async def release(self, index: int) -> None:
        self.released.append(index)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteSagaStore]:
    async with SqliteSagaStore(f"sqlite:///{tmp_path}/sagas.db") as opened:
        yield opened


def replica(name: str, store: SqliteSagaStore, clock: Clock,
            consumers: Consumers) -> ReplicaLoop:
    return ReplicaLoop(store, ownership(name, clock), cast(PartitionConsumers, consumers),
                       heartbeat_s=1, ttl_s=3, clock=clock.wall)


async def test_replica_loops_share_partitions_through_store_heartbeats(
        store: SqliteSagaStore, clock: Clock) -> None:
    a_consumers, b_consumers = Consumers(), Consumers()
    a = replica("a", store, clock, a_consumers)
    b = replica("b", store, clock, b_consumers)
    for partition in range(4):
        a.ownership.delivered(partition)
    assert await a.tick() == []  # b has not beaten yet
    assert await b.tick() == []
    # b is live; a hands over once b beats again (proof it did not die in between).
    assert await a.tick() == []
    clock.advance(0.5)
    await b.tick()
    assert await a.tick() == [1, 3]
    assert a_consumers.released == [1, 3]
    assert list(b.ownership.replicas) == ["a", "b"]
    assert b.ownership.held() == frozenset({1, 3})

    # A network blip moves partition 0 to b while a lives on: b gives it back after a beats.
    b.ownership.delivered(0)
    assert await b.tick() == []
    clock.advance(0.5)
    await a.tick()
    assert await b.tick() == [0]
    assert b_consumers.released == [0]

    # a stops beating (killed); b, given a's partitions by the broker, does not bounce them back.
    clock.advance(10)  # past the lease: b may hand partition 0 over again
    await a.tick()
    for partition in range(4):
        b.ownership.delivered(partition)
    assert await b.tick() == []
    clock.advance(1)
    assert await b.tick() == []
    clock.advance(1)
    assert await b.tick() == []
    assert b_consumers.released == [0]
    assert b.ownership.held() == frozenset({0, 1, 2, 3})
    # Once a's heartbeat is ttl_s old, b prefers everything.
    clock.advance(1.1)
    await b.tick()
    assert list(b.ownership.replicas) == ["b"]
    assert b.ownership.held() is None
    # a comes back and leaves cleanly: b sees it gone at the next tick, not after the TTL.
    await a.tick()
    await b.tick()
    assert list(b.ownership.replicas) == ["a", "b"]
    await a.leave()
    await b.tick()
    assert list(b.ownership.replicas) == ["b"]


async def test_without_rebalancing_nothing_is_handed_over(store: SqliteSagaStore,
                                                          clock: Clock) -> None:
    consumers = Consumers()
    a = ReplicaLoop(store, ownership("a", clock), cast(Any, consumers), heartbeat_s=1, ttl_s=3,
                    rebalance=False, clock=clock.wall)
    await store.heartbeat("b", clock.now)
    a.ownership.delivered(1)
    assert await a.tick() == []
    assert consumers.released == []
    assert a.ownership.held() == frozenset({0, 1, 2})
