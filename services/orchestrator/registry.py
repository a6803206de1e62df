"""Which agent instances are alive and which envelope versions they read, from their announcements.

Agents announce themselves on `agent.announce.<agent>` when they start, by heartbeat, and when they
stop. A task is written in the newest version every live instance of its agent reads: an agent
whose instances all speak only v1 gets v1, and so does a mixed rollout (v1 is what all of them
read); v2 when nothing is known.

Right after start-up nothing may be known yet (a new store, or agents that started before this
replica and announced before its queue existed), so for a short warm-up a task for an agent not
heard from waits for the agent's next heartbeat before it is written.

What the registry learns is also kept in the saga store (on change, and refreshed now and then),
so a restarted replica, or a new one, knows the v1-only agents before their next heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from agentbus import codec
from agentbus.contracts.v2 import message_pb2 as v2
from services.orchestrator.record import now_utc

log = logging.getLogger(__name__)

DEFAULT_SCHEMA: Final = 2
SUPPORTED: Final = frozenset(codec.SUPPORTED_SCHEMAS)


@dataclass(frozen=True)
class AgentInstance:
    """One running instance of an agent, as it last announced itself."""

    agent: str
    instance_id: str
    schema_versions: frozenset[int]
    actions: tuple[str, ...]
    compensations: tuple[str, ...]
    heartbeat_interval_s: float
    last_seen: datetime

    def same_capabilities(self, other: AgentInstance) -> bool:
        """True when only `last_seen` differs."""
        return replace(other, last_seen=self.last_seen) == self


class Change(Enum):
    """What an announcement asks of the store."""

    SAVE = "save"
    REMOVE = "remove"


class AgentRegistry:
    """Live agent instances, fed by announcements; expired when their heartbeats stop."""

    def __init__(self, *, default_ttl_s: float = 60.0, missed_heartbeats: float = 3.0,
                 grace_s: float = 10.0, warmup_s: float = 0.0,
                 clock: Callable[[], datetime] = now_utc,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.default_ttl_s = default_ttl_s
        self.missed_heartbeats = missed_heartbeats
        self.clock = clock
        self.monotonic = monotonic
        self._settled_at = monotonic() + grace_s
        self._warm_at = monotonic() + warmup_s
        self._changed = asyncio.Event()
        self._instances: dict[str, dict[str, AgentInstance]] = {}
        self._persisted: dict[tuple[str, str], datetime] = {}
        self._warned_mixed: set[tuple[str, frozenset[frozenset[int]]]] = set()

    # ------------------------------------------------------------ feeding

    def observe(self, announcement: v2.AgentAnnouncement) -> tuple[Change, AgentInstance] | None:
        """Take one announcement; returns what to write to the store, if anything.

        STARTED and HEARTBEAT refresh the instance, STOPPING removes it. A heartbeat that changes
        nothing is written only when the stored copy is a third of its lifetime old.
        """
        agent, instance_id = announcement.agent, announcement.instance_id or "?"
        instances = self._instances.setdefault(agent, {})
        known = instances.get(instance_id)
        now = self.clock()
        instance = AgentInstance(
            agent=agent, instance_id=instance_id,
            schema_versions=frozenset(int(v) for v in announcement.schema_versions),
            actions=tuple(announcement.actions), compensations=tuple(announcement.compensations),
            heartbeat_interval_s=float(announcement.heartbeat_interval_s), last_seen=now)
        # Wake tasks waiting for this agent during the warm-up.
        self._changed.set()
        self._changed = asyncio.Event()
        if announcement.phase == v2.AgentAnnouncement.PHASE_STOPPING:
            instances.pop(instance_id, None)
            self._persisted.pop((agent, instance_id), None)
            log.info("agent %s instance %s stopped", agent, instance_id)
            return Change.REMOVE, instance
        instances[instance_id] = instance
        if known is None or not known.same_capabilities(instance):
            log.info("agent %s instance %s is alive (reads schema %s)", agent, instance_id,
                     ",".join(map(str, sorted(instance.schema_versions))) or "unspecified")
        persisted = self._persisted.get((agent, instance_id))
        stale = persisted is None or now - persisted >= self.ttl(instance) / 3
        if known is None or not known.same_capabilities(instance) or stale:
            self._persisted[(agent, instance_id)] = now
            return Change.SAVE, instance
        return None

    def restore(self, instances: Iterable[AgentInstance]) -> list[AgentInstance]:
        """Load what the store kept; returns the expired instances (to delete from the store)."""
        now = self.clock()
        expired = []
        for instance in instances:
            if self.expires_at(instance) <= now:
                expired.append(instance)
                continue
            current = self._instances.setdefault(instance.agent, {}).get(instance.instance_id)
            if current is None or current.last_seen < instance.last_seen:
                self._instances[instance.agent][instance.instance_id] = instance
                self._persisted[(instance.agent, instance.instance_id)] = instance.last_seen
        return expired

    # ------------------------------------------------------------ reading

    def ttl(self, instance: AgentInstance) -> timedelta:
        """How long an instance counts as alive after its last announcement."""
        seconds = (instance.heartbeat_interval_s * self.missed_heartbeats
                   if instance.heartbeat_interval_s > 0 else self.default_ttl_s)
        return timedelta(seconds=seconds)

    def expires_at(self, instance: AgentInstance) -> datetime:
        """When an instance counts as gone if it announces nothing more."""
        return instance.last_seen + self.ttl(instance)

    def instances(self, agent: str) -> list[AgentInstance]:
        """The live instances of an agent (expired ones are dropped)."""
        known = self._instances.get(agent, {})
        now = self.clock()
        for instance_id in [i for i, inst in known.items() if self.expires_at(inst) <= now]:
            log.info("agent %s instance %s missed its heartbeats; counted as gone", agent,
                     instance_id)
            del known[instance_id]
        return sorted(known.values(), key=lambda inst: inst.instance_id)

    def live_agents(self) -> frozenset[str]:
        """Agents with at least one live instance."""
        return frozenset(agent for agent in list(self._instances) if self.instances(agent))

    @property
    def settled(self) -> bool:
        """False during the grace period after start, while the first heartbeats arrive."""
        return self.monotonic() >= self._settled_at

    def schema_for(self, agent: str) -> int:
        """The envelope version to write a task in: the newest one every live instance reads."""
        readable = [inst.schema_versions & SUPPORTED for inst in self.instances(agent)
                    if inst.schema_versions]
        if not readable:
            return DEFAULT_SCHEMA
        common = frozenset.intersection(*readable)
        if common:
            return max(common)
        key = (agent, frozenset(readable))
        if key not in self._warned_mixed:
            self._warned_mixed.add(key)
            log.warning("the live instances of agent %s share no envelope version (%s); writing "
                        "v%d, which some of them cannot read: finish the rollout", agent,
                        " / ".join(",".join(map(str, sorted(v))) for v in readable), DEFAULT_SCHEMA)
        return DEFAULT_SCHEMA

    async def schema_for_task(self, agent: str) -> int:
        """`schema_for`, after waiting (during the warm-up only) for an unknown agent to announce."""
        while not self.instances(agent):
            remaining = self._warm_at - self.monotonic()
            if remaining <= 0:
                break
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=remaining)
            except TimeoutError:
                break
        return self.schema_for(agent)
