"""SQLite in WAL mode for asyncio services: opening a shared file, and group-committed writes.

Used by the saga store and the agent inbox. One thread owns the connection (sqlite3 blocks); writes
queued while a transaction runs go into the next one together, each in its own savepoint so one
failing write fails alone, and the transaction skips its fsync when none of its writes asks for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")

# A write's outcome inside a batch: (True, value) or (False, the exception to raise).
_Outcome = tuple[bool, Any]


def connect_wal(path: str, *, synchronous: str, busy_timeout_s: float) -> sqlite3.Connection:
    """Open `path` (creating its directory) in WAL mode with this synchronous level."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    # Switching a new file to WAL fails at once (no busy wait) while another process creates it, as
    # replicas or the CLI starting together do: try again for the busy timeout.
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.05)
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    return conn


@dataclass
class _Write:
    body: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    durable: bool


class GroupCommit:
    """Runs writes on the connection's thread, several per transaction."""

    def __init__(self, conn: sqlite3.Connection, executor: Executor, *, synchronous: str,
                 translate: Callable[[BaseException], BaseException], name: str) -> None:
        self._conn = conn
        self._executor = executor
        self._synchronous = synchronous.lower()
        self._translate = translate
        self._name = name
        self._writes: list[_Write] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, body: Callable[[sqlite3.Connection], _T], *, durable: bool) -> _T:
        """Run `body` in the next transaction (fsynced if any of its writes is durable)."""
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._writes.append(_Write(body, future, durable))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name=self._name)
        return await future

    async def drain(self) -> None:
        """Wait for the writes already queued (their callers are waiting for them)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer

    async def _write_batches(self) -> None:
        loop = asyncio.get_running_loop()
        while self._writes:
            batch, self._writes = self._writes, []
            try:
                outcomes = await loop.run_in_executor(self._executor, self._write_batch, batch)
            except Exception as exc:
                # The transaction failed as a whole (busy, I/O): none of its writes happened.
                for write in batch:
                    if not write.future.done():
                        write.future.set_exception(self._translate(exc))
                continue
            except BaseException:
                for write in (*batch, *self._writes):
                    write.future.cancel()
                self._writes = []
                raise
            for write, (ok, value) in zip(batch, outcomes, strict=True):
                if not write.future.done():
                    if ok:
                        write.future.set_result(value)
                    else:
                        write.future.set_exception(value)

    def _write_batch(self, batch: list[_Write]) -> list[_Outcome]:
        conn = self._conn
        lazy = self._synchronous in ("full", "extra") and not any(w.durable for w in batch)
        if lazy:
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if len(batch) == 1:
                    try:
                        outcomes: list[_Outcome] = [(True, batch[0].body(conn))]
                    except Exception as exc:
                        conn.execute("ROLLBACK")
                        return [(False, self._translate(exc))]
                else:
                    outcomes = [self._write_in_savepoint(conn, write) for write in batch]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            return outcomes
        finally:
            if lazy:
                conn.execute(f"PRAGMA synchronous={self._synchronous.upper()}")

    def _write_in_savepoint(self, conn: sqlite3.Connection, write: _Write) -> _Outcome:
        conn.execute("SAVEPOINT agentbus_write")
        try:
            value = write.body(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO agentbus_write")
            conn.execute("RELEASE agentbus_write")
            return False, self._translate(exc)
        conn.execute("RELEASE agentbus_write")
        return True, value
