"""The one exception hierarchy of agentbus: every error the library raises derives from AgentBusError.

Retry policy travels with the exception (`retryable`), so a handler, a retry loop or the orchestrator
decides what to do from the error itself. Transport exceptions (aiormq, pamqp, pika) are translated
inside the adapters and never reach services.
"""

from __future__ import annotations


class AgentBusError(Exception):
    """Root of every agentbus error; `retryable` says whether trying again may succeed."""

    retryable_default = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = self.retryable_default if retryable is None else retryable

    def __str__(self) -> str:
        return self.message


class ConfigurationError(AgentBusError):
    """A setting, a definition file or a policy is invalid; fix the configuration and restart."""


class ContractError(AgentBusError):
    """A message does not fit the contracts (malformed bytes, unknown version, too large...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, retryable=False)
        self.reason = reason


class BrokerError(AgentBusError):
    """Something went wrong talking to RabbitMQ."""

    retryable_default = True


class ConnectionLostError(BrokerError):
    """The broker is unreachable or closed the connection."""


class PublishError(BrokerError):
    """The broker did not confirm a publish (nack, timeout or channel closed)."""


class UnroutableError(PublishError):
    """No queue is bound for the routing key, so the broker returned the message."""

    retryable_default = False


class PermissionDeniedError(BrokerError):
    """The broker refused an operation for lack of permission (ACCESS_REFUSED)."""

    retryable_default = False


class ManagementAPIError(BrokerError):
    """The RabbitMQ management HTTP API refused or failed a request."""


class RejectMessage(AgentBusError):
    """Raise inside a handler to dead-letter the current message now, with `message` as the reason."""

    def __init__(self, message: str, *, reason: str = "rejected") -> None:
        super().__init__(message, retryable=False)
        self.reason = reason
