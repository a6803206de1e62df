"""`python -m services.guardrail`: scan tasks until SIGTERM (see app.py)."""

from __future__ import annotations

import asyncio
import sys

from agentbus import event_loop
from agentbus.errors import AgentBusError, ConfigurationError
from agentbus.observability import configure_logging
from agentbus.service_help import parse_service_args
from agentbus.settings import Settings, load_settings
from services.guardrail.settings import GuardrailSettings

DESCRIPTION = """\
The guardrail: consumes every task.# message from agentbus.ingress (queue agentbus.guardrail),
scans every text an agent will read for PII and executable payloads, and forwards it to
agentbus.agents unchanged or redacted, or blocks it (the original to agentbus.guardrail.quarantine,
a guardrail.blocked.<agent>.<action> verdict to agentbus.ingress). Runs until SIGTERM, then drains.
Exit status: 2 for a bad policy or setting, 1 when the broker cannot be reached."""


def main(argv: list[str] | None = None) -> int:
    """Run the guardrail; exit 2 on an invalid policy or setting, 1 on a broker problem."""
    parse_service_args("python -m services.guardrail", DESCRIPTION, [Settings, GuardrailSettings], argv,
                       notes="AGENTBUS_SERVICE_NAME defaults to guardrail here. Try a policy first "
                             "with `agentbus guard scan --policy FILE`.")
    try:
        settings = load_settings(Settings)
        guardrail_settings = load_settings(GuardrailSettings)
        # Imported here: importing the scanner reads AGENTBUS_GUARDRAIL_SCANNER, which may be invalid.
        from services.guardrail.app import serve
        from services.guardrail.policy import load_policy
        from services.guardrail.scanning.scanner import Scanner

        scanner = Scanner(load_policy(guardrail_settings.guardrail_policy))
    except ConfigurationError as exc:  # PolicyError included
        print(f"guardrail: {exc}", file=sys.stderr)
        return 2
    if "service_name" not in settings.model_fields_set:
        settings = settings.model_copy(update={"service_name": "guardrail"})
    configure_logging(settings.log_level, settings.service_name)
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
