"""Helpers for broker tests: read queues over AMQP (instant, unlike the management API's 5 s stats)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika


async def queue_depth(amqp_url: str, queue: str) -> int:
    """Ready messages in a queue right now (a passive declare)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def take_messages(
    amqp_url: str, queue: str, count: int, *, timeout: float = 15.0,
) -> list[dict[str, Any]]:
    """Remove `count` messages from a queue (waiting up to `timeout`); each has headers, body, properties."""
    taken: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        q = await channel.get_queue(queue)
        while len(taken) < count:
            message = await q.get(fail=False)
            if message is None:
                if time.monotonic() > deadline:
                    raise AssertionError(f"only {len(taken)} of {count} message(s) arrived in {queue}")
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            taken.append({
                "headers": dict(message.headers or {}),
                "body": message.body,
                "routing_key": message.routing_key,
                "message_id": message.message_id,
                "type": message.type,
            })
    return taken


async def wait_for(predicate: Callable[[], bool | Awaitable[bool]], *, timeout: float = 15.0,
                   interval: float = 0.1, what: str = "condition") -> None:
    """Poll `predicate` until it is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)
