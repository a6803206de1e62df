"""Declaring an agent: a name, the message versions it speaks, and decorated async handlers.

    agent = Agent("writer", versions=(1, 2), prompts=__package__)

    @agent.action("write")
    async def write(task: TaskContext) -> dict[str, Any]:
        ...

    @agent.compensation("discard_draft")
    async def discard_draft(task: TaskContext) -> dict[str, Any]:
        ...
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

from agentbus import codec
from agentbus.agent.errors import AgentDefinitionError
from agentbus.topology import AGENT_NAME

if TYPE_CHECKING:
    from agentbus.agent.context import TaskContext

HandlerResult = Mapping[str, Any] | None
Handler = Callable[["TaskContext"], Awaitable[HandlerResult]]
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Agent:
    """An agent's declaration: what it is called, what it can do and undo, which versions it reads."""

    def __init__(
        self,
        name: str,
        *,
        versions: Iterable[int] = (1, 2),
        prompts: str | ModuleType | Path | None = None,
        system: str = "",
        description: str = "",
    ) -> None:
        if not AGENT_NAME.match(name):
            raise AgentDefinitionError(
                f"agent name {name!r} must be lower_snake_case (it appears in routing keys and "
                "queue names), e.g. 'style_reviewer'")
        spoken = tuple(sorted(set(versions)))
        unknown = set(spoken) - codec.SUPPORTED_SCHEMAS
        if not spoken or unknown:
            raise AgentDefinitionError(
                f"agent {name!r}: versions {tuple(versions)!r} must be a non-empty subset of "
                f"{sorted(codec.SUPPORTED_SCHEMAS)} (the message_v1 / message_v2 envelopes)")
        self.name = name
        self.versions: tuple[int, ...] = spoken
        self.prompts = prompts
        self.system = system
        self.description = description
        self.actions: dict[str, Handler] = {}
        self.compensations: dict[str, Handler] = {}

    @property
    def reply_schema(self) -> int:
        """The envelope version this agent writes: the newest it speaks (1 for a v1-only agent)."""
        return max(self.versions)

    def action(self, name: str) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine as the handler of action `name`."""
        return self._register(name, self.actions, "action")

    def compensation(self, name: str) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine as the handler of compensation `name` (an undo)."""
        return self._register(name, self.compensations, "compensation")

    def _register(self, name: str, table: dict[str, Handler], kind: str) -> Callable[[Handler], Handler]:
        if not ACTION_NAME.match(name):
            raise AgentDefinitionError(
                f"agent {self.name!r}: {kind} name {name!r} must be lower_snake_case "
                "(it is the last word of task.<agent>.<action>)")
        if name in self.actions or name in self.compensations:
            raise AgentDefinitionError(
                f"agent {self.name!r}: {name!r} is registered twice; action and compensation "
                "names must be unique within an agent")

        def register(handler: Handler) -> Handler:
            table[name] = handler
            return handler

        return register

    def handler_for(self, action: str) -> Handler | None:
        """The handler of an action or compensation, None when the agent has no such name."""
        return self.actions.get(action) or self.compensations.get(action)

    def offered(self) -> str:
        """What the agent offers, for error messages."""
        return (f"actions {sorted(self.actions)}, compensations {sorted(self.compensations)}")

    def run(self, argv: Sequence[str] | None = None) -> NoReturn:
        """Run this agent as a process until SIGTERM (settings from the environment), then exit.

        The command line takes only `--help`, which lists what the agent offers and its settings.
        """
        from agentbus.agent.runner import run_agent  # the runner imports this module
        from agentbus.agent.settings import AgentSettings
        from agentbus.service_help import parse_service_args

        versions = ", ".join(f"v{v}" for v in sorted(self.versions))
        what = f": {self.description.rstrip('.')}" if self.description else ""
        parse_service_args(
            f"{self.name} agent",
            f"The {self.name} agent{what}. It serves "
            f"task.{self.name}.<action> from its queue agentbus.agent.{self.name} until SIGTERM "
            f"({self.offered()}; speaks {versions}). Run more of them to share the work.",
            [AgentSettings], argv,
            notes=f"AGENTBUS_SERVICE_NAME defaults to the agent's name ({self.name}) here.")
        sys.exit(run_agent(self))

    def __repr__(self) -> str:
        return f"Agent({self.name!r}, versions={self.versions!r}, {self.offered()})"
