"""`agentbus agents`: which agents are alive, what they do and which message versions they speak.

Agents announce themselves on `agent.announce.<name>` at start, every AGENTBUS_HEARTBEAT_S seconds
and when stopping. This command binds a temporary queue to `agent.announce.#` and listens for
about one heartbeat interval, so every live instance is heard from at least once; an instance
whose last word was "stopping" is left out.

Why listen instead of asking: an agent reads only its own queue on agentbus.agents, which only the
guardrail may write to, so a "who is there?" request would have to pass the guardrail or widen
every agent's permissions. Heartbeats need neither, and also tell when an agent goes away.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from agentbus import topology
from agentbus.agent.settings import AgentSettings
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError

PHASES: Final = {value: name.removeprefix("PHASE_").lower()
                 for name, value in v2.AgentAnnouncement.Phase.items()}

EPILOG = """\
Examples:
  agentbus agents                       listen one heartbeat interval (AGENTBUS_HEARTBEAT_S + 1 s)
  agentbus agents --expect 9            return as soon as 9 distinct agents were heard
  agentbus agents --json | jq '.[] | select(.schema_versions == [1])'"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `agents`."""
    parser.epilog = EPILOG
    parser.add_argument("--wait", type=float, default=None, metavar="S",
                        help="listen this long (default: one heartbeat interval plus a second)")
    parser.add_argument("--expect", type=int, default=0, metavar="N",
                        help="stop listening once N distinct agents were heard (exit 1 if fewer)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of instances")


@dataclass
class Instance:
    """The last word of one agent instance."""

    agent: str
    instance_id: str
    phase: str
    actions: list[str]
    compensations: list[str]
    schema_versions: list[int]
    heartbeat_interval_s: int
    announced_in: int
    last_seen: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        """The instance as a JSON object."""
        return {"agent": self.agent, "instance_id": self.instance_id, "phase": self.phase,
                "actions": self.actions, "compensations": self.compensations,
                "schema_versions": self.schema_versions,
                "heartbeat_interval_s": self.heartbeat_interval_s,
                "announced_in_schema": self.announced_in, "last_seen": self.last_seen}


class Listener:
    """Keeps the latest announcement of each instance."""

    def __init__(self, expect: int) -> None:
        self.instances: dict[str, Instance] = {}
        self.expect = expect
        self.enough = asyncio.Event()

    async def __call__(self, message: v2.Message, delivery: Delivery) -> None:
        """Take one announcement."""
        if message.WhichOneof("body") != "announcement":
            return
        a = message.announcement
        self.instances[a.instance_id] = Instance(
            agent=a.agent, instance_id=a.instance_id, phase=PHASES.get(a.phase, "unknown"),
            actions=list(a.actions), compensations=list(a.compensations),
            schema_versions=list(a.schema_versions), heartbeat_interval_s=a.heartbeat_interval_s,
            announced_in=delivery.schema)
        if self.expect and len(self.alive_agents()) >= self.expect:
            self.enough.set()

    def alive(self) -> list[Instance]:
        """Instances whose last announcement was not 'stopping', by agent name."""
        return sorted((i for i in self.instances.values() if i.phase != "stopping"),
                      key=lambda i: (i.agent, i.instance_id))

    def alive_agents(self) -> set[str]:
        """Distinct agent names alive."""
        return {i.agent for i in self.alive()}


def table(instances: list[Instance]) -> list[str]:
    """Aligned lines: agent, instance, versions, actions, compensations."""
    rows = [("agent", "instance", "versions", "actions", "compensations")]
    rows += [(i.agent, i.instance_id, ",".join(f"v{v}" for v in i.schema_versions),
              ",".join(i.actions), ",".join(i.compensations) or "-") for i in instances]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    return ["  ".join(cell.ljust(widths[c]) if c < 4 else cell for c, cell in enumerate(row))
            for row in rows]


async def listen(settings: AgentSettings, *, wait_s: float, expect: int) -> Listener:
    """Listen to agent announcements for `wait_s` seconds (less once `expect` agents were heard)."""
    listener = Listener(expect)
    router = Router()
    router.subscribe(f"agentbus.client.agents.{uuid.uuid4().hex[:12]}", exchange=topology.INGRESS,
                     binding_keys=["agent.announce.#"], temporary=True)(listener)
    async with Bus.connect(settings) as bus:
        await bus.start(router)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.enough.wait(), timeout=wait_s)
    return listener


def run(args: argparse.Namespace) -> int:
    """List the live agents; exit 1 when none (or fewer than --expect) were heard."""
    settings = AgentSettings()
    wait_s = args.wait if args.wait is not None else settings.heartbeat_s + 1.0
    if not args.json:
        print(f"listening to agent.announce.# for up to {wait_s:g}s...", file=sys.stderr, flush=True)
    try:
        listener = asyncio.run(listen(settings, wait_s=wait_s, expect=args.expect))
    except AgentBusError as exc:
        print(f"agents failed: {exc}", file=sys.stderr)
        return 1
    alive = listener.alive()
    if args.json:
        print(json.dumps([i.as_json() for i in alive], indent=2))
    elif alive:
        print("\n".join(table(alive)))
        names = listener.alive_agents()
        print(f"{len(alive)} instance(s) of {len(names)} agent(s)", file=sys.stderr)
    else:
        print("no agent announced itself; start some with `agentbus up` or "
              "`python -m services.agents.<name>`", file=sys.stderr)
    if not alive or (args.expect and len(listener.alive_agents()) < args.expect):
        return 1
    return 0
