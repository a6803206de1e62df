"""The bus against the real broker: routing, confirms, versions, dead letters, poison, reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aio_pika
import pytest

from agentbus import codec, topology
from agentbus.bus import DEAD_LETTER_DETAIL, DEAD_LETTER_REASON, Bus, Delivery, Router
from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError, UnroutableError
from agentbus.management import ManagementClient
from agentbus.settings import Settings
from agentbus.topology import Topology
from tests.support.broker import queue_depth, take_messages, wait_for

pytestmark = pytest.mark.integration


def _task(agent: str = "writer", action: str = "write", **data: object) -> v2.Message:
    body = v2.Task(task_id=codec.new_id(), agent=agent, action=action, input=codec.struct_from(data))
    return codec.new_envelope(body, source="test", saga_id="saga-1", step="write", attempt=1)


class Inbox:
    """Collects what a handler receives; `wait(n)` returns once n messages arrived."""

    def __init__(self) -> None:
        self.items: list[tuple[v2.Message, Delivery]] = []
        self._changed = asyncio.Event()

    async def __call__(self, message: v2.Message, delivery: Delivery) -> None:
        self.items.append((message, delivery))
        self._changed.set()

    async def wait(self, n: int, timeout: float = 10.0) -> list[tuple[v2.Message, Delivery]]:
        async def reached() -> None:
            while len(self.items) < n:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(reached(), timeout)
        return self.items


async def test_topic_routing_with_star_and_hash(bus: Bus, topo: Topology) -> None:
    star, hash_ = Inbox(), Inbox()
    router = Router()
    router.subscribe("t.star", exchange=topology.INGRESS, binding_keys=["task.*.write"],
                     temporary=True)(star)
    router.subscribe("t.hash", exchange=topology.INGRESS, binding_keys=["task.#"],
                     temporary=True)(hash_)
    await bus.start(router)
    await bus.publish(topology.INGRESS, "task.writer.write", _task())
    await bus.publish(topology.INGRESS, "task.writer.write.urgent", _task(action="write.urgent"))
    await bus.publish(topology.INGRESS, "task.editor.edit", _task("editor", "edit"))
    got = await hash_.wait(3)
    assert sorted(d.routing_key for _, d in got) == [
        "task.editor.edit", "task.writer.write", "task.writer.write.urgent"]
    assert [d.routing_key for _, d in await star.wait(1)] == ["task.writer.write"]


async def test_unroutable_publish_raises_and_confirmed_publish_lands(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings) -> None:
    with pytest.raises(UnroutableError, match="no queue is bound"):
        await bus.publish(topology.INGRESS, "nobody.listens.here", _task())
    await bus.publish(topology.INGRESS, "task.writer.write", _task())  # bound: the guardrail queue
    # Confirmed means enqueued: it is there the moment publish returns.
    assert await queue_depth(settings.amqp_url, topology.GUARDRAIL_QUEUE) == 1


async def test_v1_producer_to_v2_consumer_field_by_field(bus: Bus, topo: Topology) -> None:
    inbox = Inbox()
    router = Router()
    router.subscribe("t.v2", exchange=topology.INGRESS, binding_keys=["task.#"], temporary=True)(inbox)
    await bus.start(router)
    # A real v1 producer: it knows nothing of v2 and writes the v1 message with its own header.
    old = v1.Message(id="v1-msg", kind="task", correlation_id="saga-v1", source="legacy",
                     headers={"agent": "writer", "action": "write", "task_id": "t-7", "note": "hi"})
    old.payload.update({"topic": "rabbits", "words": 300})
    await bus.publish_raw(topology.INGRESS, "task.writer.write", old.SerializeToString(),
                          headers={codec.SCHEMA_HEADER: 1}, message_type=codec.V1_TYPE, message_id=old.id)
    (msg, delivery), = await inbox.wait(1)
    assert delivery.schema == 1
    assert msg.id == "v1-msg"
    assert msg.saga_id == "saga-v1"
    assert msg.source == "legacy"
    assert msg.task.task_id == "t-7"
    assert msg.task.agent == "writer"
    assert msg.task.action == "write"
    assert codec.struct_to_dict(msg.task.input) == {"topic": "rabbits", "words": 300}
    assert dict(msg.headers) == {"note": "hi"}


async def test_v2_producer_to_v1_only_consumer_field_by_field(
        bus: Bus, topo: Topology, settings: Settings) -> None:
    original = _task(topic="rabbits")
    original.task.context.add(name="style", text="plain")
    await bus.publish(topology.AGENTS, "task.writer.write", original, schema=1)
    # A v1-only consumer: raw aio-pika, parsing with the v1 contract only.
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(topology.agent_queue("writer"))
        incoming = None
        for _ in range(50):
            incoming = await queue.get(fail=False)
            if incoming:
                break
            await asyncio.sleep(0.05)
        assert incoming is not None
        await incoming.ack()
    assert incoming.type == codec.V1_TYPE
    assert incoming.headers[codec.SCHEMA_HEADER] == 1
    old = v1.Message.FromString(incoming.body)
    assert old.id == original.id
    assert old.kind == "task"
    assert old.correlation_id == "saga-1"
    assert old.headers["agent"] == "writer"
    assert old.headers["task_id"] == original.task.task_id
    assert codec.struct_to_dict(old.payload) == {"topic": "rabbits"}
    # The v1 consumer echoes a reply; the v2 fields it could not read come back intact.
    old.kind, old.id = "result", "reply"
    old.headers["ok"] = "true"
    back = codec.upcast_v1_v2(old)
    assert (back.saga_id, back.step, back.attempt) == ("saga-1", "write", 1)
    assert back.trace.traceparent == original.trace.traceparent


async def _start_consumer(bus: Bus, queue: str, handler: Callable[[v2.Message, Delivery], Awaitable[None]],
                          binding: str = "task.writer.#") -> None:
    router = Router()
    router.subscribe(queue, exchange=topology.AGENTS, binding_keys=[binding])(handler)
    await bus.start(router)


@pytest.mark.parametrize(("headers", "message_type", "body", "reason"), [
    ({codec.SCHEMA_HEADER: 2}, codec.V2_TYPE, b"\xff\xfe garbage", "malformed_protobuf"),
    ({codec.SCHEMA_HEADER: 9}, "agentbus.v9.Message", None, "unknown_schema"),
    ({}, codec.V2_TYPE, None, "missing_schema_header"),
    ({codec.SCHEMA_HEADER: 2}, codec.V2_TYPE, b"x" * 3000, "oversize"),
])
async def test_bad_messages_are_dead_lettered_with_reason_and_consumer_goes_on(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings,
        headers: dict[str, object], message_type: str, body: bytes | None, reason: str) -> None:
    bus.settings = settings.model_copy(update={"max_message_bytes": 2048})
    inbox = Inbox()
    queue = topology.agent_queue("writer")
    await _start_consumer(bus, queue, inbox)
    bad = body if body is not None else codec.encode(_task()).body
    await bus.publish_raw(topology.AGENTS, "task.writer.write", bad, headers=headers,
                          message_type=message_type,
                          message_id="bad-1")
    good = _task(ok=True)
    await bus.publish(topology.AGENTS, "task.writer.write", good)
    (received, _), = await inbox.wait(1)
    assert received.id == good.id
    (dead,) = await take_messages(settings.amqp_url, topology.dead_letter_queue(queue), 1)
    assert dead["headers"][DEAD_LETTER_REASON] == reason
    assert dead["headers"][DEAD_LETTER_DETAIL]
    assert dead["body"] == bad  # kept byte for byte, for replay
    assert dead["message_id"] == "bad-1"


async def test_poison_message_is_dead_lettered_after_delivery_limit_and_does_not_block(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings) -> None:
    attempts: dict[str, int] = {}
    processed: list[str] = []
    done = asyncio.Event()

    async def handler(message: v2.Message, delivery: Delivery) -> None:
        attempts[message.id] = attempts.get(message.id, 0) + 1
        if codec.struct_to_dict(message.task.input).get("poison"):
            raise ValueError("this input always crashes the handler")
        processed.append(message.id)
        if len(processed) == 3:
            done.set()

    queue = topology.agent_queue("writer")
    await _start_consumer(bus, queue, handler)
    poison = _task(poison=True)
    await bus.publish(topology.AGENTS, "task.writer.write", poison)
    goods = [_task(n=i) for i in range(3)]
    for good in goods:
        await bus.publish(topology.AGENTS, "task.writer.write", good)
    await asyncio.wait_for(done.wait(), 15)
    assert sorted(processed) == sorted(g.id for g in goods)
    (dead,) = await take_messages(settings.amqp_url, topology.dead_letter_queue(queue), 1)
    assert dead["headers"][DEAD_LETTER_REASON] == "handler_error"
    assert "always crashes" in dead["headers"][DEAD_LETTER_DETAIL]
    assert attempts[poison.id] == settings.delivery_limit


async def test_retryable_error_is_retried_after_a_delay_then_succeeds(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings) -> None:
    seen: list[Delivery] = []
    done = asyncio.Event()

    async def flaky(message: v2.Message, delivery: Delivery) -> None:
        seen.append(delivery)
        if len(seen) < 3:
            raise AgentBusError("downstream busy", retryable=True)
        done.set()

    await _start_consumer(bus, topology.agent_queue("writer"), flaky)
    started = asyncio.get_running_loop().time()
    await bus.publish(topology.AGENTS, "task.writer.write", _task())
    await asyncio.wait_for(done.wait(), 15)
    elapsed = asyncio.get_running_loop().time() - started
    assert len(seen) == 3
    assert elapsed >= 2 * settings.retry_delay_ms / 1000 * 0.9  # went through the TTL retry queue twice
    assert seen[-1].routing_key == "task.writer.write"  # the original key survives the retry hop
    dlq = topology.dead_letter_queue(topology.agent_queue("writer"))
    assert await queue_depth(settings.amqp_url, dlq) == 0


async def test_retries_exhausted_goes_to_dead_letter(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings) -> None:
    async def always_busy(message: v2.Message, delivery: Delivery) -> None:
        raise AgentBusError("still busy", retryable=True)

    queue = topology.agent_queue("writer")
    await _start_consumer(bus, queue, always_busy)
    await bus.publish(topology.AGENTS, "task.writer.write", _task())
    (dead,) = await take_messages(settings.amqp_url, topology.dead_letter_queue(queue), 1)
    assert dead["headers"][DEAD_LETTER_REASON] == "retries_exhausted"


async def test_consumer_survives_broker_closing_the_connection(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings) -> None:
    received: set[str] = set()
    total = 60
    all_in = asyncio.Event()

    async def handler(message: v2.Message, delivery: Delivery) -> None:
        received.add(message.id)
        if len(received) == total:
            all_in.set()

    await _start_consumer(bus, topology.agent_queue("writer"), handler)
    sent: list[str] = []
    async with Bus.connect(settings.model_copy(update={"service_name": "test-producer"})) as producer:
        for i in range(total):
            msg = _task(n=i)
            await producer.publish(topology.AGENTS, "task.writer.write", msg)
            sent.append(msg.id)
            if i == total // 3:
                await wait_for(lambda: len(received) > 0, what="the first deliveries")
                # The management API lists connections only after its next stats tick (~5 s).
                connections = f"/vhosts/{settings.vhost}/connections"
                await wait_for(lambda: len(management.get(connections) or []) >= 2,  # noqa: B023
                               timeout=20,
                               interval=0.5, what="the management API to list both connections")
                closed = await asyncio.to_thread(management.close_connections, settings.vhost)
                assert closed >= 1
                await wait_for(lambda: bus.connected and producer.connected, timeout=20,
                               what="both connections to be restored")
                await asyncio.sleep(0.5)  # let the robust channels re-open their consumers
        await asyncio.wait_for(all_in.wait(), 30)
    assert received == set(sent)
