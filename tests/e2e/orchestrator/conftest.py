"""The orchestrator's end-to-end stack: topology, saga definitions, and the processes of a test.

Each test gets its own vhost and broker users (the orchestrator and the CLI connect as their own
least-privilege users), a `pipeline` saga across four stand-in agents (one of them, the tagger,
reads only v1), and a list of processes that are stopped after the test, whatever happened.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from agentbus import codec, topology
from agentbus.bus import Bus, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.management import CredentialStore, ManagementClient, apply_topology
from agentbus.settings import Settings
from agentbus.topology import Topology, build_topology
from services.orchestrator.record import SagaRecord
from services.orchestrator.store import SagaStore, store_from_url
from tests.conftest import Broker
from tests.e2e.orchestrator.processes import (
    ORCHESTRATOR,
    STAND_INS,
    Process,
    free_port,
    wait_for_output,
    wait_until_ready,
)
from tests.integration.orchestrator.helpers import Observer
from tests.support.postgres import fresh_database
from tests.support.stand_in_agents import EffectLog

AGENTS = ("fetcher", "summariser", "tagger", "storer")
V2_AGENTS = ("fetcher", "summariser", "storer")
V1_AGENTS = ("tagger",)
PARTITIONS = 4
DELIVERY_LIMIT = 20  # a SIGKILL returns every prefetched message, and each return counts
RETRY_DELAY_MS = 200

PIPELINE = """\
name: pipeline
description: fetch, then summarise and tag in parallel, then store; each step has an undo.
defaults:
  timeout: 60
  retry: {attempts: 3, backoff: {initial: 0.2}}
steps:
  - {name: fetch, agent: fetcher, action: fetch, compensation: unfetch}
  - parallel:
      - {name: summarise, agent: summariser, action: summarise, compensation: unsummarise}
      - {name: tag, agent: tagger, action: tag, compensation: untag}
  - {name: store, agent: storer, action: store, compensation: unstore}
"""



@dataclass
class Stack:
    """Where everything of one e2e test lives, and the processes it started."""

    broker: Broker
    vhost: str
    topo: Topology
    credentials: CredentialStore
    tmp: Path
    sagas_dir: Path
    processes: list[Process] = field(default_factory=list)

    def url(self, service: str | None = None) -> str:
        """The AMQP URL of a service's own user, or of the administrator."""
        if service is None:
            return self.broker.url_for(self.vhost)
        user = self.topo.user(service).name
        return self.broker.url_for(self.vhost, user, self.credentials.password(user))

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTBUS_")}
        env.update({
            "AGENTBUS_MANAGEMENT_URL": self.broker.management_url,
            "AGENTBUS_DELIVERY_LIMIT": str(DELIVERY_LIMIT),
            "AGENTBUS_RETRY_DELAY_MS": str(RETRY_DELAY_MS),
            "AGENTBUS_PARTITIONS": str(PARTITIONS),
            "AGENTBUS_CONNECT_ATTEMPTS": "5",
            "AGENTBUS_HEALTH_PORT": "0",
            "AGENTBUS_LOG_LEVEL": "INFO",
        })
        return env

    def orchestrator(self, name: str, store_url: str, **overrides: str) -> tuple[Process, int]:
        """An orchestrator process (not started) as the orchestrator user, and its health port."""
        port = free_port()
        env = self.base_env()
        env.update({
            "AGENTBUS_AMQP_URL": self.url("orchestrator"),
            "AGENTBUS_SERVICE_NAME": name,
            "AGENTBUS_SAGA_STORE_URL": store_url,
            "AGENTBUS_SAGAS_DIR": str(self.sagas_dir),
            "AGENTBUS_KNOWN_AGENTS": ",".join(AGENTS),
            "AGENTBUS_HEALTH_PORT": str(port),
            "AGENTBUS_TIMER_POLL_S": "0.2",
            "AGENTBUS_OUTBOX_POLL_S": "0.2",
            "AGENTBUS_REPLICA_HEARTBEAT_S": "0.5",
            "AGENTBUS_REPLICA_TTL_S": "3",
            "AGENTBUS_PARTITION_LEASE_S": "3",
            "AGENTBUS_TIMER_OVERDUE_S": "5",
            "AGENTBUS_SHUTDOWN_GRACE_S": "5",
        })
        env.update(overrides)
        process = Process(name, ORCHESTRATOR, env, self.tmp / f"{name}.log")
        self.processes.append(process)
        return process, port

    async def start_orchestrator(self, name: str, store_url: str,
                                 **overrides: str) -> tuple[Process, int]:
        """Start an orchestrator and wait until it consumes every partition."""
        process, port = self.orchestrator(name, store_url, **overrides)
        process.start()
        await wait_until_ready(process, port)
        return process, port

    async def start_stand_ins(self, effects: Path, *, heartbeat_s: float = 1.0) -> None:
        """The v2 agents in one process, the v1-only tagger in another; returns once they consume."""
        for label, names, versions in (("agents-v2", V2_AGENTS, "1,2"), ("agents-v1", V1_AGENTS, "1")):
            env = self.base_env()
            env["AGENTBUS_AMQP_URL"] = self.url()
            process = Process(label, [*STAND_INS, "--agents", ",".join(names), "--effects",
                                      str(effects), "--schema-versions", versions,
                                      "--heartbeat", str(heartbeat_s)],
                              env, self.tmp / f"{label}.log")
            self.processes.append(process)
            process.start()
            await wait_for_output(process, "ready")

    def client_env(self, store_url: str) -> dict[str, str]:
        """The environment of the `agentbus` CLI, as the client user."""
        env = self.base_env()
        env.update({"AGENTBUS_AMQP_URL": self.url("client"), "AGENTBUS_SAGA_STORE_URL": store_url})
        return env

    def logs(self) -> str:
        """The tail of every process's log (for failure messages)."""
        return "\n".join(process.tail() for process in self.processes)


@pytest.fixture
def stack(broker: Broker, vhost: str, management: ManagementClient, run_id: str,
          tmp_path: Path) -> Iterator[Stack]:
    topo = build_topology(vhost=vhost, agents=AGENTS, partitions=PARTITIONS,
                          delivery_limit=DELIVERY_LIMIT, retry_delay_ms=RETRY_DELAY_MS,
                          user_prefix=f"t{run_id}-")
    credentials = CredentialStore(tmp_path / "credentials.env")
    apply_topology(management, topo, credentials)
    sagas = tmp_path / "sagas"
    sagas.mkdir()
    (sagas / "pipeline.yaml").write_text(PIPELINE)
    built = Stack(broker, vhost, topo, credentials, tmp_path, sagas)
    try:
        yield built
    finally:
        for process in built.processes:
            process.stop(timeout=10)
        for user in topo.users:
            management.delete(f"/users/{quote(user.name, safe='')}")


@pytest.fixture
def effects(tmp_path: Path) -> Iterator[EffectLog]:
    log = EffectLog(tmp_path / "effects.db")
    yield log
    log.close()


@pytest.fixture
def postgres_store_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped after it."""
    with fresh_database("agentbus_e2e") as url:
        yield url


@pytest.fixture
async def admin_bus(stack: Stack) -> AsyncIterator[Bus]:
    settings = Settings(amqp_url=stack.url(), health_port=0, delivery_limit=DELIVERY_LIMIT,
                        retry_delay_ms=RETRY_DELAY_MS, connect_attempts=3, shutdown_grace_s=5)
    async with Bus.connect(settings) as bus:
        yield bus


@pytest.fixture
async def observer(admin_bus: Bus) -> Observer:
    """Every lifecycle event of the test's vhost (bound before any saga starts)."""
    seen = Observer()
    router = Router()
    router.subscribe(f"e2e.observer.{uuid.uuid4().hex[:8]}", exchange=topology.INGRESS,
                     binding_keys=["saga.#"], temporary=True)(seen)
    await admin_bus.start(router)
    return seen


async def start_sagas(bus: Bus, inputs: dict[str, dict[str, object]]) -> None:
    """Publish one `pipeline` start per saga id, as clients do (v2)."""
    for saga_id, saga_input in inputs.items():
        body = v2.SagaStart(saga_type="pipeline", input=codec.struct_from(saga_input))
        await bus.publish(topology.INGRESS, "saga.start.pipeline",
                          codec.new_envelope(body, source="e2e", saga_id=saga_id))


async def read_records(store_url: str) -> dict[str, SagaRecord]:
    """Every saga in the store, by id."""
    store: SagaStore = store_from_url(store_url)
    async with store:
        return {r.saga_id: r for r in await store.list_sagas(limit=100_000)}
