"""`python -m services.orchestrator`: run the saga orchestrator until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys

from agentbus import event_loop
from agentbus.errors import AgentBusError, ConfigurationError
from agentbus.observability import configure_logging
from agentbus.service_help import parse_service_args
from agentbus.settings import load_settings, redact_url
from services.orchestrator.app import load_configured_definitions, run
from services.orchestrator.settings import OrchestratorSettings

log = logging.getLogger("services.orchestrator")


DESCRIPTION = """\
The saga orchestrator: starts a saga for each saga.start.<type> on agentbus.ingress, sends each
step's task, records every transition in the saga store, and runs the compensations when a step
fails, times out or is blocked by the guardrail. Run several replicas on one PostgreSQL store;
they share the partitions. Runs until SIGTERM, then drains. Exit status: 2 for a bad setting or
saga definition, 1 when the broker or the store cannot be reached."""


def main(argv: list[str] | None = None) -> int:
    """Read the settings, check the definitions, serve; exit 2 on a configuration problem."""
    parse_service_args("python -m services.orchestrator", DESCRIPTION, [OrchestratorSettings], argv,
                       notes="Saga definitions: services/orchestrator/sagas/README.md.")
    try:
        settings = load_settings(OrchestratorSettings)
    except ConfigurationError as exc:
        print(f"orchestrator: {exc}", file=sys.stderr)
        return 2
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
