"""The replica loop: heartbeat into the store, learn who else is alive, hand partitions over.

Every `heartbeat_s` a replica writes its heartbeat, reads the live replicas, and releases the
partitions it consumes but another live replica prefers (see `ownership`), so the work spreads
over the replicas; when one dies, single-active-consumer moves its partitions to the others at
once, and they prefer them too once its heartbeat is `ttl_s` old.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from agentbus.errors import AgentBusError
from services.orchestrator.ownership import PartitionOwnership
from services.orchestrator.partitions import PartitionConsumers
from services.orchestrator.record import now_utc
from services.orchestrator.store.base import SagaStore
from services.orchestrator.waiting import sleep_unless

log = logging.getLogger(__name__)


class ReplicaLoop:
    """Keeps this replica's heartbeat fresh and its share of the partitions right."""

    def __init__(self, store: SagaStore, ownership: PartitionOwnership,
                 consumers: PartitionConsumers, *, heartbeat_s: float = 2.0, ttl_s: float = 10.0,
                 rebalance: bool = True, clock: Callable[[], datetime] = now_utc) -> None:
        self.store = store
        self.ownership = ownership
        self.consumers = consumers
        self.heartbeat_s = heartbeat_s
        self.ttl_s = ttl_s
        self.rebalance = rebalance
        self.clock = clock
        # Per partition consumed here and preferred elsewhere: its owner's heartbeat when first seen.
        self._owner_beat_at_start: dict[int, datetime | None] = {}

    @property
    def instance_id(self) -> str:
        """This replica's id."""
        return self.ownership.instance_id

    async def tick(self) -> list[int]:
        """One round: heartbeat, read the live replicas, hand over; returns the partitions released."""
        now = self.clock()
        await self.store.heartbeat(self.instance_id, now)
        beats = await self.store.replica_heartbeats(now, ttl_s=self.ttl_s)
        before = self.ownership.replicas
        self.ownership.set_replicas(beats)
        if self.ownership.replicas != before:
            mine = [p for p in range(self.ownership.partitions)
                    if self.ownership.preferred_owner(p) == self.instance_id]
            log.info("replicas alive: %s; this one (%s) prefers partition(s) %s",
                     ", ".join(self.ownership.replicas), self.instance_id,
                     ",".join(map(str, mine)) or "none")
        if not self.rebalance:
            return []
        released = []
        for partition in self._alive_owners(self.ownership.to_hand_over(), beats):
            owner = self.ownership.preferred_owner(partition)
            log.info("handing partition %d over to %s", partition, owner)
            self.ownership.released(partition)
            await self.consumers.release(partition)
            released.append(partition)
        return released

    def _alive_owners(self, candidates: list[int], beats: dict[str, datetime]) -> list[int]:
        """The candidates whose preferred owner beat since this replica began consuming them.

        When a replica dies, the broker moves its partitions here at once, but its heartbeat
        counts as live for ttl_s: handing them back would only bounce them. A live owner keeps
        beating after the move; a dead one does not (its heartbeats compare with each other only,
        so clocks of different hosts need not agree).
        """
        consuming = self.ownership.consuming()
        self._owner_beat_at_start = {
            p: beat for p, beat in self._owner_beat_at_start.items() if p in consuming}
        chosen = []
        for partition in candidates:
            owner = self.ownership.preferred_owner(partition)
            beat = beats.get(owner)
            if partition not in self._owner_beat_at_start:
                self._owner_beat_at_start[partition] = beat
                continue
            start = self._owner_beat_at_start[partition]
            if beat is not None and (start is None or beat > start):
                chosen.append(partition)
        for partition in chosen:
            del self._owner_beat_at_start[partition]
        return chosen

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, then remove this replica's heartbeat."""
        while not stop.is_set():
            try:
                await self.tick()
            except AgentBusError as exc:
                log.warning("replica heartbeat: %s; trying again in %.1fs", exc, self.heartbeat_s)
            await sleep_unless(stop, self.heartbeat_s)

    async def leave(self) -> None:
        """Tell the other replicas this one is gone (best effort: its heartbeat expires anyway)."""
        try:
            await self.store.forget_replica(self.instance_id)
        except AgentBusError as exc:
            log.warning("could not remove this replica's heartbeat (%s); it expires in %.0fs",
                        exc, self.ttl_s)
