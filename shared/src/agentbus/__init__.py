"""agentbus: teams of LLM agents as microservices on RabbitMQ.

The public API: connect a `Bus`, declare handlers on a `Router`, publish v2 envelopes built with
`new_envelope`; every error is an `AgentBusError`.
"""

from agentbus.bus import Bus, Delivery, Router
from agentbus.codec import new_envelope, struct_from, struct_to_dict
from agentbus.errors import (
    AgentBusError,
    BrokerError,
    ConfigurationError,
    ConnectionLostError,
    ContractError,
    PermissionDeniedError,
    PublishError,
    RejectMessage,
    UnroutableError,
)
from agentbus.settings import Settings

__all__ = [
    "AgentBusError",
    "BrokerError",
    "Bus",
    "ConfigurationError",
    "ConnectionLostError",
    "ContractError",
    "Delivery",
    "PermissionDeniedError",
    "PublishError",
    "RejectMessage",
    "Router",
    "Settings",
    "UnroutableError",
    "new_envelope",
    "struct_from",
    "struct_to_dict",
]
