"""The saga store on PostgreSQL (psycopg 3, async, pooled): for several orchestrator replicas.

Outbox rows are claimed with `FOR UPDATE SKIP LOCKED`, so relays on different replicas split the
work instead of publishing the same rows; schema creation takes an advisory lock, so replicas
starting together do not race on `CREATE TABLE`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from agentbus.settings import redact_url
from services.orchestrator.errors import ConcurrencyError, SagaExistsError, SagaStoreError
from services.orchestrator.machine import Timer, TimerKind
from services.orchestrator.record import SagaRecord, SagaState
from services.orchestrator.registry import AgentInstance
from services.orchestrator.store.base import DueTimer, OutboxMessage, OutboxRow, SagaStore

SCHEMA_LOCK: Final = 0x5A6A_0001  # pg_advisory_xact_lock key: "agentbus saga schema"
SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS agentbus_sagas (
        saga_id     text PRIMARY KEY,
        saga_type   text NOT NULL,
        status      text NOT NULL,
        version     bigint NOT NULL,
        record      jsonb NOT NULL,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS agentbus_sagas_status ON agentbus_sagas (status, updated_at)",
    "CREATE INDEX IF NOT EXISTS agentbus_sagas_updated ON agentbus_sagas (updated_at)",
    """CREATE TABLE IF NOT EXISTS agentbus_outbox (
        id            bigserial PRIMARY KEY,
        saga_id       text NOT NULL,
        message_id    text NOT NULL,
        exchange      text NOT NULL,
        routing_key   text NOT NULL,
        body          bytea NOT NULL,
        created_at    timestamptz NOT NULL,
        claimed_until timestamptz,
        sent_at       timestamptz)""",
    "CREATE INDEX IF NOT EXISTS agentbus_outbox_pending ON agentbus_outbox (id) "
    "WHERE sent_at IS NULL",
    """CREATE TABLE IF NOT EXISTS agentbus_timers (
        saga_id    text NOT NULL,
        timer_key  text NOT NULL,
        kind       text NOT NULL,
        step       text NOT NULL,
        attempt    integer NOT NULL,
        due_at     timestamptz NOT NULL,
        PRIMARY KEY (saga_id, timer_key))""",
    "CREATE INDEX IF NOT EXISTS agentbus_timers_due ON agentbus_timers (due_at)",
    # Stores created before partitions were recorded lack the column.
    "ALTER TABLE agentbus_sagas ADD COLUMN IF NOT EXISTS partition_index integer",
    """CREATE TABLE IF NOT EXISTS agentbus_agents (
        agent           text NOT NULL,
        instance_id     text NOT NULL,
        schema_versions integer[] NOT NULL,
        actions         text[] NOT NULL,
        compensations   text[] NOT NULL,
        heartbeat_interval_s double precision NOT NULL,
        seen_at         timestamptz NOT NULL,
        PRIMARY KEY (agent, instance_id))""",
    """CREATE TABLE IF NOT EXISTS agentbus_replicas (
        instance_id text PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        seen_at     timestamptz NOT NULL)""",
)


# Timers of the held partitions, of sagas on no known partition, or overdue (see due_timers).
PARTITION_FILTER: Final = (
    "(%(all)s OR s.partition_index IS NULL OR s.partition_index = ANY(%(held)s) "
    "OR t.due_at <= %(overdue)s)")


def _partition_params(partitions: Collection[int] | None,
                      overdue_before: datetime | None) -> dict[str, Any]:
    return {"all": partitions is None, "held": sorted(partitions or ()),
            "overdue": overdue_before or datetime(1970, 1, 1, tzinfo=UTC)}


class PostgresSagaStore(SagaStore):
    """Sagas in PostgreSQL, shared by every orchestrator replica."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8,
                 connect_timeout_s: float = 10.0) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self._pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False,
            kwargs={"autocommit": True}, timeout=connect_timeout_s, name="agentbus-sagas")

    async def open(self) -> None:
        """Open the pool (failing clearly if PostgreSQL does not answer) and create the tables."""
        try:
            await self._pool.open(wait=True, timeout=self.connect_timeout_s)
        except PoolTimeout as exc:
            await self._pool.close()
            raise SagaStoreError(
                f"PostgreSQL at {redact_url(self.url)} did not answer within "
                f"{self.connect_timeout_s:g} s: check AGENTBUS_SAGA_STORE_URL and that the "
                "server runs") from exc
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in SCHEMA:
                await conn.execute(statement)

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[TupleRow]]:
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (SagaStoreError, psycopg.errors.UniqueViolation):
            raise
        except PoolTimeout as exc:
            raise SagaStoreError(f"no PostgreSQL connection free or reachable: {exc}") from exc
        except psycopg.Error as exc:
            raise SagaStoreError(f"PostgreSQL: {exc}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection[TupleRow]]:
        async with self._connection() as conn, conn.transaction():
            yield conn

    # ------------------------------------------------------------ sagas

    async def get(self, saga_id: str) -> SagaRecord | None:
        """The saga with this id, or None."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT record, version FROM agentbus_sagas WHERE saga_id = %s", (saga_id,))
            row = await cursor.fetchone()
        return None if row is None else _record(row[0], row[1])

    async def commit(self, record: SagaRecord, *, expected_version: int,
                     outbox: Sequence[OutboxMessage] = (), arm: Sequence[Timer] = (),
                     cancel: Sequence[str] = (), partition: int | None = None,
                     lease_until: datetime | None = None,
                     snapshot: Mapping[str, Any] | None = None) -> list[OutboxRow]:
        """Write record, outbox rows and timer changes in one transaction."""
        version = expected_version + 1
        data = record.to_dict() if snapshot is None else dict(snapshot)
        data["version"] = version
        rows: list[OutboxRow] = []
        try:
            async with self._transaction() as conn:
                if expected_version == 0:
                    await conn.execute(
                        "INSERT INTO agentbus_sagas (saga_id, saga_type, status, version, record, "
                        "created_at, updated_at, partition_index) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        (record.saga_id, record.saga_type, record.status.value, version,
                         Jsonb(data), record.created_at, record.updated_at, partition))
                else:
                    cursor = await conn.execute(
                        "UPDATE agentbus_sagas SET status = %s, version = %s, record = %s, "
                        "updated_at = %s, partition_index = COALESCE(%s, partition_index) "
                        "WHERE saga_id = %s AND version = %s",
                        (record.status.value, version, Jsonb(data), record.updated_at,
                         partition, record.saga_id, expected_version))
                    if cursor.rowcount != 1:
                        raise ConcurrencyError(
                            f"saga {record.saga_id} is no longer at version {expected_version}; "
                            "reload it and apply the event again")
                async with conn.cursor() as cursor:
                    if cancel:
                        await cursor.executemany(
                            "DELETE FROM agentbus_timers WHERE saga_id = %s AND timer_key = %s",
                            [(record.saga_id, key) for key in cancel])
                    if arm:
                        await cursor.executemany(
                            "INSERT INTO agentbus_timers (saga_id, timer_key, kind, step, attempt,"
                            " due_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (saga_id, "
                            "timer_key) DO UPDATE SET due_at = EXCLUDED.due_at",
                            [(record.saga_id, t.key, t.kind.value, t.step, t.attempt, t.due_at)
                             for t in arm])
                    for m in outbox:
                        await cursor.execute(
                            "INSERT INTO agentbus_outbox (saga_id, message_id, exchange, "
                            "routing_key, body, created_at, claimed_until) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                            (record.saga_id, m.message_id, m.exchange, m.routing_key, m.body,
                             record.updated_at, lease_until))
                        inserted = await cursor.fetchone()
                        if inserted is None:  # pragma: no cover  (RETURNING always answers)
                            raise SagaStoreError("PostgreSQL returned no id for an outbox row")
                        rows.append(OutboxRow(int(inserted[0]), record.saga_id, m,
                                              record.updated_at))
        except psycopg.errors.UniqueViolation as exc:
            raise SagaExistsError(f"saga {record.saga_id} already exists") from exc
        record.version = version
        return rows

    async def list_sagas(self, *, status: SagaState | None = None, saga_type: str | None = None,
                   limit: int = 100) -> list[SagaRecord]:
        """Sagas, most recently updated first."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT record, version FROM agentbus_sagas "
                "WHERE (%(status)s::text IS NULL OR status = %(status)s) "
                "AND (%(type)s::text IS NULL OR saga_type = %(type)s) "
                "ORDER BY updated_at DESC, saga_id LIMIT %(limit)s",
                {"status": None if status is None else status.value, "type": saga_type,
                 "limit": limit})
            rows = await cursor.fetchall()
        return [_record(body, version) for body, version in rows]

    async def count_by_status(self) -> dict[SagaState, int]:
        """How many sagas are in each status."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT status, COUNT(*) FROM agentbus_sagas GROUP BY status")
            rows = await cursor.fetchall()
        return {SagaState(status): int(count) for status, count in rows}

    # ------------------------------------------------------------ timers

    async def due_timers(self, now: datetime, *, limit: int = 100,
                         partitions: Collection[int] | None = None,
                         overdue_before: datetime | None = None) -> list[DueTimer]:
        """Timers due at or before `now`, earliest first (of these partitions, or overdue)."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT t.saga_id, t.kind, t.step, t.attempt, t.due_at FROM agentbus_timers t "
                "JOIN agentbus_sagas s ON s.saga_id = t.saga_id "
                f"WHERE t.due_at <= %(now)s AND {PARTITION_FILTER} "
                "ORDER BY t.due_at, t.saga_id, t.timer_key LIMIT %(limit)s",
                {"now": now, "limit": limit, **_partition_params(partitions, overdue_before)})
            rows = await cursor.fetchall()
        return [DueTimer(saga_id, Timer(TimerKind(kind), step, int(attempt), _utc(due_at)))
                for saga_id, kind, step, attempt, due_at in rows]

    async def delete_timer(self, saga_id: str, key: str) -> None:
        """Forget one timer."""
        async with self._connection() as conn:
            await conn.execute(
                "DELETE FROM agentbus_timers WHERE saga_id = %s AND timer_key = %s",
                (saga_id, key))

    async def next_timer_due(self, *, partitions: Collection[int] | None = None) -> datetime | None:
        """When the earliest timer (of these partitions) comes due."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT MIN(t.due_at) FROM agentbus_timers t "
                f"JOIN agentbus_sagas s ON s.saga_id = t.saga_id WHERE {PARTITION_FILTER}",
                _partition_params(partitions, None))
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else _utc(row[0])

    # ------------------------------------------------------------ outbox

    async def claim_outbox(self, now: datetime, *, limit: int = 100,
                           lease_s: float = 30.0) -> list[OutboxRow]:
        """Lease unsent rows, oldest first; rows another relay holds are skipped."""
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "UPDATE agentbus_outbox SET claimed_until = %s WHERE id IN ("
                " SELECT id FROM agentbus_outbox WHERE sent_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until <= %s)"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
                "RETURNING id, saga_id, message_id, exchange, routing_key, body, created_at",
                (now + timedelta(seconds=lease_s), now, limit))
            rows = await cursor.fetchall()
        return sorted(
            (OutboxRow(int(row_id), saga_id, OutboxMessage(message_id, exchange, routing_key,
                                                           bytes(body)), _utc(created_at))
             for row_id, saga_id, message_id, exchange, routing_key, body, created_at in rows),
            key=lambda row: row.id)

    async def mark_sent(self, ids: Sequence[int], sent_at: datetime) -> None:
        """Record that these rows were published."""
        if not ids:
            return
        async with self._connection() as conn:
            await conn.execute("UPDATE agentbus_outbox SET sent_at = %s WHERE id = ANY(%s)",
                               (sent_at, list(ids)))

    async def pending_outbox_count(self) -> int:
        """Rows not yet sent."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT COUNT(*) FROM agentbus_outbox WHERE sent_at IS NULL")
            row = await cursor.fetchone()
        return 0 if row is None else int(row[0])

    async def purge_sent(self, before: datetime) -> int:
        """Delete rows sent before `before`."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM agentbus_outbox WHERE sent_at IS NOT NULL AND sent_at < %s",
                (before,))
            return int(cursor.rowcount)


    # ------------------------------------------------------------ partitions and replicas

    async def partition_of(self, saga_id: str) -> int | None:
        """The partition recorded for a saga."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT partition_index FROM agentbus_sagas WHERE saga_id = %s", (saga_id,))
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    async def heartbeat(self, instance_id: str, now: datetime) -> None:
        """Record that a replica is alive."""
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO agentbus_replicas (instance_id, started_at, seen_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (instance_id) DO UPDATE SET seen_at = "
                "EXCLUDED.seen_at", (instance_id, now, now))

    async def replica_heartbeats(self, now: datetime, *, ttl_s: float) -> dict[str, datetime]:
        """Last heartbeat of each replica seen within `ttl_s`."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT instance_id, seen_at FROM agentbus_replicas WHERE seen_at >= %s",
                (now - timedelta(seconds=ttl_s),))
            rows = await cursor.fetchall()
        return {str(instance): _utc(seen) for instance, seen in rows}

    async def forget_replica(self, instance_id: str) -> None:
        """Remove a replica."""
        async with self._connection() as conn:
            await conn.execute("DELETE FROM agentbus_replicas WHERE instance_id = %s",
                               (instance_id,))

    # ------------------------------------------------------------ agents

    async def save_agent(self, instance: AgentInstance) -> None:
        """Keep what an agent instance announced."""
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO agentbus_agents (agent, instance_id, schema_versions, actions, "
                "compensations, heartbeat_interval_s, seen_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (agent, instance_id) DO UPDATE SET schema_versions = "
                "EXCLUDED.schema_versions, actions = EXCLUDED.actions, compensations = "
                "EXCLUDED.compensations, heartbeat_interval_s = EXCLUDED.heartbeat_interval_s, "
                "seen_at = EXCLUDED.seen_at",
                (instance.agent, instance.instance_id, sorted(instance.schema_versions),
                 list(instance.actions), list(instance.compensations),
                 instance.heartbeat_interval_s, instance.last_seen))

    async def remove_agent(self, agent: str, instance_id: str) -> None:
        """Forget an agent instance."""
        async with self._connection() as conn:
            await conn.execute(
                "DELETE FROM agentbus_agents WHERE agent = %s AND instance_id = %s",
                (agent, instance_id))

    async def agent_instances(self) -> list[AgentInstance]:
        """Every agent instance kept."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT agent, instance_id, schema_versions, actions, compensations, "
                "heartbeat_interval_s, seen_at FROM agentbus_agents ORDER BY agent, instance_id")
            rows = await cursor.fetchall()
        return [AgentInstance(agent, instance_id, frozenset(int(v) for v in versions),
                              tuple(actions), tuple(compensations), float(interval), _utc(seen))
                for agent, instance_id, versions, actions, compensations, interval, seen in rows]


def _record(body: Any, version: int) -> SagaRecord:
    record = SagaRecord.from_dict(body)
    record.version = int(version)
    return record


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
