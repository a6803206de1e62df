"""Run services as local child processes: prefixed coloured logs, readiness, clean shutdown.

What `agentbus up` is made of. Each child is `python -m <module>` in its own session (so a Ctrl-C
in the terminal reaches only the supervisor, which then stops the children in order) and is told
to die with the supervisor if the supervisor is killed outright (Linux `PR_SET_PDEATHSIG`).
Shutdown sends SIGTERM to every child, waits up to a grace period, then SIGKILLs what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from agentbus.errors import AgentBusError

COLOURS = ("36", "32", "33", "35", "34", "96", "92", "93", "95", "94", "31", "91")
RESET = "\033[0m"
TAIL_LINES = 15


class SupervisorError(AgentBusError):
    """A child could not start, did not become ready, or died."""


@dataclass(frozen=True)
class ServiceSpec:
    """One child process: `python -m module` with extra environment, serving health on a port."""

    name: str
    module: str
    health_port: int
    env: Mapping[str, str] = field(default_factory=dict)
    user: str = ""
    # Started, and ready, before the others: the orchestrator must hear agents' first announcements.
    first: bool = False
    note: str = ""


@dataclass
class Child:
    """A running child and what we know of it."""

    spec: ServiceSpec
    process: asyncio.subprocess.Process
    colour: str
    started_at: float
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    ready_after_s: float | None = None
    pump: asyncio.Task[None] | None = None
    reaper: asyncio.Task[None] | None = None

    @property
    def exited(self) -> bool:
        """Whether the process has ended."""
        return self.process.returncode is not None


def port_is_free(port: int) -> bool:
    """Whether a health server could bind `port` (on every interface, as it does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Supervisor:
    """Starts `specs`, waits for /readyz, relays their output, and stops them."""

    def __init__(self, specs: Sequence[ServiceSpec], *, out: TextIO, log_dir: Path | None = None,
                 colour: bool = False, grace_s: float = 25.0) -> None:
        self.specs = list(specs)
        self.out = out
        self.log_dir = log_dir
        self.colour = colour
        self.grace_s = grace_s
        self.children: list[Child] = []
        self.width = max([len(s.name) for s in specs] + [2])
        self._exited = asyncio.Event()

    # ------------------------------------------------------------ output

    def _paint(self, text: str, colour: str) -> str:
        return f"\033[{colour}m{text}{RESET}" if self.colour else text

    def say(self, text: str, *, colour: str = "1") -> None:
        """A line of the supervisor's own, prefixed `up |`."""
        label = self._paint("up".rjust(self.width) + " |", colour)
        for line in text.splitlines() or [""]:
            self.out.write(f"{label} {line}\n")
        self.out.flush()

    async def _pump(self, child: Child) -> None:
        stream = child.process.stdout
        if stream is None:  # pragma: no cover - always piped
            return
        log = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = (self.log_dir / f"{child.spec.name}.log").open("a", encoding="utf-8")
        prefix = self._paint(f"{child.spec.name:>{self.width}} |", child.colour)
        try:
            while line := await stream.readline():
                text = line.decode("utf-8", "replace").rstrip("\n")
                child.tail.append(text)
                self.out.write(f"{prefix} {text}\n")
                self.out.flush()
                if log is not None:
                    log.write(text + "\n")
                    log.flush()
        finally:
            if log is not None:
                log.close()

    # ------------------------------------------------------------ lifecycle

    async def start(self, *, ready_timeout_s: float = 60.0) -> None:
        """Start every child (after checking their health ports are free); `first` ones ready first."""
        busy = [s for s in self.specs if s.health_port and not port_is_free(s.health_port)]
        if busy:
            raise SupervisorError(
                "health port(s) already in use: "
                + ", ".join(f"{s.health_port} ({s.name})" for s in busy)
                + "; is another `agentbus up` running? Stop it, or pick other ports with --base-port.")
        first = [s for s in self.specs if s.first]
        for spec in first:
            await self._spawn(spec)
        if first:
            await self.wait_ready(ready_timeout_s)
        for spec in self.specs:
            if not spec.first:
                await self._spawn(spec)

    async def _spawn(self, spec: ServiceSpec) -> None:
        index = self.specs.index(spec)
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1",
               "AGENTBUS_HEALTH_PORT": str(spec.health_port)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", spec.module, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True, preexec_fn=die_with_parent)
        child = Child(spec, process, COLOURS[index % len(COLOURS)], time.monotonic())
        child.pump = asyncio.create_task(self._pump(child), name=f"pump-{spec.name}")
        child.reaper = asyncio.create_task(self._reap(child), name=f"reap-{spec.name}")
        self.children.append(child)

    async def _reap(self, child: Child) -> None:
        await child.process.wait()
        self._exited.set()

    def died(self) -> list[Child]:
        """Children that have exited."""
        return [c for c in self.children if c.exited]

    async def wait_ready(self, timeout_s: float) -> None:
        """Wait until every child answers 200 on /readyz; raise SupervisorError naming the culprit."""
        deadline = time.monotonic() + timeout_s
        pending = [c for c in self.children if c.spec.health_port and c.ready_after_s is None]
        async with httpx.AsyncClient(timeout=2.0) as http:
            while pending:
                for child in list(pending):
                    if child.exited:
                        await self._drain(child)
                        raise SupervisorError(self.describe_death(child, "before it was ready"))
                    try:
                        response = await http.get(f"http://127.0.0.1:{child.spec.health_port}/readyz")
                    except httpx.HTTPError:
                        continue
                    if response.status_code == 200:
                        child.ready_after_s = time.monotonic() - child.started_at
                        pending.remove(child)
                if not pending:
                    return
                if time.monotonic() > deadline:
                    names = ", ".join(c.spec.name for c in pending)
                    raise SupervisorError(
                        f"not ready after {timeout_s:g}s: {names}. Their logs above say why (often: "
                        "the broker refused the user; run `agentbus topology apply`).")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._exited.wait(), timeout=0.2)

    async def watch(self, stop: asyncio.Event) -> Child | None:
        """Wait for `stop` or for a child to exit; returns the child that died, or None."""
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                dead = self.died()
                if dead:
                    await self._drain(dead[0])
                    return dead[0]
                if stop.is_set():
                    return None
                exited = asyncio.create_task(self._exited.wait())
                await asyncio.wait({stopper, exited}, return_when=asyncio.FIRST_COMPLETED)
                exited.cancel()
                self._exited.clear()
        finally:
            stopper.cancel()

    def describe_death(self, child: Child, when: str = "") -> str:
        """Why a child is gone, with its last lines of output."""
        code = child.process.returncode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        lines = "\n".join(f"    {line}" for line in child.tail) or "    (no output)"
        return f"{child.spec.name} {how}{(' ' + when) if when else ''}; its last lines:\n{lines}"

    async def _drain(self, child: Child) -> None:
        if child.pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(child.pump, timeout=2)

    async def shutdown(self) -> dict[str, int | None]:
        """SIGTERM every child, wait up to the grace period, SIGKILL the rest; returns exit codes."""
        running = [c for c in self.children if not c.exited]
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        waits = [asyncio.create_task(c.process.wait()) for c in running]
        if waits:
            _, late = await asyncio.wait(waits, timeout=self.grace_s)
            if late:
                for child in running:
                    if not child.exited:
                        self.say(f"{child.spec.name} did not stop within {self.grace_s:g}s; killing it",
                                 colour="31")
                        with contextlib.suppress(ProcessLookupError):
                            child.process.kill()
                await asyncio.wait(late, timeout=5)
        for child in self.children:
            await self._drain(child)
        return {c.spec.name: c.process.returncode for c in self.children}
