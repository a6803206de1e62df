"""The outbox relay: publish committed outbox rows with confirms, then mark them sent.

A row is marked sent only after the broker confirmed it, so a crash in between publishes it again
on restart (consumers deduplicate on the message id and the task id). Commits wake the relay at
once; a poll interval catches rows other replicas left behind when their lease ran out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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

    def wake(self) -> None:
        """Something was committed: look at the outbox now."""
        self._wake.set()

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
            done.append(row.id)

    async def drain(self) -> int:
        """Publish until the outbox has nothing claimable; returns rows sent."""
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
