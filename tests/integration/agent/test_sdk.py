"""The agent SDK on the real broker: results, idempotency across restarts, failures, versions, heartbeats."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agentbus import codec, topology
from agentbus.agent import Agent, AgentSettings, SqliteInbox, TaskContext, TaskFailed, running_agent
from agentbus.agent.inbox import LIVE_OWNERS, ClaimOutcome, Owner, StoredReply
from agentbus.bus import DEAD_LETTER_REASON, Bus
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.llm import DeterministicBackend, LLMUnavailableError
from agentbus.llm.types import Completion, CompletionRequest
from tests.integration.agent.helpers import Collector, send_task, task_envelope
from tests.support.broker import take_messages

pytestmark = pytest.mark.integration

OK = v2.Result.STATUS_OK
FAILED = v2.Result.STATUS_FAILED


def counting_agent(name: str = "writer", versions: tuple[int, ...] = (1, 2)) -> tuple[Agent, Counter[str]]:
    """An agent whose `write` counts calls per task id and fails on request."""
    agent = Agent(name, versions=versions)
    calls: Counter[str] = Counter()

    @agent.action("write")
    async def write(task: TaskContext) -> dict[str, Any]:
        calls[task.task_id] += 1
        mode = task.input.get("mode", "ok")
        if mode == "retryable":
            raise TaskFailed("the wiki is down", retryable=True, code="wiki_down")
        if mode == "final":
            raise TaskFailed("the topic is forbidden", retryable=False)
        if mode == "llm":
            raise LLMUnavailableError("the model is overloaded (503)", status=503)
        if mode == "bug":
            raise KeyError("oops")
        if mode == "slow":
            await asyncio.sleep(5)
        completion = await task.complete_json({"topic": task.input.get("topic", "x")},
                                              keys=("title", "draft"), prompt="write")
        return {"title": completion["title"], "calls": calls[task.task_id], "step": task.step}

    @agent.compensation("discard_draft")
    async def discard(task: TaskContext) -> dict[str, Any]:
        calls[task.task_id] += 1
        return {"discarded": True}

    return agent, calls


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "write.txt").write_text("Topic: $topic\n")
    return tmp_path


async def test_a_result_answers_the_task_in_its_saga_with_usage(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path) -> None:
    agent, calls = counting_agent()
    agent.prompts = prompts_dir
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()):
        task = task_envelope("writer", "write", {"topic": "tides"}, saga_id="s-ok", attempt=2)
        await send_task(bus, task)
        got = await collector.result(task.task.task_id)
    assert got.routing_key == "result.writer.write"
    assert got.schema == 2
    reply = got.message
    assert (reply.saga_id, reply.step, reply.attempt, reply.causation_id) == ("s-ok", "write", 2, task.id)
    assert reply.trace.traceparent.split("-")[1] == task.trace.traceparent.split("-")[1]
    result = reply.result
    assert result.status == OK
    assert (result.task_id, result.agent, result.action) == (task.task.task_id, "writer", "write")
    output = codec.struct_to_dict(result.output)
    assert output["calls"] == 1
    assert output["step"] == "write"
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens > 0
    assert calls == Counter({task.task.task_id: 1})


async def test_a_task_id_already_handled_is_answered_from_the_inbox_after_a_restart(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path) -> None:
    agent, calls = counting_agent()
    agent.prompts = prompts_dir
    first = task_envelope("writer", "write", {"topic": "tides"}, saga_id="s-dup")
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()) as runtime:
        first_instance = runtime.instance_id
        await send_task(bus, first)
        original = await collector.result(first.task.task_id)

    # A new process (new instance id), same inbox file: the duplicate (a new envelope with the same
    # task id, as a replayed outbox row or a redelivery would be) gets the stored answer.
    duplicate = task_envelope("writer", "write", {"topic": "tides"}, saga_id="s-dup")
    assert duplicate.id != first.id
    assert duplicate.task.task_id == first.task.task_id
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()) as runtime:
        assert runtime.instance_id != first_instance
        await send_task(bus, duplicate)
        again = await collector.result(first.task.task_id, count=2)
        compensation = task_envelope("writer", "discard_draft", {}, saga_id="s-dup",
                                     task_id="s-dup:write:compensate:1", compensation=True)
        await send_task(bus, compensation)
        await send_task(bus, compensation)
        await collector.result(compensation.task.task_id, count=2)

    assert calls[first.task.task_id] == 1
    assert calls[compensation.task.task_id] == 1
    assert again.message.id == original.message.id  # the very same reply envelope
    assert again.message.result == original.message.result
    assert agent_settings.inbox_path_hint("writer") is not None


async def test_failures_say_whether_a_retry_may_help_and_the_consumer_lives_on(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path) -> None:
    agent, calls = counting_agent()
    agent.prompts = prompts_dir
    expected = {
        "retryable": ("wiki_down", True),
        "final": ("task_failed", False),
        "llm": ("llm_unavailable", True),
        "bug": ("agent_error", True),
    }
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()):
        tasks = {mode: task_envelope("writer", "write", {"mode": mode}, saga_id=f"s-{mode}")
                 for mode in [*expected, "ok"]}
        for message in tasks.values():
            await send_task(bus, message)
        replies = {mode: (await collector.result(m.task.task_id)).message.result
                   for mode, m in tasks.items()}
    for mode, (code, retryable) in expected.items():
        assert replies[mode].status == FAILED, mode
        assert (replies[mode].error.code, replies[mode].error.retryable) == (code, retryable), mode
        assert replies[mode].error.message
    assert "KeyError" in replies["bug"].error.message
    assert replies["ok"].status == OK  # the bug did not kill the consumer
    assert sum(calls.values()) == 5


async def test_unknown_actions_and_expired_tasks_are_refused_without_acting(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path) -> None:
    agent, calls = counting_agent()
    agent.prompts = prompts_dir
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()):
        unknown = task_envelope("writer", "translate", {}, saga_id="s-unknown")
        late = task_envelope("writer", "write", {}, saga_id="s-late", deadline_s=-1)
        slow = task_envelope("writer", "write", {"mode": "slow"}, saga_id="s-slow", deadline_s=0.5)
        for message in (unknown, late, slow):
            await send_task(bus, message)
        refused = (await collector.result(unknown.task.task_id)).message.result
        expired = (await collector.result(late.task.task_id)).message.result
        cut_off = (await collector.result(slow.task.task_id)).message.result
    assert (refused.status, refused.error.code, refused.error.retryable) == (FAILED, "unknown_action", False)
    assert "discard_draft" in refused.error.message
    assert (expired.error.code, expired.error.retryable) == ("deadline_exceeded", True)
    assert (cut_off.error.code, cut_off.error.retryable) == ("deadline_exceeded", True)
    assert calls == Counter({slow.task.task_id: 1})  # the late one was never acted on


async def test_a_message_that_is_not_a_task_is_dead_lettered_with_the_reason(
        agent_settings: AgentSettings, bus: Bus, collector: Collector) -> None:
    agent, _ = counting_agent()
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()):
        stray = codec.new_envelope(v2.LifecycleEvent(saga_type="x"), source="test", saga_id="s")
        await bus.publish(topology.AGENTS, "task.writer.write", stray)
        dlq = topology.dead_letter_queue(topology.agent_queue("writer"))
        (dead,) = await take_messages(agent_settings.amqp_url, dlq, 1, timeout=10)
    assert dead["headers"][DEAD_LETTER_REASON] == "not_a_task"


async def test_a_v1_only_agent_replies_in_v1_whatever_the_task_came_in(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path) -> None:
    agent, _ = counting_agent(name="editor", versions=(1,))
    agent.prompts = prompts_dir
    async with running_agent(agent, agent_settings, llm=DeterministicBackend()):
        as_v1 = task_envelope("editor", "write", {"topic": "v1 in"}, saga_id="s-v1", attempt=3)
        as_v2 = task_envelope("editor", "write", {"topic": "v2 in"}, saga_id="s-v2")
        await send_task(bus, as_v1, schema=1)
        await send_task(bus, as_v2, schema=2)
        from_v1 = await collector.result(as_v1.task.task_id)
        from_v2 = await collector.result(as_v2.task.task_id)
        await collector.wait(lambda: bool(collector.announcements("editor")), what="an announcement")
    for got, sent in ((from_v1, as_v1), (from_v2, as_v2)):
        assert got.schema == 1
        reply = got.message
        assert reply.result.status == OK
        # v2 fields the agent "does not know" came back because the reply echoes the request.
        assert (reply.saga_id, reply.step, reply.attempt) == (sent.saga_id, sent.step, sent.attempt)
        assert reply.causation_id == sent.id
        assert codec.struct_to_dict(reply.result.output)["calls"] == 1
    announced = collector.announcements("editor")[0]
    assert announced.schema == 1
    assert list(announced.message.announcement.schema_versions) == [1]


async def test_announcements_at_start_by_heartbeat_and_when_stopping(
        agent_settings: AgentSettings, bus: Bus, collector: Collector) -> None:
    agent, _ = counting_agent()

    def phases() -> list[int]:
        return [r.message.announcement.phase for r in collector.announcements("writer")]

    async with running_agent(agent, agent_settings, llm=DeterministicBackend()) as runtime:
        await collector.wait(lambda: phases().count(v2.AgentAnnouncement.PHASE_HEARTBEAT) >= 2,
                             timeout=5, what="two heartbeats")
    await collector.wait(lambda: v2.AgentAnnouncement.PHASE_STOPPING in phases(), what="stopping")
    seen = phases()
    assert seen[0] == v2.AgentAnnouncement.PHASE_STARTED
    assert seen[-1] == v2.AgentAnnouncement.PHASE_STOPPING
    first = collector.announcements("writer")[0]
    assert first.routing_key == "agent.announce.writer"
    assert first.schema == 2
    ann = first.message.announcement
    assert ann.instance_id == runtime.instance_id
    assert (list(ann.actions), list(ann.compensations), list(ann.schema_versions)) == (
        ["write"], ["discard_draft"], [1, 2])
    assert ann.heartbeat_interval_s == 1


async def test_competing_replicas_share_the_work_and_the_inbox(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path,
        tmp_path: Path) -> None:
    agent, calls = counting_agent()
    agent.prompts = prompts_dir
    one_file = tmp_path / "shared-inbox.db"

    async with running_agent(agent, agent_settings, llm=DeterministicBackend(),
                             inbox=SqliteInbox(one_file, "writer")), \
            running_agent(agent, agent_settings, llm=DeterministicBackend(),
                          inbox=SqliteInbox(one_file, "writer")):
        # Every task is sent twice; the two copies may well go to different replicas, yet each
        # task id must be acted on exactly once and answered twice with the same reply.
        tasks = [task_envelope("writer", "write", {"topic": f"t{i}"}, saga_id=f"s-rep-{i}")
                 for i in range(12)]
        for message in tasks:
            await send_task(bus, message)
            await send_task(bus, message)
        await collector.wait(lambda: len(collector.results()) >= 24, timeout=20, what="24 results")

    assert set(calls) == {m.task.task_id for m in tasks}
    assert set(calls.values()) == {1}
    for message in tasks:
        replies = collector.results(message.task.task_id)
        assert {r.message.id for r in replies} == {replies[0].message.id}


async def test_an_llm_backend_error_in_the_agent_becomes_a_failed_result(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path) -> None:
    class Overloaded:
        name = "overloaded"

        async def complete(self, request: CompletionRequest) -> Completion:
            raise LLMUnavailableError("503 from the model", status=503)

        async def aclose(self) -> None:
            return None

    agent, _ = counting_agent()
    agent.prompts = prompts_dir
    async with running_agent(agent, agent_settings, llm=Overloaded()):
        task = task_envelope("writer", "write", {"topic": "x"}, saga_id="s-503")
        await send_task(bus, task)
        result = (await collector.result(task.task.task_id)).message.result
    assert (result.status, result.error.code, result.error.retryable) == (FAILED, "llm_unavailable", True)


async def test_stopping_drains_the_task_in_flight_before_leaving(
        agent_settings: AgentSettings, bus: Bus, collector: Collector) -> None:
    agent = Agent("writer")
    started = asyncio.Event()

    @agent.action("write")
    async def write(task: TaskContext) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(0.5)  # the work in flight when SIGTERM arrives
        return {"finished": True}

    async with running_agent(agent, agent_settings, llm=DeterministicBackend()):
        task = task_envelope("writer", "write", {}, saga_id="s-drain")
        await send_task(bus, task)
        await asyncio.wait_for(started.wait(), 10)
        assert not collector.results(task.task.task_id)
    # Leaving the block is what SIGTERM does: stop consuming, finish in-flight work, then close. The
    # agent's connection is closed now, so a result that still arrives was sent before it left.
    result = (await collector.result(task.task.task_id, timeout=5)).message.result
    assert codec.struct_to_dict(result.output) == {"finished": True}


async def test_a_duplicate_held_by_another_live_replica_is_waited_for(
        agent_settings: AgentSettings, bus: Bus, collector: Collector, prompts_dir: Path,
        tmp_path: Path) -> None:
    agent, calls = counting_agent()
    agent.prompts = prompts_dir
    path = tmp_path / "inbox.db"
    other = Owner.here("writer-other-replica")
    LIVE_OWNERS.add(other.instance_id)
    try:
        async with SqliteInbox(path, "writer") as theirs, running_agent(
                agent, agent_settings, llm=DeterministicBackend(), inbox=SqliteInbox(path, "writer")):
            waiting = task_envelope("writer", "write", {"topic": "x"}, saga_id="s-wait")
            expiring = task_envelope("writer", "write", {"topic": "x"}, saga_id="s-expire", deadline_s=0.6)
            for message in (waiting, expiring):
                assert (await theirs.claim(message.task.task_id, other, lease_s=600)).outcome \
                    is ClaimOutcome.ACQUIRED
                await send_task(bus, message)
            # The other replica never answers the expiring one: past its deadline we say so.
            expired = (await collector.result(expiring.task.task_id)).message.result
            assert (expired.error.code, expired.error.retryable) == ("deadline_exceeded", True)
            assert "other-replica" in expired.error.message
            # The other replica answers the waiting one: that answer is what we send too.
            assert not collector.results(waiting.task.task_id)
            their_reply = codec.new_envelope(
                v2.Result(task_id=waiting.task.task_id, agent="writer", action="write",
                          status=v2.Result.STATUS_OK, output=codec.struct_from({"by": "them"})),
                source="writer", caused_by=waiting)
            await theirs.complete(waiting.task.task_id, other, StoredReply(
                their_reply.SerializeToString(), 2, "result.writer.write"))
            got = await collector.result(waiting.task.task_id)
    finally:
        LIVE_OWNERS.discard(other.instance_id)
    assert got.message.id == their_reply.id
    assert calls == Counter()  # this replica acted on neither
