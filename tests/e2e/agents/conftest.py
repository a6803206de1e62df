"""Fixtures of the process-level agent tests: a fresh vhost with the topology applied by the CLI,
per-test broker users (deleted after), a working directory for .agentbus/, and free health ports."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from agentbus.agent.supervisor import port_is_free
from agentbus.management import ManagementClient
from agentbus.topology import build_topology
from tests.conftest import Broker

PORTS_NEEDED = 16


@pytest.fixture
def base_port() -> int:
    """The first of PORTS_NEEDED consecutive free ports."""
    for _ in range(200):
        first = random.randrange(20_000, 40_000)
        if all(port_is_free(first + i) for i in range(PORTS_NEEDED)):
            return first
    raise AssertionError("no block of free ports found")


@pytest.fixture
def cli_env(broker: Broker, vhost: str, user_prefix: str, tmp_path: Path) -> dict[str, str]:
    """The environment a user would have: admin URL of the test vhost, its own users and files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTBUS_")}
    env.update({
        "AGENTBUS_AMQP_URL": broker.url_for(vhost),
        "AGENTBUS_MANAGEMENT_URL": broker.management_url,
        "AGENTBUS_USER_PREFIX": user_prefix,
        "AGENTBUS_CREDENTIALS_FILE": str(tmp_path / ".agentbus" / "credentials.env"),
        "AGENTBUS_HEARTBEAT_S": "1",
        "AGENTBUS_SHUTDOWN_GRACE_S": "5",
        "NO_COLOR": "1",
    })
    return env


@pytest.fixture
def applied(cli_env: dict[str, str], tmp_path: Path, vhost: str, user_prefix: str,
            management: ManagementClient) -> Iterator[dict[str, str]]:
    """`agentbus topology apply` run as a user would, with the test's user prefix; users removed after."""
    done = subprocess.run([sys.executable, "-m", "agentbus.cli.main", "topology", "apply", "--quiet"],
                          env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    yield cli_env
    for user in build_topology(vhost=vhost, user_prefix=user_prefix).users:
        management.delete(f"/users/{quote(user.name, safe='')}")
