"""Forward every task from the guardrail queue to agentbus.agents, unchanged."""

from __future__ import annotations

import asyncio
import logging

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.observability import health_server
from agentbus.settings import Settings

log = logging.getLogger(__name__)

# Headers that describe the envelope; the broker's and the bus's bookkeeping stays behind.
FORWARDED_HEADERS = (codec.SCHEMA_HEADER, codec.TRACEPARENT_HEADER, "tracestate")


def forwarder(bus: Bus) -> Router:
    """A router consuming agentbus.guardrail and republishing each task on agentbus.agents."""
    router = Router()

    @router.subscribe(topology.GUARDRAIL_QUEUE, exchange=topology.INGRESS, binding_keys=["task.#"])
    async def forward(message: v2.Message, delivery: Delivery) -> None:
        headers = {k: delivery.headers[k] for k in FORWARDED_HEADERS if k in delivery.headers}
        await bus.publish_raw(
            topology.AGENTS, delivery.routing_key, delivery.body, headers=headers,
            message_type=delivery.message_type, message_id=delivery.message_id,
            correlation_id=message.saga_id or message.correlation_id or None)

    return router


async def serve(settings: Settings, *, stop: asyncio.Event) -> None:
    """Forward until `stop` (or SIGTERM), with the health endpoints on AGENTBUS_HEALTH_PORT."""
    async with Bus.connect(settings) as bus:
        log.warning("GUARDRAIL STAND-IN: tasks go to the agents UNSCANNED (no PII redaction, no "
                    "payload blocking); run the real guardrail, python -m services.guardrail")
        async with health_server(settings.health_port, ready=lambda: bus.ready):
            await bus.serve(forwarder(bus), stop=stop)
