"""`agentbus saga start|show|list`: start a saga and follow it live, or read sagas from the store.

One module serves the three subcommands: `main.py` registers it once per subcommand, `configure()`
picks the options by the subcommand's name and `run()` dispatches on `args.subcommand`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from agentbus import codec, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError, ConfigurationError
from agentbus.settings import Settings, redact_url

if TYPE_CHECKING:
    from rich.console import Console

    from services.orchestrator.record import SagaRecord

EXIT_COMPLETED: Final = 0
EXIT_FAILED: Final = 1  # compensated, escalated or refused; also any error before the saga ran
EXIT_TIMEOUT: Final = 2
TERMINAL: Final = frozenset({"completed", "compensated", "escalated"})
STATUS_NAMES: Final = {value: name.removeprefix("SAGA_STATUS_").lower()
                       for name, value in v2.SagaStatus.items()}
STYLE: Final = {
    "started": "cyan", "step_completed": "green", "completed": "bold green", "step_failed": "red",
    "compensating": "yellow", "compensated": "bold yellow", "escalated": "bold red",
    "running": "cyan", "failed": "red", "compensation_failed": "bold red", "skipped": "dim",
    "pending": "dim",
}

START_EPILOG = """\
Publishes saga.start.TYPE on agentbus.ingress (what the `client` broker user may do) with a new saga
id, and prints the id. With --wait it first binds a temporary queue to this type's lifecycle events
(saga.<status>.TYPE), then follows the saga, one line per transition, until it finishes.

Exit codes: 0 completed (or started, without --wait); 1 compensated, escalated, refused (an unknown
saga type: the orchestrator dead-letters the start with reason unknown_saga_type and announces it as
saga.escalated.TYPE), or a broker error; 2 no final status within --timeout.

Examples:
  agentbus saga start content_pipeline --input '{"topic": "quorum queues"}'
  agentbus saga start content_pipeline --input '{"topic": "otters"}' --wait
  agentbus saga start code_review --input @change.json --wait --timeout 120 --json > record.json"""

SHOW_EPILOG = """\
Reads the saga store the orchestrator writes (AGENTBUS_SAGA_STORE_URL, default
sqlite:///.agentbus/sagas.db). Exit code 1 when there is no such saga.

Examples:
  agentbus saga show 3f2a9c0d4e5b4c1a9d8e7f6a5b4c3d2e
  agentbus saga show 3f2a9c0d4e5b4c1a9d8e7f6a5b4c3d2e --json | jq .compensations"""

LIST_EPILOG = """\
Most recently updated first, from the saga store (AGENTBUS_SAGA_STORE_URL).

Examples:
  agentbus saga list
  agentbus saga list --status escalated --limit 20
  agentbus saga list --type content_pipeline --json"""


# ---------------------------------------------------------------- argument parsing


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `saga start`, `saga show` or `saga list` (chosen by the parser's name)."""
    name = parser.prog.split()[-1]
    if name == "start":
        _configure_start(parser)
    elif name == "show":
        _configure_show(parser)
    elif name == "list":
        _configure_list(parser)
    else:  # pragma: no cover  (a registration mistake in main.py)
        raise ValueError(f"agentbus saga has no subcommand {name!r}")


def _configure_start(parser: argparse.ArgumentParser) -> None:
    parser.epilog = START_EPILOG
    parser.add_argument("saga_type", metavar="TYPE", help="the saga type, e.g. content_pipeline")
    parser.add_argument("--input", default="{}", metavar="JSON",
                        help="the saga input: a JSON object, or @file.json (default {})")
    parser.add_argument("--saga-id", default="", metavar="ID",
                        help="the saga id (default: a new random id); a repeated id is ignored")
    parser.add_argument("--wait", action="store_true",
                        help="follow the saga until it completes, compensates or escalates")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S",
                        help="with --wait: give up after S seconds, exit code 2 (default 300)")
    parser.add_argument("--json", action="store_true",
                        help="print the final saga record as JSON on stdout (progress goes to stderr)")
    parser.add_argument("--schema", type=int, choices=(1, 2), default=2,
                        help="envelope version of the start message (default 2)")


def _configure_show(parser: argparse.ArgumentParser) -> None:
    parser.epilog = SHOW_EPILOG
    parser.add_argument("saga_id", metavar="ID", help="the saga id")
    parser.add_argument("--json", action="store_true", help="print the saga record as JSON")


def _configure_list(parser: argparse.ArgumentParser) -> None:
    from services.orchestrator.record import SagaState

    parser.epilog = LIST_EPILOG
    parser.add_argument("--status", choices=[s.value for s in SagaState],
                        help="only sagas in this status")
    parser.add_argument("--type", dest="saga_type", metavar="TYPE", help="only sagas of this type")
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="at most N sagas (default 50)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of saga records")


def run(args: argparse.Namespace) -> int:
    """Run the chosen `saga` subcommand; returns the exit code."""
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "start": run_start, "show": run_show, "list": run_list}
    return commands[args.subcommand](args)


# ---------------------------------------------------------------- saga start


def read_input(text: str) -> dict[str, Any]:
    """The saga input from `--input`: a JSON object, or `@path` to a file holding one."""
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read the input file {source}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid JSON ({exc}); pass an object such as "
                                 "'{\"topic\": \"otters\"}'") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source} must be a JSON object (the saga input), "
                                 f"got {type(data).__name__}")
    return data


def start_message(saga_type: str, saga_input: dict[str, Any], *, saga_id: str,
                  source: str) -> v2.Message:
    """The SagaStart envelope: saga id set, so it is also the partition key."""
    body = v2.SagaStart(saga_type=saga_type, input=codec.struct_from(saga_input))
    return codec.new_envelope(body, source=source, saga_id=saga_id)


def run_start(args: argparse.Namespace) -> int:
    """Publish the start; with --wait, follow the saga to its end."""
    settings = Settings()
    out = sys.stderr if args.json else sys.stdout
    display = Progress(out, rich=out.isatty())
    try:
        saga_input = read_input(args.input)
        return asyncio.run(_start(args, settings, saga_input, display))
    except AgentBusError as exc:
        print(f"saga start failed: {exc}", file=sys.stderr)
        return EXIT_FAILED


async def _start(args: argparse.Namespace, settings: Settings, saga_input: dict[str, Any],
                 display: Progress) -> int:
    saga_id = args.saga_id or uuid.uuid4().hex
    message = start_message(args.saga_type, saga_input, saga_id=saga_id,
                            source=settings.service_name)
    follower = SagaFollower(saga_id, display)
    async with Bus.connect(settings) as bus:
        if args.wait:
            # Bound before the start is published, so not even the `started` event can be missed.
            # Only this type's lifecycle events (saga.<status>.TYPE): a subset of saga.#.
            router = Router()
            router.subscribe(f"agentbus.client.saga.{uuid.uuid4().hex[:12]}",
                             exchange=topology.INGRESS, binding_keys=[f"saga.*.{args.saga_type}"],
                             temporary=True)(follower)
            await bus.start(router)
        if args.wait:
            display.line(f"saga {saga_id} ({args.saga_type}): starting", style="dim")
        await bus.publish(topology.INGRESS, f"saga.start.{args.saga_type}", message,
                          schema=args.schema)
        if not args.wait:
            if args.json:
                print(json.dumps({"saga_id": saga_id, "saga_type": args.saga_type,
                                  "message_id": message.id}))
            else:
                print(saga_id)
            return EXIT_COMPLETED
        with display.spinner(f"waiting for saga {saga_id}"):
            try:
                await asyncio.wait_for(follower.finished.wait(), timeout=args.timeout)
            except TimeoutError:
                return _timed_out(args, follower, saga_id)
    if args.json:
        print(json.dumps(follower.final_json(args.saga_type), indent=2))
    return EXIT_COMPLETED if follower.status == "completed" else EXIT_FAILED


def _timed_out(args: argparse.Namespace, follower: SagaFollower, saga_id: str) -> int:
    if follower.record is None:
        hint = ("no lifecycle event arrived at all: is the orchestrator running (python -m "
                "services.orchestrator) and consuming agentbus.orchestrator.p*?")
    else:
        hint = f"the saga is still {follower.record.status.value}"
    print(f"timed out after {args.timeout:g} s waiting for saga {saga_id}: {hint}. "
          f"Look at it later with `agentbus saga show {saga_id}`.", file=sys.stderr)
    if args.json and follower.record is not None:
        print(json.dumps(follower.record.to_dict(), indent=2))
    return EXIT_TIMEOUT


class SagaFollower:
    """Handler for the lifecycle events of one saga: shows each transition, notices the end."""

    def __init__(self, saga_id: str, display: Progress) -> None:
        self.saga_id = saga_id
        self.display = display
        self.finished = asyncio.Event()
        self.status = ""
        self.record: SagaRecord | None = None
        self.error: v2.Error | None = None
        self._seen: set[str] = set()

    async def __call__(self, message: v2.Message, delivery: Delivery) -> None:
        """Take one message of the temporary queue."""
        self.take(message)

    def take(self, message: v2.Message) -> None:
        """Show a lifecycle event of this saga (others, duplicates and start requests are skipped)."""
        if message.WhichOneof("body") != "event" or message.saga_id != self.saga_id:
            return
        # The outbox publishes at least once: a replayed event carries the same envelope id.
        if message.id in self._seen or self.finished.is_set():
            return
        self._seen.add(message.id)
        event = message.event
        status = STATUS_NAMES.get(event.status, "unknown")
        record = record_from_event(event)
        if record is not None:
            self.record = record
        if event.HasField("error"):
            self.error = event.error
        for text, style in event_lines(status, event, record):
            self.display.line(text, style=style)
        if status in TERMINAL:
            self.status = status
            self.finished.set()

    def final_json(self, saga_type: str) -> dict[str, Any]:
        """The final record, as the store keeps it; a refused start has only the error."""
        if self.record is not None:
            return self.record.to_dict()
        error = self.error or v2.Error()
        return {"saga_id": self.saga_id, "saga_type": saga_type, "status": self.status,
                "error": {"code": error.code, "message": error.message,
                          "retryable": error.retryable},
                "steps": [], "compensations": []}


def record_from_event(event: v2.LifecycleEvent) -> SagaRecord | None:
    """The saga record a LifecycleEvent carries (numbers made whole again), or None."""
    from services.orchestrator.record import SagaRecord

    if not event.HasField("record") or not event.record.fields:
        return None
    return SagaRecord.from_dict(codec.struct_to_dict(event.record))


# ---------------------------------------------------------------- what a transition looks like


def seconds(start: datetime | None, end: datetime | None) -> str:
    """`1.23s` between two instants, `-` when one is missing."""
    if start is None or end is None:
        return "-"
    return f"{(end - start).total_seconds():.2f}s"


def event_lines(status: str, event: v2.LifecycleEvent,
                record: SagaRecord | None) -> list[tuple[str, str]]:
    """The lines (text, style) one lifecycle event prints: when, what, how long, why."""
    at = "" if record is None else f"{'+' + seconds(record.created_at, record.updated_at):>9} "
    style = STYLE.get(status, "")
    error = f"{event.error.code}: {event.error.message}" if event.HasField("error") else ""
    if record is None:
        # No saga behind it: the orchestrator refused the start (unknown saga type).
        return [(f"{status}: {error or 'no detail'}", style)]
    if status in ("step_completed", "step_failed"):
        step = record.step(event.step_name) if record.has_step(event.step_name) else None
        took = "" if step is None else seconds(step.started_at, step.finished_at)
        attempts = "" if step is None else f"attempt {step.attempt}"
        text = f"{at}step {event.step_name:<14} {status.removeprefix('step_'):<10} {took:>8}  {attempts}"
        return [(text + (f"  {error}" if error else ""), style)]
    if status == "started":
        names = ", ".join(s.name for s in record.steps)
        return [(f"{at}started {record.saga_type} {record.saga_id} (steps: {names})", style)]
    if status == "compensating":
        plan = " then ".join("+".join(stage) for stage in record.compensation_plan) or "nothing"
        return [(f"{at}compensating after {event.step_name} failed; undoing {plan}", style)]
    lines = compensation_lines(record, offsets=True)
    total = seconds(record.created_at, record.updated_at)
    if status == "completed":
        lines.append((f"{at}completed in {total}", style))
    elif status == "compensated":
        failure = record.failure
        why = f": step {failure.step} failed ({failure.error.code}: {failure.error.message})" \
            if failure else ""
        lines.append((f"{at}compensated in {total}{why}", style))
    elif status == "escalated":
        lines.append((f"{at}escalated: {error}", style))
        lines.append((f"{' ' * len(at)}a human must look at it: agentbus saga show {record.saga_id}",
                      style))
    return lines


def compensation_lines(record: SagaRecord, *, offsets: bool = False) -> list[tuple[str, str]]:
    """One line per compensation run, in the order they started (with `offsets`: when it ended)."""
    lines = []
    for entry in record.compensations:
        took = seconds(entry.started_at, entry.finished_at)
        why = f"  {entry.error.code}: {entry.error.message}" if entry.error else ""
        at = (f"{'+' + seconds(record.created_at, entry.finished_at or record.updated_at):>9} "
              if offsets else "")
        lines.append((f"{at}  undo {entry.step:<14} {entry.action:<18} {entry.status.value:<20} "
                      f"{took:>8}  attempts {entry.attempts}{why}",
                      STYLE.get(entry.status.value, "")))
    return lines


def describe(record: SagaRecord) -> list[tuple[str, str]]:
    """The lines `saga show` prints: header, steps, compensations, failure and escalation."""
    lines = [
        (f"saga {record.saga_id} ({record.saga_type}): {record.status.value}",
         STYLE.get(record.status.value, "")),
        (f"  created {record.created_at.isoformat()}, updated {record.updated_at.isoformat()} "
         f"({seconds(record.created_at, record.updated_at)}), version {record.version}", "dim"),
        (f"  input {json.dumps(record.input, sort_keys=True)}", "dim"),
    ]
    for step in record.steps:
        took = seconds(step.started_at, step.finished_at)
        detail = (f"{step.error.code}: {step.error.message}" if step.error
                  else json.dumps(step.output, sort_keys=True) if step.output is not None else "")
        work = f"{step.agent}.{step.action}"
        lines.append((f"  step {step.name:<14} {work:<30} {step.status.value:<20} {took:>8}  "
                      f"attempts {step.attempt}  {detail}".rstrip(),
                      STYLE.get(step.status.value, "")))
    lines += compensation_lines(record)
    if record.failure is not None:
        lines.append((f"  failure: step {record.failure.step}: {record.failure.error.code}: "
                      f"{record.failure.error.message}", "red"))
    if record.escalation is not None:
        esc = record.escalation
        lines.append((f"  escalation: {esc.action} of step {esc.step}: {esc.reason}", "bold red"))
        lines += [(f"    {e.code}: {e.message}", "red") for e in esc.errors]
    return lines


class Progress:
    """Where transitions are printed: rich colours and a spinner on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, *, rich: bool) -> None:
        self.stream = stream
        self.console: Console | None = None
        if rich:
            from rich.console import Console

            self.console = Console(file=stream, highlight=False, soft_wrap=True)

    def line(self, text: str, *, style: str = "") -> None:
        """Print one line."""
        if self.console is None:
            print(text, file=self.stream, flush=True)
            return
        from rich.markup import escape

        self.console.print(f"[{style}]{escape(text)}[/]" if style else escape(text))

    def spinner(self, text: str) -> contextlib.AbstractContextManager[Any]:
        """A live 'waiting' indicator on a terminal; nothing otherwise."""
        if self.console is None:
            return contextlib.nullcontext()
        return self.console.status(text)


# ---------------------------------------------------------------- saga show / saga list


async def _open_store(url: str) -> Any:
    from services.orchestrator.store import store_from_url

    store = store_from_url(url)
    await store.open()
    return store


def _store_url() -> str:
    """AGENTBUS_SAGA_STORE_URL; a SQLite file must exist (reading must not create an empty store)."""
    from services.orchestrator.settings import OrchestratorSettings
    from services.orchestrator.store.sqlite import path_from_url

    url = OrchestratorSettings().saga_store_url
    if url.startswith("sqlite:"):
        path, _ = path_from_url(url)
        if path != ":memory:" and not Path(path).exists():
            raise ConfigurationError(
                f"no saga store at {path} (AGENTBUS_SAGA_STORE_URL={url}); point it at the store "
                "the orchestrator writes, or start the orchestrator first")
    return url


def run_show(args: argparse.Namespace) -> int:
    """Print one saga from the store."""
    try:
        url = _store_url()
    except AgentBusError as exc:
        print(f"saga show failed: {exc}", file=sys.stderr)
        return EXIT_FAILED

    async def fetch() -> SagaRecord | None:
        store = await _open_store(url)
        try:
            found: SagaRecord | None = await store.get(args.saga_id)
            return found
        finally:
            await store.close()

    try:
        record = asyncio.run(fetch())
    except AgentBusError as exc:
        print(f"saga show failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if record is None:
        print(f"no saga {args.saga_id!r} in the store at {redact_url(url)} "
              "(AGENTBUS_SAGA_STORE_URL); `agentbus saga list` shows the recent ones",
              file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(record.to_dict(), indent=2))
        return EXIT_COMPLETED
    display = Progress(sys.stdout, rich=sys.stdout.isatty())
    for text, style in describe(record):
        display.line(text, style=style)
    return EXIT_COMPLETED


def run_list(args: argparse.Namespace) -> int:
    """Print recent sagas from the store."""
    from services.orchestrator.record import SagaState

    try:
        url = _store_url()
    except AgentBusError as exc:
        print(f"saga list failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    status = SagaState(args.status) if args.status else None

    async def fetch() -> list[SagaRecord]:
        store = await _open_store(url)
        try:
            found: list[SagaRecord] = await store.list_sagas(
                status=status, saga_type=args.saga_type, limit=args.limit)
            return found
        finally:
            await store.close()

    try:
        records = asyncio.run(fetch())
    except AgentBusError as exc:
        print(f"saga list failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2))
        return EXIT_COMPLETED
    if not records:
        print("no sagas" + (f" with status {args.status}" if args.status else ""), file=sys.stderr)
        return EXIT_COMPLETED
    display = Progress(sys.stdout, rich=sys.stdout.isatty())
    for text, style in list_lines(records):
        display.line(text, style=style)
    return EXIT_COMPLETED


def list_lines(records: Sequence[SagaRecord]) -> list[tuple[str, str]]:
    """A header and one line per saga: id, type, status, updated, duration, where it is."""
    lines = [(f"{'SAGA':<34} {'TYPE':<20} {'STATUS':<13} {'UPDATED (UTC)':<20} {'TOOK':>8}  AT",
              "bold")]
    for record in records:
        running = [s.name for s in record.steps if s.status.value in ("running", "compensating")]
        where = (record.escalation.step if record.escalation
                 else record.failure.step if record.failure and not running
                 else ",".join(running))
        updated = record.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append((f"{record.saga_id:<34} {record.saga_type:<20} {record.status.value:<13} "
                      f"{updated:<20} {seconds(record.created_at, record.updated_at):>8}  {where}",
                      STYLE.get(record.status.value, "")))
    return lines
