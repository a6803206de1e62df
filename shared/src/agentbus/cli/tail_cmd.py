"""`agentbus tail`: print, decoded, what arrives on a binding key."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import uuid

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError
from agentbus.settings import Settings

EPILOG = """\
Binds a temporary queue (gone when tail exits) to the exchange and prints each message, upcast to v2,
with the version it arrived in. Examples:
  agentbus tail 'saga.#'                       every saga lifecycle event
  agentbus tail 'task.#' --exchange agentbus.agents --count 5"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `tail`."""
    parser.epilog = EPILOG
    parser.add_argument("binding_key", nargs="+", help="AMQP topic pattern(s), e.g. 'saga.#'")
    parser.add_argument("--exchange", default=topology.INGRESS, help="default: agentbus.ingress")
    parser.add_argument("--count", type=int, default=0, help="exit after N messages (0: run until Ctrl-C)")
    parser.add_argument("--timeout", type=float, default=0, help="exit after S seconds (0: no limit)")
    parser.add_argument("--json", action="store_true", help="one JSON object per message")


def format_message(message: v2.Message, delivery: Delivery, *, as_json: bool) -> str:
    """One printable line (or JSON object) for a received message."""
    data = codec.to_json_dict(message)
    if as_json:
        return json.dumps({"routing_key": delivery.routing_key, "schema": delivery.schema, "message": data})
    body_field = message.WhichOneof("body") or ""
    body = json.dumps(data.get(body_field, {}), separators=(",", ":"))
    saga = f" saga={message.saga_id}" if message.saga_id else ""
    return f"{delivery.routing_key} v{delivery.schema} {message.kind} id={message.id}{saga} {body}"


async def _tail(args: argparse.Namespace, settings: Settings) -> int:
    received = 0
    done = asyncio.Event()
    router = Router()

    @router.subscribe(f"agentbus.client.tail.{uuid.uuid4().hex[:12]}", exchange=args.exchange,
                      binding_keys=args.binding_key, temporary=True)
    async def show(message: v2.Message, delivery: Delivery) -> None:
        nonlocal received
        print(format_message(message, delivery, as_json=args.json), flush=True)
        received += 1
        if args.count and received >= args.count:
            done.set()

    async with Bus.connect(settings) as bus:
        await bus.start(router)
        print(f"tailing {', '.join(args.binding_key)} on {args.exchange} (Ctrl-C to stop)",
              file=sys.stderr, flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=args.timeout or None)
    return 0 if not args.count or received >= args.count else 2


def run(args: argparse.Namespace) -> int:
    """Tail until the count, the timeout or Ctrl-C."""
    settings = Settings()
    try:
        return asyncio.run(_tail(args, settings))
    except AgentBusError as exc:
        print(f"tail failed: {exc}", file=sys.stderr)
        return 1
