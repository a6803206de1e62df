"""The agent's inbox: which task ids were handled and what was answered, durable across restarts.

Handling a task is claim -> act -> complete(reply) -> publish. A task id already completed returns
the stored reply instead of acting again (duplicates from redelivery or a replayed outbox). A claim
held by another live replica is waited for; a claim whose owner died (same host: its pid is gone;
anywhere: its lease ran out) is taken over. The reply is committed before it is published, so a
crash between the two republishes the same reply on redelivery instead of acting twice.

SQLite (default, one file per agent) is for one host: replicas there share the file in WAL mode.
Replicas on several hosts share a PostgreSQL inbox (`agentbus.agent.inbox_postgres`).

SQLite durability: a reply is committed with an fsync (`synchronous=FULL`) before it is published,
so once anyone can have seen an answer, a redelivered task gets that answer and the handler does
not run again, even after a power cut. A claim is committed without an fsync: it only keeps live
replicas from working on one task at once, and they see it at once (the WAL index is shared
memory); a power cut can lose only claims of processes it killed too, which is what a restarted
replica takes over anyway (the task is redelivered and acted on, as it would be after a crash
between claim and reply). WAL commits reach the disk in order, so losing a claim never loses a
reply committed before it. Writes that arrive while a transaction is being written go together
in the next one (each in its own savepoint), so concurrent tasks share one fsync.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

from agentbus.agent.errors import InboxError
from agentbus.sqlite_wal import GroupCommit, connect_wal

_T = TypeVar("_T")


# Instance ids of the runtimes alive in this process: a claim made by this pid under another id
# belongs to a runtime that stopped or crashed (tests restart agents in one process).
LIVE_OWNERS: set[str] = set()


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: an agent instance, on a host, in a process."""

    instance_id: str
    host: str
    pid: int

    @classmethod
    def here(cls, instance_id: str) -> Owner:
        """This process's owner identity for `instance_id`."""
        return cls(instance_id, socket.gethostname(), os.getpid())

    def seems_dead(self) -> bool:
        """True when this owner is known to be gone (only knowable for owners on this host)."""
        if self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            return self.instance_id not in LIVE_OWNERS
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # alive, owned by another user
        return False


@dataclass(frozen=True)
class StoredReply:
    """A reply as it was first published: the v2 envelope, its wire schema and its routing key."""

    envelope: bytes
    schema: int
    routing_key: str


class ClaimOutcome(enum.Enum):
    """What a claim attempt found."""

    ACQUIRED = "acquired"  # act on the task
    DONE = "done"  # answered before: republish the stored reply
    BUSY = "busy"  # another live owner is working on it: wait


@dataclass(frozen=True)
class Claim:
    """The outcome of `Inbox.claim`, with the stored reply or the current holder."""

    outcome: ClaimOutcome
    reply: StoredReply | None = None
    holder: str = ""


def decide(row: tuple[str, str, str, int, float] | None, owner: Owner, now: float,
           lease_s: float) -> str:
    """Pure decision on an inbox row (status, instance, host, pid, claimed_at): insert/done/take/busy."""
    if row is None:
        return "insert"
    status, instance, host, pid, claimed_at = row
    if status == "done":
        return "done"
    holder = Owner(instance, host, int(pid))
    if holder == owner:
        return "busy"  # a redelivery while this very runtime still works on it
    if holder.seems_dead() or now - claimed_at > lease_s:
        return "take"
    return "busy"


class Inbox(abc.ABC):
    """The record of tasks an agent handled; use as `async with inbox:`."""

    def __init__(self, agent: str) -> None:
        self.agent = agent

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create the table if needed."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    async def claim(self, task_id: str, owner: Owner, *, lease_s: float) -> Claim:
        """Claim `task_id` for `owner`, or say it is done (with the reply) or busy elsewhere."""

    @abc.abstractmethod
    async def complete(self, task_id: str, owner: Owner, reply: StoredReply) -> StoredReply:
        """Record the reply of a claimed task (before it is published); returns the reply to send.

        That is `reply`, unless another replica that took the claim over answered first: then its
        reply, so every copy of the answer to one task id is the same message.
        """

    @abc.abstractmethod
    async def release(self, task_id: str, owner: Owner) -> None:
        """Give a claim up without a reply (the handler was interrupted); a no-op if not held."""

    @abc.abstractmethod
    async def prune(self, older_than_s: float) -> int:
        """Forget completed tasks finished more than `older_than_s` ago; returns how many."""

    async def __aenter__(self) -> Inbox:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


SQLITE_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS agentbus_agent_inbox (
    agent        TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    status       TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    claimed_at   REAL NOT NULL,
    finished_at  REAL,
    reply        BLOB,
    reply_schema INTEGER,
    routing_key  TEXT,
    PRIMARY KEY (agent, task_id)
);
CREATE INDEX IF NOT EXISTS agentbus_agent_inbox_finished ON agentbus_agent_inbox (finished_at);
"""


class SqliteInbox(Inbox):
    """The inbox in one SQLite file (WAL), shared by the replicas of an agent on one host."""

    def __init__(self, path: str | Path, agent: str, *, busy_timeout_s: float = 10.0) -> None:
        super().__init__(agent)
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._group: GroupCommit | None = None

    async def open(self) -> None:
        """Open (creating the file, its directory and the table if needed) in WAL mode."""
        # One thread owns the connection: sqlite3 blocks, and must not block the event loop.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"inbox-{self.agent}")
        await self._run(self._open)
        assert self._conn is not None
        self._group = GroupCommit(self._conn, self._executor, synchronous="full",
                                  translate=self._error, name=f"inbox-{self.agent}-writer")

    def _open(self) -> None:
        conn = connect_wal(self.path, synchronous="full", busy_timeout_s=self.busy_timeout_s)
        conn.executescript(SQLITE_SCHEMA)
        self._conn = conn

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
            raise InboxError(f"the inbox of {self.agent} is not open", retryable=False)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            raise InboxError(f"agent inbox {self.path}: {exc}") from exc

    def _tx(self, body: Callable[[sqlite3.Connection], _T]) -> _T:
        conn = self._conn
        if conn is None:
            raise InboxError(f"the inbox of {self.agent} is not open", retryable=False)
        # IMMEDIATE takes the write lock up front: replicas queue on busy_timeout instead of
        # both reading "no row" and racing to insert.
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def _write(self, body: Callable[[sqlite3.Connection], _T], *, durable: bool) -> _T:
        """Run `body` in the next group-committed transaction (fsynced if any write is durable)."""
        if self._group is None:
            raise InboxError(f"the inbox of {self.agent} is not open", retryable=False)
        return await self._group.write(body, durable=durable)

    def _error(self, exc: BaseException) -> BaseException:
        if isinstance(exc, sqlite3.Error):
            error = InboxError(f"agent inbox {self.path}: {exc}")
            error.__cause__ = exc
            return error
        return exc

    async def claim(self, task_id: str, owner: Owner, *, lease_s: float) -> Claim:
        """Claim `task_id` for `owner`, or say it is done (with the reply) or busy elsewhere."""

        def body(conn: sqlite3.Connection) -> Claim:
            row = conn.execute(
                "SELECT status, instance_id, host, pid, claimed_at, reply, reply_schema, routing_key "
                "FROM agentbus_agent_inbox WHERE agent = ? AND task_id = ?",
                (self.agent, task_id)).fetchone()
            now = time.time()
            verdict = decide(None if row is None else row[:5], owner, now, lease_s)
            if verdict == "done":
                return Claim(ClaimOutcome.DONE, StoredReply(bytes(row[5]), int(row[6]), str(row[7])))
            if verdict == "busy":
                return Claim(ClaimOutcome.BUSY, holder=f"{row[1]} (pid {row[3]} on {row[2]})")
            if verdict == "insert":
                conn.execute(
                    "INSERT INTO agentbus_agent_inbox (agent, task_id, status, instance_id, host, pid, "
                    "claimed_at) VALUES (?, ?, 'running', ?, ?, ?, ?)",
                    (self.agent, task_id, owner.instance_id, owner.host, owner.pid, now))
            else:
                conn.execute(
                    "UPDATE agentbus_agent_inbox SET instance_id = ?, host = ?, pid = ?, claimed_at = ? "
                    "WHERE agent = ? AND task_id = ?",
                    (owner.instance_id, owner.host, owner.pid, now, self.agent, task_id))
            return Claim(ClaimOutcome.ACQUIRED)

        # No fsync for a claim (see the module's docstring).
        return await self._write(body, durable=False)

    async def complete(self, task_id: str, owner: Owner, reply: StoredReply) -> StoredReply:
        """Record the reply of a claimed task (before it is published); returns the reply to send."""

        def body(conn: sqlite3.Connection) -> StoredReply:
            # Written whoever holds the claim now, unless a replica that took it over already
            # answered: then that answer stands.
            conn.execute(
                "INSERT INTO agentbus_agent_inbox (agent, task_id, status, instance_id, host, pid, "
                "claimed_at, finished_at, reply, reply_schema, routing_key) "
                "VALUES (?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (agent, task_id) DO UPDATE SET status = 'done', "
                "finished_at = excluded.finished_at, reply = excluded.reply, "
                "reply_schema = excluded.reply_schema, routing_key = excluded.routing_key "
                "WHERE agentbus_agent_inbox.status != 'done'",
                (self.agent, task_id, owner.instance_id, owner.host, owner.pid, time.time(),
                 time.time(), reply.envelope, reply.schema, reply.routing_key))
            row = conn.execute(
                "SELECT reply, reply_schema, routing_key FROM agentbus_agent_inbox "
                "WHERE agent = ? AND task_id = ?", (self.agent, task_id)).fetchone()
            return StoredReply(bytes(row[0]), int(row[1]), str(row[2]))

        return await self._write(body, durable=True)

    async def release(self, task_id: str, owner: Owner) -> None:
        """Give a claim up without a reply; a no-op if another owner holds it or it is done."""

        def body(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM agentbus_agent_inbox WHERE agent = ? AND task_id = ? AND status = 'running' "
                "AND instance_id = ? AND host = ? AND pid = ?",
                (self.agent, task_id, owner.instance_id, owner.host, owner.pid))

        await self._run(self._tx, body)

    async def prune(self, older_than_s: float) -> int:
        """Forget completed tasks finished more than `older_than_s` ago; returns how many."""

        def body(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "DELETE FROM agentbus_agent_inbox WHERE agent = ? AND status = 'done' "
                "AND finished_at < ?", (self.agent, time.time() - older_than_s))
            return int(cursor.rowcount)

        return await self._run(self._tx, body)


def inbox_from_url(url: str, agent: str) -> Inbox:
    """The inbox a URL names: `sqlite:///path.db` or `postgresql://user@host/db` (not opened yet)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///").partition("?")[0]
        if not path:
            raise InboxError(f"{url!r} names no file; write sqlite:///relative/path.db",
                             retryable=False)
        return SqliteInbox(path, agent)
    if url.startswith(("postgresql://", "postgres://")):
        from agentbus.agent.inbox_postgres import PostgresInbox

        return PostgresInbox(url, agent)
    raise InboxError(
        f"unsupported agent inbox URL {url.partition(':')[0]}:...: use sqlite:///path/to/inbox.db "
        "(one host) or postgresql://user:password@host/db (several hosts), in "
        "AGENTBUS_AGENT_INBOX_URL", retryable=False)
