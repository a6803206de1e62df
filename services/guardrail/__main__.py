"""`python -m services.guardrail`: scan tasks until SIGTERM (see app.py)."""

from __future__ import annotations

import asyncio
import sys

from agentbus import event_loop
from agentbus.errors import AgentBusError
from agentbus.observability import configure_logging
from agentbus.settings import Settings
from services.guardrail.app import serve
from services.guardrail.policy import PolicyError, load_policy
from services.guardrail.scanning.scanner import Scanner
from services.guardrail.settings import GuardrailSettings


def main() -> int:
    """Run the guardrail; exit 2 on an invalid policy, 1 on a broker problem."""
    settings = Settings()
    if "service_name" not in settings.model_fields_set:
        settings = settings.model_copy(update={"service_name": "guardrail"})
    configure_logging(settings.log_level, settings.service_name)
    try:
        scanner = Scanner(load_policy(GuardrailSettings().guardrail_policy))
    except PolicyError as exc:
        print(f"guardrail: {exc}", file=sys.stderr)
        return 2
    try:
        event_loop.run(serve(settings, scanner, stop=asyncio.Event()), choice=settings.event_loop)
    except AgentBusError as exc:
        print(f"guardrail: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
