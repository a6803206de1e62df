"""Stand-in agents for orchestrator tests, in-process or as a process of their own.

Each agent consumes `task.<agent>.#` straight from `agentbus.ingress` (no guardrail runs in these
tests), executes every task id once, as real agents will (the effect is a row in a SQLite file keyed
by task id; a repeated delivery only bumps its `deliveries` count and repeats the same reply), and
answers on `result.<agent>.<action>`. It announces itself on `agent.announce.<agent>` (STARTED, a
HEARTBEAT every `heartbeat_s`, STOPPING).

A v1-only agent (`schema_versions=(1,)`) behaves like an agent built before v2: it announces in v1,
reads only the v1 view of a task (kind, headers, payload) and replies with a genuine
`agentbus.v1.Message`; a v2 task is refused (dead-lettered, counted in the `refusals` table).

What a task does comes from its input (the saga input, or `input` of a compensation's input):
`{"fail": "<action>"}` fails that action for good; `{"delay_ms": n}` answers after n ms.

    python -m tests.support.stand_in_agents --agents fetcher,storer --effects /tmp/fx.db
prints `ready` on stdout once every agent consumes, and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sqlite3
import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import RejectMessage
from agentbus.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      TEXT NOT NULL UNIQUE,
    saga_id      TEXT NOT NULL,
    agent        TEXT NOT NULL,
    action       TEXT NOT NULL,
    compensation INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    schema       INTEGER NOT NULL,
    executions   INTEGER NOT NULL,
    deliveries   INTEGER NOT NULL,
    executed_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refusals (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    agent    TEXT NOT NULL,
    task_id  TEXT NOT NULL,
    schema   INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Effect:
    """One executed task, as the effects file keeps it."""

    seq: int
    task_id: str
    saga_id: str
    agent: str
    action: str
    compensation: bool
    ok: bool
    schema: int
    executions: int
    deliveries: int


class EffectLog:
    """The SQLite file every stand-in agent (of every process) writes its effects to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def execute_once(self, task_id: str, *, saga_id: str, agent: str, action: str,
                     compensation: bool, ok: bool, schema: int) -> bool:
        """Record the effect of a task id; False (and one more delivery) if it was executed already."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                seen = self._conn.execute("SELECT 1 FROM effects WHERE task_id = ?",
                                          (task_id,)).fetchone()
                if seen:
                    self._conn.execute(
                        "UPDATE effects SET deliveries = deliveries + 1 WHERE task_id = ?",
                        (task_id,))
                else:
                    self._conn.execute(
                        "INSERT INTO effects (task_id, saga_id, agent, action, compensation, ok, "
                        "schema, executions, deliveries, executed_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?)",
                        (task_id, saga_id, agent, action, int(compensation), int(ok), schema,
                         datetime.now(UTC).isoformat()))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return not seen

    def refuse(self, agent: str, task_id: str, schema: int) -> None:
        """Record a task this agent could not read."""
        with self._lock:
            self._conn.execute("INSERT INTO refusals (agent, task_id, schema) VALUES (?, ?, ?)",
                               (agent, task_id, schema))

    def effects(self) -> list[Effect]:
        """Every effect, in the order executed."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, task_id, saga_id, agent, action, compensation, ok, schema, "
                "executions, deliveries FROM effects ORDER BY seq").fetchall()
        return [Effect(seq, task_id, saga_id, agent, action, bool(comp), bool(ok), schema,
                       executions, deliveries)
                for seq, task_id, saga_id, agent, action, comp, ok, schema, executions, deliveries
                in rows]

    def refusals(self) -> list[tuple[str, str, int]]:
        """(agent, task id, schema) of every refused task."""
        with self._lock:
            rows = self._conn.execute("SELECT agent, task_id, schema FROM refusals").fetchall()
        return [(str(a), str(t), int(s)) for a, t, s in rows]


@dataclass(frozen=True)
class TaskView:
    """What an agent reads of a task, whichever version it arrived in."""

    task_id: str
    saga_id: str
    agent: str
    action: str
    compensation: bool
    input: dict[str, Any]
    correlation_id: str


def read_v1_task(body: bytes) -> TaskView:
    """The v1 view of a task, as an agent built before v2 reads it."""
    old = v1.Message.FromString(body)
    headers = dict(old.headers)
    return TaskView(headers["task_id"], old.correlation_id, headers["agent"], headers["action"],
                    headers.get("compensation") == "true", codec.struct_to_dict(old.payload),
                    old.correlation_id)


def behaviour_input(view: TaskView) -> dict[str, Any]:
    """The saga input a task carries: its own input, or the input of the step it undoes."""
    if view.compensation and isinstance(view.input.get("input"), dict):
        return dict(view.input["input"])
    return view.input


class StandInAgent:
    """One agent on a bus: reads tasks, executes each task id once, replies, announces itself."""

    def __init__(self, bus: Bus, name: str, effects: EffectLog, *,
                 schema_versions: Sequence[int] = (1, 2), heartbeat_s: float = 1.0,
                 queue: str | None = None) -> None:
        self.bus = bus
        self.name = name
        self.effects = effects
        self.schema_versions = tuple(schema_versions)
        self.heartbeat_s = heartbeat_s
        self.queue = queue or f"standin.{name}"
        self.instance_id = f"{name}-{uuid.uuid4().hex[:8]}"
        self.v1_only = self.schema_versions == (1,)

    def subscribe(self, router: Router) -> None:
        """Declare this agent's queue, bound to task.<agent>.# on the ingress exchange."""
        router.subscribe(self.queue, exchange=topology.INGRESS,
                         binding_keys=[f"task.{self.name}.#"])(self.on_task)

    async def on_task(self, message: v2.Message, delivery: Delivery) -> None:
        """Execute one task (once per task id) and reply."""
        if self.v1_only:
            if delivery.schema != 1:
                self.effects.refuse(self.name, message.task.task_id, delivery.schema)
                raise RejectMessage(f"{self.name} reads only v1", reason="unknown_schema")
            view = read_v1_task(delivery.body)
        else:
            task = message.task
            view = TaskView(task.task_id, message.saga_id, task.agent, task.action,
                            task.compensation, codec.struct_to_dict(task.input),
                            message.correlation_id)
        saga = behaviour_input(view)
        ok = view.compensation or saga.get("fail") != view.action
        self.effects.execute_once(view.task_id, saga_id=view.saga_id, agent=self.name,
                                  action=view.action, compensation=view.compensation, ok=ok,
                                  schema=delivery.schema)
        delay = float(saga.get("delay_ms", 0) or 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        output = {"by": self.name, "action": view.action, "task_id": view.task_id}
        if self.v1_only:
            await self._reply_v1(view, ok, output)
        else:
            await self._reply_v2(message, view, ok, output)

    async def _reply_v2(self, task_message: v2.Message, view: TaskView, ok: bool,
                        output: dict[str, Any]) -> None:
        result = v2.Result(task_id=view.task_id, agent=self.name, action=view.action,
                           compensation=view.compensation,
                           status=v2.Result.STATUS_OK if ok else v2.Result.STATUS_FAILED)
        if ok:
            result.output.CopyFrom(codec.struct_from(output))
        else:
            result.error.CopyFrom(v2.Error(code="refused", message=f"{view.action} was told to fail"))
        envelope = codec.new_envelope(result, source=self.name, caused_by=task_message)
        await self.bus.publish(topology.INGRESS, f"result.{self.name}.{view.action}", envelope)

    async def _reply_v1(self, view: TaskView, ok: bool, output: dict[str, Any]) -> None:
        reply = v1.Message(id=uuid.uuid4().hex, kind="result", correlation_id=view.correlation_id,
                           source=self.name)
        reply.created_at.FromDatetime(datetime.now(UTC))
        reply.headers.update(task_id=view.task_id, agent=self.name, action=view.action,
                             compensation=str(view.compensation).lower(), ok=str(ok).lower())
        if ok:
            reply.payload.CopyFrom(codec.struct_from(output))
        else:
            reply.headers.update(error_code="refused", error=f"{view.action} was told to fail",
                                 retryable="false")
        await self.bus.publish_raw(
            topology.INGRESS, f"result.{self.name}.{view.action}", reply.SerializeToString(),
            headers={codec.SCHEMA_HEADER: 1}, message_type=codec.V1_TYPE, message_id=reply.id,
            correlation_id=view.correlation_id)

    async def announce(self, phase: v2.AgentAnnouncement.Phase) -> None:
        """Publish one announcement (a genuine v1 one for a v1-only agent); nobody listening is fine."""
        key = f"agent.announce.{self.name}"
        if self.v1_only:
            old = v1.Message(id=uuid.uuid4().hex, kind="announcement", source=self.name)
            old.created_at.FromDatetime(datetime.now(UTC))
            old.headers.update(
                agent=self.name, instance_id=self.instance_id, schema_versions="1",
                phase=v2.AgentAnnouncement.Phase.Name(phase).removeprefix("PHASE_").lower())
            await self.bus.publish_raw(
                topology.INGRESS, key, old.SerializeToString(), headers={codec.SCHEMA_HEADER: 1},
                message_type=codec.V1_TYPE, message_id=old.id, mandatory=False)
            return
        body = v2.AgentAnnouncement(
            agent=self.name, instance_id=self.instance_id,
            schema_versions=list(self.schema_versions), phase=phase,
            heartbeat_interval_s=max(1, round(self.heartbeat_s)))
        await self.bus.publish(topology.INGRESS, key, codec.new_envelope(body, source=self.name),
                               mandatory=False)

    async def heartbeats(self, stop: asyncio.Event) -> None:
        """STARTED, then a HEARTBEAT every `heartbeat_s` until `stop`, then STOPPING."""
        await self.announce(v2.AgentAnnouncement.PHASE_STARTED)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.heartbeat_s)
            if not stop.is_set():
                await self.announce(v2.AgentAnnouncement.PHASE_HEARTBEAT)
        await self.announce(v2.AgentAnnouncement.PHASE_STOPPING)


async def serve(settings: Settings, names: Sequence[str], effects: EffectLog, *,
                schema_versions: Sequence[int], heartbeat_s: float, stop: asyncio.Event) -> None:
    """Run the named agents on one bus until `stop`; prints `ready` once they consume."""
    async with Bus.connect(settings) as bus:
        agents = [StandInAgent(bus, name, effects, schema_versions=schema_versions,
                               heartbeat_s=heartbeat_s) for name in names]
        router = Router()
        for agent in agents:
            agent.subscribe(router)
        await bus.start(router)
        beats = [asyncio.create_task(agent.heartbeats(stop)) for agent in agents]
        print("ready", flush=True)
        await stop.wait()
        await asyncio.gather(*beats, return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run stand-in agents as a process (broker from AGENTBUS_AMQP_URL)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", required=True, help="comma-separated agent names")
    parser.add_argument("--effects", required=True, type=Path, help="the SQLite effects file")
    parser.add_argument("--schema-versions", default="1,2", help="what they read: 1 or 1,2")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="seconds between heartbeats")
    args = parser.parse_args(argv)
    names = [n for n in args.agents.split(",") if n]
    versions = [int(v) for v in args.schema_versions.split(",") if v]
    effects = EffectLog(args.effects)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(Settings(service_name="stand-in"), names, effects, schema_versions=versions,
                    heartbeat_s=args.heartbeat, stop=stop)

    try:
        asyncio.run(run())
    finally:
        effects.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
