"""Errors of the LLM layer; `retryable` tells the bus whether a delayed retry may succeed."""

from __future__ import annotations

from agentbus.errors import AgentBusError


class LLMError(AgentBusError):
    """Root of every error an LLM backend raises."""


class LLMUnavailableError(LLMError):
    """The endpoint is overloaded, failing (429 / 5xx) or unreachable; trying later may succeed."""

    retryable_default = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.retry_after_s = retry_after_s


class LLMTimeoutError(LLMError):
    """The endpoint did not answer within AGENTBUS_LLM_TIMEOUT_S on any attempt."""

    retryable_default = True


class LLMRequestError(LLMError):
    """The endpoint refused the request itself (4xx other than 408/429); resending it cannot help."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, retryable=False)
        self.status = status


class LLMResponseError(LLMError):
    """The endpoint answered with something that is not a chat completion (bad JSON, no choices)."""


class StructuredOutputError(LLMError):
    """The model's text is not the JSON object the caller asked for (unparseable or keys missing)."""

    def __init__(self, message: str, *, text: str) -> None:
        super().__init__(message, retryable=False)
        self.text = text


class TokenBudgetExceededError(LLMError):
    """The agent has spent its AGENTBUS_LLM_TOKEN_BUDGET; no request was sent."""

    def __init__(self, message: str, *, agent: str, used: int, budget: int) -> None:
        super().__init__(message, retryable=False)
        self.agent = agent
        self.used = used
        self.budget = budget


class PromptTemplateError(LLMError):
    """A prompt template is missing, unreadable, malformed or rendered without all its variables."""
