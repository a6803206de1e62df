"""The orchestrator's handlers without a broker: announcements, missing-agent warnings, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from agentbus import codec
from agentbus.bus import Delivery
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import RejectMessage
from agentbus.settings import Settings
from services.orchestrator import machine
from services.orchestrator.app import OrchestratorApp, bus_publisher
from services.orchestrator.engine import SagaEngine
from services.orchestrator.messages import to_outbox
from services.orchestrator.metrics import OrchestratorMetrics
from services.orchestrator.registry import AgentRegistry
from services.orchestrator.store.base import OutboxMessage
from services.orchestrator.store.sqlite import SqliteSagaStore
from tests.unit.orchestrator.harness import T0, reference

METRICS = OrchestratorMetrics.create(CollectorRegistry())


def delivery(routing_key: str) -> Delivery:
    return Delivery(queue="q", exchange="agentbus.ingress", routing_key=routing_key, headers={},
                    schema=2, message_id="m", redelivered=False, delivery_count=0, body=b"",
                    message_type="agentbus.v2.Message")


def announcement(agent: str, phase: v2.AgentAnnouncement.Phase = v2.AgentAnnouncement.PHASE_STARTED,
                 versions: tuple[int, ...] = (1,)) -> v2.Message:
    body = v2.AgentAnnouncement(agent=agent, instance_id=f"{agent}-1", schema_versions=versions,
                                phase=phase, heartbeat_interval_s=5)
    return codec.new_envelope(body, source=agent)


def start(saga_id: str, saga_type: str = "content_pipeline") -> v2.Message:
    body = v2.SagaStart(saga_type=saga_type, input=codec.struct_from({"topic": "otters"}))
    return codec.new_envelope(body, source="client", saga_id=saga_id)


class Events:
    def __init__(self) -> None:
        self.sent: list[tuple[str, v2.Message]] = []

    async def __call__(self, routing_key: str, envelope: v2.Message) -> None:
        self.sent.append((routing_key, envelope))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteSagaStore]:
    async with SqliteSagaStore(f"sqlite:///{tmp_path}/sagas.db") as opened:
        yield opened


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def app(store: SqliteSagaStore, events: Events) -> OrchestratorApp:
    engine = SagaEngine(store, {"content_pipeline": reference("content_pipeline")}, metrics=METRICS)
    return OrchestratorApp(engine, registry=AgentRegistry(grace_s=0), publish_event=events)


async def test_announcements_fill_the_registry_and_the_store(
        app: OrchestratorApp, store: SqliteSagaStore) -> None:
    await app.on_announcement(announcement("writer"), delivery("agent.announce.writer"))
    assert app.registry.schema_for("writer") == 1
    assert [(i.agent, i.schema_versions) for i in await store.agent_instances()] == [
        ("writer", frozenset({1}))]
    await app.on_announcement(announcement("writer", v2.AgentAnnouncement.PHASE_STOPPING),
                              delivery("agent.announce.writer"))
    assert app.registry.schema_for("writer") == 2
    assert await store.agent_instances() == []


async def test_an_announcement_for_another_agent_than_its_routing_key_is_ignored(
        app: OrchestratorApp, caplog: pytest.LogCaptureFixture) -> None:
    # The broker lets agent X publish only agent.announce.X; the body must not claim otherwise.
    await app.on_announcement(announcement("publisher"), delivery("agent.announce.writer"))
    assert app.registry.live_agents() == frozenset()
    assert "ignoring an announcement for agent 'publisher'" in caplog.text


async def test_a_saga_naming_agents_nobody_announced_is_logged_once_a_minute(
        app: OrchestratorApp, caplog: pytest.LogCaptureFixture) -> None:
    for agent in ("researcher", "writer"):
        await app.on_announcement(announcement(agent, versions=(1, 2)),
                                  delivery(f"agent.announce.{agent}"))
    await app.handle(start("saga-1"), delivery("saga.start.content_pipeline"), partition=2)
    warnings = [r.getMessage() for r in caplog.records if "no live instance announced" in r.getMessage()]
    assert warnings == [
        "saga saga-1 (content_pipeline) sends tasks to editor, publisher, which no live instance "
        "announced (agent.announce.<agent>); its tasks wait in the agent's queue until one starts"]
    await app.handle(start("saga-2"), delivery("saga.start.content_pipeline"), partition=2)
    assert len([r for r in caplog.records if "no live instance announced" in r.getMessage()]) == 1
    # The saga started anyway, on the partition it arrived on.
    assert await app.engine.store.partition_of("saga-1") == 2


async def test_an_unknown_saga_type_is_refused_and_announced(
        app: OrchestratorApp, events: Events) -> None:
    message = start("saga-9", "mystery")
    with pytest.raises(RejectMessage) as refused:
        await app.handle(message, delivery("saga.start.mystery"))
    assert refused.value.reason == "unknown_saga_type"
    (routing_key, envelope), = events.sent
    assert routing_key == "saga.escalated.mystery"
    assert (envelope.saga_id, envelope.causation_id) == ("saga-9", message.id)
    assert envelope.event.status == v2.SAGA_STATUS_ESCALATED
    assert envelope.event.error.code == "unknown_saga_type"
    # A redelivered start is announced under the same id.
    with pytest.raises(RejectMessage):
        await app.handle(message, delivery("saga.start.mystery"))
    assert events.sent[1][1].id == envelope.id


class RawBus:
    """Records what `publish_raw` is asked to send."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.sent: list[dict[str, Any]] = []

    async def publish_raw(self, exchange: str, routing_key: str, body: bytes,
                          **properties: Any) -> None:
        self.sent.append({"exchange": exchange, "routing_key": routing_key, "body": body,
                          **properties})


async def test_rows_just_built_are_published_as_committed_like_rows_read_back() -> None:
    definition = reference("content_pipeline")
    transition = machine.start(definition, "saga-1", {"topic": "otters"}, T0)
    rows = to_outbox(transition.commands, saga_id="saga-1", version=1, now=T0,
                     source="orchestrator", caused_by=start("saga-1"))
    assert [r.wire is not None for r in rows] == [True, True]
    bus = RawBus()
    publish = bus_publisher(bus)  # type: ignore[arg-type]
    for row in rows:
        await publish(row)  # fast: the bytes as committed, properties from memory
        await publish(OutboxMessage(row.message_id, row.exchange, row.routing_key, row.body))
    fast, parsed = bus.sent[0::2], bus.sent[1::2]
    for one in (*fast, *parsed):  # equal messages; map entries may serialise in another order
        one["body"] = v2.Message.FromString(one.pop("body"))
    assert fast == parsed
    assert [s["body"].kind for s in fast] == ["event", "task"]
    assert [s["routing_key"] for s in fast] == ["saga.started.content_pipeline",
                                               "task.researcher.research"]
    assert [s["mandatory"] for s in fast] == [False, True]
