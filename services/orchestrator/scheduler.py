"""The timer loop: fire the store's due timers (step and compensation timeouts, retry delays).

Timers live in the store, so after a crash any replica fires what the dead one had armed. The loop
sleeps until the earliest timer (at most `poll_s`); a commit that arms a timer due before the loop
would look again wakes it (`armed`), others leave it asleep (most transitions arm a step timeout
far in the future, and waking for each would cost two store queries per transition).

With several replicas each fires the timers of the partitions it holds (`partitions()`), so they do
not all race for the same saga (the store's version check would let only one win anyway). A timer
overdue by `overdue_s` fires on any replica: a partition nobody thinks it holds is not left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta

from agentbus.errors import AgentBusError
from services.orchestrator.engine import SagaEngine
from services.orchestrator.machine import Timer
from services.orchestrator.record import now_utc
from services.orchestrator.waiting import sleep_unless, sleep_until_either

log = logging.getLogger(__name__)

# While the loop is looking (not asleep), any armed timer may have been missed: wake it again.
_LOOKING = datetime.max.replace(tzinfo=UTC)


class TimerLoop:
    """Fires due timers through the engine."""

    def __init__(self, engine: SagaEngine, *, poll_s: float = 0.5, batch: int = 100,
                 clock: Callable[[], datetime] = now_utc,
                 partitions: Callable[[], Collection[int] | None] = lambda: None,
                 overdue_s: float = 15.0) -> None:
        self.engine = engine
        self.partitions = partitions
        self.overdue_s = overdue_s
        self.poll_s = poll_s
        self.batch = batch
        self.clock = clock
        self._wake = asyncio.Event()
        self._next_look = _LOOKING

    def wake(self) -> None:
        """A timer may have been armed: recompute the next wake-up."""
        self._wake.set()

    @property
    def next_look(self) -> datetime | None:
        """When the sleeping loop looks at the store again; None while it is looking."""
        return None if self._next_look == _LOOKING else self._next_look

    def armed(self, timers: Iterable[Timer]) -> None:
        """A commit armed these timers: wake the loop if one is due before it looks again."""
        if any(timer.due_at < self._next_look for timer in timers):
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Fire timers as they come due until `stop` is set."""
        while not stop.is_set():
            self._wake.clear()
            self._next_look = _LOOKING
            held = self.partitions()
            try:
                fired = await self.engine.fire_due_timers(
                    limit=self.batch, partitions=held,
                    overdue_s=None if held is None else self.overdue_s)
                if fired >= self.batch:
                    continue
                next_due = await self.engine.store.next_timer_due(partitions=held)
            except AgentBusError as exc:
                log.warning("timer loop: %s; trying again in %.1fs", exc, self.poll_s)
                await sleep_unless(stop, self.poll_s)
                continue
            delay = self.poll_s
            if next_due is not None:
                delay = min(self.poll_s, max(0.0, (next_due - self.clock()).total_seconds()))
            if delay <= 0 and fired == 0:
                # Due but not fired (another replica's commit got there first): do not spin.
                delay = self.poll_s / 10
            if delay > 0:
                self._next_look = self.clock() + timedelta(seconds=delay)
                await sleep_until_either(self._wake, stop, delay)
