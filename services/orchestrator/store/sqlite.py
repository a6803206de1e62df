"""The default saga store: SQLite in WAL mode, embedded, one file.

sqlite3 is blocking, so every call runs on one dedicated thread that owns the connection; writes
take the lock up front (`BEGIN IMMEDIATE`) so several processes sharing the file queue up instead
of failing half-way. `synchronous=FULL` makes a commit survive power loss, not only a crash.

Group commit: writes that arrive while a transaction is being written wait and then go together in
the next one, each inside its own savepoint (one saga's version conflict undoes only its own
writes), so a busy orchestrator pays one fsync for many transitions instead of one each.
Bookkeeping that may be lost on power loss without harm (outbox claims and `sent` marks: the rows
are published again and consumers deduplicate; deleting a stale timer; heartbeats) is committed
without an fsync when no durable write shares its transaction. In WAL mode the log is written in
order, so such a commit can only be lost together with everything after it up to the next fsync,
never a durable write before it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from agentbus.sqlite_wal import GroupCommit, connect_wal
from services.orchestrator.errors import ConcurrencyError, SagaExistsError, SagaStoreError
from services.orchestrator.machine import Timer, TimerKind
from services.orchestrator.record import SagaRecord, SagaState, dt_from_text, dt_to_text
from services.orchestrator.registry import AgentInstance
from services.orchestrator.store.base import DueTimer, OutboxMessage, OutboxRow, SagaStore

_T = TypeVar("_T")



SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS agentbus_sagas (
    saga_id     TEXT PRIMARY KEY,
    saga_type   TEXT NOT NULL,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    record      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    partition_index INTEGER
);
CREATE INDEX IF NOT EXISTS agentbus_sagas_status ON agentbus_sagas (status, updated_at);
CREATE INDEX IF NOT EXISTS agentbus_sagas_updated ON agentbus_sagas (updated_at);
CREATE TABLE IF NOT EXISTS agentbus_outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    saga_id       TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    exchange      TEXT NOT NULL,
    routing_key   TEXT NOT NULL,
    body          BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    claimed_until TEXT,
    sent_at       TEXT
);
CREATE INDEX IF NOT EXISTS agentbus_outbox_pending ON agentbus_outbox (id) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS agentbus_timers (
    saga_id    TEXT NOT NULL,
    timer_key  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    step       TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    due_at     TEXT NOT NULL,
    PRIMARY KEY (saga_id, timer_key)
);
CREATE INDEX IF NOT EXISTS agentbus_timers_due ON agentbus_timers (due_at);
CREATE TABLE IF NOT EXISTS agentbus_agents (
    agent           TEXT NOT NULL,
    instance_id     TEXT NOT NULL,
    schema_versions TEXT NOT NULL,
    actions         TEXT NOT NULL,
    compensations   TEXT NOT NULL,
    heartbeat_interval_s REAL NOT NULL,
    seen_at         TEXT NOT NULL,
    PRIMARY KEY (agent, instance_id)
);
CREATE TABLE IF NOT EXISTS agentbus_replicas (
    instance_id TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL
);
"""

SYNCHRONOUS_MODES: Final = ("off", "normal", "full", "extra")


def path_from_url(url: str) -> tuple[str, dict[str, str]]:
    """`sqlite:///relative.db`, `sqlite:////absolute.db` or `sqlite:///:memory:` -> path, options."""
    if not url.startswith("sqlite:///"):
        raise SagaStoreError(
            f"{url!r} is not a SQLite URL; write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db", retryable=False)
    rest = url[len("sqlite:///"):]
    path, _, query = rest.partition("?")
    options = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    if not path:
        raise SagaStoreError(f"{url!r} names no file", retryable=False)
    return path, options


class SqliteSagaStore(SagaStore):
    """Sagas in one SQLite file (WAL mode); fine for one host, use PostgreSQL for many."""

    def __init__(self, url: str, *, busy_timeout_s: float = 10.0) -> None:
        self.url = url
        self.path, options = path_from_url(url)
        self.synchronous = options.get("synchronous", "full").lower()
        if self.synchronous not in SYNCHRONOUS_MODES:
            raise SagaStoreError(
                f"synchronous={self.synchronous!r} in {url!r}: use one of "
                f"{', '.join(SYNCHRONOUS_MODES)}", retryable=False)
        self.busy_timeout_s = busy_timeout_s
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._group: GroupCommit | None = None

    # ------------------------------------------------------------ plumbing

    async def open(self) -> None:
        """Open (creating the file, its directory and the tables if needed) in WAL mode."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="saga-store")
        await self._run(self._open)
        self._group = GroupCommit(self.conn, self._executor, synchronous=self.synchronous,
                                  translate=self._error, name="saga-store-writer")

    def _open(self) -> None:
        conn = connect_wal(self.path, synchronous=self.synchronous, busy_timeout_s=self.busy_timeout_s)
        conn.executescript(SCHEMA)
        self._conn = conn
        self._transaction(_add_partition_column)

    async def close(self) -> None:
        """Close the connection and its thread."""
        if self._executor is None:
            return
        if self._group is not None:
            await self._group.drain()
            self._group = None
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._executor is None:
            raise SagaStoreError("the saga store is not open; use `async with store:`",
                                 retryable=False)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            raise SagaStoreError(f"SQLite ({self.path}): {exc}") from exc

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SagaStoreError("the saga store is not open; use `async with store:`",
                                 retryable=False)
        return self._conn

    def _transaction(self, body: Callable[[sqlite3.Connection], _T]) -> _T:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def _write(self, body: Callable[[sqlite3.Connection], _T], *, durable: bool = True) -> _T:
        """Run `body` in the next group-committed transaction; its exception is raised here."""
        if self._group is None:
            raise SagaStoreError("the saga store is not open; use `async with store:`",
                                 retryable=False)
        return await self._group.write(body, durable=durable)

    def _error(self, exc: BaseException) -> BaseException:
        if isinstance(exc, sqlite3.Error):
            error = SagaStoreError(f"SQLite ({self.path}): {exc}")
            error.__cause__ = exc
            return error
        return exc

    # ------------------------------------------------------------ sagas

    async def get(self, saga_id: str) -> SagaRecord | None:
        """The saga with this id, or None."""
        return await self._run(self._get, saga_id)

    def _get(self, saga_id: str) -> SagaRecord | None:
        row = self.conn.execute(
            "SELECT record, version FROM agentbus_sagas WHERE saga_id = ?", (saga_id,)).fetchone()
        return None if row is None else _record(row[0], row[1])

    async def commit(self, record: SagaRecord, *, expected_version: int,
                     outbox: Sequence[OutboxMessage] = (), arm: Sequence[Timer] = (),
                     cancel: Sequence[str] = (), partition: int | None = None,
                     lease_until: datetime | None = None,
                     snapshot: Mapping[str, Any] | None = None) -> list[OutboxRow]:
        """Write record, outbox rows and timer changes in one (group-committed) transaction."""
        version = expected_version + 1
        data = record.to_dict() if snapshot is None else dict(snapshot)
        data["version"] = version
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        lease = dt_to_text(lease_until)
        rows: list[OutboxRow] = await self._write(lambda conn: self._save(
            conn, record, body, expected_version=expected_version, outbox=outbox, arm=arm,
            cancel=cancel, partition=partition, lease=lease))
        record.version = version
        return rows

    def _save(self, conn: sqlite3.Connection, record: SagaRecord, body: str, *,
              expected_version: int, outbox: Sequence[OutboxMessage], arm: Sequence[Timer],
              cancel: Sequence[str], partition: int | None, lease: str | None) -> list[OutboxRow]:
        version = expected_version + 1
        created, updated = dt_to_text(record.created_at), dt_to_text(record.updated_at)
        if expected_version == 0:
            try:
                conn.execute(
                    "INSERT INTO agentbus_sagas (saga_id, saga_type, status, version, record, "
                    "created_at, updated_at, partition_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.saga_id, record.saga_type, record.status.value, version, body,
                     created, updated, partition))
            except sqlite3.IntegrityError as exc:
                raise SagaExistsError(f"saga {record.saga_id} already exists") from exc
        else:
            cursor = conn.execute(
                "UPDATE agentbus_sagas SET status = ?, version = ?, record = ?, updated_at = ?, "
                "partition_index = COALESCE(?, partition_index) WHERE saga_id = ? AND version = ?",
                (record.status.value, version, body, updated, partition, record.saga_id,
                 expected_version))
            if cursor.rowcount != 1:
                raise ConcurrencyError(
                    f"saga {record.saga_id} is no longer at version {expected_version}; "
                    "reload it and apply the event again")
        if cancel:
            conn.executemany(
                "DELETE FROM agentbus_timers WHERE saga_id = ? AND timer_key = ?",
                [(record.saga_id, key) for key in cancel])
        if arm:
            conn.executemany(
                "INSERT OR REPLACE INTO agentbus_timers (saga_id, timer_key, kind, step, attempt, "
                "due_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(record.saga_id, t.key, t.kind.value, t.step, t.attempt, dt_to_text(t.due_at))
                 for t in arm])
        rows = []
        for m in outbox:
            cursor = conn.execute(
                "INSERT INTO agentbus_outbox (saga_id, message_id, exchange, routing_key, body, "
                "created_at, claimed_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.saga_id, m.message_id, m.exchange, m.routing_key, m.body, updated, lease))
            rows.append(OutboxRow(int(cursor.lastrowid or 0), record.saga_id, m,
                                  record.updated_at))
        return rows

    async def list_sagas(self, *, status: SagaState | None = None, saga_type: str | None = None,
                   limit: int = 100) -> list[SagaRecord]:
        """Sagas, most recently updated first."""
        return await self._run(self._list_sagas, status, saga_type, limit)

    def _list_sagas(self, status: SagaState | None, saga_type: str | None,
              limit: int) -> list[SagaRecord]:
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status.value)
        if saga_type is not None:
            clauses.append("saga_type = ?")
            params.append(saga_type)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.conn.execute(
            f"SELECT record, version FROM agentbus_sagas {where} "  # fixed clauses only
            "ORDER BY updated_at DESC, saga_id LIMIT ?", (*params, limit)).fetchall()
        return [_record(body, version) for body, version in rows]

    async def count_by_status(self) -> dict[SagaState, int]:
        """How many sagas are in each status."""
        rows = await self._run(lambda: self.conn.execute(
            "SELECT status, COUNT(*) FROM agentbus_sagas GROUP BY status").fetchall())
        return {SagaState(status): int(count) for status, count in rows}

    # ------------------------------------------------------------ timers

    async def due_timers(self, now: datetime, *, limit: int = 100,
                         partitions: Collection[int] | None = None,
                         overdue_before: datetime | None = None) -> list[DueTimer]:
        """Timers due at or before `now`, earliest first (of these partitions, or overdue)."""
        where, params = _partition_filter(partitions, overdue_before)
        rows = await self._run(lambda: self.conn.execute(
            "SELECT t.saga_id, t.kind, t.step, t.attempt, t.due_at FROM agentbus_timers t "
            "JOIN agentbus_sagas s ON s.saga_id = t.saga_id "
            f"WHERE t.due_at <= ? AND {where} "  # fixed clauses only
            "ORDER BY t.due_at, t.saga_id, t.timer_key LIMIT ?",
            (dt_to_text(now), *params, limit)).fetchall())
        return [_due_timer(*row) for row in rows]

    async def delete_timer(self, saga_id: str, key: str) -> None:
        """Forget one timer (no fsync: a stale timer that comes back is found stale again)."""
        await self._write(lambda conn: conn.execute(
            "DELETE FROM agentbus_timers WHERE saga_id = ? AND timer_key = ?", (saga_id, key)),
            durable=False)

    async def next_timer_due(self, *, partitions: Collection[int] | None = None) -> datetime | None:
        """When the earliest timer (of these partitions) comes due."""
        where, params = _partition_filter(partitions, None)
        row = await self._run(lambda: self.conn.execute(
            "SELECT MIN(t.due_at) FROM agentbus_timers t "
            f"JOIN agentbus_sagas s ON s.saga_id = t.saga_id WHERE {where}",  # fixed clauses only
            params).fetchone())
        return dt_from_text(row[0]) if row else None

    # ------------------------------------------------------------ outbox

    async def claim_outbox(self, now: datetime, *, limit: int = 100,
                           lease_s: float = 30.0) -> list[OutboxRow]:
        """Lease unsent rows, oldest first."""
        until = dt_to_text(now + timedelta(seconds=lease_s))
        now_text = dt_to_text(now)

        def claim(conn: sqlite3.Connection) -> list[Any]:
            rows = conn.execute(
                "SELECT id, saga_id, message_id, exchange, routing_key, body, created_at "
                "FROM agentbus_outbox WHERE sent_at IS NULL "
                "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY id LIMIT ?",
                (now_text, limit)).fetchall()
            conn.executemany("UPDATE agentbus_outbox SET claimed_until = ? WHERE id = ?",
                             [(until, row[0]) for row in rows])
            return rows

        # No fsync: a claim lost to a power cut only lets the rows be claimed again.
        rows = await self._write(claim, durable=False)
        return [_outbox_row(row) for row in rows]

    async def mark_sent(self, ids: Sequence[int], sent_at: datetime) -> None:
        """Record that these rows were published (no fsync: a lost mark only sends them again)."""
        if not ids:
            return
        stamp = dt_to_text(sent_at)
        await self._write(lambda conn: conn.executemany(
            "UPDATE agentbus_outbox SET sent_at = ? WHERE id = ?", [(stamp, i) for i in ids]),
            durable=False)

    async def pending_outbox_count(self) -> int:
        """Rows not yet sent."""
        row = await self._run(lambda: self.conn.execute(
            "SELECT COUNT(*) FROM agentbus_outbox WHERE sent_at IS NULL").fetchone())
        return int(row[0])

    async def purge_sent(self, before: datetime) -> int:
        """Delete rows sent before `before`."""
        cursor = await self._run(self._transaction, lambda conn: conn.execute(
            "DELETE FROM agentbus_outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
            (dt_to_text(before),)))
        return int(cursor.rowcount)


    # ------------------------------------------------------------ partitions and replicas

    async def partition_of(self, saga_id: str) -> int | None:
        """The partition recorded for a saga."""
        row = await self._run(lambda: self.conn.execute(
            "SELECT partition_index FROM agentbus_sagas WHERE saga_id = ?", (saga_id,)).fetchone())
        return None if row is None or row[0] is None else int(row[0])

    async def heartbeat(self, instance_id: str, now: datetime) -> None:
        """Record that a replica is alive."""
        stamp = dt_to_text(now)
        await self._write(lambda conn: conn.execute(
            "INSERT INTO agentbus_replicas (instance_id, started_at, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (instance_id) DO UPDATE SET seen_at = excluded.seen_at",
            (instance_id, stamp, stamp)), durable=False)

    async def replica_heartbeats(self, now: datetime, *, ttl_s: float) -> dict[str, datetime]:
        """Last heartbeat of each replica seen within `ttl_s`."""
        since = dt_to_text(now - timedelta(seconds=ttl_s))
        rows = await self._run(lambda: self.conn.execute(
            "SELECT instance_id, seen_at FROM agentbus_replicas WHERE seen_at >= ?",
            (since,)).fetchall())
        return {str(instance): seen for instance, text in rows
                if (seen := dt_from_text(text)) is not None}

    async def forget_replica(self, instance_id: str) -> None:
        """Remove a replica."""
        await self._run(self._transaction, lambda conn: conn.execute(
            "DELETE FROM agentbus_replicas WHERE instance_id = ?", (instance_id,)))

    # ------------------------------------------------------------ agents

    async def save_agent(self, instance: AgentInstance) -> None:
        """Keep what an agent instance announced."""
        await self._run(self._transaction, lambda conn: conn.execute(
            "INSERT OR REPLACE INTO agentbus_agents (agent, instance_id, schema_versions, actions, "
            "compensations, heartbeat_interval_s, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (instance.agent, instance.instance_id, _join(sorted(instance.schema_versions)),
             _join(instance.actions), _join(instance.compensations),
             instance.heartbeat_interval_s, dt_to_text(instance.last_seen))))

    async def remove_agent(self, agent: str, instance_id: str) -> None:
        """Forget an agent instance."""
        await self._run(self._transaction, lambda conn: conn.execute(
            "DELETE FROM agentbus_agents WHERE agent = ? AND instance_id = ?", (agent, instance_id)))

    async def agent_instances(self) -> list[AgentInstance]:
        """Every agent instance kept."""
        rows = await self._run(lambda: self.conn.execute(
            "SELECT agent, instance_id, schema_versions, actions, compensations, "
            "heartbeat_interval_s, seen_at FROM agentbus_agents ORDER BY agent, instance_id"
        ).fetchall())
        return [_agent_instance(row) for row in rows]


def _join(values: Sequence[object]) -> str:
    return ",".join(str(v) for v in values)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def _agent_instance(row: Sequence[Any]) -> AgentInstance:
    agent, instance_id, versions, actions, compensations, interval, seen_at = row
    seen = dt_from_text(seen_at)
    if seen is None:
        raise SagaStoreError(f"agent instance {agent}/{instance_id} has no time", retryable=False)
    return AgentInstance(agent, instance_id, frozenset(int(v) for v in _split(versions)),
                         _split(actions), _split(compensations), float(interval), seen)


def _add_partition_column(conn: sqlite3.Connection) -> None:
    # Stores created before partitions were recorded lack the column; several replicas may open
    # the file at once, hence the check inside the (immediate) transaction.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(agentbus_sagas)")}
    if "partition_index" not in columns:
        conn.execute("ALTER TABLE agentbus_sagas ADD COLUMN partition_index INTEGER")


def _partition_filter(partitions: Collection[int] | None,
                      overdue_before: datetime | None) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (over `s`, `t`) keeping timers of `partitions`, of unknown ones, or overdue."""
    if partitions is None:
        return "1 = 1", ()
    held = sorted(partitions)
    clauses = ["s.partition_index IS NULL"]
    params: list[Any] = []
    if held:
        clauses.append(f"s.partition_index IN ({', '.join('?' * len(held))})")
        params += held
    if overdue_before is not None:
        clauses.append("t.due_at <= ?")
        params.append(dt_to_text(overdue_before))
    return "(" + " OR ".join(clauses) + ")", tuple(params)


def _record(body: str, version: int) -> SagaRecord:
    record = SagaRecord.from_dict(json.loads(body))
    record.version = int(version)
    return record


def _due_timer(saga_id: str, kind: str, step: str, attempt: int, due_at: str) -> DueTimer:
    due = dt_from_text(due_at)
    if due is None:
        raise SagaStoreError(f"timer of saga {saga_id} has no due time", retryable=False)
    return DueTimer(saga_id, Timer(TimerKind(kind), step, int(attempt), due))


def _outbox_row(row: Sequence[Any]) -> OutboxRow:
    row_id, saga_id, message_id, exchange, routing_key, body, created_at = row
    created = dt_from_text(created_at)
    if created is None:
        raise SagaStoreError(f"outbox row {row_id} has no creation time", retryable=False)
    return OutboxRow(row_id, saga_id, OutboxMessage(message_id, exchange, routing_key,
                                                    bytes(body)), created)
