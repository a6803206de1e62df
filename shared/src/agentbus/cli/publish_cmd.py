"""`agentbus publish`: publish one agentbus message with a routing key."""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from agentbus import codec, topology
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError
from agentbus.settings import Settings
from agentbus.sync_client import SyncPublisher

EPILOG = """\
The body follows from the routing key:
  saga.start.<type>         a SagaStart with --input as the saga input (a new saga id unless --saga-id)
  task.<agent>.<action>     a Task with --input as its input
  result.<agent>.<action>   an OK Result with --input as its output
Examples:
  agentbus publish saga.start.content_pipeline --input '{"topic": "quorum queues"}'
  agentbus publish task.writer.write --input '{"notes": "..."}' --schema 1
The message is persistent and confirmed; an unroutable key is an error (exit 1)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `publish`."""
    parser.epilog = EPILOG
    parser.add_argument("routing_key", help="e.g. saga.start.content_pipeline or task.writer.write")
    parser.add_argument("--input", default="{}", help="JSON object: the saga input, task input or output")
    parser.add_argument("--exchange", default=topology.INGRESS, help="default: agentbus.ingress")
    parser.add_argument("--schema", type=int, choices=(1, 2), default=2, help="envelope version to write")
    parser.add_argument("--saga-id", default="", help="saga id (correlation id); new for saga.start")
    parser.add_argument("--json", action="store_true", help="print the published envelope as JSON")


def build_message(routing_key: str, data: dict[str, object], *, saga_id: str, source: str) -> v2.Message:
    """The envelope `agentbus publish` sends for a routing key."""
    parts = routing_key.split(".")
    inp = codec.struct_from(data)
    body: codec.BodyMessage
    if routing_key.startswith("saga.start.") and len(parts) >= 3:
        saga_id = saga_id or uuid.uuid4().hex
        body = v2.SagaStart(saga_type=".".join(parts[2:]), input=inp)
    elif parts[0] == "task" and len(parts) >= 3:
        body = v2.Task(task_id=uuid.uuid4().hex, agent=parts[1], action=".".join(parts[2:]), input=inp)
    elif parts[0] == "result" and len(parts) >= 3:
        body = v2.Result(agent=parts[1], action=".".join(parts[2:]), status=v2.Result.STATUS_OK, output=inp)
    else:
        raise ValueError(
            f"cannot build a message for routing key {routing_key!r}; use saga.start.<type>, "
            "task.<agent>.<action> or result.<agent>.<action>")
    return codec.new_envelope(body, source=source, saga_id=saga_id)


def run(args: argparse.Namespace) -> int:
    """Publish and print the ids."""
    settings = Settings()
    try:
        data = json.loads(args.input)
        if not isinstance(data, dict):
            raise ValueError("--input must be a JSON object")
        message = build_message(args.routing_key, data, saga_id=args.saga_id,
                                source=settings.service_name)
        with SyncPublisher(settings) as publisher:
            publisher.publish(args.exchange, args.routing_key, message, schema=args.schema)
    except (AgentBusError, ValueError) as exc:
        print(f"publish failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(codec.to_json_dict(message), indent=2))
    else:
        print(f"published {message.kind} {message.id} to {args.exchange} as {args.routing_key!r} "
              f"(schema v{args.schema}){f', saga {message.saga_id}' if message.saga_id else ''}")
    return 0
