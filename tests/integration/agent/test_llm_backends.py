"""Each LLM backend through a reference agent on the real broker: deterministic, and OpenAI-compatible
against a real HTTP server speaking the chat-completions API (tests/support/fake_openai.py)."""

from __future__ import annotations

import json

import pytest

from agentbus import codec
from agentbus.agent import AgentSettings, running_agent
from agentbus.bus import Bus
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.llm import LLMSettings
from services.agents.writer.agent import agent as writer
from tests.integration.agent.helpers import Collector, send_task, task_envelope
from tests.support.fake_openai import FakeOpenAI

pytestmark = pytest.mark.integration

TASK_INPUT = {"topic": "tide pools", "notes": ["anemones close at low tide", "crabs hide under rocks"]}


def with_llm(settings: AgentSettings, **llm: object) -> AgentSettings:
    return settings.model_copy(update={"llm": LLMSettings(**llm)})  # type: ignore[arg-type]


async def test_the_deterministic_backend_writes_a_draft_and_reports_usage(
        agent_settings: AgentSettings, bus: Bus, collector: Collector) -> None:
    async with running_agent(writer, with_llm(agent_settings, backend="deterministic")):
        first = task_envelope("writer", "write", TASK_INPUT, saga_id="s-det-1")
        second = task_envelope("writer", "write", TASK_INPUT, saga_id="s-det-2")
        await send_task(bus, first)
        await send_task(bus, second)
        one = (await collector.result(first.task.task_id)).message.result
        two = (await collector.result(second.task.task_id)).message.result
    assert one.status == v2.Result.STATUS_OK
    output = codec.struct_to_dict(one.output)
    assert output["title"]
    assert "tide pools" in output["draft"].lower()
    assert one.usage.prompt_tokens > 0
    assert one.usage.completion_tokens > 0
    assert codec.struct_to_dict(two.output) == output  # same request, same answer


async def test_the_openai_backend_sends_the_agents_prompts_and_reports_the_servers_usage(
        agent_settings: AgentSettings, bus: Bus, collector: Collector) -> None:
    with FakeOpenAI() as server:
        server.reply(json.dumps({"title": "Life in Tide Pools", "draft": "Anemones close up."}),
                     prompt_tokens=321, completion_tokens=45)
        settings = with_llm(agent_settings, backend="openai", base_url=server.base_url,
                            model="fake-model", max_retries=0)
        async with running_agent(writer, settings):
            task = task_envelope("writer", "write", TASK_INPUT, saga_id="s-openai")
            await send_task(bus, task)
            result = (await collector.result(task.task.task_id)).message.result
        (request,) = server.requests
    assert result.status == v2.Result.STATUS_OK
    assert codec.struct_to_dict(result.output) == {"title": "Life in Tide Pools",
                                                   "draft": "Anemones close up."}
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (321, 45)
    body = request.json
    assert body["model"] == "fake-model"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system"
    assert "writer of a small editorial team" in system["content"]  # prompts/system.txt
    assert '"title", "draft"' in system["content"]
    assert user["content"].startswith("Topic: tide pools")  # prompts/write.txt, rendered
    assert "- crabs hide under rocks" in user["content"]


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (503, "llm_unavailable", True),
    (400, "llm_request", False),
])
async def test_openai_errors_become_failed_results_with_the_right_retry_policy(
        agent_settings: AgentSettings, bus: Bus, collector: Collector,
        status: int, code: str, retryable: bool) -> None:
    with FakeOpenAI() as server:
        server.fail(status, times=2, message="scripted")
        settings = with_llm(agent_settings, backend="openai", base_url=server.base_url,
                            max_retries=1, retry_initial_wait_s=0.01, retry_max_wait_s=0.05)
        async with running_agent(writer, settings):
            task = task_envelope("writer", "write", TASK_INPUT, saga_id=f"s-{status}")
            await send_task(bus, task)
            result = (await collector.result(task.task.task_id)).message.result
        attempts = len(server.requests)
    assert result.status == v2.Result.STATUS_FAILED
    assert (result.error.code, result.error.retryable) == (code, retryable)
    assert str(status) in result.error.message
    assert attempts == (2 if retryable else 1)  # the backend retried only what may succeed


async def test_an_unparseable_model_answer_fails_the_task_for_good(
        agent_settings: AgentSettings, bus: Bus, collector: Collector) -> None:
    with FakeOpenAI() as server:
        server.reply("Sure! Here is your article about tide pools.")
        settings = with_llm(agent_settings, backend="openai", base_url=server.base_url, max_retries=0)
        async with running_agent(writer, settings):
            task = task_envelope("writer", "write", TASK_INPUT, saga_id="s-prose")
            await send_task(bus, task)
            result = (await collector.result(task.task.task_id)).message.result
    assert (result.error.code, result.error.retryable) == ("structured_output", False)
