"""`agentbus guard scan`: scan text from stdin and print the verdict, findings and redacted text."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from agentbus.errors import AgentBusError
from services.guardrail.commands.common import add_policy_option, policy_from

if TYPE_CHECKING:
    from services.guardrail.scanning.types import ScanResult

EXIT_ALLOWED = 0
EXIT_BLOCKED = 1
EXIT_ERROR = 2

DESCRIPTION = """\
Read a text on standard input, scan it the way the guardrail scans a task, and print the
verdict (allowed, redacted or blocked), each finding (type, category, start and end as code-point
offsets into the input, action, placeholder) and the redacted text.

Exit status: 0 when allowed or redacted, 1 when blocked, 2 on a usage or policy error.

examples:
  echo 'mail jane@example.com' | agentbus guard scan
  agentbus guard scan --json < message.txt
  agentbus guard scan --agent writer --routing-key task.writer.draft --policy policy.yaml < m.txt"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `guard scan`."""
    parser.description = DESCRIPTION
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of the human-readable report")
    parser.add_argument("--agent", default=None,
                        help="scan as if the text were for this agent (selects policy rules)")
    parser.add_argument("--routing-key", default=None, metavar="KEY",
                        help="scan as if the text arrived with this routing key, "
                             "e.g. task.writer.draft (selects policy rules)")
    add_policy_option(parser)


def _as_json(result: ScanResult) -> str:
    return json.dumps({"decision": result.decision,
                       "findings": [f.as_dict() for f in result.findings],
                       "reasons": list(result.reasons),
                       "redacted": result.redacted}, ensure_ascii=False)


def _as_text(result: ScanResult) -> str:
    lines = [f"verdict: {result.decision}"]
    if result.findings:
        lines.append(f"findings ({len(result.findings)}):")
        lines.append(f"  {'type':<17}{'category':<12}{'start':>6}{'end':>6}  {'action':<8}placeholder")
        lines.extend(f"  {f.type:<17}{f.category:<12}{f.start:>6}{f.end:>6}  {f.action:<8}"
                     f"{f.placeholder}" for f in result.findings)
    else:
        lines.append("findings: none")
    lines.append("redacted text:")
    lines.append(result.redacted)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Scan stdin and print the result."""
    from services.guardrail.scanning.scanner import Scanner

    try:
        scanner = Scanner(policy_from(args))
    except AgentBusError as exc:
        print(f"agentbus guard scan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    text = sys.stdin.read()
    result = scanner.scan_text(text, agent=args.agent, routing_key=args.routing_key)
    print(_as_json(result) if args.json else _as_text(result))
    return EXIT_BLOCKED if result.blocked else EXIT_ALLOWED
