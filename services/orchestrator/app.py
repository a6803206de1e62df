"""What the orchestrator subscribes to, and how store, engine, relay, timers and replicas fit together.

Sagas are spread by id over P partition queues (`agentbus.orchestrator.p<N>`, fed by the
consistent-hash exchange on `correlation_id` = saga id). Each queue has single-active-consumer, so
every replica subscribes to all of them and the broker lets one consume each partition at a time;
replicas hand partitions to each other to share the work (`replicas`), and when one dies a standby
takes over and resumes from the store.

Each replica also follows agent announcements (`agent.announce.#`, on a temporary queue of its own,
`agentbus.orchestrator.announce.<instance>`) to write every task in a version its agent reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Final

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Handler, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError, ConfigurationError, RejectMessage
from agentbus.observability import health_server
from services.orchestrator.definitions import SagaDefinition, load_definitions
from services.orchestrator.engine import Committed, SagaEngine
from services.orchestrator.errors import UnknownSagaTypeError
from services.orchestrator.messages import MESSAGE_NAMESPACE, StartRequest, read_incoming
from services.orchestrator.ownership import PartitionOwnership
from services.orchestrator.partitions import PartitionConsumers
from services.orchestrator.registry import AgentRegistry, Change
from services.orchestrator.relay import OutboxRelay, Publisher
from services.orchestrator.replicas import ReplicaLoop
from services.orchestrator.scheduler import TimerLoop
from services.orchestrator.settings import OrchestratorSettings
from services.orchestrator.store import store_from_url
from services.orchestrator.store.base import OutboxMessage, SagaStore

log = logging.getLogger(__name__)

ANNOUNCE_BINDING: Final = "agent.announce.#"
# A saga naming an agent nobody announced is logged at most this often per agent.
MISSING_AGENT_WARNING_S: Final = 60.0

# Publishes a lifecycle event that belongs to no stored saga: (routing key, envelope).
EventPublisher = Callable[[str, v2.Message], Awaitable[None]]


def announce_queue(instance_id: str) -> str:
    """The temporary queue where one replica hears agent announcements."""
    return f"agentbus.orchestrator.announce.{instance_id}"


class OrchestratorApp:
    """Turns deliveries into engine calls and announcements into the agent registry."""

    def __init__(self, engine: SagaEngine, *, registry: AgentRegistry | None = None,
                 ownership: PartitionOwnership | None = None,
                 publish_event: EventPublisher | None = None) -> None:
        self.engine = engine
        self.registry = registry or AgentRegistry()
        self.ownership = ownership
        self.publish_event = publish_event
        self._warned: dict[str, float] = {}

    def partition_handler(self, index: int) -> Handler:
        """The handler of partition queue `index`."""

        async def handle_partition(message: v2.Message, delivery: Delivery) -> None:
            if self.ownership is not None:
                self.ownership.delivered(index)
            await self.handle(message, delivery, partition=index)

        return handle_partition

    def announcement_router(self, instance_id: str) -> Router:
        """This replica's temporary subscription to every agent announcement."""
        router = Router()
        router.subscribe(announce_queue(instance_id), exchange=topology.INGRESS,
                         binding_keys=[ANNOUNCE_BINDING], temporary=True)(self.on_announcement)
        return router

    async def handle(self, message: v2.Message, delivery: Delivery, *,
                     partition: int | None = None) -> None:
        """Start a saga or apply a reply; store errors propagate (the bus retries them)."""
        incoming = read_incoming(message)
        if incoming is None:
            log.debug("ignoring %s on %s", message.kind, delivery.routing_key)
            return
        if isinstance(incoming, StartRequest):
            try:
                handled = await self.engine.start(incoming, caused_by=message, partition=partition)
            except UnknownSagaTypeError as exc:
                await self._refuse(message, incoming, exc)
                raise RejectMessage(str(exc), reason="unknown_saga_type") from exc
            if handled.outcome == "started":
                self._warn_missing_agents(incoming)
            return
        await self.engine.apply(incoming.saga_id, incoming.event, caused_by=message,
                                partition=partition)

    async def on_announcement(self, message: v2.Message, delivery: Delivery) -> None:
        """Record an agent's announcement (the broker only lets agent X publish agent.announce.X)."""
        if message.WhichOneof("body") != "announcement":
            return
        announcement = message.announcement
        claimed = delivery.routing_key.removeprefix("agent.announce.")
        if announcement.agent != claimed:
            log.warning("ignoring an announcement for agent %r sent as %s", announcement.agent,
                        delivery.routing_key)
            return
        change = self.registry.observe(announcement)
        if change is None:
            return
        kind, instance = change
        try:
            if kind is Change.SAVE:
                await self.engine.store.save_agent(instance)
            else:
                await self.engine.store.remove_agent(instance.agent, instance.instance_id)
        except AgentBusError as exc:
            # Only a restarted replica's first seconds depend on it; the next heartbeat retries.
            log.warning("could not keep agent %s instance %s in the store: %s", instance.agent,
                        instance.instance_id, exc)

    def _warn_missing_agents(self, request: StartRequest) -> None:
        if not self.registry.settled:
            return
        definition = self.engine.definition(request.saga_type)
        missing = sorted(definition.agents - self.registry.live_agents())
        now = time.monotonic()
        due = [a for a in missing if now - self._warned.get(a, float("-inf")) >= MISSING_AGENT_WARNING_S]
        if not due:
            return
        for agent in due:
            self._warned[agent] = now
        log.warning(
            "saga %s (%s) sends tasks to %s, which no live instance announced "
            "(agent.announce.<agent>); its tasks wait in the agent's queue until one starts",
            request.saga_id, request.saga_type, ", ".join(due))

    async def _refuse(self, message: v2.Message, request: StartRequest,
                      error: UnknownSagaTypeError) -> None:
        """Tell whoever follows the saga (`agentbus saga start --wait`) that it will not run."""
        if self.publish_event is None:
            return
        event = v2.LifecycleEvent(
            saga_type=request.saga_type, status=v2.SAGA_STATUS_ESCALATED,
            error=v2.Error(code="unknown_saga_type", message=str(error), retryable=False))
        envelope = codec.new_envelope(event, source=self.engine.source, saga_id=request.saga_id,
                                      caused_by=message)
        # The same start refused twice (a redelivery) announces it under the same id.
        envelope.id = str(uuid.uuid5(MESSAGE_NAMESPACE, f"refused:{message.id}"))
        envelope.attempt = 0
        try:
            await self.publish_event(f"saga.escalated.{request.saga_type}", envelope)
        except AgentBusError as exc:
            log.warning("could not announce the refusal of saga %s: %s", request.saga_id, exc)


async def restore_agents(registry: AgentRegistry, store: SagaStore) -> None:
    """Load the agent instances the store kept; forget those whose heartbeats stopped."""
    for gone in registry.restore(await store.agent_instances()):
        await store.remove_agent(gone.agent, gone.instance_id)
    live = sorted(registry.live_agents())
    if live:
        log.info("agents known from the store: %s", ", ".join(
            f"{agent} (v{registry.schema_for(agent)})" for agent in live))


def task_agent(routing_key: str) -> str | None:
    """The agent of a `task.<agent>.<action>` routing key; None for anything else."""
    parts = routing_key.split(".")
    return parts[1] if len(parts) >= 3 and parts[0] == "task" else None


def bus_publisher(bus: Bus, registry: AgentRegistry | None = None) -> Publisher:
    """Publish outbox rows: a task in the version its agent reads (it must be routable); events as v2."""

    async def publish(row: OutboxMessage) -> None:
        agent = task_agent(row.routing_key)
        schema = 2
        if agent is not None and registry is not None:
            schema = await registry.schema_for_task(agent)
        wire = row.wire
        if schema == 2 and wire is not None and len(row.body) <= bus.settings.max_message_bytes:
            # Just built by this process: send the committed bytes as they are, no parse/encode.
            headers = {codec.SCHEMA_HEADER: 2, codec.TRACEPARENT_HEADER: wire.traceparent}
            if wire.tracestate:
                headers["tracestate"] = wire.tracestate
            await bus.publish_raw(
                row.exchange, row.routing_key, row.body, headers=headers,
                message_type=codec.V2_TYPE, message_id=row.message_id,
                correlation_id=wire.correlation_id, mandatory=agent is not None)
            return
        message = v2.Message.FromString(row.body)
        encoded = codec.encode(message, schema=schema, max_bytes=bus.settings.max_message_bytes)
        await bus.publish_raw(
            row.exchange, row.routing_key, encoded.body, headers=encoded.headers,
            message_type=encoded.message_type, message_id=encoded.message_id,
            correlation_id=encoded.correlation_id, mandatory=agent is not None)

    return publish


def load_configured_definitions(settings: OrchestratorSettings) -> dict[str, SagaDefinition]:
    """The saga definitions of AGENTBUS_SAGAS_DIR, checked against AGENTBUS_KNOWN_AGENTS if set."""
    definitions = load_definitions(settings.sagas_dir, known_agents=settings.agent_set())
    if not definitions:
        raise ConfigurationError(
            f"no saga definitions (*.yaml) in {settings.sagas_dir}; set AGENTBUS_SAGAS_DIR")
    return definitions


async def run(settings: OrchestratorSettings, *, stop: asyncio.Event,
              definitions: Mapping[str, SagaDefinition] | None = None) -> None:
    """Serve until `stop` is set (or SIGTERM): consume, commit, publish, fire timers; then drain."""
    definitions = definitions or load_configured_definitions(settings)
    instance_id = settings.replica_id()
    log.info("replica %s; saga types: %s", instance_id, ", ".join(sorted(definitions)))
    async with store_from_url(settings.saga_store_url) as store, Bus.connect(settings) as bus:
        registry = AgentRegistry(default_ttl_s=settings.agent_ttl_s,
                                 grace_s=settings.announce_grace_s,
                                 warmup_s=settings.announce_warmup_s)
        await restore_agents(registry, store)
        ownership = PartitionOwnership(instance_id, settings.partitions,
                                       lease_s=settings.partition_lease_s)
        engine = SagaEngine(store, definitions, source=settings.service_name,
                            conflict_retries=settings.conflict_retries,
                            outbox_lease_s=settings.outbox_lease_s)
        relay = OutboxRelay(store, bus_publisher(bus, registry), batch=settings.outbox_batch,
                            lease_s=settings.outbox_lease_s, poll_s=settings.outbox_poll_s)
        timers = TimerLoop(engine, poll_s=settings.timer_poll_s, partitions=ownership.held,
                           overdue_s=settings.timer_overdue_s)

        async def publish_event(routing_key: str, envelope: v2.Message) -> None:
            await bus.publish(topology.INGRESS, routing_key, envelope, mandatory=False)

        app = OrchestratorApp(engine, registry=registry, ownership=ownership,
                              publish_event=publish_event)
        consumers = PartitionConsumers(settings, app.partition_handler,
                                       partitions=settings.partitions)
        replicas = ReplicaLoop(store, ownership, consumers, heartbeat_s=settings.replica_heartbeat_s,
                               ttl_s=settings.replica_ttl_s, rebalance=settings.rebalance)

        def committed(transition: Committed) -> None:
            # Leased rows are this relay's to publish now; others wait for the poll.
            if transition.leased:
                relay.submit(transition.rows)
            elif transition.rows:
                relay.wake()
            timers.armed(transition.armed)

        engine.on_commit = committed
        background_stop = asyncio.Event()
        background = [
            asyncio.create_task(relay.run(background_stop), name="outbox-relay"),
            asyncio.create_task(timers.run(background_stop), name="timer-loop"),
        ]
        with _stop_on_signals(stop):
            try:
                # Announcements first: the registry fills while the partitions are subscribed.
                await bus.start(app.announcement_router(instance_id))
                async with health_server(settings.health_port,
                                         ready=lambda: bus.ready and consumers.ready):
                    await consumers.start()
                    background.append(asyncio.create_task(replicas.run(background_stop),
                                                          name="replicas"))
                    log.info("consuming %d partition(s) (single active consumer each)",
                             settings.partitions)
                    await stop.wait()
                    log.info("stopping: draining in-flight messages")
            finally:
                await consumers.stop()
                background_stop.set()
                await asyncio.gather(*background, return_exceptions=True)
                await replicas.leave()
                # What the last handlers committed goes out before the connection closes.
                if bus.connected:
                    try:
                        sent = await asyncio.wait_for(relay.drain(), settings.shutdown_grace_s)
                        log.info("published %d outbox row(s) on the way out", sent)
                    except Exception as exc:  # shutdown must finish, whatever went wrong
                        log.warning("outbox not drained on shutdown (%s); the next start sends it",
                                    exc)


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
