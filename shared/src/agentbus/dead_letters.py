"""Dead-letter queues: list what is in them and why, and replay messages to where they were going."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from agentbus.bus import (
    DEAD_LETTER_DETAIL,
    DEAD_LETTER_QUEUE,
    DEAD_LETTER_REASON,
    ORIGINAL_EXCHANGE,
    ORIGINAL_ROUTING_KEY,
    RETRIES_HEADER,
    Bus,
)
from agentbus.errors import ConfigurationError
from agentbus.management import ManagementClient
from agentbus.topology import QUARANTINE_QUEUE

# Headers that describe a past failure; a replayed message starts clean without them.
FAILURE_HEADERS = frozenset({
    DEAD_LETTER_REASON, DEAD_LETTER_DETAIL, DEAD_LETTER_QUEUE, RETRIES_HEADER, "x-death",
    "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "x-delivery-count",
    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
})


@dataclass(frozen=True)
class DeadLetterQueue:
    """A dead-letter (or quarantine) queue and how many messages wait in it."""

    name: str
    messages: int


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message and where it was going."""

    message_id: str
    reason: str
    detail: str
    queue: str
    exchange: str
    routing_key: str
    headers: Mapping[str, Any]
    body: bytes
    properties: Mapping[str, Any]


def list_queues(client: ManagementClient, vhost: str) -> list[DeadLetterQueue]:
    """Every dead-letter and quarantine queue in the vhost with its depth."""
    queues = client.get(f"/queues/{quote(vhost, safe='')}?columns=name,messages") or []
    return sorted(
        (DeadLetterQueue(q["name"], int(q.get("messages") or 0)) for q in queues
         if q["name"].endswith(".dlq") or q["name"] == QUARANTINE_QUEUE),
        key=lambda q: q.name)


def describe(headers: Mapping[str, Any], body: bytes, properties: Mapping[str, Any]) -> DeadLetter:
    """Where a dead letter came from and why, whether agentbus or the broker dead-lettered it."""
    deaths = headers.get("x-death") or []
    first = deaths[0] if deaths and isinstance(deaths[0], Mapping) else {}
    keys = first.get("routing-keys") or [""]
    return DeadLetter(
        message_id=str(properties.get("message_id") or ""),
        reason=str(headers.get(DEAD_LETTER_REASON) or first.get("reason") or "unknown"),
        detail=str(headers.get(DEAD_LETTER_DETAIL) or ""),
        queue=str(headers.get(DEAD_LETTER_QUEUE) or first.get("queue") or ""),
        exchange=str(headers.get(ORIGINAL_EXCHANGE) or first.get("exchange") or ""),
        routing_key=str(headers.get(ORIGINAL_ROUTING_KEY) or keys[0]),
        headers=headers, body=body, properties=properties,
    )


def peek(client: ManagementClient, vhost: str, queue: str, limit: int) -> list[DeadLetter]:
    """Up to `limit` messages of a queue, left in place."""
    got = client.post(
        f"/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}/get",
        {"count": limit, "ackmode": "ack_requeue_true", "encoding": "base64", "truncate": 50_000_000},
    ) or []
    return [describe(m.get("properties", {}).get("headers") or {}, base64.b64decode(m["payload"]),
                     m.get("properties", {})) for m in got]


async def replay(bus: Bus, queue: str, *, limit: int, message_id: str | None = None) -> list[DeadLetter]:
    """Move up to `limit` messages from a dead-letter queue back to their original exchange and key.

    Each message is acknowledged only after its republish is confirmed, so a failure leaves it in the
    dead-letter queue. With `message_id`, only that message is replayed; others are left in place.
    """
    replayed: list[DeadLetter] = []
    async for incoming in bus.fetch(queue, limit=10_000 if message_id else limit):
        letter = describe(dict(incoming.headers or {}), incoming.body,
                          {"message_id": incoming.message_id, "type": incoming.type})
        if message_id and letter.message_id != message_id:
            continue  # left unsettled: requeued, in order, when fetch closes its channel
        if not letter.routing_key:
            await incoming.nack(requeue=True)
            raise ConfigurationError(
                f"message {letter.message_id} in {queue} has no original routing key; replay it by hand "
                "with `agentbus publish`.")
        headers = {k: v for k, v in (incoming.headers or {}).items() if k not in FAILURE_HEADERS}
        headers.pop(ORIGINAL_EXCHANGE, None)
        headers.pop(ORIGINAL_ROUTING_KEY, None)
        await bus.publish_raw(
            letter.exchange, letter.routing_key, incoming.body, headers=headers,
            message_type=incoming.type, message_id=incoming.message_id,
            correlation_id=incoming.correlation_id, content_type=incoming.content_type or "")
        await incoming.ack()
        replayed.append(letter)
        if len(replayed) >= limit or message_id:
            break
    return replayed
