"""`agentbus saga start|show|list` as a user runs them, against the orchestrator on the real broker.

The CLI runs as a subprocess connected as the `client` broker user (it may only publish
saga.start.* and bind `agentbus.client.*` queues); the orchestrator serves in this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentbus.management import CredentialStore
from agentbus.topology import Topology
from services.orchestrator.settings import OrchestratorSettings
from tests.conftest import Broker
from tests.integration.orchestrator.helpers import Observer, StandInAgents

pytestmark = pytest.mark.integration

AGENTBUS = [sys.executable, "-m", "agentbus.cli.main"]


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_env(orchestrator_settings: OrchestratorSettings, topo: Topology, broker: Broker) -> dict[str, str]:
    client = topo.user("client").name
    password = CredentialStore(orchestrator_settings.credentials_file).password(client)
    env = dict(os.environ)
    env.update({
        "AGENTBUS_AMQP_URL": broker.url_for(orchestrator_settings.vhost, client, password),
        "AGENTBUS_SAGA_STORE_URL": orchestrator_settings.saga_store_url,
        "AGENTBUS_CONNECT_ATTEMPTS": "2",
    })
    return env


async def agentbus(env: dict[str, str], *args: str, timeout: float = 60) -> Ran:
    """Run the CLI without blocking the event loop the orchestrator runs on."""
    process = await asyncio.create_subprocess_exec(
        *AGENTBUS, *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def test_wait_json_exits_0_on_completed_with_the_final_record(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    ran = await agentbus(cli_env, "saga", "start", "article", "--input", '{"topic": "ok"}',
                         "--saga-id", "cli-ok", "--wait", "--timeout", "30", "--json")
    assert ran.code == 0, ran.err
    record = json.loads(ran.out)
    assert (record["saga_id"], record["saga_type"], record["status"]) == (
        "cli-ok", "article", "completed")
    research, write = record["steps"]
    assert (research["name"], research["status"], research["attempt"]) == (
        "research", "completed", 1)
    assert research["output"] == {"notes": ["ok fact"]}
    assert [a["task_id"] for a in research["attempts"]] == ["cli-ok:research:1"]
    assert research["started_at"]
    assert research["finished_at"]
    assert write["output"] == {"draft": "About ok"}
    assert record["compensations"] == []
    # Progress went to stderr (stdout is the JSON alone), one line per transition.
    assert "started article cli-ok" in ran.err
    assert "step research" in ran.err
    assert "completed in" in ran.err


async def test_wait_exits_1_on_compensated_and_lists_the_compensations(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    ran = await agentbus(cli_env, "saga", "start", "article", "--input", '{"topic": "fail"}',
                         "--saga-id", "cli-fail", "--wait", "--timeout", "30", "--json")
    assert ran.code == 1, ran.err
    record = json.loads(ran.out)
    assert record["status"] == "compensated"
    assert record["failure"]["step"] == "write"
    assert record["failure"]["error"]["code"] == "no_words"
    assert [(c["step"], c["action"], c["status"]) for c in record["compensations"]] == [
        ("research", "discard_notes", "compensated")]
    assert "compensating after write failed; undoing research" in ran.err


async def test_plain_progress_when_stdout_is_not_a_terminal(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    ran = await agentbus(cli_env, "saga", "start", "article", "--input", '{"topic": "ok"}',
                         "--wait", "--timeout", "30")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith("saga ")
    assert lines[0].endswith("(article): starting")
    assert any("step research" in line and "completed" in line and "attempt 1" in line
               for line in lines)
    assert lines[-1].lstrip("+ 0123456789.s").startswith("completed in")
    assert "\x1b[" not in ran.out  # no terminal escapes in a pipe


async def test_an_unknown_saga_type_exits_1_with_the_orchestrators_reason(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    ran = await agentbus(cli_env, "saga", "start", "mystery", "--saga-id", "cli-mystery", "--wait",
                         "--timeout", "30", "--json")
    assert ran.code == 1, ran.err
    assert json.loads(ran.out) == {
        "saga_id": "cli-mystery", "saga_type": "mystery", "status": "escalated",
        "error": {"code": "unknown_saga_type", "retryable": False, "message": (
            "no saga type 'mystery' is defined (known: article); add mystery.yaml to the sagas "
            "directory (AGENTBUS_SAGAS_DIR)")},
        "steps": [], "compensations": []}
    assert "escalated: unknown_saga_type: no saga type 'mystery' is defined" in ran.err


async def test_timeout_exits_2_and_says_what_to_do(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    # "slow": research ignores its first attempt (1 s timeout), so nothing finishes in 0.3 s.
    ran = await agentbus(cli_env, "saga", "start", "article", "--input", '{"topic": "slow"}',
                         "--saga-id", "cli-slow", "--wait", "--timeout", "0.3")
    assert ran.code == 2
    assert "timed out after 0.3 s waiting for saga cli-slow" in ran.err
    assert "agentbus saga show cli-slow" in ran.err


async def test_without_wait_prints_the_saga_id(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    _agents, observer = running
    ran = await agentbus(cli_env, "saga", "start", "article", "--input", '{"topic": "ok"}')
    assert ran.code == 0, ran.err
    saga_id = ran.out.strip()
    assert len(saga_id) == 32
    await observer.wait_for_status(saga_id, "completed")


async def test_show_and_list_read_the_store(
        running: tuple[StandInAgents, Observer], cli_env: dict[str, str]) -> None:
    _agents, observer = running
    for saga_id, topic in (("shown-ok", "ok"), ("shown-fail", "fail")):
        ran = await agentbus(cli_env, "saga", "start", "article", "--input",
                             json.dumps({"topic": topic}), "--saga-id", saga_id)
        assert ran.code == 0, ran.err
    await observer.wait_for_status("shown-ok", "completed")
    await observer.wait_for_status("shown-fail", "compensated")

    shown = await agentbus(cli_env, "saga", "show", "shown-fail", "--json")
    assert shown.code == 0, shown.err
    record = json.loads(shown.out)
    assert record["status"] == "compensated"
    assert [c["step"] for c in record["compensations"]] == ["research"]

    text = await agentbus(cli_env, "saga", "show", "shown-fail")
    assert text.code == 0
    assert text.out.splitlines()[0] == "saga shown-fail (article): compensated"
    assert "failure: step write: no_words: writer's block" in text.out

    listed = await agentbus(cli_env, "saga", "list", "--status", "completed", "--json")
    assert [r["saga_id"] for r in json.loads(listed.out)] == ["shown-ok"]
    table = await agentbus(cli_env, "saga", "list", "--limit", "5")
    assert table.out.splitlines()[0].split()[:3] == ["SAGA", "TYPE", "STATUS"]
    assert {line.split()[0] for line in table.out.splitlines()[1:]} == {"shown-ok", "shown-fail"}

    missing = await agentbus(cli_env, "saga", "show", "no-such-saga")
    assert missing.code == 1
    assert "no saga 'no-such-saga' in the store" in missing.err


async def test_show_without_a_store_says_where_it_looked(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(cli_env, AGENTBUS_SAGA_STORE_URL=f"sqlite:///{tmp_path}/absent/sagas.db")
    ran = await agentbus(env, "saga", "list")
    assert ran.code == 1
    assert "no saga store at" in ran.err
    assert "AGENTBUS_SAGA_STORE_URL" in ran.err
