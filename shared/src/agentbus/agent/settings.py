"""Agent settings: the shared ones, plus the inbox, heartbeats and the LLM backend."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from agentbus.llm.settings import LLMSettings
from agentbus.settings import Settings

DEFAULT_INBOX_URL = "sqlite:///.agentbus/agents/{agent}.db"


class AgentSettings(Settings):
    """Every field is AGENTBUS_<FIELD> in the environment; the LLM backend reads AGENTBUS_LLM_*."""

    prefetch: int = Field(
        8, ge=1, le=10_000,
        description="Tasks one agent process works on at once (LLM calls are slow; keep it small).")
    agent_inbox_url: str = Field(
        DEFAULT_INBOX_URL,
        description="Where handled task ids and their results are kept: sqlite:///path.db (one host; "
        "replicas on it share the file) or postgresql://... (replicas on several hosts). `{agent}` "
        "is replaced by the agent's name.")
    agent_inbox_retention_s: float = Field(
        7 * 24 * 3600.0, gt=0,
        description="Handled task ids older than this are forgotten (older duplicates are past "
        "their deadline anyway, and an expired task is never acted on).")
    agent_claim_lease_s: float = Field(
        600.0, gt=0,
        description="A replica's claim on a task it is working on; after it, another replica may "
        "take the task over (sooner on one host, where a dead owner is noticed at once).")
    heartbeat_s: float = Field(
        5.0, gt=0, description="Seconds between an agent's announcements on agent.announce.<name>.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="AGENTBUS_LLM_* settings.")

    def inbox_url(self, agent: str) -> str:
        """The inbox URL for `agent`, with `{agent}` filled in."""
        return self.agent_inbox_url.replace("{agent}", agent)

    def inbox_path_hint(self, agent: str) -> Path | None:
        """The SQLite file of the inbox, when it is one (for messages and `agentbus demo`)."""
        url = self.inbox_url(agent)
        return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
