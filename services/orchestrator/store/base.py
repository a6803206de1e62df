"""The saga store contract: records with optimistic concurrency, a transactional outbox, timers.

One `save()` is one transaction: the saga's new state, the messages it causes (outbox rows) and its
timer changes are written together or not at all. A relay later claims outbox rows, publishes them
and marks them sent; a timer loop reads due timers. Any replica can do both after a crash, since
all of it is in the store.

"Have I already handled this reply?" needs no table: the record says which (step, attempt) is still
awaited (`SagaRecord.is_settled`), and the version check stops two writers from both applying it.

Replicas share three more things through the store: the partition each saga's messages arrive on
(so a replica fires only the timers of the partitions it holds), a heartbeat per replica (so they
agree on who is alive and which partitions each should prefer), and the agent instances announced
(so a restarted replica still writes v1 to a v1-only agent).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from services.orchestrator.machine import Timer
from services.orchestrator.record import SagaRecord, SagaState
from services.orchestrator.registry import AgentInstance


@dataclass(frozen=True)
class WireProperties:
    """What publishing a v2 body as it is needs besides the bytes (so they need not be parsed)."""

    correlation_id: str
    traceparent: str
    tracestate: str = ""


@dataclass(frozen=True)
class OutboxMessage:
    """A message to publish once the transaction that wrote it commits."""

    message_id: str
    exchange: str
    routing_key: str
    # A serialised agentbus.v2.Message.
    body: bytes
    # Known to the process that built the message; never stored (rows read back have None).
    wire: WireProperties | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OutboxRow:
    """A stored outbox message with its position (publish in `id` order)."""

    id: int
    saga_id: str
    message: OutboxMessage
    created_at: datetime


@dataclass(frozen=True)
class DueTimer:
    """A timer of one saga that has come due."""

    saga_id: str
    timer: Timer


class SagaStore(abc.ABC):
    """Where sagas live; every implementation passes `tests/unit/orchestrator/test_store_contract.py`."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create the tables if they do not exist."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @abc.abstractmethod
    async def get(self, saga_id: str) -> SagaRecord | None:
        """The saga with this id, its `version` set; None if there is none."""

    async def save(
        self,
        record: SagaRecord,
        *,
        expected_version: int,
        outbox: Sequence[OutboxMessage] = (),
        arm: Sequence[Timer] = (),
        cancel: Sequence[str] = (),
        partition: int | None = None,
    ) -> int:
        """Write the record, its outbox rows and timer changes in one transaction.

        `expected_version` 0 creates the saga (SagaExistsError if the id is taken); otherwise the
        stored version must equal it (ConcurrencyError if another writer got there first). Returns
        the new version and sets `record.version` to it. `partition`, when given, records the
        partition queue the saga's messages arrive on (None keeps what is stored).
        """
        await self.commit(record, expected_version=expected_version, outbox=outbox, arm=arm,
                          cancel=cancel, partition=partition)
        return record.version

    @abc.abstractmethod
    async def commit(
        self,
        record: SagaRecord,
        *,
        expected_version: int,
        outbox: Sequence[OutboxMessage] = (),
        arm: Sequence[Timer] = (),
        cancel: Sequence[str] = (),
        partition: int | None = None,
        lease_until: datetime | None = None,
        snapshot: Mapping[str, Any] | None = None,
    ) -> list[OutboxRow]:
        """`save`, returning the outbox rows written (with their ids, in publish order).

        With `lease_until` the rows are written already claimed until then, as `claim_outbox`
        would have left them: the caller publishes them at once, without a claim of its own, and
        if it dies the rows are claimed by any relay once the lease runs out. `snapshot` is
        `record.to_dict()` when the caller has it already (its `version` is ignored).
        """

    @abc.abstractmethod
    async def list_sagas(self, *, status: SagaState | None = None, saga_type: str | None = None,
                   limit: int = 100) -> list[SagaRecord]:
        """Sagas, most recently updated first, optionally of one status and type."""

    @abc.abstractmethod
    async def count_by_status(self) -> dict[SagaState, int]:
        """How many sagas are in each status."""

    @abc.abstractmethod
    async def due_timers(self, now: datetime, *, limit: int = 100,
                         partitions: Collection[int] | None = None,
                         overdue_before: datetime | None = None) -> list[DueTimer]:
        """Timers due at or before `now`, earliest first.

        With `partitions`, only timers of sagas on those partitions (or on no known partition),
        plus, with `overdue_before`, any timer due before that instant whoever holds its saga.
        """

    @abc.abstractmethod
    async def delete_timer(self, saga_id: str, key: str) -> None:
        """Forget one timer (a fired timer the state machine found stale)."""

    @abc.abstractmethod
    async def next_timer_due(self, *, partitions: Collection[int] | None = None) -> datetime | None:
        """When the earliest timer (of these partitions) comes due; None without timers."""

    @abc.abstractmethod
    async def claim_outbox(self, now: datetime, *, limit: int = 100,
                           lease_s: float = 30.0) -> list[OutboxRow]:
        """Unsent rows in publish order, leased to the caller for `lease_s` so other relays skip them.

        A relay that dies before `mark_sent` leaves the lease to expire; the rows are then claimed
        again (published twice at worst: consumers deduplicate on message and task ids).
        """

    @abc.abstractmethod
    async def mark_sent(self, ids: Sequence[int], sent_at: datetime) -> None:
        """Record that these outbox rows were published and confirmed."""

    @abc.abstractmethod
    async def pending_outbox_count(self) -> int:
        """Outbox rows not yet marked sent."""

    @abc.abstractmethod
    async def purge_sent(self, before: datetime) -> int:
        """Delete outbox rows sent before `before`; returns how many."""

    @abc.abstractmethod
    async def partition_of(self, saga_id: str) -> int | None:
        """The partition recorded for a saga (None if unknown or no such saga)."""

    @abc.abstractmethod
    async def heartbeat(self, instance_id: str, now: datetime) -> None:
        """Record that an orchestrator replica is alive at `now`."""

    @abc.abstractmethod
    async def replica_heartbeats(self, now: datetime, *, ttl_s: float) -> dict[str, datetime]:
        """The last heartbeat of each replica that beat within `ttl_s` of `now`."""

    async def live_replicas(self, now: datetime, *, ttl_s: float) -> list[str]:
        """Replicas whose last heartbeat is within `ttl_s` of `now`, sorted by instance id."""
        return sorted(await self.replica_heartbeats(now, ttl_s=ttl_s))

    @abc.abstractmethod
    async def forget_replica(self, instance_id: str) -> None:
        """Remove a replica that is shutting down, so the others take over its share at once."""

    @abc.abstractmethod
    async def save_agent(self, instance: AgentInstance) -> None:
        """Keep (insert or replace) what an agent instance announced."""

    @abc.abstractmethod
    async def remove_agent(self, agent: str, instance_id: str) -> None:
        """Forget an agent instance (it stopped, or its heartbeats stopped long ago)."""

    @abc.abstractmethod
    async def agent_instances(self) -> list[AgentInstance]:
        """Every agent instance kept, by agent and instance id."""
