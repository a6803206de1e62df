"""Engine, message translation and outbox relay on a real SQLite store (no broker needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agentbus import codec
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import PublishError, RejectMessage, UnroutableError
from services.orchestrator import machine
from services.orchestrator.engine import Committed, SagaEngine
from services.orchestrator.errors import UnknownSagaTypeError
from services.orchestrator.machine import (
    CompensationResult,
    GuardrailBlocked,
    StepResult,
    Timer,
    TimerKind,
)
from services.orchestrator.messages import SagaEvent, StartRequest, read_incoming
from services.orchestrator.metrics import OrchestratorMetrics
from services.orchestrator.record import SagaRecord, SagaState
from services.orchestrator.relay import OutboxRelay
from services.orchestrator.scheduler import TimerLoop
from services.orchestrator.store.base import OutboxMessage
from services.orchestrator.store.sqlite import SqliteSagaStore
from tests.unit.orchestrator.harness import T0, reference

METRICS = OrchestratorMetrics.create(CollectorRegistry())


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteSagaStore]:
    async with SqliteSagaStore(f"sqlite:///{tmp_path}/sagas.db") as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(store: SqliteSagaStore, clock: Clock) -> SagaEngine:
    definitions = {"content_pipeline": reference("content_pipeline")}
    return SagaEngine(store, definitions, clock=clock, metrics=METRICS)


async def published(store: SqliteSagaStore) -> list[v2.Message]:
    """Everything the outbox holds (and marks it sent)."""
    rows = await store.claim_outbox(T0 + timedelta(days=365), limit=1000)
    await store.mark_sent([r.id for r in rows], T0)
    return [v2.Message.FromString(r.message.body) for r in rows]


def start_message(saga_id: str = "saga-1", topic: str = "otters") -> v2.Message:
    body = v2.SagaStart(saga_type="content_pipeline", input=codec.struct_from({"topic": topic}))
    return codec.new_envelope(body, source="client", saga_id=saga_id)


def result_message(task: v2.Message, *, output: dict[str, object] | None = None,
                   error: v2.Error | None = None) -> v2.Message:
    """What an agent sends back for a task."""
    result = v2.Result(task_id=task.task.task_id, agent=task.task.agent, action=task.task.action,
                       status=v2.Result.STATUS_FAILED if error else v2.Result.STATUS_OK,
                       output=codec.struct_from(output or {}),
                       compensation=task.task.compensation)
    if error is not None:
        result.error.CopyFrom(error)
    return codec.new_envelope(result, source=task.task.agent, caused_by=task)


# ---------------------------------------------------------------- translation


def test_read_incoming_understands_starts_results_and_verdicts() -> None:
    start = read_incoming(start_message())
    assert start == StartRequest("saga-1", "content_pipeline", {"topic": "otters"})

    task = codec.new_envelope(v2.Task(task_id="saga-1:write:2", agent="writer", action="write"),
                              source="orchestrator", saga_id="saga-1", step="write", attempt=2)
    ok = read_incoming(result_message(task, output={"draft": "d"}))
    assert ok == SagaEvent("saga-1", StepResult("write", 2, {"draft": "d"}, None))

    failed = read_incoming(result_message(task, error=v2.Error(code="llm", message="down",
                                                                retryable=True)))
    assert isinstance(failed, SagaEvent)
    assert isinstance(failed.event, StepResult)
    assert failed.event.error is not None
    assert (failed.event.error.code, failed.event.error.retryable) == ("llm", True)

    undo = codec.new_envelope(
        v2.Task(task_id="saga-1:write:compensate:1", agent="writer", action="discard_draft",
                compensation=True), source="orchestrator")
    assert read_incoming(result_message(undo)) == SagaEvent(
        "saga-1", CompensationResult("write", 1, None))

    verdict = codec.new_envelope(v2.Verdict(
        task_id="saga-1:write:2", decision=v2.Verdict.DECISION_BLOCKED, reasons=["shell"]),
        source="guardrail")
    assert read_incoming(verdict) == SagaEvent(
        "saga-1", GuardrailBlocked("write", 2, False, ("shell",)))
    allowed = codec.new_envelope(v2.Verdict(
        task_id="saga-1:write:2", decision=v2.Verdict.DECISION_ALLOWED), source="guardrail")
    assert read_incoming(allowed) is None


def test_a_result_without_status_is_a_failure_that_says_why() -> None:
    task = codec.new_envelope(v2.Task(task_id="saga-1:write:1", agent="writer", action="write"),
                              source="orchestrator")
    reply = result_message(task)
    reply.result.status = v2.Result.STATUS_UNSPECIFIED
    incoming = read_incoming(reply)
    assert isinstance(incoming, SagaEvent)
    assert isinstance(incoming.event, StepResult)
    assert incoming.event.error is not None
    assert incoming.event.error.code == "no_status"
    assert not incoming.event.error.retryable


def test_a_result_with_a_foreign_task_id_is_rejected() -> None:
    task = codec.new_envelope(v2.Task(task_id="not-ours", agent="writer", action="write"),
                              source="x")
    with pytest.raises(RejectMessage, match="'not-ours', which the orchestrator never wrote"):
        read_incoming(result_message(task))


# ---------------------------------------------------------------- engine


async def test_start_commits_the_record_and_the_first_messages(
        engine: SagaEngine, store: SqliteSagaStore) -> None:
    handled = await engine.start(read_start(start_message()), caused_by=start_message())
    assert handled.outcome == "started"
    record = await store.get("saga-1")
    assert record is not None
    assert record.version == 1
    messages = await published(store)
    assert [m.kind for m in messages] == ["event", "task"]
    event, task = messages
    assert event.event.status == v2.SAGA_STATUS_STARTED
    assert codec.struct_to_dict(event.event.record)["saga_id"] == "saga-1"
    assert (task.saga_id, task.step, task.attempt, task.correlation_id) == (
        "saga-1", "research", 1, "saga-1")
    assert task.task.task_id == "saga-1:research:1"
    assert codec.struct_to_dict(task.task.input) == {"topic": "otters"}
    assert task.deadline.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + timedelta(seconds=120)
    assert task.created_at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0
    # Ids derive from (saga, version, position): stable, distinct.
    assert len({m.id for m in messages}) == 2


async def test_duplicate_start_is_ignored(engine: SagaEngine, store: SqliteSagaStore) -> None:
    await engine.start(read_start(start_message()))
    again = await engine.start(read_start(start_message(topic="other")))
    assert again.outcome == "ignored"
    record = await store.get("saga-1")
    assert record is not None
    assert record.input == {"topic": "otters"}


async def test_unknown_saga_type_names_the_known_ones(engine: SagaEngine) -> None:
    with pytest.raises(UnknownSagaTypeError, match=r"no saga type 'nope' is defined \(known: "
                                                   r"content_pipeline\)"):
        await engine.start(StartRequest("s", "nope", {}))


async def test_a_whole_saga_through_the_engine(engine: SagaEngine,
                                               store: SqliteSagaStore) -> None:
    await engine.start(read_start(start_message()))
    outputs: dict[str, dict[str, object]] = {
        "research": {"notes": ["n"]}, "write": {"draft": "d"}, "edit": {"article": "a"},
        "publish": {"url": "u"}}
    for _ in range(4):
        (task,) = [m for m in await published(store) if m.kind == "task"]
        incoming = read_incoming(result_message(task, output=outputs[task.step]))
        assert isinstance(incoming, SagaEvent)
        assert (await engine.apply(incoming.saga_id, incoming.event)).outcome == "applied"
    record = await store.get("saga-1")
    assert record is not None
    assert record.status is SagaState.COMPLETED
    assert record.output == outputs
    completed = [m for m in await published(store) if m.kind == "event"][-1]
    assert completed.event.status == v2.SAGA_STATUS_COMPLETED
    assert codec.struct_to_dict(completed.event.output) == outputs
    assert await store.due_timers(T0 + timedelta(days=1)) == []


async def test_timers_fire_through_the_engine(engine: SagaEngine, store: SqliteSagaStore,
                                              clock: Clock) -> None:
    await engine.start(read_start(start_message()))
    await published(store)
    assert await engine.fire_due_timers() == 0
    clock.now = T0 + timedelta(seconds=120)
    assert await engine.fire_due_timers() == 1  # research timed out: retry armed
    clock.now += timedelta(seconds=1)
    assert await engine.fire_due_timers() == 1  # the retry is sent
    (task,) = [m for m in await published(store) if m.kind == "task"]
    assert task.task.task_id == "saga-1:research:2"
    due = await store.due_timers(clock.now + timedelta(days=1))
    assert [(d.timer.kind, d.timer.attempt) for d in due] == [(TimerKind.STEP_TIMEOUT, 2)]


async def test_a_stale_timer_is_deleted(engine: SagaEngine, store: SqliteSagaStore,
                                        clock: Clock) -> None:
    await engine.start(read_start(start_message()))
    # Simulate a timer left behind (e.g. written by an older version): it fires, is ignored, goes.
    record = await store.get("saga-1")
    assert record is not None
    stale = Timer(TimerKind.STEP_RETRY, "research", 7, T0)
    await store.save(record, expected_version=1, arm=[stale])
    assert await engine.fire_due_timers() == 1
    assert [d.timer for d in await store.due_timers(T0)] == []


async def test_a_write_conflict_is_retried_from_a_fresh_read(
        engine: SagaEngine, store: SqliteSagaStore, monkeypatch: pytest.MonkeyPatch) -> None:
    await engine.start(read_start(start_message()))
    stale = await store.get("saga-1")
    assert stale is not None
    # Another replica applies the same reply first...
    await SagaEngine(store, engine.definitions, clock=engine.clock, metrics=METRICS).apply(
        "saga-1", StepResult("research", 1, {"notes": ["n"]}))
    # ...while this engine read the saga before that write.
    real_get = store.get
    reads: list[SagaRecord | None] = [stale]

    async def get(saga_id: str) -> SagaRecord | None:
        return reads.pop() if reads else await real_get(saga_id)

    monkeypatch.setattr(store, "get", get)
    handled = await engine.apply("saga-1", StepResult("research", 1, {"notes": ["n"]}))
    assert handled.outcome == "ignored"  # on the fresh read it is a duplicate
    record = await real_get("saga-1")
    assert record is not None
    assert record.version == 2
    assert len(record.step("write").attempts) == 1


async def test_a_cached_record_behind_another_replica_is_read_again(
        engine: SagaEngine, store: SqliteSagaStore) -> None:
    await engine.start(read_start(start_message()))  # this engine now caches version 1
    other = SagaEngine(store, engine.definitions, clock=engine.clock, metrics=METRICS)
    assert (await other.apply("saga-1", StepResult("research", 1, {"notes": ["n"]}))).outcome \
        == "applied"
    # The reply to `write` is stale for the cached record (it awaits research) but not for the
    # stored one: it must be applied, not ignored.
    handled = await engine.apply("saga-1", StepResult("write", 1, {"draft": "d"}))
    assert handled.outcome == "applied"
    record = await store.get("saga-1")
    assert record is not None
    assert (record.version, record.step("write").status.value) == (3, "completed")
    # And a reply this engine applies after another replica did is a conflict, then a duplicate.
    assert (await other.apply("saga-1", StepResult("edit", 1, {}))).outcome == "applied"
    assert (await engine.apply("saga-1", StepResult("edit", 1, {}))).outcome == "ignored"


async def test_leased_rows_are_handed_to_on_commit_and_skipped_by_the_poll(
        store: SqliteSagaStore, clock: Clock) -> None:
    engine = SagaEngine(store, {"content_pipeline": reference("content_pipeline")}, clock=clock,
                        metrics=METRICS, outbox_lease_s=10)
    seen: list[Committed] = []
    engine.on_commit = seen.append
    await engine.start(read_start(start_message()))
    (committed,) = seen
    assert committed.leased
    assert [r.message.routing_key for r in committed.rows] == [
        "saga.started.content_pipeline", "task.researcher.research"]
    assert [t.step for t in committed.armed] == ["research"]
    assert await store.claim_outbox(T0 + timedelta(seconds=9)) == []
    assert len(await store.claim_outbox(T0 + timedelta(seconds=10))) == 2


# ---------------------------------------------------------------- relay


class FakeBroker:
    """Records what the relay publishes; can refuse some routing keys."""

    def __init__(self, *, unroutable: str = "", fail_on: str = "") -> None:
        self.sent: list[str] = []
        self.unroutable = unroutable
        self.fail_on = fail_on

    async def __call__(self, message: OutboxMessage) -> None:
        if self.fail_on and message.routing_key == self.fail_on:
            raise PublishError("no confirm")
        if self.unroutable and message.routing_key == self.unroutable:
            raise UnroutableError("nobody bound")
        self.sent.append(message.routing_key)


async def seed(store: SqliteSagaStore, keys: list[str]) -> None:
    record = (await store.get("s"))
    if record is None:
        record = machine.start(reference("content_pipeline"), "s", {"topic": "t"}, T0).record
        await store.save(record, expected_version=0)
    await store.save(record, expected_version=record.version,
                     outbox=[OutboxMessage(k, "agentbus.ingress", k, b"") for k in keys])


async def test_relay_publishes_in_order_and_marks_sent(store: SqliteSagaStore) -> None:
    await seed(store, ["a", "b", "c"])
    broker = FakeBroker()
    relay = OutboxRelay(store, broker, batch=2, metrics=METRICS)
    assert await relay.drain() == 3
    assert broker.sent == ["a", "b", "c"]
    assert await store.pending_outbox_count() == 0


async def test_relay_drops_unroutable_rows_and_keeps_going(store: SqliteSagaStore) -> None:
    await seed(store, ["a", "nowhere", "c"])
    broker = FakeBroker(unroutable="nowhere")
    assert await OutboxRelay(store, broker, metrics=METRICS).drain() == 3
    assert broker.sent == ["a", "c"]


async def test_relay_stops_at_a_failed_publish_and_the_rest_comes_back(
        store: SqliteSagaStore, clock: Clock) -> None:
    await seed(store, ["a", "b", "c"])
    broker = FakeBroker(fail_on="b")
    relay = OutboxRelay(store, broker, lease_s=5, clock=clock, metrics=METRICS)
    with pytest.raises(PublishError):
        await relay.flush_once()
    assert broker.sent == ["a"]
    assert await store.pending_outbox_count() == 2
    broker.fail_on = ""
    assert await relay.flush_once() == 0  # still leased
    clock.now += timedelta(seconds=5)
    assert await relay.flush_once() == 2
    assert broker.sent == ["a", "b", "c"]


async def test_submitted_rows_go_out_in_order_per_saga_and_are_marked_sent(
        store: SqliteSagaStore, clock: Clock) -> None:
    record = machine.start(reference("content_pipeline"), "s", {"topic": "t"}, T0).record
    lease = T0 + timedelta(seconds=10)
    first = await store.commit(record, expected_version=0, lease_until=lease,
                               outbox=[OutboxMessage(k, "agentbus.ingress", k, b"") for k in "ab"])
    second = await store.commit(record, expected_version=1, lease_until=lease,
                                outbox=[OutboxMessage("c", "agentbus.ingress", "c", b"")])
    gate = asyncio.Event()
    sent: list[str] = []

    async def publish(message: OutboxMessage) -> None:
        if message.routing_key == "a":
            await gate.wait()  # the first transition's confirm is slow...
        sent.append(message.routing_key)

    relay = OutboxRelay(store, publish, clock=clock, metrics=METRICS)
    relay.submit(first)
    relay.submit(second)
    await asyncio.sleep(0.01)
    assert sent == ["b"]  # ...its rows overlap, but the next transition waits for them
    gate.set()
    await relay.settle()
    assert sent == ["b", "a", "c"]
    assert await store.pending_outbox_count() == 0


async def test_a_failed_submitted_row_holds_back_its_saga_until_the_lease_ends(
        store: SqliteSagaStore, clock: Clock) -> None:
    record = machine.start(reference("content_pipeline"), "s", {"topic": "t"}, T0).record
    lease = T0 + timedelta(seconds=10)
    first = await store.commit(record, expected_version=0, lease_until=lease,
                               outbox=[OutboxMessage("a", "agentbus.ingress", "a", b"")])
    second = await store.commit(record, expected_version=1, lease_until=lease,
                                outbox=[OutboxMessage("b", "agentbus.ingress", "b", b"")])
    broker = FakeBroker(fail_on="a")
    relay = OutboxRelay(store, broker, clock=clock, metrics=METRICS, lease_s=10)
    relay.submit(first)
    relay.submit(second)
    await relay.settle()
    assert broker.sent == []
    assert await relay.flush_once() == 0  # still leased
    broker.fail_on = ""
    clock.now = lease
    assert await relay.drain() == 2
    assert broker.sent == ["a", "b"]


async def test_the_timer_loop_wakes_only_for_a_timer_due_before_it_looks_again(
        engine: SagaEngine, clock: Clock) -> None:
    loop = TimerLoop(engine, poll_s=60, clock=clock)
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    try:
        async with asyncio.timeout(5):
            while loop.next_look is None:  # noqa: ASYNC110  (the loop has no "asleep" event)
                await asyncio.sleep(0.001)
        assert loop.next_look == T0 + timedelta(seconds=60)
        clock.now = T0 + timedelta(seconds=1)  # a loop that looked again would plan from here
        loop.armed([Timer(TimerKind.STEP_TIMEOUT, "research", 1, T0 + timedelta(seconds=120))])
        await asyncio.sleep(0.01)
        assert loop.next_look == T0 + timedelta(seconds=60)  # still asleep
        loop.armed([Timer(TimerKind.STEP_RETRY, "research", 2, T0 + timedelta(seconds=2))])
        async with asyncio.timeout(5):
            while loop.next_look != T0 + timedelta(seconds=61):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
    finally:
        stop.set()
        await running


def read_start(message: v2.Message) -> StartRequest:
    incoming = read_incoming(message)
    assert isinstance(incoming, StartRequest)
    return incoming
