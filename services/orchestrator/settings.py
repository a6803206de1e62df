"""Orchestrator settings: the shared ones plus the saga store, definitions and loop timings."""

from __future__ import annotations

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

    def agent_set(self) -> frozenset[str] | None:
        """The known agents, or None when definitions are not checked against a list."""
        names = {name.strip() for name in self.known_agents.split(",") if name.strip()}
        return frozenset(names) or None
