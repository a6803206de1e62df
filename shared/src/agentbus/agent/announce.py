"""Agent announcements on `agent.announce.<name>`: at start, by heartbeat, and when stopping.

Nobody has to listen (`mandatory=False`): `agentbus agents` and the orchestrator (which sends v1
tasks to agents that speak only v1) bind temporary or own queues when they care.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from agentbus import codec, topology
from agentbus.agent.definition import Agent
from agentbus.bus import Bus
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError

log = logging.getLogger(__name__)

Phase = v2.AgentAnnouncement.Phase


def announce_routing_key(agent: str) -> str:
    """The routing key of `agent`'s announcements."""
    return f"agent.announce.{agent}"


def announcement(agent: Agent, instance_id: str, phase: Phase, heartbeat_s: float) -> v2.Message:
    """The envelope announcing `agent`'s instance in `phase`."""
    body = v2.AgentAnnouncement(
        agent=agent.name, instance_id=instance_id, actions=sorted(agent.actions),
        compensations=sorted(agent.compensations), schema_versions=list(agent.versions),
        phase=phase, heartbeat_interval_s=max(1, round(heartbeat_s)))
    return codec.new_envelope(body, source=agent.name)


class Announcer:
    """Publishes one instance's announcements; `run` sends heartbeats until stopped."""

    def __init__(self, bus: Bus, agent: Agent, instance_id: str, *, heartbeat_s: float) -> None:
        self.bus = bus
        self.agent = agent
        self.instance_id = instance_id
        self.heartbeat_s = heartbeat_s

    async def publish(self, phase: Phase) -> bool:
        """Announce `phase`, in the newest version the agent speaks; False if it could not be sent."""
        message = announcement(self.agent, self.instance_id, phase, self.heartbeat_s)
        try:
            await self.bus.publish(topology.INGRESS, announce_routing_key(self.agent.name), message,
                                   schema=self.agent.reply_schema, mandatory=False)
        except AgentBusError as exc:
            # Missing a heartbeat is not worth stopping work for; the next one may get through.
            log.warning("could not announce %s (%s): %s", self.agent.name,
                        Phase.Name(phase).removeprefix("PHASE_").lower(), exc)
            return False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Send a heartbeat every interval until `stop` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.heartbeat_s)
            if not stop.is_set():
                await self.publish(Phase.PHASE_HEARTBEAT)
