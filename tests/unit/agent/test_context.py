"""TaskContext: the task's fields, prompts rendered from files, and token usage counted per task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentbus import codec
from agentbus.agent import TaskContext, as_text
from agentbus.agent.announce import announcement
from agentbus.agent.runner import prompts_of
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.llm import DeterministicBackend, PromptTemplateError, load_prompts
from services.agents.editor.agent import agent as editor
from services.agents.writer.agent import agent as writer


def context_for(tmp_path: Path, inputs: dict[str, object], *, system: bool = True) -> TaskContext:
    prompts = tmp_path / "prompts"
    prompts.mkdir(exist_ok=True)
    (prompts / "write.txt").write_text("Topic: $topic\nNotes:\n$notes\n")
    if system:
        (prompts / "system.txt").write_text("You write articles.")
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    message = codec.new_envelope(
        v2.Task(task_id="s:write:1", agent="writer", action="write", input=codec.struct_from(inputs),
                context=[v2.ContextItem(name="style", text="short")]),
        source="test", saga_id="s", step="write", attempt=1, deadline=deadline)
    return TaskContext(message=message, agent="writer", llm=DeterministicBackend(),
                       prompts=load_prompts(tmp_path))


async def test_complete_renders_the_action_prompt_and_counts_tokens(tmp_path: Path) -> None:
    task = context_for(tmp_path, {"topic": "tides", "notes": ["moon", "sun"]})
    answer = await task.complete_json({"topic": task.input["topic"], "notes": task.input["notes"]},
                                      keys=("title", "draft"))
    assert set(answer) == {"title", "draft"}
    first = task.usage
    assert first.prompt_tokens > 0
    assert first.completion_tokens > 0
    await task.complete({"topic": "tides", "notes": "x"})
    assert task.usage.total_tokens > first.total_tokens


def test_task_fields(tmp_path: Path) -> None:
    task = context_for(tmp_path, {"topic": "tides", "n": 3})
    assert (task.task_id, task.action, task.saga_id, task.step, task.attempt) == (
        "s:write:1", "write", "s", "write", 1)
    assert task.input == {"topic": "tides", "n": 3.0}
    assert task.context_items == {"style": "short"}
    assert task.deadline is not None
    assert task.deadline > datetime.now(UTC)
    assert not task.compensation


def test_a_missing_prompt_or_variable_is_named(tmp_path: Path) -> None:
    task = context_for(tmp_path, {})
    with pytest.raises(PromptTemplateError, match="no prompt 'publish'"):
        task.prompt("publish")
    with pytest.raises(PromptTemplateError, match="notes"):
        task.prompt().render({"topic": "x"})


def test_as_text_renders_structures_for_prompts() -> None:
    assert as_text(["a", "b"]) == "- a\n- b"
    assert as_text(3.0) == "3"
    assert as_text({"k": 1}) == '{\n "k": 1\n}'


def test_every_reference_agent_has_a_prompt_per_llm_action() -> None:
    for agent, actions in ((writer, {"write", "system"}), (editor, {"edit", "system"})):
        assert actions <= set(prompts_of(agent))


def test_announcements_say_what_the_agent_speaks_and_does() -> None:
    message = announcement(editor, "editor-1", v2.AgentAnnouncement.PHASE_HEARTBEAT, 5.0)
    ann = message.announcement
    assert (ann.agent, ann.instance_id, list(ann.schema_versions), list(ann.actions)) == (
        "editor", "editor-1", [1], ["edit"])
    assert ann.heartbeat_interval_s == 5
    assert list(announcement(writer, "w", v2.AgentAnnouncement.PHASE_STARTED, 5.0)
                .announcement.compensations) == ["discard_draft"]
