"""Errors of the agent SDK: how a handler says "this task failed", and inbox trouble."""

from __future__ import annotations

import re

from agentbus.errors import AgentBusError


class TaskFailed(AgentBusError):
    """Raise in a handler to answer the task with a failed Result; `retryable` guides the orchestrator."""

    def __init__(self, message: str, *, retryable: bool = False, code: str = "task_failed") -> None:
        super().__init__(message, retryable=retryable)
        self.code = code


class InboxError(AgentBusError):
    """The agent's inbox (the record of handled task ids) could not be read or written."""

    retryable_default = True


class AgentDefinitionError(AgentBusError):
    """An agent is declared wrongly (bad name, duplicate action, unsupported version)."""


def error_code(exc: BaseException) -> str:
    """A lower_snake_case code for an exception: LLMUnavailableError -> llm_unavailable."""
    name = type(exc).__name__.removesuffix("Error").removesuffix("Exception")
    # Keep acronyms together (LLMTimeout -> llm_timeout, not l_l_m_timeout).
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower() or "error"
