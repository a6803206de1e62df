"""`agentbus topology apply`: declare, idempotently, everything agentbus needs on the broker."""

from __future__ import annotations

import argparse
import sys

from agentbus.errors import AgentBusError
from agentbus.management import (
    CredentialStore,
    ManagementClient,
    apply_topology,
    ensure_plugins,
    is_local,
    wait_for_api,
)
from agentbus.settings import Settings
from agentbus.topology import REFERENCE_AGENTS, build_topology

EPILOG = """\
Declares the vhost (the path of AGENTBUS_AMQP_URL), the exchanges agentbus.ingress, agentbus.agents,
agentbus.dlx and the orchestrator's hash exchange, every work queue with its dead-letter and retry queue,
and one broker user per service with least-privilege permissions and topic permissions (only the
guardrail may write to agentbus.agents). Passwords come from AGENTBUS_PASSWORD_<USER> or are generated
into AGENTBUS_CREDENTIALS_FILE. Uses the management API at AGENTBUS_MANAGEMENT_URL and enables the
rabbitmq_management / rabbitmq_consistent_hash_exchange plugins of a local broker when they are off.
Running it twice changes nothing the second time."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `topology apply`."""
    parser.epilog = EPILOG
    parser.add_argument("--agents", default=",".join(REFERENCE_AGENTS),
                        help="comma-separated agent names to declare queues and users for "
                             "(default: the reference agents)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="orchestrator partition queues (default AGENTBUS_PARTITIONS, 4)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")


def run(args: argparse.Namespace) -> int:
    """Apply the topology and print what changed."""
    settings = Settings()
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    try:
        topology = build_topology(
            vhost=settings.vhost, agents=agents, partitions=args.partitions or settings.partitions,
            delivery_limit=settings.delivery_limit, retry_delay_ms=settings.retry_delay_ms,
            user_prefix=settings.user_prefix, partition_delivery_limit=settings.partition_delivery_limit)
        user, password = settings.management_credentials()
        with ManagementClient(settings.management_url, user, password) as client:
            local = is_local(settings.management_url)
            if not client.alive():
                for change in ensure_plugins(None, ("rabbitmq_management",), local=local):
                    print(change)
                wait_for_api(client)
            for change in ensure_plugins(client, topology.plugins, local=local):
                print(change)
            report = apply_topology(
                client, topology, CredentialStore(settings.credentials_file),
                on_change=None if args.quiet else print)
    except (AgentBusError, ValueError) as exc:
        print(f"topology apply failed: {exc}", file=sys.stderr)
        return 1
    where = f"vhost {topology.vhost!r}"
    if report.changes:
        print(f"topology: {len(report.changes)} change(s) applied to {where}")
    else:
        print(f"topology: no changes; {where} already matches")
    if report.passwords_written_to:
        print(f"service user passwords written to {report.passwords_written_to} (mode 600)")
    return 0
