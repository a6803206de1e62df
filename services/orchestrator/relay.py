"""The outbox relay: publish committed outbox rows with confirms, then mark them sent.

A row is marked sent only after the broker confirmed it, so a crash in between publishes it again
on restart (consumers deduplicate on the message id and the task id).

Fast path: the engine writes a transition's rows already leased to this replica and hands them
over (`submit`) as soon as they are committed; they are published at once, with no claim
transaction, and marked sent in batches in the background. Each saga's transitions go out one
after the other; the messages of one transition (its events and tasks, which do not depend on
each other) are published together, so their confirms overlap. A publish that fails leaves the
saga's remaining rows leased: once the lease runs out, the poll (`flush_once`, every `poll_s`)
claims them again, in order, like any row another replica left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from agentbus.errors import AgentBusError, UnroutableError
from services.orchestrator.metrics import OrchestratorMetrics
from services.orchestrator.record import now_utc
from services.orchestrator.store.base import OutboxMessage, OutboxRow, SagaStore
from services.orchestrator.waiting import sleep_unless, sleep_until_either

log = logging.getLogger(__name__)

# Publishes one message; raises an AgentBusError when the broker does not confirm it.
Publisher = Callable[[OutboxMessage], Awaitable[None]]


class OutboxRelay:
    """Moves outbox rows to the broker, oldest first."""

    def __init__(
        self,
        store: SagaStore,
        publish: Publisher,
        *,
        batch: int = 200,
        lease_s: float = 10.0,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] = now_utc,
        metrics: OrchestratorMetrics | None = None,
    ) -> None:
        self.store = store
        self.publish = publish
        self.batch = batch
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.clock = clock
        self.metrics = metrics or OrchestratorMetrics.default()
        self._wake = asyncio.Event()
        # Fast path: per saga, the row groups (one per transition) still to publish, and the task
        # publishing them; ids confirmed but not yet marked sent, and the task marking them.
        self._queued: dict[str, deque[tuple[OutboxRow, ...]]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._confirmed: list[int] = []
        self._marker: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was committed: look at the outbox now."""
        self._wake.set()

    def submit(self, rows: Sequence[OutboxRow]) -> None:
        """Publish one transition's rows now; they were committed leased to this relay."""
        if not rows:
            return
        saga_id = rows[0].saga_id
        self._queued.setdefault(saga_id, deque()).append(tuple(rows))
        if saga_id not in self._senders:
            self._senders[saga_id] = asyncio.create_task(self._send_saga(saga_id),
                                                         name=f"outbox-{saga_id}")

    async def _send_saga(self, saga_id: str) -> None:
        queued = self._queued[saga_id]
        try:
            while queued:
                rows = queued.popleft()
                results = await asyncio.gather(*(self._publish_row(row) for row in rows),
                                               return_exceptions=True)
                errors = [r for r in results if isinstance(r, BaseException)]
                if errors:
                    # Keep the saga's order: what is left waits for its lease to run out and is
                    # claimed again, oldest first, by the poll.
                    self.metrics.outbox_published.labels(outcome="error").inc()
                    log.warning("outbox: publishing for saga %s failed (%s); its rows go out "
                                "again after their lease (%.0fs)", saga_id, errors[0], self.lease_s)
                    queued.clear()
        finally:
            del self._queued[saga_id]
            del self._senders[saga_id]

    async def _publish_row(self, row: OutboxRow) -> None:
        await self._publish_one(row)
        self._confirmed.append(row.id)
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._mark_confirmed(), name="outbox-marker")

    async def _mark_confirmed(self) -> None:
        # One mark_sent at a time: ids confirmed meanwhile go together in the next one.
        while self._confirmed:
            ids, self._confirmed = self._confirmed, []
            try:
                await self.store.mark_sent(ids, self.clock())
            except AgentBusError as exc:
                # Unmarked rows are published again after their lease: duplicates, not losses.
                log.warning("outbox: could not mark %d row(s) sent (%s); trying again", len(ids),
                            exc)
                self._confirmed[:0] = ids
                await asyncio.sleep(self.poll_s)

    async def settle(self) -> None:
        """Wait until every submitted row is published (or given up) and marked sent."""
        while self._senders:
            await asyncio.gather(*self._senders.values(), return_exceptions=True)
        while self._marker is not None and not self._marker.done():
            await asyncio.gather(self._marker, return_exceptions=True)

    async def flush_once(self) -> int:
        """Claim one batch, publish it, mark what was confirmed; returns rows sent.

        Each saga's rows go out in order; different sagas' rows are published concurrently, so
        their confirms overlap instead of costing one broker round trip each.
        """
        rows = await self.store.claim_outbox(self.clock(), limit=self.batch, lease_s=self.lease_s)
        by_saga: dict[str, list[OutboxRow]] = {}
        for row in rows:
            by_saga.setdefault(row.saga_id, []).append(row)
        done: list[int] = []
        try:
            results = await asyncio.gather(
                *(self._publish_in_order(saga_rows, done) for saga_rows in by_saga.values()),
                return_exceptions=True)
        finally:
            # Rows not reached stay leased and come back when the lease runs out.
            if done:
                await self.store.mark_sent(done, self.clock())
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(done)

    async def _publish_in_order(self, rows: list[OutboxRow], done: list[int]) -> None:
        for row in rows:
            await self._publish_one(row)
            done.append(row.id)

    async def _publish_one(self, row: OutboxRow) -> None:
        try:
            await self.publish(row.message)
        except UnroutableError as exc:
            # Nothing is bound for it: retrying cannot help. A lost task is caught by the
            # step's timeout, so the saga still moves on.
            log.error("outbox row %d (%s) is unroutable, dropped: %s",
                      row.id, row.message.routing_key, exc)
            self.metrics.outbox_published.labels(outcome="unroutable").inc()
        else:
            self.metrics.outbox_published.labels(outcome="ok").inc()

    async def drain(self) -> int:
        """Finish what was submitted, then publish until nothing is claimable; returns rows sent."""
        await self.settle()
        total = 0
        while sent := await self.flush_once():
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Publish as commits happen until `stop` is set."""
        failures = 0
        while not stop.is_set():
            self._wake.clear()
            try:
                sent = await self.flush_once()
                failures = 0
            except AgentBusError as exc:
                failures += 1
                self.metrics.outbox_published.labels(outcome="error").inc()
                delay = min(self.poll_s * 2 ** failures, 30.0)
                log.warning("outbox relay: %s; trying again in %.1fs", exc, delay)
                await sleep_unless(stop, delay)
                continue
            if sent < self.batch:
                await sleep_until_either(self._wake, stop, self.poll_s)
