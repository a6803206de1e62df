"""`make run`, the README's first command, as a newcomer runs it: its output ends with both sagas
in their expected states. It runs in the test's own vhost, users and state directory."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from agentbus.management import ManagementClient
from agentbus.topology import build_topology

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.e2e


@pytest.fixture
def run_env(cli_env: dict[str, str], tmp_path: Path, base_port: int, vhost: str, user_prefix: str,
            management: ManagementClient) -> Iterator[dict[str, str]]:
    state = tmp_path / "state"
    env = {**cli_env,
           "AGENTBUS_SAGA_STORE_URL": f"sqlite:///{state / 'sagas.db'}",
           "AGENTBUS_AGENT_INBOX_URL": f"sqlite:///{state / '{agent}-inbox.db'}",
           "AGENTBUS_SIDE_EFFECTS_DB": str(state / "side_effects.db"),
           "AGENTBUS_DEMO_ARGS": f"--base-port {base_port} --log-dir {state / 'logs'}"}
    yield env
    for user in build_topology(vhost=vhost, user_prefix=user_prefix).users:
        management.delete(f"/users/{quote(user.name, safe='')}")


def test_make_run_ends_with_one_saga_completed_and_one_compensated(run_env: dict[str, str]) -> None:
    done = subprocess.run(["make", "--no-print-directory", "run"], cwd=REPO, env=run_env,
                          capture_output=True, text=True, timeout=240, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    *_, completed, compensated, verdict = done.stdout.strip().splitlines()
    assert ": completed (as expected); article published at" in completed
    assert ": compensated (as expected); step publish failed (guardrail_blocked)" in compensated
    assert verdict == "demo: both sagas ended as expected"
    assert "topology:" in output  # make applied the topology before running the demo
