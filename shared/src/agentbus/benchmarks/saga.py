"""The saga benchmark: real guardrail, orchestrator and echo agents, each its own process.

Everything runs in a throwaway vhost with its own broker users; a closed loop keeps `concurrency`
sagas in flight and times each from its `saga.start` to its terminal lifecycle event.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from agentbus import codec, topology
from agentbus.agent.supervisor import ServiceSpec, Supervisor
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError
from agentbus.management import CredentialStore, ManagementClient, apply_topology
from agentbus.settings import Settings

SAGA_TYPE = "bench"
AGENTS = ("bench_a", "bench_b", "bench_c")
TERMINAL = ("completed", "compensated", "escalated")

DEFINITION = """\
# Written by `agentbus bench saga`: three sequential echo steps, nothing to undo.
name: bench
description: Three echo steps carrying the input along.
defaults:
  timeout: 60
  retry: {attempts: 1}
steps:
  - name: a
    agent: bench_a
    action: echo
    compensation: null
    input: {payload: "${saga.input.payload}"}
  - name: b
    agent: bench_b
    action: echo
    compensation: null
    input: {payload: "${steps.a.output.payload}"}
  - name: c
    agent: bench_c
    action: echo
    compensation: null
    input: {payload: "${steps.b.output.payload}"}
"""


@dataclass(frozen=True)
class SagaBenchResult:
    """What one run measured."""

    sagas: int
    concurrency: int
    sagas_per_s: float
    p50_ms: float
    p99_ms: float
    failed: int
    guardrail: bool
    store: str


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _url(base: str, vhost: str, user: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(base)
    host = parts.netloc.rsplit("@", 1)[-1]
    auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else (
        parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else "")
    return f"{parts.scheme}://{auth}{host}/{quote(vhost, safe='')}"


class SagaBench:
    """Set up, run and tear down one benchmark environment."""

    def __init__(self, settings: Settings, *, out: TextIO, guardrail: bool = True,
                 store_url: str | None = None) -> None:
        self.settings = settings
        self.out = out
        self.guardrail = guardrail
        self.run_id = secrets.token_hex(4)
        self.vhost = f"agentbus-bench-{self.run_id}"
        self.prefix = f"bench{self.run_id}-"
        self.workdir = Path(tempfile.mkdtemp(prefix="agentbus-bench-"))
        self.store_url = store_url or f"sqlite:///{self.workdir / 'sagas.db'}"
        self.vhost_settings = settings.model_copy(update={
            "amqp_url": _url(settings.amqp_url, self.vhost), "service_name": "bench-driver",
            "credentials_file": self.workdir / "credentials.env"})
        self._management = ManagementClient(settings.management_url, *settings.management_credentials())
        self._topology = topology.build_topology(
            vhost=self.vhost, agents=AGENTS, partitions=settings.partitions,
            delivery_limit=settings.delivery_limit, retry_delay_ms=settings.retry_delay_ms,
            user_prefix=self.prefix, partition_delivery_limit=settings.partition_delivery_limit)
        self._supervisor: Supervisor | None = None

    def say(self, text: str) -> None:
        """Progress on the chosen stream."""
        print(f"bench: {text}", file=self.out, flush=True)

    # ------------------------------------------------------------ environment

    async def __aenter__(self) -> SagaBench:
        m, v = self._management, quote(self.vhost, safe="")
        m.put(f"/vhosts/{v}", {})
        admin = self.settings.management_credentials()[0]
        m.put(f"/permissions/{v}/{quote(admin, safe='')}", {"configure": ".*", "write": ".*", "read": ".*"})
        credentials = CredentialStore(self.vhost_settings.credentials_file)
        apply_topology(m, self._topology, credentials)
        (self.workdir / "sagas").mkdir()
        (self.workdir / "sagas" / "bench.yaml").write_text(DEFINITION)
        specs = self._specs(credentials)
        self._supervisor = Supervisor(specs, out=self.out, log_dir=self.workdir / "logs")
        self.say(f"starting {', '.join(s.name for s in specs)} in vhost {self.vhost}")
        await self._supervisor.start()
        await self._supervisor.wait_ready(60)
        return self

    def _specs(self, credentials: CredentialStore) -> list[ServiceSpec]:
        def as_user(service: str) -> tuple[str, str]:
            user = self._topology.user(service).name
            return _url(self.settings.amqp_url, self.vhost, user, credentials.password(user)), user

        base = {"AGENTBUS_LOG_LEVEL": "WARNING", "AGENTBUS_PARTITIONS": str(self.settings.partitions)}
        wanted: list[tuple[str, str, str, dict[str, str]]] = []
        if self.guardrail:
            wanted.append(("guardrail", "services.guardrail", "guardrail", {}))
        else:
            wanted.append(("guardrail-standin", "services.agents.guardrail_standin", "guardrail", {}))
        wanted.append(("orchestrator", "services.orchestrator", "orchestrator", {
            "AGENTBUS_SAGAS_DIR": str(self.workdir / "sagas"),
            "AGENTBUS_SAGA_STORE_URL": self.store_url,
            "AGENTBUS_ANNOUNCE_WARMUP_S": "0",
        }))
        for agent in AGENTS:
            wanted.append((agent, "services.agents.echo", f"agent:{agent}", {
                "AGENTBUS_ECHO_AGENT": agent,
                "AGENTBUS_AGENT_INBOX_URL": f"sqlite:///{self.workdir / (agent + '-inbox.db')}",
            }))
        specs = []
        for name, module, service, extra in wanted:
            url, user = as_user(service)
            specs.append(ServiceSpec(name=name, module=module, health_port=free_port(), user=user, env={
                **base, **extra, "AGENTBUS_AMQP_URL": url, "AGENTBUS_SERVICE_NAME": name}))
        return specs

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._supervisor is not None:
            await self._supervisor.shutdown()
        m, v = self._management, quote(self.vhost, safe="")
        with contextlib.suppress(AgentBusError):
            m.delete(f"/vhosts/{v}")
            for user in self._topology.users:
                m.delete(f"/users/{quote(user.name, safe='')}")
        self._management.close()
        # The stores of a long run take hundreds of MB: keep them (and the logs) only after a failure.
        if exc_type is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            self.say(f"services' logs and stores kept in {self.workdir}")

    # ------------------------------------------------------------ measuring

    async def run(self, *, sagas: int, concurrency: int, warmup: int, payload_bytes: int = 1024,
                  on_progress: Callable[[int], None] | None = None) -> SagaBenchResult:
        """Run `warmup` then `sagas` sagas with `concurrency` in flight; returns the measured part."""
        waiting: dict[str, asyncio.Future[str]] = {}
        router = Router()

        @router.subscribe(f"agentbus.bench.events.{uuid.uuid4().hex[:8]}", exchange=topology.INGRESS,
                          binding_keys=[f"saga.{status}.{SAGA_TYPE}" for status in TERMINAL],
                          temporary=True)
        async def on_event(message: v2.Message, delivery: Delivery) -> None:
            future = waiting.pop(message.saga_id, None)
            if future is not None and not future.done():
                future.set_result(delivery.routing_key.split(".")[1])

        payload = "x" * payload_bytes
        async with Bus.connect(self.vhost_settings) as bus:
            await bus.start(router)

            async def one() -> tuple[float, str]:
                saga_id = uuid.uuid4().hex
                future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
                waiting[saga_id] = future
                start = v2.SagaStart(saga_type=SAGA_TYPE, input=codec.struct_from({"payload": payload}))
                began = time.perf_counter()
                await bus.publish(topology.INGRESS, f"saga.start.{SAGA_TYPE}",
                                  codec.new_envelope(start, source="bench", saga_id=saga_id))
                status = await asyncio.wait_for(future, timeout=120)
                return time.perf_counter() - began, status

            async def batch(count: int, report: bool) -> tuple[list[float], int, float]:
                latencies: list[float] = []
                failed = 0
                remaining = count
                began = time.perf_counter()

                async def worker() -> None:
                    nonlocal remaining, failed
                    while remaining > 0:
                        remaining -= 1
                        elapsed, status = await one()
                        latencies.append(elapsed)
                        failed += status != "completed"
                        if report and on_progress is not None:
                            on_progress(len(latencies))

                await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
                return latencies, failed, time.perf_counter() - began

            if warmup:
                self.say(f"warming up with {warmup} sagas")
                await batch(warmup, report=False)
            self.say(f"measuring {sagas} sagas, {concurrency} in flight")
            latencies, failed, elapsed = await batch(sagas, report=True)
        return SagaBenchResult(
            sagas=sagas, concurrency=concurrency, sagas_per_s=round(sagas / elapsed, 1),
            p50_ms=round(statistics.median(latencies) * 1000, 2),
            p99_ms=round(percentile(latencies, 99) * 1000, 2), failed=failed,
            guardrail=self.guardrail, store=self.store_url.split(":", 1)[0])


def result_dict(result: SagaBenchResult) -> dict[str, object]:
    """The result as a JSON-friendly dict."""
    return asdict(result)


def progress_printer(total: int, out: TextIO = sys.stderr) -> Callable[[int], None]:
    """Prints done/total about once a second."""
    last = [0.0]

    def show(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or done == total:
            last[0] = now
            print(f"bench: {done}/{total} sagas", file=out, flush=True)

    return show
