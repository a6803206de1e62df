"""The saga engine: load a saga, apply an event with the state machine, commit record + outbox.

No broker here: the engine turns start requests, replies and due timers into committed transitions;
the relay publishes what they wrote. A conflicting write (another replica, or a concurrent delivery
for the same saga) is retried from a fresh read, so every event is applied to the latest record.

The latest record of each running saga this engine wrote is kept in memory (a bounded LRU), so a
reply costs no store read. The cache can be behind another replica's write (a partition that moved
away and back): such a record fails the store's version check on save, and an event it would
ignore is checked again on a fresh read before it is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from agentbus.contracts.v2 import message_pb2 as v2
from services.orchestrator import machine
from services.orchestrator.definitions import SagaDefinition
from services.orchestrator.errors import (
    ConcurrencyError,
    SagaExistsError,
    UnknownSagaTypeError,
)
from services.orchestrator.machine import (
    ArmTimer,
    CancelTimer,
    Event,
    Timer,
    TimerFired,
    Transition,
)
from services.orchestrator.messages import StartRequest, to_outbox
from services.orchestrator.metrics import OrchestratorMetrics
from services.orchestrator.record import SagaRecord, now_utc
from services.orchestrator.store.base import OutboxRow, SagaStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Committed:
    """A transition just committed: its outbox rows and the timers it armed."""

    saga_id: str
    rows: tuple[OutboxRow, ...]
    armed: tuple[Timer, ...]
    # True when the rows were written leased to this engine's relay, which must publish them now.
    leased: bool


@dataclass(frozen=True)
class Handled:
    """What became of one start request or event."""

    saga_id: str
    outcome: str  # "started", "applied" or "ignored"
    detail: str = ""


class SagaEngine:
    """Applies events to stored sagas; `on_commit` is called after every committed transition.

    With `outbox_lease_s`, outbox rows are written already leased to this replica for that long
    and handed to `on_commit`, whose relay publishes them at once (`OutboxRelay.submit`).
    """

    def __init__(
        self,
        store: SagaStore,
        definitions: Mapping[str, SagaDefinition],
        *,
        source: str = "orchestrator",
        clock: Callable[[], datetime] = now_utc,
        conflict_retries: int = 10,
        metrics: OrchestratorMetrics | None = None,
        outbox_lease_s: float | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.store = store
        self.definitions = dict(definitions)
        self.source = source
        self.clock = clock
        self.conflict_retries = conflict_retries
        self.metrics = metrics or OrchestratorMetrics.default()
        self.outbox_lease_s = outbox_lease_s
        self.cache_size = cache_size
        self.on_commit: Callable[[Committed], None] = lambda committed: None
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        self._cache: OrderedDict[str, SagaRecord] = OrderedDict()

    def definition(self, saga_type: str) -> SagaDefinition:
        """The definition of a saga type; UnknownSagaTypeError if none is loaded."""
        try:
            return self.definitions[saga_type]
        except KeyError:
            raise UnknownSagaTypeError(
                f"no saga type {saga_type!r} is defined (known: "
                f"{', '.join(sorted(self.definitions)) or 'none'}); add "
                f"{saga_type}.yaml to the sagas directory (AGENTBUS_SAGAS_DIR)") from None

    async def start(self, request: StartRequest, *, caused_by: v2.Message | None = None,
                    partition: int | None = None) -> Handled:
        """Create and commit a new saga; a second start with the same id is ignored.

        `partition` is the partition queue the start arrived on (recorded for the timer loop).
        """
        definition = self.definition(request.saga_type)
        async with self._exclusive(request.saga_id):
            started = time.perf_counter()
            if request.saga_id in self._cache:
                return self._ignored(request.saga_id, "duplicate start: the saga exists")
            # No read first: creating an existing saga fails in the store (SagaExistsError).
            transition = machine.start(definition, request.saga_id, request.input, self.clock())
            try:
                await self._commit(transition, expected_version=0, caused_by=caused_by,
                                   partition=partition)
            except SagaExistsError:
                return self._ignored(request.saga_id, "duplicate start: the saga exists")
            self.metrics.transition_seconds.observe(time.perf_counter() - started)
        self.metrics.transitions.labels(outcome="started").inc()
        return Handled(request.saga_id, "started")

    async def apply(self, saga_id: str, event: Event, *, caused_by: v2.Message | None = None,
                    partition: int | None = None) -> Handled:
        """Apply one event to the stored saga, retrying from a fresh read on a write conflict."""
        async with self._exclusive(saga_id):
            started = time.perf_counter()
            for _ in range(self.conflict_retries):
                record = self._cached(saga_id)
                cached = record is not None
                if record is None:
                    record = await self.store.get(saga_id)
                if record is None:
                    return self._ignored(saga_id, "no such saga in the store")
                definition = self.definition(record.saga_type)
                transition = machine.apply(definition, record, event, self.clock())
                if transition.ignored is not None:
                    if cached:
                        # Only the stored record may say an event is stale: the cached one can
                        # be behind another replica's write.
                        self._forget(saga_id)
                        continue
                    if isinstance(event, TimerFired):
                        await self.store.delete_timer(saga_id, event.key)
                    return self._ignored(saga_id, transition.ignored)
                try:
                    await self._commit(transition, expected_version=record.version,
                                       caused_by=caused_by, partition=partition)
                except ConcurrencyError:
                    self.metrics.transitions.labels(outcome="conflict").inc()
                    continue
                self.metrics.transition_seconds.observe(time.perf_counter() - started)
                self.metrics.transitions.labels(outcome="applied").inc()
                if transition.record.status.finished:
                    self.metrics.finished.labels(saga_type=transition.record.saga_type,
                                                 status=transition.record.status.value).inc()
                return Handled(saga_id, "applied")
        raise ConcurrencyError(
            f"saga {saga_id} kept changing under {self.conflict_retries} attempts to apply "
            f"{type(event).__name__}; it will be retried")

    async def fire_due_timers(self, *, limit: int = 100, partitions: Collection[int] | None = None,
                              overdue_s: float | None = None) -> int:
        """Apply every timer due now (of these partitions, or overdue by `overdue_s`); returns how many."""
        now = self.clock()
        overdue_before = None if overdue_s is None else now - timedelta(seconds=overdue_s)
        due = await self.store.due_timers(now, limit=limit, partitions=partitions,
                                          overdue_before=overdue_before)
        for item in due:
            timer = item.timer
            self.metrics.timers_fired.labels(kind=timer.kind.value).inc()
            await self.apply(item.saga_id, TimerFired(timer.kind, timer.step, timer.attempt))
        return len(due)

    async def _commit(self, transition: Transition, *, expected_version: int,
                      caused_by: v2.Message | None, partition: int | None = None) -> None:
        record = transition.record
        outbox = to_outbox(transition.commands, saga_id=record.saga_id,
                           version=expected_version + 1, now=record.updated_at, source=self.source,
                           caused_by=caused_by)
        armed = tuple(c.timer for c in transition.of_type(ArmTimer))
        lease_until = (None if self.outbox_lease_s is None or not outbox
                       else self.clock() + timedelta(seconds=self.outbox_lease_s))
        try:
            rows = await self.store.commit(
                record, expected_version=expected_version, outbox=outbox, arm=armed,
                cancel=[c.key for c in transition.of_type(CancelTimer)], partition=partition,
                lease_until=lease_until, snapshot=transition.snapshot)
        except BaseException:
            # Whatever the store holds now, this engine's copy may not be it.
            self._forget(record.saga_id)
            raise
        self._remember(record)
        self.on_commit(Committed(record.saga_id, tuple(rows), armed, lease_until is not None))

    def _cached(self, saga_id: str) -> SagaRecord | None:
        record = self._cache.get(saga_id)
        if record is not None:
            self._cache.move_to_end(saga_id)
        return record

    def _remember(self, record: SagaRecord) -> None:
        if record.status.finished:
            # Finished sagas hear only late replies, if anything: keep room for running ones.
            self._cache.pop(record.saga_id, None)
            return
        self._cache[record.saga_id] = record
        self._cache.move_to_end(record.saga_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _forget(self, saga_id: str) -> None:
        self._cache.pop(saga_id, None)

    def _ignored(self, saga_id: str, reason: str) -> Handled:
        log.info("saga %s: ignored: %s", saga_id, reason)
        self.metrics.transitions.labels(outcome="ignored").inc()
        return Handled(saga_id, "ignored", reason)

    @contextlib.asynccontextmanager
    async def _exclusive(self, saga_id: str) -> AsyncIterator[None]:
        # Deliveries for one saga handled concurrently here would only conflict in the store;
        # serialising them per saga avoids the wasted work. Other replicas are fenced by versions.
        lock = self._locks.setdefault(saga_id, asyncio.Lock())
        self._users[saga_id] = self._users.get(saga_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[saga_id] -= 1
            if self._users[saga_id] == 0:
                del self._users[saga_id]
                del self._locks[saga_id]
