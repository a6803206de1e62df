"""Services as child processes: start, SIGKILL, stop, wait until ready, and read their logs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.broker import wait_for

ORCHESTRATOR = (sys.executable, "-m", "services.orchestrator")
STAND_INS = (sys.executable, "-m", "tests.support.stand_in_agents")
AGENTBUS = (sys.executable, "-m", "agentbus.cli.main")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One child process; its stdout and stderr go to a log file (a pipe could fill and block it)."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log = log
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Process:
        """Start (or restart) it; the log keeps every run."""
        with self.log.open("ab") as out:
            out.write(f"==== start {self.starts + 1} of {self.name}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, cwd=Path.cwd())
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        """Started and not exited."""
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs, as when a node or container dies."""
        if self.popen is not None and self.running:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait (SIGKILL if it does not exit in time); returns the exit code."""
        if self.popen is None:
            return None
        if self.running:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.popen.returncode

    def output(self) -> str:
        """Everything it printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        """The end of its log, for failure messages."""
        return f"--- {self.name} ({self.log}):\n" + "\n".join(self.output().splitlines()[-lines:])


async def wait_until_ready(process: Process, port: int, *, timeout: float = 20.0) -> None:
    """Poll the process's /readyz until it answers 200 (it fails fast if the process exits)."""

    async def ready() -> bool:
        if not process.running:
            raise AssertionError(f"{process.name} exited before it was ready\n{process.tail()}")
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                response = await client.get(f"http://127.0.0.1:{port}/readyz")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    await wait_for(ready, timeout=timeout, interval=0.05, what=f"{process.name} /readyz")


async def wait_for_output(process: Process, text: str, *, timeout: float = 20.0) -> None:
    """Wait until the process printed `text` (in its current run)."""

    def printed() -> bool:
        if not process.running:
            raise AssertionError(f"{process.name} exited\n{process.tail()}")
        run = process.output().rsplit("==== start", 1)[-1]
        return text in run

    await wait_for(printed, timeout=timeout, interval=0.05, what=f"{process.name} to print {text!r}")
