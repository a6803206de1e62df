"""The `agentbus` console script as a user runs it: help everywhere, publish and tail on the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from agentbus.cli.main import COMMANDS
from agentbus.management import ManagementClient
from agentbus.settings import Settings
from agentbus.topology import Topology, build_users

AGENTBUS = [sys.executable, "-m", "agentbus.cli.main"]


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"AGENTBUS_AMQP_URL": settings.amqp_url, "AGENTBUS_MANAGEMENT_URL": settings.management_url,
                "AGENTBUS_CREDENTIALS_FILE": str(settings.credentials_file)})
    return env


def test_every_command_has_help() -> None:
    top = subprocess.run([*AGENTBUS, "--help"], capture_output=True, text=True, check=True)
    assert "AGENTBUS_AMQP_URL" in top.stdout
    for command in COMMANDS:
        out = subprocess.run([*AGENTBUS, *command.words, "--help"], capture_output=True, text=True,
                             check=True)
        assert command.help.split()[0] in out.stdout, command.words


@pytest.mark.integration
def test_publish_then_tail_shows_the_decoded_message(settings: Settings, topo: Topology) -> None:
    env = _env(settings)
    tail = subprocess.Popen([*AGENTBUS, "tail", "saga.start.#", "--count", "2", "--timeout", "30", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert tail.stderr is not None
        assert "tailing" in tail.stderr.readline()  # bound before we publish
        for schema in ("2", "1"):
            subprocess.run([*AGENTBUS, "publish", "saga.start.content_pipeline", "--input",
                            '{"topic": "otters"}', "--schema", schema],
                           env=env, check=True, capture_output=True, text=True)
        out, _ = tail.communicate(timeout=30)
    finally:
        if tail.poll() is None:
            tail.kill()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["schema"] for line in lines] == [2, 1]
    for line in lines:
        assert line["routing_key"] == "saga.start.content_pipeline"
        assert line["message"]["saga_start"] == {"saga_type": "content_pipeline",
                                                 "input": {"topic": "otters"}}
        assert line["message"]["saga_id"]
    assert tail.returncode == 0


@pytest.mark.integration
def test_publish_unroutable_key_fails_with_advice(settings: Settings, topo: Topology) -> None:
    result = subprocess.run([*AGENTBUS, "publish", "result.nobody.listens", "--exchange", "agentbus.agents"],
                            env=_env(settings), capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "no queue is bound" in result.stderr


@pytest.mark.integration
def test_topology_apply_cli_is_idempotent(settings: Settings, management: ManagementClient,
                                          user_prefix: str) -> None:
    env = {**_env(settings), "AGENTBUS_USER_PREFIX": user_prefix}
    cmd = [*AGENTBUS, "topology", "apply", "--agents", "writer", "--partitions", "1", "--quiet"]
    started = time.monotonic()
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert "change(s) applied" in first.stdout
    assert "no changes" in second.stdout
    assert time.monotonic() - started < 60
    for user in build_users(["writer"], prefix=user_prefix):  # users are global to the broker
        management.delete(f"/users/{user.name}")
