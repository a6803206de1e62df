"""What the orchestrator subscribes to, and the composition of store, engine, relay and timers.

Sagas are spread by id over P partition queues (`agentbus.orchestrator.p<N>`, fed by the
consistent-hash exchange on `correlation_id` = saga id). Each queue has single-active-consumer, so
every replica subscribes to all of them and the broker lets one consume each partition at a time;
when it dies, a standby takes over and resumes from the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import ConfigurationError, RejectMessage
from agentbus.observability import health_server
from services.orchestrator.definitions import SagaDefinition, load_definitions
from services.orchestrator.engine import SagaEngine
from services.orchestrator.errors import UnknownSagaTypeError
from services.orchestrator.messages import StartRequest, read_incoming
from services.orchestrator.relay import OutboxRelay, Publisher
from services.orchestrator.scheduler import TimerLoop
from services.orchestrator.settings import OrchestratorSettings
from services.orchestrator.store import store_from_url
from services.orchestrator.store.base import OutboxMessage

log = logging.getLogger(__name__)


class OrchestratorApp:
    """Turns deliveries into engine calls."""

    def __init__(self, engine: SagaEngine) -> None:
        self.engine = engine

    def router(self, *, partitions: int, prefetch: int | None = None) -> Router:
        """One subscription per partition queue."""
        router = Router()
        for index in range(partitions):
            router.subscribe(
                topology.partition_queue(index), exchange=topology.ORCHESTRATOR_HASH,
                binding_keys=["1"], single_active_consumer=True, prefetch=prefetch,
            )(self.handle)
        return router

    async def handle(self, message: v2.Message, delivery: Delivery) -> None:
        """Start a saga or apply a reply; store errors propagate (the bus retries them)."""
        incoming = read_incoming(message)
        if incoming is None:
            log.debug("ignoring %s on %s", message.kind, delivery.routing_key)
            return
        if isinstance(incoming, StartRequest):
            try:
                await self.engine.start(incoming, caused_by=message)
            except UnknownSagaTypeError as exc:
                raise RejectMessage(str(exc), reason="unknown_saga_type") from exc
            return
        await self.engine.apply(incoming.saga_id, incoming.event, caused_by=message)


def bus_publisher(bus: Bus) -> Publisher:
    """Publish outbox rows on the bus: tasks must be routable, lifecycle events need no listener."""

    async def publish(row: OutboxMessage) -> None:
        message = v2.Message.FromString(row.body)
        encoded = codec.encode(message, schema=2, max_bytes=bus.settings.max_message_bytes)
        await bus.publish_raw(
            row.exchange, row.routing_key, encoded.body, headers=encoded.headers,
            message_type=encoded.message_type, message_id=encoded.message_id,
            correlation_id=encoded.correlation_id, mandatory=row.routing_key.startswith("task."))

    return publish


def load_configured_definitions(settings: OrchestratorSettings) -> dict[str, SagaDefinition]:
    """The saga definitions of AGENTBUS_SAGAS_DIR, refusing to run with none."""
    definitions = load_definitions(settings.sagas_dir, known_agents=settings.agent_set())
    if not definitions:
        raise ConfigurationError(
            f"no saga definitions (*.yaml) in {settings.sagas_dir}; set AGENTBUS_SAGAS_DIR")
    return definitions


async def run(settings: OrchestratorSettings, *, stop: asyncio.Event,
              definitions: Mapping[str, SagaDefinition] | None = None) -> None:
    """Serve until `stop` is set (or SIGTERM): consume, commit, publish, fire timers; then drain."""
    definitions = definitions or load_configured_definitions(settings)
    log.info("saga types: %s", ", ".join(sorted(definitions)))
    async with store_from_url(settings.saga_store_url) as store, Bus.connect(settings) as bus:
        engine = SagaEngine(store, definitions, source=settings.service_name,
                            conflict_retries=settings.conflict_retries)
        relay = OutboxRelay(store, bus_publisher(bus), batch=settings.outbox_batch,
                            lease_s=settings.outbox_lease_s, poll_s=settings.outbox_poll_s)
        timers = TimerLoop(engine, poll_s=settings.timer_poll_s)

        def committed() -> None:
            relay.wake()
            timers.wake()

        engine.on_commit = committed
        background_stop = asyncio.Event()
        background = [
            asyncio.create_task(relay.run(background_stop), name="outbox-relay"),
            asyncio.create_task(timers.run(background_stop), name="timer-loop"),
        ]
        app = OrchestratorApp(engine)
        try:
            async with health_server(settings.health_port, ready=lambda: bus.ready):
                # serve() stops consuming on `stop` and waits for in-flight handlers.
                await bus.serve(app.router(partitions=settings.partitions), stop=stop)
        finally:
            background_stop.set()
            await asyncio.gather(*background, return_exceptions=True)
            # What the last handlers committed goes out before the connection closes.
            if bus.connected:
                try:
                    sent = await asyncio.wait_for(relay.drain(), settings.shutdown_grace_s)
                    log.info("published %d outbox row(s) on the way out", sent)
                except Exception as exc:  # shutdown must finish, whatever went wrong
                    log.warning("outbox not drained on shutdown (%s); the next start sends it",
                                exc)
