"""Errors of the saga orchestrator, all rooted in `agentbus.errors.AgentBusError`."""

from __future__ import annotations

from agentbus.errors import AgentBusError, ConfigurationError


class SagaDefinitionError(ConfigurationError):
    """A saga definition file is invalid; the message names the file, the step and the problem."""

    def __init__(self, source: str, problem: str, *, step: str | None = None) -> None:
        where = f"{source}: step {step!r}: " if step else f"{source}: "
        super().__init__(where + problem)
        self.source = source
        self.step = step
        self.problem = problem


class UnknownSagaTypeError(AgentBusError):
    """A saga was asked for by a type no definition declares."""


class UnresolvedReferenceError(AgentBusError):
    """A `${...}` reference could not be resolved against the saga's data."""


class SagaStoreError(AgentBusError):
    """The saga store failed; usually retryable (database unreachable or busy)."""

    retryable_default = True


class ConcurrencyError(SagaStoreError):
    """Another writer changed the saga since it was read; reload it and apply the event again."""


class SagaExistsError(SagaStoreError):
    """A saga with this id is already stored (a duplicate start)."""

    retryable_default = False
