"""`agentbus up`: every service and agent as a local process, one command, until Ctrl-C.

The guardrail (`python -m services.guardrail`; a labelled unscanned stand-in while it is not
installed), the orchestrator and every reference agent start as children, each as its own broker
user and with its own health port; `up` waits for each /readyz, prints a summary, relays their
logs with a coloured prefix (and into --log-dir), and stops them all on Ctrl-C / SIGTERM. If one
dies, the others are stopped and `up` exits 1 naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, TextIO
from urllib.parse import quote, urlsplit, urlunsplit

from agentbus import event_loop, topology
from agentbus.agent.supervisor import ServiceSpec, Supervisor, SupervisorError
from agentbus.errors import AgentBusError, ConfigurationError
from agentbus.management import CredentialStore
from agentbus.settings import Settings, redact_url

READY_MARKER: Final = "services ready"
GUARDRAIL_MODULE: Final = "services.guardrail"
STANDIN_MODULE: Final = "services.agents.guardrail_standin"
ORCHESTRATOR_MODULE: Final = "services.orchestrator"
DEFAULT_BASE_PORT: Final = 8100

EPILOG = """\
Each child connects as its own broker user (agentbus-guardrail, agentbus-orchestrator,
agentbus-agent-<name>; prefix AGENTBUS_USER_PREFIX), with the password from
AGENTBUS_PASSWORD_<USER> or the credentials file `agentbus topology apply` writes
(AGENTBUS_CREDENTIALS_FILE). Health endpoints: --base-port, --base-port + 1, ... in the order of
the summary. Examples:
  agentbus up                                   everything, until Ctrl-C
  agentbus up --replicas writer=3               three competing writers
  agentbus up --agents researcher,writer,editor,publisher --base-port 9100"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `up`."""
    parser.epilog = EPILOG
    parser.add_argument("--agents", default="",
                        help="comma-separated agents to run (default: every reference agent)")
    parser.add_argument("--replicas", action="append", default=[], metavar="NAME=N",
                        help="run N competing replicas of agent NAME (repeatable)")
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT,
                        help=f"first health port (default {DEFAULT_BASE_PORT})")
    parser.add_argument("--shared-user", action="store_true",
                        help="connect every service with AGENTBUS_AMQP_URL's user instead of its own "
                             "(development and tests)")
    parser.add_argument("--ready-timeout", type=float, default=90.0, metavar="S",
                        help="give up when a service is not ready after S seconds (default 90)")
    parser.add_argument("--grace", type=float, default=None, metavar="S",
                        help="on stop, SIGKILL what has not exited after S seconds "
                             "(default AGENTBUS_SHUTDOWN_GRACE_S + 5)")
    parser.add_argument("--log-dir", default=".agentbus/logs",
                        help="also write each service's log to DIR/<service>.log ('' to not)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the prefixes (auto: on a terminal, unless NO_COLOR is set)")


# ---------------------------------------------------------------- what to run


def module_exists(module: str) -> bool:
    """Whether `python -m module` would find something to run."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        return False


def reference_agents() -> list[str]:
    """The reference agents that are installed as runnable packages."""
    return [a for a in topology.REFERENCE_AGENTS if module_exists(f"services.agents.{a}")]


def parse_replicas(values: Sequence[str], agents: Sequence[str]) -> dict[str, int]:
    """`writer=3` options as {"writer": 3}, checked against the agents being run."""
    replicas: dict[str, int] = {}
    for value in values:
        name, _, count = value.partition("=")
        if name not in agents or not count.isdigit() or int(count) < 1:
            raise ConfigurationError(
                f"--replicas {value!r}: write NAME=N with NAME one of {', '.join(agents)} and N >= 1")
        replicas[name] = int(count)
    return replicas


def saved_passwords(path: Path) -> dict[str, str]:
    """The passwords `agentbus topology apply` saved (KEY=value lines), without generating any."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def url_for_user(amqp_url: str, user: str, password: str) -> str:
    """AGENTBUS_AMQP_URL with another user and password (same host, port and vhost)."""
    parts = urlsplit(amqp_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))


def broker_url(settings: Settings, service: str, *, shared_user: bool,
               environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The AMQP URL and user name a service connects with: its own user, unless `shared_user`."""
    if shared_user:
        return settings.amqp_url, urlsplit(settings.amqp_url).username or "guest"
    user = topology.user_name(service, settings.user_prefix)
    key = CredentialStore.env_name(user)
    environ = os.environ if environ is None else environ
    password = environ.get(key) or saved_passwords(settings.credentials_file).get(key)
    if not password:
        raise ConfigurationError(
            f"no password for broker user {user}: set {key}, or run `agentbus topology apply` "
            f"(it creates the users and writes {settings.credentials_file}); or pass --shared-user "
            "to run everything as the user of AGENTBUS_AMQP_URL")
    return url_for_user(settings.amqp_url, user, password), user


def plan(settings: Settings, *, agents: Sequence[str], replicas: Mapping[str, int], base_port: int,
         shared_user: bool) -> list[ServiceSpec]:
    """The children to start, in start order, each with its user, URL and health port."""
    wanted: list[tuple[str, str, str, str]] = []  # (display name, module, broker service, note)
    if module_exists(GUARDRAIL_MODULE):
        wanted.append(("guardrail", GUARDRAIL_MODULE, "guardrail", ""))
    else:
        wanted.append(("guardrail-standin", STANDIN_MODULE, "guardrail",
                       "UNSCANNED stand-in: the guardrail service is not installed"))
    wanted.append(("orchestrator", ORCHESTRATOR_MODULE, "orchestrator", ""))
    for agent in agents:
        count = replicas.get(agent, 1)
        for n in range(1, count + 1):
            name = agent if count == 1 else f"{agent}-{n}"
            note = "speaks message_v1 only" if agent == "editor" else ""
            wanted.append((name, f"services.agents.{agent}", f"agent:{agent}", note))
    specs = []
    for index, (name, module, service, note) in enumerate(wanted):
        url, user = broker_url(settings, service, shared_user=shared_user)
        specs.append(ServiceSpec(
            name=name, module=module, health_port=base_port + index, user=user, note=note,
            env={"AGENTBUS_AMQP_URL": url, "AGENTBUS_SERVICE_NAME": name},
            first=service in ("guardrail", "orchestrator")))
    return specs


# ---------------------------------------------------------------- running


def use_colour(choice: str, out: TextIO) -> bool:
    """Whether to colour the output."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return out.isatty()


def summary(supervisor: Supervisor) -> list[str]:
    """The table printed once everything is ready."""
    rows = [("service", "pid", "health", "broker user", "ready in", "")]
    for child in supervisor.children:
        spec = child.spec
        rows.append((spec.name, str(child.process.pid), f"http://127.0.0.1:{spec.health_port}/readyz",
                     spec.user, f"{child.ready_after_s or 0:.1f}s", spec.note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return ["  ".join(cell.ljust(widths[i]) if i < 5 else cell for i, cell in enumerate(row)).rstrip()
            for row in rows]


async def run_services(specs: Sequence[ServiceSpec], *, out: TextIO, log_dir: Path | None,
                       colour: bool, grace_s: float, ready_timeout_s: float) -> int:
    """Start, wait until ready, relay logs until a signal or a death, then stop everything."""
    supervisor = Supervisor(specs, out=out, log_dir=log_dir, colour=colour, grace_s=grace_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        where = f"; logs also in {log_dir}/" if log_dir is not None else ""
        supervisor.say(f"starting {len(specs)} services (the guardrail and the orchestrator first, so "
                       f"they hear every agent's first announcement){where}")
        await supervisor.start(ready_timeout_s=ready_timeout_s)
        ready = asyncio.create_task(supervisor.wait_ready(ready_timeout_s))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({ready, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not ready.done():
            ready.cancel()
            supervisor.say("interrupted while starting; stopping everything", colour="33")
            await supervisor.shutdown()
            return 130
        ready.result()
    except SupervisorError as exc:
        supervisor.say(str(exc), colour="31")
        supervisor.say("stopping the other services", colour="31")
        await supervisor.shutdown()
        return 1
    for line in summary(supervisor):
        supervisor.say(line)
    supervisor.say(f"all {len(specs)} {READY_MARKER}; Ctrl-C stops them", colour="32")

    dead = await supervisor.watch(stop)
    if dead is not None:
        supervisor.say(supervisor.describe_death(dead), colour="31")
        supervisor.say("a service died, so agentbus up stops the others and exits 1", colour="31")
        await supervisor.shutdown()
        return 1
    supervisor.say(f"stopping: SIGTERM to every service (SIGKILL after {grace_s:g}s)", colour="33")
    codes = await supervisor.shutdown()
    unclean = {name: code for name, code in codes.items() if code != 0}
    if unclean:
        supervisor.say("stopped; not cleanly: " + ", ".join(f"{n} (exit {c})" for n, c in unclean.items()),
                       colour="31")
        return 1
    supervisor.say(f"stopped: all {len(specs)} services exited cleanly", colour="32")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run every service until Ctrl-C; 0 after a clean stop, 1 if one died, 2 on bad configuration."""
    settings = Settings()
    out = sys.stdout
    try:
        installed = reference_agents()
        agents = [a.strip() for a in args.agents.split(",") if a.strip()] or installed
        missing = [a for a in agents if a not in installed]
        if missing:
            raise ConfigurationError(
                f"no runnable agent {', '.join(missing)} (python -m services.agents.<name>); "
                f"installed: {', '.join(installed)}")
        specs = plan(settings, agents=agents, replicas=parse_replicas(args.replicas, agents),
                     base_port=args.base_port, shared_user=args.shared_user)
    except AgentBusError as exc:
        print(f"agentbus up: {exc}", file=sys.stderr)
        return 2
    print(f"agentbus up: broker {redact_url(settings.amqp_url)} (vhost {settings.vhost!r})", file=out,
          flush=True)
    grace = args.grace if args.grace is not None else settings.shutdown_grace_s + 5
    return event_loop.run(run_services(
        specs, out=out, log_dir=Path(args.log_dir) if args.log_dir else None,
        colour=use_colour(args.color, out), grace_s=grace, ready_timeout_s=args.ready_timeout),
        choice=settings.event_loop)
