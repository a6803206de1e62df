"""Every kind of service, as a real process: /healthz, /readyz and /metrics on its health port, and
a SIGTERM that stops it cleanly (exit 0) well within the grace period."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agentbus.agent.supervisor import port_is_free
from agentbus.settings import Settings
from agentbus.topology import Topology

pytestmark = pytest.mark.e2e

SERVICES = [
    # (module, a metric only this kind of service exports)
    ("services.guardrail", "agentbus_guardrail_"),
    ("services.orchestrator", "agentbus_saga_"),
    ("services.agents.writer", "agentbus_agent_"),
]


def _free_port() -> int:
    for port in range(31_000, 32_000):
        if port_is_free(port):
            return port
    raise AssertionError("no free port")


def _get(port: int, path: str) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
    except httpx.HTTPError:
        return None


@pytest.mark.parametrize(("module", "metric"), SERVICES)
def test_service_serves_health_ready_metrics_and_stops_on_sigterm(
        module: str, metric: str, settings: Settings, topo: Topology, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "AGENTBUS_AMQP_URL": settings.amqp_url, "AGENTBUS_HEALTH_PORT": str(port),
           "AGENTBUS_SAGA_STORE_URL": f"sqlite:///{tmp_path / 'sagas.db'}",
           "AGENTBUS_AGENT_INBOX_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
           "AGENTBUS_SIDE_EFFECTS_DB": str(tmp_path / "side_effects.db"),
           "AGENTBUS_SHUTDOWN_GRACE_S": "10", "AGENTBUS_PARTITIONS": "2",
           # The queues in the test vhost were declared with the test settings' arguments.
           "AGENTBUS_DELIVERY_LIMIT": str(settings.delivery_limit),
           "AGENTBUS_RETRY_DELAY_MS": str(settings.retry_delay_ms),
           "AGENTBUS_PARTITION_DELIVERY_LIMIT": str(settings.partition_delivery_limit)}
    process = subprocess.Popen([sys.executable, "-m", module], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            ready = _get(port, "/readyz")
            if ready is not None and ready.status_code == 200:
                break
            time.sleep(0.1)
        if ready is None and process.poll() is not None:
            raise AssertionError(f"{module} exited with {process.returncode}:\n"
                                 + (process.stdout.read() if process.stdout else ""))
        assert ready is not None, f"{module} never served /readyz"
        assert ready.status_code == 200, ready.text
        health = _get(port, "/healthz")
        assert health is not None
        assert health.status_code == 200
        metrics = _get(port, "/metrics")
        assert metrics is not None
        assert metrics.status_code == 200
        assert "text/plain" in metrics.headers["content-type"]
        assert "agentbus_consumed_total" in metrics.text or "agentbus_published_total" in metrics.text
        assert metric in metrics.text
        missing = _get(port, "/nothing-here")
        assert missing is not None
        assert missing.status_code == 404

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
        assert code == 0, process.stdout.read() if process.stdout else ""
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
