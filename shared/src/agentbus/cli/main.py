"""Entry point of the `agentbus` console script.

Each command lives in its own module exposing `configure(parser)` and `run(args) -> int`; the table
below is the only place commands are registered, so `agentbus --help` always lists what exists.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple, Protocol, cast

from pydantic import ValidationError

from agentbus.settings import settings_error


class Command(NamedTuple):
    """A CLI command: its words, the module implementing it, and its one-line help."""

    words: tuple[str, ...]
    module: str
    help: str


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace) -> int: ...


GROUP_HELP: dict[str, str] = {
    "topology": "declare the broker side: vhost, exchanges, queues, users, permissions",
    "guard": "scan text with the guardrail, score it on a labelled corpus",
    "saga": "start, follow and inspect sagas",
    "bench": "measure throughput and latency against the real broker",
    "dlq": "list and replay dead-lettered messages",
}

COMMANDS: tuple[Command, ...] = (
    Command(("topology", "apply"), "agentbus.cli.topology_cmd",
            "declare (idempotently) everything agentbus needs on the broker"),
    Command(("publish",), "agentbus.cli.publish_cmd",
            "publish one message to an exchange with a routing key"),
    Command(("tail",), "agentbus.cli.tail_cmd",
            "print, decoded, what arrives on a binding key"),
    Command(("dlq", "list"), "agentbus.cli.dlq_cmd",
            "list dead-letter queues, or the messages in one with their reasons"),
    Command(("dlq", "replay"), "agentbus.cli.dlq_replay_cmd",
            "send dead-lettered messages back where they were going"),
    Command(("guard", "scan"), "services.guardrail.commands.scan", "verdict for stdin text"),
    Command(("guard", "eval"), "services.guardrail.commands.evaluate", "score a labelled corpus"),
    Command(("bench", "saga"), "agentbus.cli.bench_saga_cmd",
            "sagas/s and latency of the real services (beside the raw aio-pika saga)"),
    Command(("bench", "guard-hop"), "agentbus.cli.bench_hop_cmd",
            "what the guardrail hop adds to a message's trip through the broker"),
    Command(("bench", "guard"), "services.guardrail.commands.bench", "guardrail scans per second"),
    Command(("saga", "start"), "agentbus.cli.saga_cmd", "start a saga; --wait follows it to its end"),
    Command(("saga", "show"), "agentbus.cli.saga_cmd", "print one saga from the saga store"),
    Command(("saga", "list"), "agentbus.cli.saga_cmd", "list recent sagas from the saga store"),
    Command(("up",), "agentbus.cli.up_cmd", "run every service and agent as local processes until Ctrl-C"),
    Command(("agents",), "agentbus.cli.agents_cmd", "list the live agents: versions, actions, instances"),
    Command(("demo",), "agentbus.cli.demo_cmd",
            "run everything, a saga that completes and one that compensates"),
)

EPILOG = """\
Configuration comes from environment variables prefixed AGENTBUS_ (see README, "Configuration").
The broker is AGENTBUS_AMQP_URL, default amqp://guest:guest@localhost:5672/.
Run `agentbus COMMAND --help` for a command's options."""


def build_parser() -> argparse.ArgumentParser:
    """Build the whole parser tree from COMMANDS."""
    parser = argparse.ArgumentParser(
        prog="agentbus",
        description="Run teams of LLM agents as microservices on RabbitMQ.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in COMMANDS:
        module = cast(CommandModule, importlib.import_module(command.module))
        if len(command.words) == 1:
            sub = top.add_parser(command.words[0], help=command.help, description=command.help,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        else:
            group_name, name = command.words
            if group_name not in groups:
                group_parser = top.add_parser(group_name, help=GROUP_HELP.get(group_name, ""),
                                              description=GROUP_HELP.get(group_name, ""))
                groups[group_name] = group_parser.add_subparsers(
                    dest="subcommand", metavar="SUBCOMMAND", required=True)
            sub = groups[group_name].add_parser(
                name, help=command.help, description=command.help,
                formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the chosen command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except ValidationError as exc:  # an AGENTBUS_* variable the settings refuse
        print(f"agentbus: {settings_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`agentbus ... | head`); that is not an error of ours.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
