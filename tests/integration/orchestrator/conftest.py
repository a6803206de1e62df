"""Fixtures of the orchestrator's broker tests: settings, and the orchestrator serving in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentbus import topology
from agentbus.bus import Bus, Router
from agentbus.settings import Settings
from agentbus.topology import Topology
from services.orchestrator.app import run
from services.orchestrator.definitions import load_definitions
from services.orchestrator.settings import OrchestratorSettings
from tests.integration.orchestrator.helpers import ARTICLE, Observer, StandInAgents


@pytest.fixture
def orchestrator_settings(settings: Settings, tmp_path: Path) -> OrchestratorSettings:
    sagas = tmp_path / "sagas"
    sagas.mkdir()
    (sagas / "article.yaml").write_text(ARTICLE)
    return OrchestratorSettings(
        **settings.model_dump(), saga_store_url=f"sqlite:///{tmp_path}/sagas.db",
        sagas_dir=sagas, known_agents="researcher,writer", timer_poll_s=0.1, outbox_poll_s=0.2,
        # These stand-ins do not announce themselves: nothing to wait for.
        announce_warmup_s=0)


@pytest.fixture
async def running(orchestrator_settings: OrchestratorSettings, topo: Topology,
                  bus: Bus) -> AsyncIterator[tuple[StandInAgents, Observer]]:
    """The orchestrator serving in this process, stand-in agents and an observer of saga.#."""
    agents, observer = StandInAgents(bus, []), Observer()
    router = Router()
    router.subscribe("test.agents", exchange=topology.INGRESS, binding_keys=["task.#"],
                     temporary=True)(agents)
    router.subscribe("test.observer", exchange=topology.INGRESS, binding_keys=["saga.#"],
                     temporary=True)(observer)
    await bus.start(router)
    stop = asyncio.Event()
    definitions = load_definitions(orchestrator_settings.sagas_dir)
    service = asyncio.create_task(run(orchestrator_settings, stop=stop, definitions=definitions))
    try:
        yield agents, observer
    finally:
        stop.set()
        await asyncio.wait_for(service, 20)
