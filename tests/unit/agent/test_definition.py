"""Declaring agents: names, versions, handlers, and what is refused with a useful message."""

from __future__ import annotations

import pytest

from agentbus.agent import Agent, AgentDefinitionError, TaskContext
from agentbus.agent.errors import error_code
from agentbus.llm import LLMTimeoutError, LLMUnavailableError, TokenBudgetExceededError
from services.agents import REFERENCE_AGENTS
from services.agents.editor.agent import agent as editor


def test_a_declaration_takes_a_few_lines() -> None:
    agent = Agent("writer", versions=(2, 1))

    @agent.action("write")
    async def write(task: TaskContext) -> dict[str, str]:
        return {"draft": "x"}

    @agent.compensation("discard_draft")
    async def discard(task: TaskContext) -> None:
        return None

    assert agent.versions == (1, 2)
    assert agent.reply_schema == 2
    assert agent.handler_for("write") is write
    assert agent.handler_for("discard_draft") is discard
    assert agent.handler_for("nope") is None
    assert "discard_draft" in agent.offered()


@pytest.mark.parametrize(("name", "versions", "match"), [
    ("Writer", (1, 2), "lower_snake_case"),
    ("style-reviewer", (1, 2), "lower_snake_case"),
    ("writer", (), "non-empty subset"),
    ("writer", (1, 3), "non-empty subset"),
])
def test_bad_declarations_are_refused(name: str, versions: tuple[int, ...], match: str) -> None:
    with pytest.raises(AgentDefinitionError, match=match):
        Agent(name, versions=versions)


def test_action_names_are_checked_and_unique() -> None:
    agent = Agent("writer")
    agent.action("write")(_noop)
    with pytest.raises(AgentDefinitionError, match="registered twice"):
        agent.compensation("write")
    with pytest.raises(AgentDefinitionError, match="lower_snake_case"):
        agent.action("Write!")


async def _noop(task: TaskContext) -> None:
    return None


def test_error_codes_read_like_the_exception() -> None:
    assert error_code(LLMUnavailableError("x")) == "llm_unavailable"
    assert error_code(LLMTimeoutError("x")) == "llm_timeout"
    assert error_code(TokenBudgetExceededError("x", agent="a", used=1, budget=1)) == "token_budget_exceeded"
    assert error_code(ValueError("x")) == "value"


def test_reference_agents_match_the_topology_and_the_editor_speaks_v1_only() -> None:
    from agentbus import topology

    assert set(REFERENCE_AGENTS) == set(topology.REFERENCE_AGENTS)
    assert editor.versions == (1,)
    assert editor.reply_schema == 1
