"""The agent SDK: declare an agent in a few lines, run it as its own process.

    from agentbus.agent import Agent, TaskContext, TaskFailed

    agent = Agent("writer", versions=(1, 2), prompts=__package__)

    @agent.action("write")
    async def write(task: TaskContext) -> dict[str, Any]:
        draft = await task.complete_json({"topic": task.input["topic"]}, keys=("title", "draft"))
        return {"draft": draft["draft"]}

    if __name__ == "__main__":
        agent.run()

The runtime binds `agentbus.agent.<name>` to `task.<name>.#` on agentbus.agents, answers each task
once (an inbox keyed by task id, durable across restarts) with `result.<name>.<action>` on
agentbus.ingress, in the newest envelope version the agent speaks, and announces itself on
`agent.announce.<name>` at start, every AGENTBUS_HEARTBEAT_S and when stopping.
"""

from agentbus.agent.context import TaskContext, as_text
from agentbus.agent.definition import Agent, Handler
from agentbus.agent.errors import AgentDefinitionError, InboxError, TaskFailed
from agentbus.agent.inbox import Inbox, SqliteInbox, inbox_from_url
from agentbus.agent.runner import run_agent, running_agent, serve_agent
from agentbus.agent.runtime import AgentRuntime
from agentbus.agent.settings import AgentSettings

__all__ = [
    "Agent",
    "AgentDefinitionError",
    "AgentRuntime",
    "AgentSettings",
    "Handler",
    "Inbox",
    "InboxError",
    "SqliteInbox",
    "TaskContext",
    "TaskFailed",
    "as_text",
    "inbox_from_url",
    "run_agent",
    "running_agent",
    "serve_agent",
]
