"""The partition subscriptions of one replica, each of which can be handed over on its own.

Every replica subscribes to every partition queue; single-active-consumer makes the broker deliver
each partition to one of them (the earliest subscriber still there) and move it to the next when
that one leaves. To hand a partition over, a replica cancels its subscription (in-flight messages
finish, unacknowledged ones go back to the queue), so the next in line becomes active, then
subscribes again at the back of the line, as a standby.

The bus stops consumers only all together, so each partition gets its own bus connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from agentbus import topology
from agentbus.bus import Bus, Handler, Router
from agentbus.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    """One partition's subscription: the task that holds it, and how to end it."""

    index: int
    leave: asyncio.Event = field(default_factory=asyncio.Event)
    consuming: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class PartitionConsumers:
    """Subscribes to the partition queues and releases them one at a time on request."""

    def __init__(self, settings: Settings, handler_for: Callable[[int], Handler], *,
                 partitions: int, prefetch: int | None = None) -> None:
        self.settings = settings
        self.handler_for = handler_for
        self.partitions = partitions
        self.prefetch = prefetch
        self._slots: dict[int, _Slot] = {}

    @property
    def ready(self) -> bool:
        """Subscribed to every partition (as the active consumer or as a standby)."""
        return len(self._slots) == self.partitions and all(
            slot.consuming.is_set() and slot.task is not None and not slot.task.done()
            for slot in self._slots.values())

    async def start(self) -> None:
        """Subscribe to every partition; returns once each subscription is in place."""
        for index in range(self.partitions):
            await self._subscribe(index)

    async def release(self, index: int) -> None:
        """Give a partition to the next replica in line, then queue up again behind it."""
        slot = self._slots.pop(index, None)
        if slot is not None:
            await self._end(slot)
        await self._subscribe(index)

    async def stop(self) -> None:
        """Cancel every subscription, letting in-flight messages finish."""
        slots = list(self._slots.values())
        self._slots.clear()
        await asyncio.gather(*(self._end(slot) for slot in slots), return_exceptions=True)

    async def _subscribe(self, index: int) -> None:
        slot = _Slot(index)
        slot.task = asyncio.create_task(self._hold(slot), name=f"partition-{index}")
        self._slots[index] = slot
        consuming = asyncio.create_task(slot.consuming.wait())
        await asyncio.wait({consuming, slot.task}, return_when=asyncio.FIRST_COMPLETED)
        consuming.cancel()
        if slot.task.done():
            # Could not connect or subscribe: the error (an AgentBusError) says why.
            self._slots.pop(index, None)
            slot.task.result()

    async def _end(self, slot: _Slot) -> None:
        slot.leave.set()
        if slot.task is not None:
            with contextlib.suppress(Exception):
                await slot.task

    async def _hold(self, slot: _Slot) -> None:
        router = Router()
        router.subscribe(topology.partition_queue(slot.index), exchange=topology.ORCHESTRATOR_HASH,
                         binding_keys=["1"], single_active_consumer=True,
                         delivery_limit=self.settings.partition_delivery_limit,
                         prefetch=self.prefetch)(self.handler_for(slot.index))
        # Leaving the context stops the bus: cancel, wait for in-flight handlers, close.
        async with Bus.connect(self.settings) as bus:
            await bus.start(router)
            slot.consuming.set()
            await slot.leave.wait()
        log.debug("partition %d: subscription ended", slot.index)
