"""The saga store contract: records with optimistic concurrency, a transactional outbox, timers.

One `save()` is one transaction: the saga's new state, the messages it causes (outbox rows) and its
timer changes are written together or not at all. A relay later claims outbox rows, publishes them
and marks them sent; a timer loop reads due timers. Any replica can do both after a crash, since
all of it is in the store.

"Have I already handled this reply?" needs no table: the record says which (step, attempt) is still
awaited (`SagaRecord.is_settled`), and the version check stops two writers from both applying it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

from services.orchestrator.machine import Timer
from services.orchestrator.record import SagaRecord, SagaState


@dataclass(frozen=True)
class OutboxMessage:
    """A message to publish once the transaction that wrote it commits."""

    message_id: str
    exchange: str
    routing_key: str
    # A serialised agentbus.v2.Message.
    body: bytes


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

    @abc.abstractmethod
    async def save(
        self,
        record: SagaRecord,
        *,
        expected_version: int,
        outbox: Sequence[OutboxMessage] = (),
        arm: Sequence[Timer] = (),
        cancel: Sequence[str] = (),
    ) -> int:
        """Write the record, its outbox rows and timer changes in one transaction.

        `expected_version` 0 creates the saga (SagaExistsError if the id is taken); otherwise the
        stored version must equal it (ConcurrencyError if another writer got there first). Returns
        the new version and sets `record.version` to it.
        """

    @abc.abstractmethod
    async def list_sagas(self, *, status: SagaState | None = None, saga_type: str | None = None,
                   limit: int = 100) -> list[SagaRecord]:
        """Sagas, most recently updated first, optionally of one status and type."""

    @abc.abstractmethod
    async def count_by_status(self) -> dict[SagaState, int]:
        """How many sagas are in each status."""

    @abc.abstractmethod
    async def due_timers(self, now: datetime, *, limit: int = 100) -> list[DueTimer]:
        """Timers due at or before `now`, earliest first."""

    @abc.abstractmethod
    async def delete_timer(self, saga_id: str, key: str) -> None:
        """Forget one timer (a fired timer the state machine found stale)."""

    @abc.abstractmethod
    async def next_timer_due(self) -> datetime | None:
        """When the earliest timer comes due (None without timers), so a loop can sleep until then."""

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
