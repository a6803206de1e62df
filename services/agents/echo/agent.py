"""echo: returns the task's input as its output; the benchmark's stand-in for an agent that thinks."""

from __future__ import annotations

import os
from typing import Any

from agentbus.agent import Agent, TaskContext

agent = Agent(os.environ.get("AGENTBUS_ECHO_AGENT", "echo"), versions=(1, 2),
              description="Answers every task with its input (benchmarks).")


@agent.action("echo")
async def echo(task: TaskContext) -> dict[str, Any]:
    """Send the input back."""
    return dict(task.input)
