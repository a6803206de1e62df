"""The guardrail service: every task on its way to an agent is scanned, then forwarded or blocked.

It consumes `agentbus.guardrail` (bound `task.#` on agentbus.ingress) as the only broker user
allowed to write to agentbus.agents, and for each task:

- allowed: republishes the bytes unchanged on agentbus.agents (same key, version and message id);
- redacted: publishes the redacted copy there instead (same id, in the version it arrived in),
  its `task.redactions` listing what was replaced;
- blocked: keeps the original in `agentbus.guardrail.quarantine` (through agentbus.dlx, with the
  reasons in the dead-letter headers `agentbus dlq` reads), then publishes a Verdict on
  agentbus.ingress as `guardrail.blocked.<agent>.<action>` for the orchestrator.

Logs name decisions and finding types, never the values.
"""

from __future__ import annotations

import asyncio
import logging
import time

from agentbus import bus as bus_module
from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import RejectMessage
from agentbus.observability import health_server
from agentbus.settings import Settings
from services.guardrail.handling import Outcome, inspect
from services.guardrail.metrics import GuardrailMetrics
from services.guardrail.policy import load_policy
from services.guardrail.scanning import BUILD as SCANNER_BUILD
from services.guardrail.scanning.scanner import Scanner
from services.guardrail.settings import GuardrailSettings

log = logging.getLogger(__name__)

# Headers that describe the envelope; the broker's and the bus's bookkeeping stays behind.
FORWARDED_HEADERS = (codec.SCHEMA_HEADER, codec.TRACEPARENT_HEADER, "tracestate")
QUARANTINE_REASON = "guardrail_blocked"


def _types(outcome: Outcome) -> str:
    # Only the blocked and redacted paths log finding types; the allowed path skips the sort.
    return ", ".join(sorted({f.type for f in outcome.scan.findings}))


def guardrail_router(bus: Bus, scanner: Scanner, *, source: str,
                     metrics: GuardrailMetrics | None = None) -> Router:
    """A router scanning agentbus.guardrail and publishing what each decision calls for."""
    router = Router()
    metrics = metrics or GuardrailMetrics.default()

    @router.subscribe(topology.GUARDRAIL_QUEUE, exchange=topology.INGRESS, binding_keys=["task.#"])
    async def on_task(message: v2.Message, delivery: Delivery) -> None:
        if message.WhichOneof("body") != "task":
            raise RejectMessage(f"{delivery.routing_key} carries a {message.WhichOneof('body')!r} "
                                "body; only tasks go through the guardrail", reason="not_a_task")
        started = time.perf_counter()
        outcome = inspect(message, routing_key=delivery.routing_key, scanner=scanner,
                          source=source)
        metrics.observe(outcome, time.perf_counter() - started)
        received = delivery.headers
        headers = {k: received[k] for k in FORWARDED_HEADERS if k in received}
        correlation_id = message.saga_id or message.correlation_id or None
        if outcome.decision == "blocked" and outcome.verdict is not None:
            quarantine_headers = {
                **headers,
                bus_module.DEAD_LETTER_REASON: QUARANTINE_REASON,
                bus_module.DEAD_LETTER_DETAIL: "; ".join(outcome.scan.reasons)[:1000],
                bus_module.DEAD_LETTER_QUEUE: topology.GUARDRAIL_QUEUE,
                bus_module.ORIGINAL_EXCHANGE: delivery.exchange,
                bus_module.ORIGINAL_ROUTING_KEY: delivery.routing_key,
            }
            # Quarantine first: the original is safe before anyone reacts to the verdict.
            await bus.publish_raw(
                topology.DLX, topology.QUARANTINE_QUEUE, delivery.body, headers=quarantine_headers,
                message_type=delivery.message_type, message_id=delivery.message_id,
                correlation_id=correlation_id)
            await bus.publish(topology.INGRESS, outcome.verdict_routing_key, outcome.verdict)
            log.warning("blocked %s (message %s): %s", delivery.routing_key, delivery.message_id,
                        _types(outcome))
        elif outcome.decision == "redacted" and outcome.forward is not None:
            await bus.publish(topology.AGENTS, delivery.routing_key, outcome.forward,
                              schema=delivery.schema)
            if log.isEnabledFor(logging.INFO):
                log.info("redacted %s (message %s): %s", delivery.routing_key,
                         delivery.message_id, _types(outcome))
        else:
            # Allowed (most tasks): the received bytes go on as they are, never re-encoded.
            await bus.publish_raw(
                topology.AGENTS, delivery.routing_key, delivery.body, headers=headers,
                message_type=delivery.message_type, message_id=delivery.message_id,
                correlation_id=correlation_id)

    return router


async def serve(settings: Settings, scanner: Scanner, *, stop: asyncio.Event) -> None:
    """Scan until `stop` (or SIGTERM), with /healthz, /readyz and /metrics on AGENTBUS_HEALTH_PORT."""
    async with Bus.connect(settings) as bus:
        log.info("guardrail scanning %s with policy %s; scanner %s", topology.GUARDRAIL_QUEUE,
                 scanner.policy.source, SCANNER_BUILD.describe())
        async with health_server(settings.health_port, ready=lambda: bus.ready):
            await bus.serve(guardrail_router(bus, scanner, source=settings.service_name),
                            stop=stop)


async def run(settings: Settings, *, stop: asyncio.Event) -> None:
    """Load the policy (AGENTBUS_GUARDRAIL_POLICY or the packaged default) and serve until `stop`."""
    await serve(settings, Scanner(load_policy(GuardrailSettings().guardrail_policy)), stop=stop)
