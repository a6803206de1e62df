"""Orchestrator settings: the shared ones plus the saga store, definitions and loop timings."""

from __future__ import annotations

import os
import re
import secrets
import socket
from pathlib import Path

from pydantic import Field

from agentbus.settings import Settings
from services.orchestrator.store import DEFAULT_STORE_URL

SAGAS_DIR = Path(__file__).resolve().parent / "sagas"


class OrchestratorSettings(Settings):
    """Every field is AGENTBUS_<FIELD> in the environment."""

    service_name: str = Field("orchestrator", description="Name this process publishes as.")
    saga_store_url: str = Field(
        DEFAULT_STORE_URL,
        description="sqlite:///path/to/sagas.db (default, one host) or postgresql://user@host/db.")
    sagas_dir: Path = Field(SAGAS_DIR, description="Directory of saga definitions (*.yaml).")
    known_agents: str = Field(
        "", description="Comma-separated agent names definitions may use; empty: not checked.")
    outbox_batch: int = Field(200, ge=1, le=10_000, description="Outbox rows published per batch.")
    outbox_lease_s: float = Field(
        10.0, gt=0, description="A relay's claim on outbox rows; after it, another relay may send them.")
    outbox_poll_s: float = Field(
        1.0, gt=0, description="Longest wait between outbox scans (commits wake the relay at once).")
    timer_poll_s: float = Field(
        0.5, gt=0, description="Longest wait between scans for due timers.")
    conflict_retries: int = Field(
        10, ge=1, description="Re-reads of a saga another writer changed before giving up.")
    instance_id: str = Field(
        "", description="This replica's id (its queue names and heartbeat); empty: host-pid-random.")
    announce_warmup_s: float = Field(
        6.0, ge=0, description="After start, a task for an agent not heard from yet waits up to "
        "this long for its announcement, so a v1-only agent gets v1 from the first task; keep it "
        "a little over the agents' heartbeat interval (AGENTBUS_HEARTBEAT_S, 5 s). 0: no wait.")
    announce_grace_s: float = Field(
        10.0, ge=0, description="After start, sagas naming an agent not heard from yet are not "
        "warned about for this long (the first heartbeats are on their way).")
    agent_ttl_s: float = Field(
        60.0, gt=0, description="An agent instance that announced no heartbeat interval counts as "
        "gone this long after its last announcement (otherwise: 3 missed heartbeats).")
    replica_heartbeat_s: float = Field(
        2.0, gt=0, description="How often a replica writes its heartbeat and rebalances partitions.")
    replica_ttl_s: float = Field(
        10.0, gt=0, description="A replica whose heartbeat is older counts as gone.")
    partition_lease_s: float = Field(
        10.0, gt=0, description="A replica that consumed from a partition this recently holds it.")
    timer_overdue_s: float = Field(
        15.0, gt=0, description="A timer overdue by this long fires on any replica.")
    rebalance: bool = Field(
        True, description="Hand partitions another live replica prefers over to it (share the work).")

    def agent_set(self) -> frozenset[str] | None:
        """The known agents, or None when definitions are not checked against a list."""
        names = {name.strip() for name in self.known_agents.split(",") if name.strip()}
        return frozenset(names) or None

    def replica_id(self) -> str:
        """AGENTBUS_INSTANCE_ID, or host-pid-random: unique per process, safe in a queue name."""
        raw = self.instance_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        return re.sub(r"[^A-Za-z0-9_.-]", "-", raw)[:100]
