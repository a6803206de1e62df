"""What the guardrail hop adds to a message's trip through the broker.

The real guardrail runs as its own process in a throwaway vhost. One message at a time, alternating,
a clean 1 KiB task goes either through it (ingress -> guardrail -> agentbus.agents) or straight to
agentbus.agents; the difference of the two medians is the hop's cost.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from agentbus import codec, topology
from agentbus.agent.supervisor import ServiceSpec, Supervisor
from agentbus.benchmarks.saga import _url, free_port, percentile
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.management import CredentialStore, ManagementClient, apply_topology
from agentbus.settings import Settings

AGENT = "hop_bench"
TEXT = ("Summarise the quarterly logistics review for the operations team: inbound volume rose "
        "eleven percent, dock turnaround improved, and two carriers missed their service levels. ")


@dataclass(frozen=True)
class HopResult:
    """Medians and tails of both paths, and the difference."""

    messages: int
    via_guardrail_p50_ms: float
    via_guardrail_p99_ms: float
    direct_p50_ms: float
    direct_p99_ms: float
    hop_p50_ms: float


async def measure_hop(settings: Settings, *, messages: int, out: TextIO) -> HopResult:
    """Start the guardrail in a fresh vhost, time `messages` trips each way, clean everything up."""
    run_id = secrets.token_hex(4)
    vhost, prefix = f"agentbus-bench-{run_id}", f"bench{run_id}-"
    workdir = Path(tempfile.mkdtemp(prefix="agentbus-hop-"))
    topo = topology.build_topology(vhost=vhost, agents=(AGENT,), partitions=1, user_prefix=prefix,
                                   delivery_limit=settings.delivery_limit,
                                   retry_delay_ms=settings.retry_delay_ms,
                                   partition_delivery_limit=settings.partition_delivery_limit)
    credentials = CredentialStore(workdir / "credentials.env")
    management = ManagementClient(settings.management_url, *settings.management_credentials())
    v = quote(vhost, safe="")
    management.put(f"/vhosts/{v}", {})
    admin = settings.management_credentials()[0]
    management.put(f"/permissions/{v}/{quote(admin, safe='')}",
                   {"configure": ".*", "write": ".*", "read": ".*"})
    supervisor: Supervisor | None = None
    try:
        apply_topology(management, topo, credentials)
        user = topo.user("guardrail").name
        spec = ServiceSpec(name="guardrail", module="services.guardrail", health_port=free_port(),
                           user=user, env={
                               "AGENTBUS_AMQP_URL": _url(settings.amqp_url, vhost, user,
                                                         credentials.password(user)),
                               "AGENTBUS_LOG_LEVEL": "WARNING", "AGENTBUS_SERVICE_NAME": "guardrail"})
        supervisor = Supervisor([spec], out=out, log_dir=workdir / "logs")
        await supervisor.start()
        await supervisor.wait_ready(60)
        driver = settings.model_copy(update={"amqp_url": _url(settings.amqp_url, vhost),
                                             "service_name": "hop-bench"})
        return await _trips(driver, messages, out)
    finally:
        if supervisor is not None:
            await supervisor.shutdown()
        management.delete(f"/vhosts/{v}")
        for u in topo.users:
            management.delete(f"/users/{quote(u.name, safe='')}")
        management.close()


async def _trips(settings: Settings, messages: int, out: TextIO) -> HopResult:
    arrived: dict[str, float] = {}
    signal = asyncio.Event()
    router = Router()

    @router.subscribe(f"agentbus.bench.hop.{uuid.uuid4().hex[:8]}", exchange=topology.AGENTS,
                      binding_keys=[f"task.{AGENT}.#"], temporary=True)
    async def on_task(message: v2.Message, delivery: Delivery) -> None:
        arrived[message.id] = time.perf_counter()
        signal.set()

    via: list[float] = []
    direct: list[float] = []
    async with Bus.connect(settings) as bus:
        await bus.start(router)
        for i in range(messages + 20):
            through_guardrail = i % 2 == 0
            task = v2.Task(task_id=uuid.uuid4().hex, agent=AGENT, action="summarise",
                           input=codec.struct_from({"brief": TEXT * 6}))
            message = codec.new_envelope(task, source="hop-bench", saga_id="hop", step="s", attempt=1)
            signal.clear()
            began = time.perf_counter()
            await bus.publish(topology.INGRESS if through_guardrail else topology.AGENTS,
                              f"task.{AGENT}.summarise", message)
            while message.id not in arrived:
                await asyncio.wait_for(signal.wait(), timeout=10)
                signal.clear()
            if i >= 20:  # the first trips warm up connections and caches
                (via if through_guardrail else direct).append(arrived[message.id] - began)
    print(f"bench: {len(via)} trips through the guardrail, {len(direct)} direct", file=out, flush=True)
    ms = 1000.0
    return HopResult(
        messages=len(via) + len(direct),
        via_guardrail_p50_ms=round(statistics.median(via) * ms, 3),
        via_guardrail_p99_ms=round(percentile(via, 99) * ms, 3),
        direct_p50_ms=round(statistics.median(direct) * ms, 3),
        direct_p99_ms=round(percentile(direct, 99) * ms, 3),
        hop_p50_ms=round((statistics.median(via) - statistics.median(direct)) * ms, 3),
    )
