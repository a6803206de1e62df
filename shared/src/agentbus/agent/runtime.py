"""The agent runtime: consume tasks, deduplicate them in the inbox, call handlers, publish results.

Every task ends in exactly one published Result (success, or failure with a reason and
`retryable`), stored in the inbox before it is published; a duplicate gets the stored Result again.
Only messages that are not tasks for this agent are dead-lettered (RejectMessage), and a handler
may raise RejectMessage itself to dead-letter its task on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from agentbus import topology
from agentbus.agent.context import TaskContext
from agentbus.agent.definition import Agent
from agentbus.agent.errors import TaskFailed
from agentbus.agent.inbox import LIVE_OWNERS, Claim, ClaimOutcome, Inbox, Owner, StoredReply
from agentbus.agent.metrics import AgentMetrics, agent_metrics
from agentbus.agent.replies import error_for, output_struct, reply_envelope, result_for
from agentbus.agent.settings import AgentSettings
from agentbus.bus import Bus, Delivery, Router
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import AgentBusError, RejectMessage
from agentbus.llm.prompts import PromptTemplate
from agentbus.llm.types import LLMBackend

log = logging.getLogger(__name__)

CLAIM_POLL_S = 0.2


def result_routing_key(agent: str, action: str) -> str:
    """Where an agent's answer to `action` goes: result.<agent>.<action>."""
    return f"result.{agent}.{action}"


def new_instance_id(agent: str) -> str:
    """A unique id for one running instance of `agent`."""
    return f"{agent}-{uuid.uuid4().hex[:8]}"


class AgentRuntime:
    """One running instance of an agent on a bus; `router()` is what it consumes."""

    def __init__(
        self,
        agent: Agent,
        settings: AgentSettings,
        bus: Bus,
        inbox: Inbox,
        llm: LLMBackend,
        *,
        prompts: Mapping[str, PromptTemplate] | None = None,
        instance_id: str | None = None,
        metrics: AgentMetrics | None = None,
    ) -> None:
        self.agent = agent
        self.settings = settings
        self.bus = bus
        self.inbox = inbox
        self.llm = llm
        self.prompts = dict(prompts or {})
        self.instance_id = instance_id or new_instance_id(agent.name)
        self.owner = Owner.here(self.instance_id)
        self.metrics = metrics or agent_metrics()
        self.stopping = asyncio.Event()
        LIVE_OWNERS.add(self.instance_id)

    def close(self) -> None:
        """Mark this instance gone, so its unfinished claims can be taken over at once."""
        LIVE_OWNERS.discard(self.instance_id)

    def router(self) -> Router:
        """The agent's queue, `agentbus.agent.<name>` on agentbus.agents, bound to task.<name>.#."""
        router = Router()
        router.subscribe(
            topology.agent_queue(self.agent.name), exchange=topology.AGENTS,
            binding_keys=[f"task.{self.agent.name}.#"], prefetch=self.settings.prefetch,
        )(self.handle)
        return router

    # ------------------------------------------------------------ one delivery

    async def handle(self, message: v2.Message, delivery: Delivery) -> None:
        """Answer one task (or its duplicate); dead-letter what is not a task for this agent."""
        task = self._task_of(message, delivery)
        claim = await self._claim(message)
        if claim.outcome is ClaimOutcome.BUSY:
            await self._publish(self._still_busy(message, claim.holder))
            return
        if claim.outcome is ClaimOutcome.DONE and claim.reply is not None:
            log.info("task %s answered before; sending the stored result again", task.task_id)
            self.metrics.tasks.labels(agent=self.agent.name, action=task.action,
                                      outcome="duplicate").inc()
            await self._publish(claim.reply)
            return
        try:
            reply, envelope = await self._answer(message, delivery)
            stored = await self.inbox.complete(task.task_id, self.owner, reply)
        except BaseException:
            # Interrupted (shutdown, inbox trouble): give the claim back so a redelivery acts.
            with contextlib.suppress(Exception):
                await asyncio.shield(self.inbox.release(task.task_id, self.owner))
            raise
        # Usually the stored reply is ours: publish the envelope at hand instead of parsing it.
        await self._publish(stored, envelope if stored.envelope == reply.envelope else None)

    def _still_busy(self, message: v2.Message, holder: str) -> StoredReply:
        """The answer when another replica still holds the task past its deadline (not stored)."""
        # The orchestrator has stopped waiting; the other replica's answer, when it comes, is the
        # one the inbox keeps.
        task = message.task
        result = result_for(task, error=v2.Error(
            code="deadline_exceeded", retryable=True,
            message=f"task {task.task_id} is still being handled by {holder} past its deadline"))
        late = reply_envelope(message, result, source=self.agent.name, echo=self.agent.reply_schema == 1)
        return StoredReply(late.SerializeToString(), self.agent.reply_schema,
                           result_routing_key(self.agent.name, task.action))

    def _task_of(self, message: v2.Message, delivery: Delivery) -> v2.Task:
        body = message.WhichOneof("body")
        if body != "task":
            raise RejectMessage(
                f"{delivery.queue} received a {body or 'bodyless'} message on {delivery.routing_key}; "
                "only tasks belong on an agent's queue", reason="not_a_task")
        task = message.task
        if task.agent and task.agent != self.agent.name:
            raise RejectMessage(
                f"task {task.task_id} is for agent {task.agent!r}, not {self.agent.name!r}; check "
                f"the binding of {delivery.queue}", reason="wrong_agent")
        if not task.task_id:
            raise RejectMessage("a task without task_id cannot be deduplicated or answered; the "
                                "orchestrator always sets one", reason="missing_task_id")
        return task

    async def _claim(self, message: v2.Message) -> Claim:
        """Claim the task, waiting while another live replica works on it (BUSY only past the deadline)."""
        task_id = message.task.task_id
        started = time.monotonic()
        while True:
            claim = await self.inbox.claim(task_id, self.owner, lease_s=self.settings.agent_claim_lease_s)
            if claim.outcome is not ClaimOutcome.BUSY:
                return claim
            left = _seconds_left(message)
            if left is not None and left <= 0:
                return claim
            if self.stopping.is_set():
                raise AgentBusError(
                    f"task {task_id} is being handled by {claim.holder} and this instance is "
                    "stopping; it will come back later", retryable=True)
            if time.monotonic() - started < CLAIM_POLL_S * 2:
                log.info("task %s is being handled by %s; waiting for its answer", task_id, claim.holder)
            # Another replica works on this very task (a duplicate delivered to both): its answer
            # will be in the inbox shortly, or its claim will be found dead and taken over.
            await asyncio.sleep(CLAIM_POLL_S)

    async def _answer(self, message: v2.Message,
                      delivery: Delivery) -> tuple[StoredReply, v2.Message]:
        """Run the handler (or refuse the task) and build the reply; never raises for a handler's error."""
        task = message.task
        handler = self.agent.handler_for(task.action)
        context = TaskContext(message=message, agent=self.agent.name, llm=self.llm,
                              prompts=self.prompts, received_schema=delivery.schema,
                              system=self.agent.system)
        started = time.perf_counter()
        error: v2.Error | None = None
        output = None
        if handler is None:
            error = v2.Error(code="unknown_action", retryable=False, message=(
                f"agent {self.agent.name!r} has no action or compensation {task.action!r}; it offers "
                f"{self.agent.offered()}. Check the saga definition."))
        elif (remaining := _seconds_left(message)) is not None and remaining <= 0:
            error = v2.Error(code="deadline_exceeded", retryable=True, message=(
                f"task {task.task_id} arrived {-remaining:.1f}s after its deadline; not acted on "
                "(the orchestrator has stopped waiting for it)"))
        else:
            try:
                async with asyncio.timeout(remaining) as scope:
                    returned = await handler(context)
                output = output_struct(returned)
            except RejectMessage:
                raise
            except TimeoutError as exc:
                if scope.expired():
                    error = v2.Error(code="deadline_exceeded", retryable=True, message=(
                        f"{self.agent.name}.{task.action} did not finish before the task's deadline"))
                else:
                    error = error_for(exc)
            except (TaskFailed, AgentBusError) as exc:
                error = error_for(exc)
            except Exception as exc:
                log.exception("%s.%s failed unexpectedly on task %s", self.agent.name, task.action,
                              task.task_id)
                error = error_for(exc)
        elapsed = time.perf_counter() - started
        self.metrics.seconds.labels(agent=self.agent.name, action=task.action).observe(elapsed)
        self.metrics.tasks.labels(agent=self.agent.name, action=task.action,
                                  outcome="ok" if error is None else "failed").inc()
        if error is not None:
            log.warning("%s.%s task %s failed (%s, %s): %s", self.agent.name, task.action, task.task_id,
                        error.code, "retryable" if error.retryable else "final", error.message)
        else:
            log.info("%s.%s task %s done in %.2fs", self.agent.name, task.action, task.task_id, elapsed)
        result = result_for(task, output=output, error=error, usage=context.usage)
        reply = reply_envelope(message, result, source=self.agent.name,
                               echo=self.agent.reply_schema == 1)
        stored = StoredReply(reply.SerializeToString(), self.agent.reply_schema,
                             result_routing_key(self.agent.name, task.action))
        return stored, reply

    async def _publish(self, reply: StoredReply, envelope: v2.Message | None = None) -> None:
        if envelope is None:
            envelope = v2.Message.FromString(reply.envelope)
        await self.bus.publish(topology.INGRESS, reply.routing_key, envelope, schema=reply.schema)


def _seconds_left(message: v2.Message) -> float | None:
    if not message.HasField("deadline"):
        return None
    deadline = message.deadline.ToDatetime(tzinfo=UTC)
    return (deadline - datetime.now(UTC)).total_seconds()
