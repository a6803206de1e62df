"""`python -m services.agents.guardrail_standin`: forward tasks unscanned until SIGTERM."""

from __future__ import annotations

import asyncio
import sys

from agentbus import event_loop
from agentbus.errors import AgentBusError, ConfigurationError
from agentbus.observability import configure_logging
from agentbus.settings import Settings, load_settings
from services.agents.guardrail_standin.relay import serve


def main() -> int:
    """Run the stand-in; exit 2 on an invalid setting, 1 on a broker problem."""
    try:
        settings = load_settings(Settings)
    except ConfigurationError as exc:
        print(f"guardrail stand-in: {exc}", file=sys.stderr)
        return 2
    if "service_name" not in settings.model_fields_set:
        settings = settings.model_copy(update={"service_name": "guardrail-standin"})
    configure_logging(settings.log_level, settings.service_name)
    try:
        event_loop.run(serve(settings, stop=asyncio.Event()), choice=settings.event_loop)
    except AgentBusError as exc:
        print(f"guardrail stand-in: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
