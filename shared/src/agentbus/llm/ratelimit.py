"""An asyncio token bucket that spaces an agent's LLM requests to a rate per minute."""

from __future__ import annotations

import asyncio


class AsyncTokenBucket:
    """Allow `burst` requests back to back, then one every 60/`per_minute` seconds."""

    def __init__(self, per_minute: float, *, burst: int = 1) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate_per_s = per_minute / 60.0
        self.capacity = float(burst)
        self._tokens = float(burst)
        self._updated: float | None = None
        # One waiter at a time keeps the order fair (first come, first served).
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        if self._updated is not None:
            elapsed = now - self._updated
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate_per_s)
        self._updated = now

    async def acquire(self) -> float:
        """Wait until a request may go out; return how long this call waited, in seconds."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            started = loop.time()
            self._refill(started)
            if self._tokens < 1.0:
                await asyncio.sleep((1.0 - self._tokens) / self.rate_per_s)
                self._refill(loop.time())
            # Sleep may wake a hair early on coarse clocks; never let the balance go negative twice.
            self._tokens = max(0.0, self._tokens - 1.0)
            return loop.time() - started
