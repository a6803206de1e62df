"""The whole orchestrator stack as processes, driven through the `agentbus saga` CLI.

v1 and v2 starts both run; the pipeline fans out to a v1-only agent (the tagger), which gets v1
tasks and answers in v1, next to v2 agents; exit codes follow the saga's end.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.orchestrator.conftest import AGENTS, Stack
from tests.e2e.orchestrator.processes import AGENTBUS
from tests.support.stand_in_agents import EffectLog

pytestmark = pytest.mark.e2e


@dataclass
class Ran:
    code: int
    out: str
    err: str


async def agentbus(env: dict[str, str], *args: str, timeout: float = 60) -> Ran:
    process = await asyncio.create_subprocess_exec(
        *AGENTBUS, *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def schemas(effects: EffectLog, saga_id: str) -> dict[str, int]:
    """agent -> the envelope version its step task arrived in."""
    return {e.agent: e.schema for e in effects.effects()
            if e.saga_id == saga_id and not e.compensation}


async def test_the_cli_runs_v1_and_v2_starts_across_a_v1_only_agent(
        stack: Stack, effects: EffectLog, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/sagas.db"
    await stack.start_stand_ins(tmp_path / "effects.db")
    await stack.start_orchestrator("orchestrator", store_url)
    env = stack.client_env(store_url)

    completed = await agentbus(env, "saga", "start", "pipeline", "--input", '{"n": 1}',
                               "--saga-id", "cli-v2", "--wait", "--timeout", "60", "--json")
    assert completed.code == 0, completed.err + stack.logs()
    record = json.loads(completed.out)
    assert record["status"] == "completed"
    assert [(s["name"], s["status"], s["attempt"]) for s in record["steps"]] == [
        ("fetch", "completed", 1), ("summarise", "completed", 1), ("tag", "completed", 1),
        ("store", "completed", 1)]
    # The tagger's v1 reply (headers and payload, no v2 fields) still became the step's output.
    assert record["steps"][2]["output"] == {"by": "tagger", "action": "tag",
                                            "task_id": "cli-v2:tag:1"}
    assert schemas(effects, "cli-v2") == {"fetcher": 2, "summariser": 2, "tagger": 1, "storer": 2}

    v1_start = await agentbus(env, "saga", "start", "pipeline", "--input", '{"n": 2}', "--schema",
                              "1", "--saga-id", "cli-v1", "--wait", "--timeout", "60", "--json")
    assert v1_start.code == 0, v1_start.err
    assert json.loads(v1_start.out)["input"] == {"n": 2}
    assert schemas(effects, "cli-v1") == {"fetcher": 2, "summariser": 2, "tagger": 1, "storer": 2}

    failed = await agentbus(env, "saga", "start", "pipeline", "--input", '{"fail": "store"}',
                            "--saga-id", "cli-fail", "--wait", "--timeout", "60", "--json")
    assert failed.code == 1, failed.err
    record = json.loads(failed.out)
    assert record["status"] == "compensated"
    assert record["failure"]["step"] == "store"
    # The parallel stage is undone together, then the first step.
    assert [c["step"] for c in record["compensations"]] == ["summarise", "tag", "fetch"]
    undo = {e.agent: e.schema for e in effects.effects()
            if e.saga_id == "cli-fail" and e.compensation}
    assert undo == {"fetcher": 2, "summariser": 2, "tagger": 1}

    unknown = await agentbus(env, "saga", "start", "nonexistent", "--wait", "--timeout", "30")
    assert unknown.code == 1
    assert "escalated: unknown_saga_type: no saga type 'nonexistent' is defined (known: pipeline)" \
        in unknown.out

    listed = await agentbus(env, "saga", "list", "--status", "compensated", "--json")
    assert [r["saga_id"] for r in json.loads(listed.out)] == ["cli-fail"]
    shown = await agentbus(env, "saga", "show", "cli-v1")
    assert shown.out.splitlines()[0] == "saga cli-v1 (pipeline): completed"
    assert effects.refusals() == []


def test_a_definition_naming_an_unknown_agent_stops_the_start(stack: Stack, tmp_path: Path) -> None:
    process, _ = stack.orchestrator("orchestrator", f"sqlite:///{tmp_path}/sagas.db",
                                    AGENTBUS_KNOWN_AGENTS=",".join(a for a in AGENTS if a != "tagger"))
    ran = subprocess.run(process.argv, env=process.env, capture_output=True, text=True, timeout=30,
                         check=False)
    assert ran.returncode == 2
    assert "pipeline.yaml: step 'tag': unknown agent 'tagger'" in ran.stderr
