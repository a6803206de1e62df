"""The timer loop: fire the store's due timers (step and compensation timeouts, retry delays).

Timers live in the store, so after a crash any replica fires what the dead one had armed. The loop
sleeps until the earliest timer (at most `poll_s`), and commits that arm a timer wake it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from agentbus.errors import AgentBusError
from services.orchestrator.engine import SagaEngine
from services.orchestrator.record import now_utc
from services.orchestrator.waiting import sleep_unless, sleep_until_either

log = logging.getLogger(__name__)


class TimerLoop:
    """Fires due timers through the engine."""

    def __init__(self, engine: SagaEngine, *, poll_s: float = 0.5, batch: int = 100,
                 clock: Callable[[], datetime] = now_utc) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.batch = batch
        self.clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A timer may have been armed: recompute the next wake-up."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Fire timers as they come due until `stop` is set."""
        while not stop.is_set():
            self._wake.clear()
            try:
                fired = await self.engine.fire_due_timers(limit=self.batch)
                if fired >= self.batch:
                    continue
                next_due = await self.engine.store.next_timer_due()
            except AgentBusError as exc:
                log.warning("timer loop: %s; trying again in %.1fs", exc, self.poll_s)
                await sleep_unless(stop, self.poll_s)
                continue
            delay = self.poll_s
            if next_due is not None:
                delay = min(self.poll_s, max(0.0, (next_due - self.clock()).total_seconds()))
            if delay > 0:
                await sleep_until_either(self._wake, stop, delay)
