"""One contract for every saga store, run against SQLite (a file in tmp_path) and PostgreSQL.

PostgreSQL: a uniquely named database is created on 127.0.0.1:5432 for this run and dropped after
(override with AGENTBUS_TEST_POSTGRES_URL, an account allowed to CREATE DATABASE). An unreachable
server fails the run: the PostgreSQL store is part of the product, not an optional extra.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.orchestrator import machine
from services.orchestrator.errors import ConcurrencyError, SagaExistsError, SagaStoreError
from services.orchestrator.machine import ArmTimer, CancelTimer, Timer, TimerKind
from services.orchestrator.record import SagaRecord, SagaState
from services.orchestrator.registry import AgentInstance
from services.orchestrator.store import DueTimer, OutboxMessage, SagaStore, store_from_url
from services.orchestrator.store.postgres import PostgresSagaStore
from services.orchestrator.store.sqlite import SqliteSagaStore, path_from_url
from tests.support.postgres import fresh_database
from tests.unit.orchestrator.harness import T0, reference


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test run, dropped at the end."""
    with fresh_database("agentbus_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/sagas.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SagaStore]:
    async with store_from_url(store_url) as opened:
        if isinstance(opened, PostgresSagaStore):
            # One database per run: empty the tables so every test starts clean.
            async with opened._connection() as conn:
                await conn.execute(
                    "TRUNCATE agentbus_sagas, agentbus_outbox, agentbus_timers, agentbus_replicas, "
                    "agentbus_agents RESTART IDENTITY")
        yield opened


def new_record(saga_id: str = "saga-1", saga_type: str = "content_pipeline",
               minutes: int = 0) -> SagaRecord:
    transition = machine.start(reference(saga_type), saga_id, {"topic": "otters"},
                               T0 + timedelta(minutes=minutes))
    return transition.record


def message(n: int, exchange: str = "agentbus.ingress") -> OutboxMessage:
    return OutboxMessage(f"m{n}", exchange, f"task.writer.write.{n}", b"\x00body\xff" + bytes([n]))


def timer(step: str, seconds: float, attempt: int = 1,
          kind: TimerKind = TimerKind.STEP_TIMEOUT) -> Timer:
    return Timer(kind, step, attempt, T0 + timedelta(seconds=seconds))


# ---------------------------------------------------------------- records and versions


async def test_saved_record_reads_back_equal_with_its_version(store: SagaStore) -> None:
    record = new_record()
    version = await store.save(record, expected_version=0)
    assert version == 1
    assert record.version == 1
    loaded = await store.get("saga-1")
    assert loaded is not None
    assert loaded.version == 1
    assert loaded.to_dict() == record.to_dict()


async def test_unknown_saga_is_none(store: SagaStore) -> None:
    assert await store.get("nope") is None


async def test_creating_a_saga_twice_is_refused(store: SagaStore) -> None:
    await store.save(new_record(), expected_version=0)
    with pytest.raises(SagaExistsError, match="saga saga-1 already exists"):
        await store.save(new_record(), expected_version=0)


async def test_update_needs_the_version_it_read(store: SagaStore) -> None:
    record = new_record()
    await store.save(record, expected_version=0)
    record.status = SagaState.COMPENSATING
    assert await store.save(record, expected_version=1) == 2
    record.status = SagaState.COMPLETED
    with pytest.raises(ConcurrencyError, match="no longer at version 1"):
        await store.save(record, expected_version=1)
    loaded = await store.get("saga-1")
    assert loaded is not None
    assert (loaded.status, loaded.version) == (SagaState.COMPENSATING, 2)


async def test_updating_a_missing_saga_is_a_conflict(store: SagaStore) -> None:
    with pytest.raises(ConcurrencyError):
        await store.save(new_record("ghost"), expected_version=3)


async def test_two_concurrent_writers_cannot_both_win(store: SagaStore) -> None:
    await store.save(new_record(), expected_version=0)
    first, second = new_record(), new_record()
    first.status, second.status = SagaState.COMPLETED, SagaState.COMPENSATING
    results = await asyncio.gather(
        store.save(first, expected_version=1, outbox=[message(1)]),
        store.save(second, expected_version=1, outbox=[message(2)]),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["ConcurrencyError", "int"]
    winner = first if results[0] == 2 else second
    loaded = await store.get("saga-1")
    assert loaded is not None
    assert loaded.status == winner.status
    rows = await store.claim_outbox(T0)
    assert [row.message.message_id for row in rows] == ["m1" if winner is first else "m2"]


async def test_a_refused_write_leaves_no_outbox_rows_or_timers(store: SagaStore) -> None:
    await store.save(new_record(), expected_version=0)
    with pytest.raises(ConcurrencyError):
        await store.save(new_record(), expected_version=7, outbox=[message(1)],
                         arm=[timer("research", 5)])
    assert await store.pending_outbox_count() == 0
    assert await store.due_timers(T0 + timedelta(days=1)) == []


async def test_list_filters_orders_and_limits(store: SagaStore) -> None:
    for i, (saga_type, status) in enumerate([
            ("content_pipeline", SagaState.RUNNING), ("code_review", SagaState.COMPLETED),
            ("content_pipeline", SagaState.COMPLETED), ("content_pipeline", SagaState.ESCALATED)]):
        record = new_record(f"s{i}", saga_type, minutes=i)
        record.status = status
        await store.save(record, expected_version=0)
    assert [r.saga_id for r in await store.list_sagas()] == ["s3", "s2", "s1", "s0"]
    assert [r.saga_id for r in await store.list_sagas(status=SagaState.COMPLETED)] == ["s2", "s1"]
    assert [r.saga_id for r in await store.list_sagas(
        status=SagaState.COMPLETED, saga_type="code_review")] == ["s1"]
    assert [r.saga_id for r in await store.list_sagas(limit=2)] == ["s3", "s2"]
    assert await store.count_by_status() == {
        SagaState.RUNNING: 1, SagaState.COMPLETED: 2, SagaState.ESCALATED: 1}


# ---------------------------------------------------------------- outbox


async def test_outbox_rows_are_claimed_in_order_leased_and_marked_sent(store: SagaStore) -> None:
    await store.save(new_record("a"), expected_version=0, outbox=[message(1), message(2)])
    await store.save(new_record("b"), expected_version=0, outbox=[message(3)])
    assert await store.pending_outbox_count() == 3

    claimed = await store.claim_outbox(T0, limit=2, lease_s=30)
    assert [(r.saga_id, r.message) for r in claimed] == [("a", message(1)), ("a", message(2))]
    assert claimed[0].id < claimed[1].id
    # Leased rows are skipped by other relays until the lease runs out.
    others = await store.claim_outbox(T0 + timedelta(seconds=1))
    assert [r.message.message_id for r in others] == ["m3"]
    assert await store.claim_outbox(T0 + timedelta(seconds=2)) == []

    await store.mark_sent([claimed[0].id], T0 + timedelta(seconds=3))
    assert await store.pending_outbox_count() == 2
    # A relay that died holding row m2 (and m3) loses its lease; they come back.
    again = await store.claim_outbox(T0 + timedelta(seconds=60))
    assert [r.message.message_id for r in again] == ["m2", "m3"]
    await store.mark_sent([r.id for r in again], T0 + timedelta(seconds=61))
    assert await store.pending_outbox_count() == 0
    assert await store.claim_outbox(T0 + timedelta(hours=1)) == []

    assert await store.purge_sent(T0 + timedelta(seconds=30)) == 1
    assert await store.purge_sent(T0 + timedelta(days=1)) == 2


async def test_commit_returns_its_rows_and_can_lease_them_to_the_writer(
        store: SagaStore) -> None:
    rows = await store.commit(new_record("a"), expected_version=0,
                              outbox=[message(1), message(2)],
                              lease_until=T0 + timedelta(seconds=10))
    assert [(r.saga_id, r.message) for r in rows] == [("a", message(1)), ("a", message(2))]
    assert rows[0].id < rows[1].id
    assert all(r.created_at == T0 for r in rows)
    unleased = await store.commit(new_record("b"), expected_version=0, outbox=[message(3)])
    # The writer publishes its leased rows itself; a relay's poll sees only the others...
    assert [r.id for r in await store.claim_outbox(T0 + timedelta(seconds=9))] == [
        unleased[0].id]
    # ...until the lease runs out (the writer died before marking them sent).
    again = await store.claim_outbox(T0 + timedelta(seconds=10))
    assert [r.id for r in again] == [r.id for r in rows]


async def test_concurrent_writes_each_succeed_or_fail_alone(store: SagaStore) -> None:
    records = [new_record(f"s{i}") for i in range(6)]
    for record in records:
        await store.save(record, expected_version=0)
    # Written together (SQLite commits them in one transaction): one stale write fails alone.
    results = await asyncio.gather(
        *(store.commit(record, expected_version=7 if i == 3 else 1, outbox=[message(i)])
          for i, record in enumerate(records)), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["list"] * 3 + ["ConcurrencyError"] + ["list"] * 2
    assert await store.pending_outbox_count() == 5
    versions = [(await store.get(f"s{i}")).version for i in range(6)]  # type: ignore[union-attr]
    assert versions == [2, 2, 2, 1, 2, 2]


async def test_outbox_keeps_bytes_exactly(store: SagaStore) -> None:
    body = bytes(range(256))
    await store.save(new_record(), expected_version=0,
                     outbox=[OutboxMessage("m", "agentbus.ingress", "saga.started.x", body)])
    (row,) = await store.claim_outbox(T0)
    assert row.message.body == body
    assert row.created_at == T0


# ---------------------------------------------------------------- timers


async def test_timers_are_armed_cancelled_and_read_when_due(store: SagaStore) -> None:
    record = new_record()
    await store.save(record, expected_version=0,
                     arm=[timer("research", 30), timer("write", 10), timer("edit", 90)])
    assert await store.next_timer_due() == T0 + timedelta(seconds=10)
    due = await store.due_timers(T0 + timedelta(seconds=30))
    assert [(d.saga_id, d.timer.step) for d in due] == [("saga-1", "write"), ("saga-1", "research")]
    assert due[0].timer == timer("write", 10)

    await store.save(record, expected_version=1, cancel=[timer("write", 10).key],
                     arm=[timer("research", 45)])  # same key: moved, not duplicated
    due = await store.due_timers(T0 + timedelta(seconds=60))
    assert [d.timer for d in due] == [timer("research", 45)]

    await store.delete_timer("saga-1", timer("research", 45).key)
    assert [d.timer.step for d in await store.due_timers(T0 + timedelta(days=1))] == ["edit"]
    assert await store.due_timers(T0, limit=10) == []


async def test_timers_of_different_sagas_do_not_collide(store: SagaStore) -> None:
    await store.save(new_record("a"), expected_version=0, arm=[timer("research", 5)])
    await store.save(new_record("b"), expected_version=0, arm=[timer("research", 5)])
    due = await store.due_timers(T0 + timedelta(seconds=5))
    assert sorted(d.saga_id for d in due) == ["a", "b"]
    await store.delete_timer("a", timer("research", 5).key)
    assert [d.saga_id for d in await store.due_timers(T0 + timedelta(seconds=5))] == ["b"]


async def test_no_timers_means_nothing_due(store: SagaStore) -> None:
    assert await store.next_timer_due() is None


async def test_timers_can_be_read_for_the_partitions_a_replica_holds(store: SagaStore) -> None:
    for saga_id, partition in (("p0", 0), ("p1", 1), ("p2", 2)):
        await store.save(new_record(saga_id), expected_version=0, partition=partition,
                         arm=[timer("research", 10 + partition)])
    await store.save(new_record("unknown"), expected_version=0, arm=[timer("research", 20)])
    later = T0 + timedelta(seconds=60)

    def ids(due: list[DueTimer]) -> list[str]:
        return [d.saga_id for d in due]

    assert ids(await store.due_timers(later)) == ["p0", "p1", "p2", "unknown"]
    # Sagas on no known partition (older rows) belong to everyone.
    assert ids(await store.due_timers(later, partitions={0, 2})) == ["p0", "p2", "unknown"]
    assert ids(await store.due_timers(later, partitions=set())) == ["unknown"]
    # A timer overdue long enough fires wherever its saga lives.
    assert ids(await store.due_timers(later, partitions={2},
                                      overdue_before=T0 + timedelta(seconds=11))) == [
        "p0", "p1", "p2", "unknown"]
    assert ids(await store.due_timers(later, partitions={2},
                                      overdue_before=T0 + timedelta(seconds=10))) == [
        "p0", "p2", "unknown"]
    assert await store.next_timer_due(partitions={1}) == T0 + timedelta(seconds=11)
    assert await store.next_timer_due(partitions=set()) == T0 + timedelta(seconds=20)
    assert await store.next_timer_due() == T0 + timedelta(seconds=10)


async def test_the_partition_is_kept_unless_a_write_names_another(store: SagaStore) -> None:
    record = new_record()
    await store.save(record, expected_version=0)
    assert await store.partition_of("saga-1") is None
    await store.save(record, expected_version=1, partition=3)
    assert await store.partition_of("saga-1") == 3
    await store.save(record, expected_version=2)
    assert await store.partition_of("saga-1") == 3
    assert await store.partition_of("ghost") is None


# ---------------------------------------------------------------- replicas


async def test_replicas_are_live_while_their_heartbeat_is_fresh(store: SagaStore) -> None:
    await store.heartbeat("orchestrator-b", T0)
    await store.heartbeat("orchestrator-a", T0 + timedelta(seconds=4))
    assert await store.live_replicas(T0 + timedelta(seconds=5), ttl_s=10) == [
        "orchestrator-a", "orchestrator-b"]
    assert await store.live_replicas(T0 + timedelta(seconds=12), ttl_s=10) == ["orchestrator-a"]
    await store.heartbeat("orchestrator-b", T0 + timedelta(seconds=12))
    assert await store.live_replicas(T0 + timedelta(seconds=12), ttl_s=10) == [
        "orchestrator-a", "orchestrator-b"]
    assert await store.replica_heartbeats(T0 + timedelta(seconds=12), ttl_s=10) == {
        "orchestrator-a": T0 + timedelta(seconds=4), "orchestrator-b": T0 + timedelta(seconds=12)}
    await store.forget_replica("orchestrator-a")
    assert await store.live_replicas(T0 + timedelta(seconds=12), ttl_s=10) == ["orchestrator-b"]


# ---------------------------------------------------------------- agent instances


async def test_agent_instances_are_kept_replaced_and_removed(store: SagaStore) -> None:
    writer_v1 = AgentInstance("writer", "w-1", frozenset({1}), ("write",), ("discard_draft",),
                              5.0, T0)
    writer_v2 = AgentInstance("writer", "w-2", frozenset({1, 2}), ("write",), (), 0.0, T0)
    editor = AgentInstance("editor", "e-1", frozenset(), (), (), 0.0, T0)
    for instance in (writer_v2, editor, writer_v1):
        await store.save_agent(instance)
    assert await store.agent_instances() == [editor, writer_v1, writer_v2]
    newer = AgentInstance("writer", "w-1", frozenset({1, 2}), ("write", "edit"), (), 2.5,
                          T0 + timedelta(seconds=30))
    await store.save_agent(newer)
    await store.remove_agent("editor", "e-1")
    await store.remove_agent("editor", "never-there")
    assert await store.agent_instances() == [newer, writer_v2]


# ---------------------------------------------------------------- a real transition, and restarts


async def test_a_transition_is_stored_whole_and_survives_a_restart(store_url: str) -> None:
    transition = machine.start(reference("code_review"), "saga-9", {"diff": "+1"}, T0)
    arm = [c.timer for c in transition.of_type(ArmTimer)]
    cancel = [c.key for c in transition.of_type(CancelTimer)]
    outbox = [OutboxMessage(f"m{i}", "agentbus.ingress", c.routing_key, b"x")
              for i, c in enumerate(transition.of_type(machine.SendTask))]
    async with store_from_url(store_url) as first:
        await first.save(transition.record, expected_version=0, outbox=outbox, arm=arm,
                         cancel=cancel)
    async with store_from_url(store_url) as second:
        loaded = await second.get("saga-9")
        assert loaded is not None
        assert loaded.to_dict() == transition.record.to_dict()
        assert len(await second.due_timers(T0 + timedelta(days=1))) == 4
        assert [r.message.routing_key for r in await second.claim_outbox(T0)] == [
            "task.style_reviewer.review", "task.security_reviewer.review",
            "task.performance_reviewer.review", "task.tests_reviewer.review"]


# ---------------------------------------------------------------- per-backend details


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "sagas.db"
    async with SqliteSagaStore(f"sqlite:///{path}"):
        pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sqlite_adds_the_partition_column_to_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE agentbus_sagas (saga_id TEXT PRIMARY KEY, saga_type TEXT NOT NULL, "
                     "status TEXT NOT NULL, version INTEGER NOT NULL, record TEXT NOT NULL, "
                     "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    async with SqliteSagaStore(f"sqlite:///{path}") as store:
        await store.save(new_record(), expected_version=0, partition=1)
        assert await store.partition_of("saga-1") == 1
    async with SqliteSagaStore(f"sqlite:///{path}") as again:  # a second open changes nothing
        assert await again.partition_of("saga-1") == 1


async def test_sqlite_stores_opened_together_on_a_new_file_all_open(tmp_path: Path) -> None:
    # Replicas (and the CLI) starting at once race to switch the new file to WAL; the race is
    # rare (about 1 open in 300 failed before the open retried), so try it many times.
    for attempt in range(30):
        url = f"sqlite:///{tmp_path}/race-{attempt}.db"
        stores = [SqliteSagaStore(url) for _ in range(8)]
        await asyncio.gather(*(store.open() for store in stores))
        for store in stores:
            await store.close()


def test_sqlite_urls() -> None:
    assert path_from_url("sqlite:///.agentbus/sagas.db") == (".agentbus/sagas.db", {})
    assert path_from_url("sqlite:////var/lib/sagas.db?synchronous=normal") == (
        "/var/lib/sagas.db", {"synchronous": "normal"})
    with pytest.raises(SagaStoreError, match="is not a SQLite URL"):
        path_from_url("sqlite://sagas.db")
    with pytest.raises(SagaStoreError, match="synchronous='sometimes'"):
        SqliteSagaStore("sqlite:///x.db?synchronous=sometimes")


def test_unknown_store_url_is_refused() -> None:
    with pytest.raises(SagaStoreError, match=r"unsupported saga store URL mysql:\.\.\."):
        store_from_url("mysql://root@localhost/sagas")


async def test_using_a_closed_store_says_how_to_open_it(tmp_path: Path) -> None:
    with pytest.raises(SagaStoreError, match="use `async with store:`"):
        await SqliteSagaStore(f"sqlite:///{tmp_path}/x.db").get("x")


async def test_unreachable_postgresql_fails_clearly() -> None:
    unreachable = PostgresSagaStore("postgresql://postgres:secret@127.0.0.1:1/none",
                                    connect_timeout_s=0.5)
    with pytest.raises(SagaStoreError) as caught:
        await unreachable.open()
    assert "did not answer within 0.5 s" in str(caught.value)
    assert "secret" not in str(caught.value)
