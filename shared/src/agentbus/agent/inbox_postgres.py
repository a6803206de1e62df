"""The agent inbox on PostgreSQL, for replicas of one agent on several hosts.

A claim is a row lock (`SELECT ... FOR UPDATE`) inside one transaction, so two replicas never
both acquire a task id. Across hosts a dead owner cannot be seen, so its claim is taken over only
when its lease (AGENTBUS_AGENT_CLAIM_LEASE_S) runs out.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from agentbus.agent.errors import InboxError
from agentbus.agent.inbox import Claim, ClaimOutcome, Inbox, Owner, StoredReply, decide
from agentbus.settings import redact_url

SCHEMA_LOCK: Final = 0x5A6A_0002  # pg_advisory_xact_lock key: "agentbus agent inbox schema"
SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS agentbus_agent_inbox (
        agent        text NOT NULL,
        task_id      text NOT NULL,
        status       text NOT NULL,
        instance_id  text NOT NULL,
        host         text NOT NULL,
        pid          integer NOT NULL,
        claimed_at   double precision NOT NULL,
        finished_at  double precision,
        reply        bytea,
        reply_schema integer,
        routing_key  text,
        PRIMARY KEY (agent, task_id))""",
    "CREATE INDEX IF NOT EXISTS agentbus_agent_inbox_finished ON agentbus_agent_inbox (finished_at)",
)


class PostgresInbox(Inbox):
    """The inbox in PostgreSQL, shared by every replica of every agent that points at it."""

    def __init__(self, url: str, agent: str, *, max_size: int = 4, connect_timeout_s: float = 10.0) -> None:
        super().__init__(agent)
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self._pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, open=False, kwargs={"autocommit": True},
            timeout=connect_timeout_s, name=f"agentbus-inbox-{agent}")

    async def open(self) -> None:
        """Open the pool (failing clearly if PostgreSQL does not answer) and create the table."""
        try:
            await self._pool.open(wait=True, timeout=self.connect_timeout_s)
        except PoolTimeout as exc:
            await self._pool.close()
            raise InboxError(
                f"PostgreSQL at {redact_url(self.url)} did not answer within {self.connect_timeout_s:g} s: "
                "check AGENTBUS_AGENT_INBOX_URL and that the server runs", retryable=False) from exc
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in SCHEMA:
                await conn.execute(statement)

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection[TupleRow]]:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield conn
        except PoolTimeout as exc:
            raise InboxError(f"no PostgreSQL connection for the agent inbox: {exc}") from exc
        except psycopg.Error as exc:
            raise InboxError(f"agent inbox on PostgreSQL: {exc}") from exc

    async def claim(self, task_id: str, owner: Owner, *, lease_s: float) -> Claim:
        """Claim `task_id` for `owner`, or say it is done (with the reply) or busy elsewhere."""
        now = time.time()
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO agentbus_agent_inbox (agent, task_id, status, instance_id, host, pid, "
                "claimed_at) VALUES (%s, %s, 'running', %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (self.agent, task_id, owner.instance_id, owner.host, owner.pid, now))
            if cursor.rowcount == 1:
                return Claim(ClaimOutcome.ACQUIRED)
            cursor = await conn.execute(
                "SELECT status, instance_id, host, pid, claimed_at, reply, reply_schema, routing_key "
                "FROM agentbus_agent_inbox WHERE agent = %s AND task_id = %s FOR UPDATE",
                (self.agent, task_id))
            row = await cursor.fetchone()
            if row is None:  # pruned between the two statements: try again later
                return Claim(ClaimOutcome.BUSY, holder="(just pruned)")
            verdict = decide((str(row[0]), str(row[1]), str(row[2]), int(row[3]), float(row[4])),
                             owner, now, lease_s)
            if verdict == "done":
                return Claim(ClaimOutcome.DONE, StoredReply(bytes(row[5]), int(row[6]), str(row[7])))
            if verdict == "busy":
                return Claim(ClaimOutcome.BUSY, holder=f"{row[1]} (pid {row[3]} on {row[2]})")
            await conn.execute(
                "UPDATE agentbus_agent_inbox SET instance_id = %s, host = %s, pid = %s, claimed_at = %s "
                "WHERE agent = %s AND task_id = %s",
                (owner.instance_id, owner.host, owner.pid, now, self.agent, task_id))
            return Claim(ClaimOutcome.ACQUIRED)

    async def complete(self, task_id: str, owner: Owner, reply: StoredReply) -> StoredReply:
        """Record the reply of a claimed task (before it is published); returns the reply to send."""
        now = time.time()
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO agentbus_agent_inbox (agent, task_id, status, instance_id, host, pid, "
                "claimed_at, finished_at, reply, reply_schema, routing_key) "
                "VALUES (%s, %s, 'done', %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (agent, task_id) DO UPDATE SET status = 'done', "
                "finished_at = excluded.finished_at, reply = excluded.reply, "
                "reply_schema = excluded.reply_schema, routing_key = excluded.routing_key "
                "WHERE agentbus_agent_inbox.status <> 'done'",
                (self.agent, task_id, owner.instance_id, owner.host, owner.pid, now, now,
                 reply.envelope, reply.schema, reply.routing_key))
            cursor = await conn.execute(
                "SELECT reply, reply_schema, routing_key FROM agentbus_agent_inbox "
                "WHERE agent = %s AND task_id = %s", (self.agent, task_id))
            row = await cursor.fetchone()
        if row is None:  # pragma: no cover - the row was written in this transaction
            return reply
        return StoredReply(bytes(row[0]), int(row[1]), str(row[2]))

    async def release(self, task_id: str, owner: Owner) -> None:
        """Give a claim up without a reply; a no-op if another owner holds it or it is done."""
        async with self._transaction() as conn:
            await conn.execute(
                "DELETE FROM agentbus_agent_inbox WHERE agent = %s AND task_id = %s "
                "AND status = 'running' AND instance_id = %s AND host = %s AND pid = %s",
                (self.agent, task_id, owner.instance_id, owner.host, owner.pid))

    async def prune(self, older_than_s: float) -> int:
        """Forget completed tasks finished more than `older_than_s` ago; returns how many."""
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM agentbus_agent_inbox WHERE agent = %s AND status = 'done' "
                "AND finished_at < %s", (self.agent, time.time() - older_than_s))
            return int(cursor.rowcount)
