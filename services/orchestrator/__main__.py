"""`python -m services.orchestrator`: run the saga orchestrator until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys

from agentbus import event_loop
from agentbus.errors import AgentBusError
from agentbus.observability import configure_logging
from agentbus.settings import redact_url
from services.orchestrator.app import load_configured_definitions, run
from services.orchestrator.settings import OrchestratorSettings

log = logging.getLogger("services.orchestrator")


def main() -> int:
    """Read the settings, check the definitions, serve; exit 2 on a configuration problem."""
    settings = OrchestratorSettings()
    configure_logging(settings.log_level, settings.service_name)
    try:
        definitions = load_configured_definitions(settings)
        log.info("broker %s, saga store %s, %d partition(s)", redact_url(settings.amqp_url),
                 redact_url(settings.saga_store_url), settings.partitions)
        event_loop.run(run(settings, stop=asyncio.Event(), definitions=definitions),
                       choice=settings.event_loop)
    except AgentBusError as exc:
        log.error("%s", exc)
        return 2 if not exc.retryable else 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
