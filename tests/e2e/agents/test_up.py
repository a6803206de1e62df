"""`agentbus up` as processes: every service ready as its own broker user, agents listed with their
versions, a clean stop on SIGTERM, and a loud non-zero exit when a service dies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agentbus.cli.up_cmd import READY_MARKER

pytestmark = pytest.mark.e2e


class Up:
    """`agentbus up` in the background, its output collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.log = cwd / "up.out"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agentbus.cli.main", "up", "--color", "never", *args],
            env=env, cwd=cwd, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                raise AssertionError(f"up exited {self.process.returncode} before {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} after {timeout}s:\n{self.output}")
            time.sleep(0.1)

    def pids(self) -> dict[str, int]:
        """Service name -> pid, from the summary table."""
        rows = re.findall(r"^\s*up \| (\S+)\s+(\d+)\s+http://127\.0\.0\.1:(\d+)/readyz", self.output, re.M)
        return {name: int(pid) for name, pid, _ in rows}

    def stop(self, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its /proc state says it is gone.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_everything_runs_as_its_own_user_and_stops_cleanly(
        applied: dict[str, str], tmp_path: Path, base_port: int) -> None:
    up = Up(applied, tmp_path, "--base-port", str(base_port), "--replicas", "writer=2")
    try:
        up.wait_for(READY_MARKER)
        pids = up.pids()
        assert set(pids) == {"guardrail", "orchestrator", "researcher", "writer-1", "writer-2", "editor",
                             "publisher", "style_reviewer", "security_reviewer", "performance_reviewer",
                             "tests_reviewer", "synthesiser"}
        prefix = applied["AGENTBUS_USER_PREFIX"]
        assert f"{prefix}agent-style-reviewer" in up.output
        assert f"{prefix}guardrail" in up.output
        assert httpx.get(f"http://127.0.0.1:{base_port + 1}/readyz").status_code == 200

        listed = subprocess.run(
            [sys.executable, "-m", "agentbus.cli.main", "agents", "--json", "--expect", "9", "--wait", "15"],
            env=applied, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False)
        assert listed.returncode == 0, listed.stderr
        instances = json.loads(listed.stdout)
        by_agent: dict[str, list[dict[str, object]]] = {}
        for instance in instances:
            by_agent.setdefault(str(instance["agent"]), []).append(instance)
        assert len(by_agent) == 9
        editor = by_agent["editor"][0]
        assert editor["schema_versions"] == [1]
        assert editor["announced_in_schema"] == 1
        assert by_agent["publisher"][0]["compensations"] == ["unpublish"]
        assert by_agent["researcher"][0]["schema_versions"] == [1, 2]
    finally:
        code = up.stop()
    assert code == 0, up.output
    assert "all 12 services exited cleanly" in up.output
    assert not [name for name, pid in pids.items() if alive(pid)]
    # Each service also logged to its own file.
    assert "consuming task.editor.#" in (tmp_path / ".agentbus" / "logs" / "editor.log").read_text()


def test_a_service_that_dies_stops_the_others_and_up_exits_1(
        applied: dict[str, str], tmp_path: Path, base_port: int) -> None:
    up = Up(applied, tmp_path, "--base-port", str(base_port), "--agents", "writer,editor")
    try:
        up.wait_for(READY_MARKER)
        pids = up.pids()
        os.kill(pids["writer"], signal.SIGKILL)
        code = up.process.wait(40)
    finally:
        up.stop()
    assert code == 1, up.output
    assert "writer was killed by signal 9" in up.output
    assert "a service died, so agentbus up stops the others and exits 1" in up.output
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_up_refuses_to_start_without_the_users_passwords(
        cli_env: dict[str, str], tmp_path: Path, base_port: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentbus.cli.main", "up", "--base-port", str(base_port)],
        env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "run `agentbus topology apply`" in done.stderr
