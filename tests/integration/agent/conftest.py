"""Fixtures of the agent broker tests: agent settings in the test's vhost, a side-effect store in tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbus.agent import AgentSettings
from agentbus.bus import Bus
from agentbus.settings import Settings
from agentbus.topology import Topology
from tests.integration.agent.helpers import Collector


@pytest.fixture(autouse=True)
def side_effects_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "side_effects.db"
    monkeypatch.setenv("AGENTBUS_SIDE_EFFECTS_DB", str(path))
    return path


@pytest.fixture
def agent_settings(settings: Settings, tmp_path: Path) -> AgentSettings:
    return AgentSettings(**settings.model_dump(), heartbeat_s=0.5,
                         agent_inbox_url=f"sqlite:///{tmp_path}/inbox/{{agent}}.db")


@pytest.fixture
async def collector(topo: Topology, bus: Bus) -> Collector:
    return await Collector().start(bus)
