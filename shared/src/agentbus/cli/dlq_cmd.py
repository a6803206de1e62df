"""`agentbus dlq list` and `agentbus dlq replay`: inspect and replay dead-lettered messages."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from agentbus import dead_letters
from agentbus.bus import Bus
from agentbus.errors import AgentBusError
from agentbus.management import ManagementClient
from agentbus.settings import Settings

LIST_EPILOG = """\
Without QUEUE: every dead-letter queue (<queue>.dlq) and the guardrail's quarantine, with their depth.
With QUEUE: its messages (left in place), each with the reason it was dead-lettered and where it was
going. Examples:
  agentbus dlq list
  agentbus dlq list agentbus.agent.writer.dlq --limit 5"""

REPLAY_EPILOG = """\
Moves messages from a dead-letter queue back to the exchange and routing key they were first published
with (failure headers removed, retries reset). Each is acknowledged only after the broker confirms its
republish. Fix the cause first (the reason is in `agentbus dlq list QUEUE`). Examples:
  agentbus dlq replay agentbus.agent.writer.dlq --limit 10
  agentbus dlq replay agentbus.agent.writer.dlq --id 4f1c...   (one message)"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `dlq list` (the replay command reuses this module)."""
    parser.epilog = LIST_EPILOG
    parser.add_argument("queue", nargs="?", help="a dead-letter queue, e.g. agentbus.agent.writer.dlq")
    parser.add_argument("--limit", type=int, default=20, help="messages to show (default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    """List queues, or the messages of one queue."""
    settings = Settings()
    try:
        with ManagementClient(settings.management_url, *settings.management_credentials()) as client:
            if not args.queue:
                for q in dead_letters.list_queues(client, settings.vhost):
                    print(json.dumps({"queue": q.name, "messages": q.messages}) if args.json
                          else f"{q.messages:>7}  {q.name}")
                return 0
            letters = dead_letters.peek(client, settings.vhost, args.queue, args.limit)
    except AgentBusError as exc:
        print(f"dlq list failed: {exc}", file=sys.stderr)
        return 1
    for letter in letters:
        if args.json:
            print(json.dumps({"message_id": letter.message_id, "reason": letter.reason,
                              "detail": letter.detail, "queue": letter.queue, "exchange": letter.exchange,
                              "routing_key": letter.routing_key, "bytes": len(letter.body)}))
        else:
            print(f"{letter.message_id}  {letter.reason}  {letter.exchange}:{letter.routing_key}\n"
                  f"    {letter.detail or '(no detail)'}")
    if not letters and not args.json:
        print(f"{args.queue} is empty")
    return 0


def configure_replay(parser: argparse.ArgumentParser) -> None:
    """Options of `dlq replay`."""
    parser.epilog = REPLAY_EPILOG
    parser.add_argument("queue", help="the dead-letter queue to replay from")
    parser.add_argument("--limit", type=int, default=100, help="messages to replay (default 100)")
    parser.add_argument("--id", dest="message_id", help="replay only the message with this id")


def run_replay(args: argparse.Namespace) -> int:
    """Replay and print what went where."""
    settings = Settings()

    async def go() -> list[dead_letters.DeadLetter]:
        async with Bus.connect(settings) as bus:
            return await dead_letters.replay(bus, args.queue, limit=args.limit, message_id=args.message_id)

    try:
        replayed = asyncio.run(go())
    except AgentBusError as exc:
        print(f"dlq replay failed: {exc}", file=sys.stderr)
        return 1
    for letter in replayed:
        print(f"replayed {letter.message_id} -> {letter.exchange}:{letter.routing_key} "
              f"(was: {letter.reason})")
    print(f"{len(replayed)} message(s) replayed from {args.queue}")
    return 0 if replayed or not args.message_id else 1
