"""`agentbus dlq`: list dead letters with their reasons, fix the cause, replay them where they were going."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agentbus import codec, dead_letters, topology
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import RejectMessage
from agentbus.management import ManagementClient
from agentbus.settings import Settings
from agentbus.topology import Topology
from tests.support.broker import queue_depth, wait_for

pytestmark = pytest.mark.integration


async def test_list_shows_reason_and_replay_delivers_after_the_fix(
        bus: Bus, topo: Topology, management: ManagementClient, settings: Settings) -> None:
    queue = topology.agent_queue("writer")
    broken = True
    handled: list[str] = []

    async def handler(message: v2.Message, delivery: Delivery) -> None:
        if broken:
            raise RejectMessage("the writer cannot handle this yet; deploy the fix, then replay",
                                reason="not_supported")
        handled.append(message.id)

    router = Router()
    router.subscribe(queue, exchange=topology.AGENTS, binding_keys=["task.writer.#"])(handler)
    await bus.start(router)
    sent = []
    for i in range(3):
        msg = codec.new_envelope(v2.Task(task_id=f"t{i}", agent="writer", action="write"), source="t")
        await bus.publish(topology.AGENTS, "task.writer.write", msg)
        sent.append(msg.id)
    dlq = topology.dead_letter_queue(queue)
    await wait_for(lambda: _depth_is(settings, dlq, 3), what="three dead letters")

    letters = dead_letters.peek(management, settings.vhost, dlq, 10)
    assert [ltr.message_id for ltr in letters] == sent
    assert {ltr.reason for ltr in letters} == {"not_supported"}
    assert all("deploy the fix" in ltr.detail for ltr in letters)
    assert {(ltr.exchange, ltr.routing_key) for ltr in letters} == {(topology.AGENTS, "task.writer.write")}
    assert await queue_depth(settings.amqp_url, dlq) == 3  # peeking leaves them in place

    broken = False
    one = await dead_letters.replay(bus, dlq, limit=10, message_id=sent[1])
    assert [ltr.message_id for ltr in one] == [sent[1]]
    await wait_for(lambda: handled == [sent[1]], what="the single replayed message")
    rest = await dead_letters.replay(bus, dlq, limit=10)
    assert sorted(ltr.message_id for ltr in rest) == sorted([sent[0], sent[2]])
    await wait_for(lambda: sorted(handled) == sorted(sent), what="every replayed message")
    assert await queue_depth(settings.amqp_url, dlq) == 0


async def _depth_is(settings: Settings, queue: str, n: int) -> bool:
    return await queue_depth(settings.amqp_url, queue) == n


def test_dlq_list_cli_prints_queues(settings: Settings, topo: Topology) -> None:
    env = {**os.environ, "AGENTBUS_AMQP_URL": settings.amqp_url,
           "AGENTBUS_MANAGEMENT_URL": settings.management_url}
    out = subprocess.run([sys.executable, "-m", "agentbus.cli.main", "dlq", "list"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "agentbus.agent.writer.dlq" in out
    assert "agentbus.guardrail.quarantine" in out

