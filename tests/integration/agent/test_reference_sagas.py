"""The reference sagas end to end on the real broker: the real orchestrator, the nine reference agents.

Tasks reach the agents through the real guardrail when it is installed, else through the labelled
stand-in that forwards them unscanned (the guardrail's own broker tests cover what it blocks).
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from agentbus import codec
from agentbus.agent import AgentSettings, running_agent
from agentbus.bus import Bus
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.llm import DeterministicBackend
from agentbus.settings import Settings
from agentbus.topology import Topology
from services.agents import REFERENCE_AGENTS
from services.agents.side_effects import SideEffectStore
from services.orchestrator.app import run as run_orchestrator
from services.orchestrator.settings import SAGAS_DIR, OrchestratorSettings
from tests.integration.agent.helpers import Collector

pytestmark = pytest.mark.integration

STATUS = {value: name.removeprefix("SAGA_STATUS_").lower() for name, value in v2.SagaStatus.items()}
REVIEWERS = ("style_reviewer", "security_reviewer", "performance_reviewer", "tests_reviewer")

# code_review, then a step the synthesiser cannot do: the four reviews are retracted together.
UNMERGEABLE = """\
name: review_then_merge
description: The code review, then a merge nobody offers, so posted comments must be retracted.
steps:
  - parallel:
""" + "".join(f"""      - name: {r.removesuffix('_reviewer')}
        agent: {r}
        action: review
        compensation: retract_comments
        input: ${{saga.input}}
""" for r in REVIEWERS) + """  - name: merge
    agent: synthesiser
    action: merge
    compensation: null
    input: ${saga.input}
"""

CHANGE = {"title": "Cache parsed configs",
          "diff": "+def load(path):\n+    return yaml.safe_load(open(path))\n+CACHE = {}\n"}
RISKY_CHANGE = {"title": "Load plugins",
                "diff": "+def load(blob):\n+    return pickle.loads(blob)  # TODO: check origin\n"}


class Sagas:
    """Starts sagas and waits for their lifecycle events (collected on saga.# and result.#)."""

    def __init__(self, bus: Bus, collector: Collector) -> None:
        self.bus = bus
        self.collector = collector
        self.count = 0

    async def start(self, saga_type: str, saga_input: dict[str, Any]) -> str:
        self.count += 1
        saga_id = f"{saga_type}-{self.count}"
        start = codec.new_envelope(v2.SagaStart(saga_type=saga_type, input=codec.struct_from(saga_input)),
                                   source="test", saga_id=saga_id)
        await self.bus.publish("agentbus.ingress", f"saga.start.{saga_type}", start)
        return saga_id

    def events(self, saga_id: str) -> list[v2.Message]:
        return [r.message for r in self.collector.received
                if r.message.WhichOneof("body") == "event" and r.message.saga_id == saga_id]

    def statuses(self, saga_id: str) -> list[str]:
        out = []
        for m in self.events(saga_id):
            status = STATUS[m.event.status]
            out.append(f"{status}:{m.event.step_name}" if status.startswith("step_") else status)
        return out

    async def finished(self, saga_id: str, timeout: float = 30.0) -> v2.Message:
        def done() -> bool:
            return any(s in ("completed", "compensated", "escalated") for s in self.statuses(saga_id))
        await self.collector.wait(done, timeout=timeout, what=f"saga {saga_id} to finish")
        return self.events(saga_id)[-1]


def guardrail_runner() -> Any:
    """The real guardrail's in-process entry point when it exists, else the unscanned stand-in."""
    if importlib.util.find_spec("services.guardrail.app") is not None:
        module = importlib.import_module("services.guardrail.app")
        if hasattr(module, "run"):
            return module.run
    from services.agents.guardrail_standin.relay import serve

    return serve


@pytest.fixture
async def sagas(settings: Settings, agent_settings: AgentSettings, topo: Topology, bus: Bus,
                tmp_path: Path) -> AsyncIterator[Sagas]:
    sagas_dir = tmp_path / "sagas"
    sagas_dir.mkdir()
    for name in ("content_pipeline.yaml", "code_review.yaml"):
        shutil.copy(SAGAS_DIR / name, sagas_dir / name)
    (sagas_dir / "review_then_merge.yaml").write_text(UNMERGEABLE)
    orchestrator = OrchestratorSettings(
        **settings.model_dump(), saga_store_url=f"sqlite:///{tmp_path}/sagas.db", sagas_dir=sagas_dir,
        known_agents=",".join(REFERENCE_AGENTS), timer_poll_s=0.1, outbox_poll_s=0.2)
    collector = await Collector().start(bus, "saga.#", "result.#")
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        for name in REFERENCE_AGENTS:
            module = importlib.import_module(f"services.agents.{name}.agent")
            await stack.enter_async_context(
                running_agent(module.agent, agent_settings, llm=DeterministicBackend()))
        services = [asyncio.create_task(run_orchestrator(orchestrator, stop=stop)),
                    asyncio.create_task(guardrail_runner()(settings, stop=stop))]
        try:
            yield Sagas(bus, collector)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*services), 20)


async def test_content_pipeline_completes_with_a_v1_editor_in_the_middle(
        sagas: Sagas, side_effects_db: Path) -> None:
    saga_id = await sagas.start("content_pipeline", {"topic": "how octopuses solve puzzles"})
    final = await sagas.finished(saga_id)
    assert sagas.statuses(saga_id) == [
        "started", "step_completed:research", "step_completed:write", "step_completed:edit",
        "step_completed:publish", "completed"]
    output = codec.struct_to_dict(final.event.output)
    assert output["research"]["notes"]
    assert output["write"]["draft"]
    assert output["edit"]["article"]
    assert output["publish"]["url"].startswith("https://blog.example.com/")

    # Mixed versions: the editor answered in message_v1, everyone else in v2, one saga throughout.
    versions = {r.routing_key: r.schema for r in sagas.collector.results()
                if r.message.saga_id == saga_id}
    assert versions == {"result.researcher.research": 2, "result.writer.write": 2,
                        "result.editor.edit": 1, "result.publisher.publish": 2}

    effects = SideEffectStore(side_effects_db).summary(saga_id)
    assert effects["notes"] == "kept"
    assert effects["draft"] == "kept"
    assert effects["article"] == f"published ({output['publish']['url']})"


async def test_content_pipeline_compensates_in_reverse_when_publishing_is_refused(
        sagas: Sagas, side_effects_db: Path) -> None:
    topic = ("why every coastal city should replace its ferries with cable cars, gondolas and "
             "floating walkways before 2030")
    saga_id = await sagas.start("content_pipeline", {"topic": topic})
    final = await sagas.finished(saga_id)
    assert sagas.statuses(saga_id) == [
        "started", "step_completed:research", "step_completed:write", "step_completed:edit",
        "step_failed:publish", "compensating", "compensated"]
    assert final.event.error.code == "title_too_long"
    record = codec.struct_to_dict(final.event.record)
    undone = [(c["step"], c["action"], c["status"]) for c in record["compensations"]]
    # Latest first; edit has nothing to undo, the refused publish did nothing.
    assert undone == [("write", "discard_draft", "compensated"),
                      ("research", "discard_notes", "compensated")]
    assert SideEffectStore(side_effects_db).summary(saga_id) == {"notes": "discarded",
                                                                 "draft": "discarded"}


async def test_code_review_runs_four_reviewers_in_parallel_then_synthesises(
        sagas: Sagas, side_effects_db: Path) -> None:
    clean = await sagas.start("code_review", CHANGE)
    risky = await sagas.start("code_review", RISKY_CHANGE)
    outputs = {}
    for saga_id in (clean, risky):
        final = await sagas.finished(saga_id)
        assert STATUS[final.event.status] == "completed", sagas.statuses(saga_id)
        outputs[saga_id] = codec.struct_to_dict(final.event.output)
    steps = {s.split(":", 1)[1] for s in sagas.statuses(clean) if s.startswith("step_completed")}
    assert steps == {"style", "security", "performance", "tests", "synthesis"}

    risky_synthesis = outputs[risky]["synthesis"]
    assert risky_synthesis["recommendation"] == "REQUEST_CHANGES"
    assert "security" in risky_synthesis["blocking"]
    assert any("unpickle" in c for c in risky_synthesis["comments"])
    for saga_id, output in outputs.items():
        synthesis = output["synthesis"]
        assert synthesis["recommendation"] in ("APPROVE", "REQUEST_CHANGES")
        blocking = {r for r in ("style", "security", "performance", "tests")
                    if output[r]["verdict"] == "REQUEST_CHANGES"}
        assert set(synthesis["blocking"]) == blocking
        assert (synthesis["recommendation"] == "APPROVE") == (not blocking)
        posted = sum(int(output[r]["posted"]) for r in ("style", "security", "performance", "tests"))
        assert len(SideEffectStore(side_effects_db).visible_comments(saga_id)) == posted > 0


async def test_posted_review_comments_are_retracted_when_a_later_step_fails(
        sagas: Sagas, side_effects_db: Path) -> None:
    saga_id = await sagas.start("review_then_merge", RISKY_CHANGE)
    final = await sagas.finished(saga_id)
    assert STATUS[final.event.status] == "compensated", sagas.statuses(saga_id)
    assert final.event.error.code == "unknown_action"
    record = codec.struct_to_dict(final.event.record)
    assert sorted((c["step"], c["action"]) for c in record["compensations"]) == sorted(
        (r.removesuffix("_reviewer"), "retract_comments") for r in REVIEWERS)
    store = SideEffectStore(side_effects_db)
    assert store.visible_comments(saga_id) == []
    assert store.summary(saga_id)["review_comments"].startswith("0 visible")
