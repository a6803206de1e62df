"""`agentbus bench guard-hop`: what the guardrail hop adds to a message's trip through the broker."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from agentbus import event_loop
from agentbus.benchmarks.guard_hop import measure_hop
from agentbus.errors import AgentBusError
from agentbus.settings import Settings

EPILOG = """\
Runs the real guardrail (default policy) in a throwaway vhost and sends a clean 1 KiB task one at a
time, alternating: through it (agentbus.ingress -> guardrail -> agentbus.agents) or straight to
agentbus.agents. Prints both medians and their difference, the hop's cost (target: at most 2 ms p50).
Example:
  agentbus bench guard-hop --messages 2000 --json"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `bench guard-hop`."""
    parser.epilog = EPILOG
    parser.add_argument("--messages", type=int, default=2000, help="trips, half each way (default 2000)")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")


def run(args: argparse.Namespace) -> int:
    """Measure and print."""
    try:
        settings = Settings()
        result = event_loop.run(measure_hop(settings, messages=args.messages, out=sys.stderr),
                                choice=settings.event_loop)
    except AgentBusError as exc:
        print(f"bench guard-hop failed: {exc}", file=sys.stderr)
        return 1
    print(f"through the guardrail: p50 {result.via_guardrail_p50_ms} ms, "
          f"p99 {result.via_guardrail_p99_ms} ms")
    print(f"straight to the agent: p50 {result.direct_p50_ms} ms, p99 {result.direct_p99_ms} ms")
    print(f"the guardrail hop adds {result.hop_p50_ms} ms at p50")
    if args.json:
        print(json.dumps(asdict(result)))
    return 0
