"""Which partitions this replica acts for, and which it should hand to another replica. No I/O.

Single-active-consumer lets one replica at a time consume a partition queue, but tells no client
which one is active. A replica therefore takes a partition as its own when it consumed from it
within the lease period. Live replicas (from the store's heartbeats), sorted, each prefer every
n-th partition (`replicas[p % n]`), so they agree on a balanced split without talking to each other;
a replica that finds itself active on a partition another live replica prefers hands it over.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


class PartitionOwnership:
    """Tracks deliveries per partition and the live replicas; answers 'held' and 'hand over'."""

    def __init__(self, instance_id: str, partitions: int, *, lease_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.instance_id = instance_id
        self.partitions = partitions
        self.lease_s = lease_s
        self.clock = clock
        self.replicas: tuple[str, ...] = (instance_id,)
        self._last_delivery: dict[int, float] = {}
        self._released_at: dict[int, float] = {}

    def delivered(self, partition: int) -> None:
        """A message from this partition reached this replica: it is the active consumer."""
        self._last_delivery[partition] = self.clock()

    def released(self, partition: int) -> None:
        """This replica gave the partition up (cancelled its consumer)."""
        self._last_delivery.pop(partition, None)
        self._released_at[partition] = self.clock()

    def set_replicas(self, live: Iterable[str]) -> None:
        """The replicas alive now (this one always counts)."""
        self.replicas = tuple(sorted({*live, self.instance_id}))

    def preferred_owner(self, partition: int) -> str:
        """The replica that should consume a partition, the same answer on every replica."""
        return self.replicas[partition % len(self.replicas)]

    def consuming(self) -> frozenset[int]:
        """Partitions this replica received a message from within the lease period."""
        now = self.clock()
        return frozenset(p for p, at in self._last_delivery.items() if now - at < self.lease_s)

    def held(self) -> frozenset[int] | None:
        """Partitions whose timers this replica fires; None means all of them (it is alone)."""
        if self.replicas == (self.instance_id,):
            return None
        preferred = {p for p in range(self.partitions)
                     if self.preferred_owner(p) == self.instance_id}
        return frozenset(preferred | self.consuming())

    def to_hand_over(self) -> list[int]:
        """Partitions this replica consumes but another replica prefers (not just released)."""
        now = self.clock()
        return sorted(
            p for p in self.consuming()
            if self.preferred_owner(p) != self.instance_id
            and now - self._released_at.get(p, float("-inf")) >= self.lease_s)
