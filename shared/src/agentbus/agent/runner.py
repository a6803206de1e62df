"""Running an agent: settings, inbox, LLM backend, bus, announcements, health endpoints, SIGTERM drain.

`python -m services.agents.writer` ends in `run_agent(agent)` (or `agent.run()`); tests use
`running_agent(...)`, which yields the live runtime and drains it on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator

from agentbus import event_loop
from agentbus.agent.announce import Announcer, Phase
from agentbus.agent.definition import Agent
from agentbus.agent.inbox import Inbox, inbox_from_url
from agentbus.agent.runtime import AgentRuntime
from agentbus.agent.settings import AgentSettings
from agentbus.bus import Bus
from agentbus.errors import AgentBusError, ConfigurationError
from agentbus.llm.factory import create_backend
from agentbus.llm.prompts import PromptTemplate, load_prompts
from agentbus.llm.types import LLMBackend
from agentbus.observability import configure_logging, health_server
from agentbus.settings import load_settings, redact_url

log = logging.getLogger(__name__)


def settings_for(agent: Agent, settings: AgentSettings | None = None) -> AgentSettings:
    """The agent's settings from the environment; the service name defaults to the agent's name."""
    settings = settings or load_settings(AgentSettings)
    if "service_name" not in settings.model_fields_set:
        settings = settings.model_copy(update={"service_name": agent.name})
    return settings


def prompts_of(agent: Agent) -> dict[str, PromptTemplate]:
    """Every prompt template of the agent, loaded now so a broken one stops the start-up."""
    return load_prompts(agent.prompts) if agent.prompts is not None else {}


@contextlib.asynccontextmanager
async def running_agent(
    agent: Agent,
    settings: AgentSettings,
    *,
    llm: LLMBackend | None = None,
    inbox: Inbox | None = None,
    instance_id: str | None = None,
) -> AsyncIterator[AgentRuntime]:
    """Consume the agent's tasks and announce it; on exit announce STOPPING and drain in-flight work."""
    prompts = prompts_of(agent)
    async with contextlib.AsyncExitStack() as stack:
        store = inbox or inbox_from_url(settings.inbox_url(agent.name), agent.name)
        await store.open()
        stack.push_async_callback(store.close)
        if llm is None:
            llm = await stack.enter_async_context(create_backend(settings.llm, agent=agent.name))
        bus = await stack.enter_async_context(Bus.connect(settings))
        runtime = AgentRuntime(agent, settings, bus, store, llm, prompts=prompts,
                               instance_id=instance_id)
        stack.callback(runtime.close)
        with contextlib.suppress(AgentBusError):
            pruned = await store.prune(settings.agent_inbox_retention_s)
            if pruned:
                log.info("forgot %d handled task id(s) older than the retention period", pruned)
        announcer = Announcer(bus, agent, runtime.instance_id, heartbeat_s=settings.heartbeat_s)
        await bus.start(runtime.router())
        await announcer.publish(Phase.PHASE_STARTED)
        heartbeat_stop = asyncio.Event()
        heartbeats = asyncio.create_task(announcer.run(heartbeat_stop), name=f"{agent.name}-heartbeat")
        log.info("agent %s (%s) consuming task.%s.# as instance %s; speaks message_v%s; %s",
                 agent.name, redact_url(settings.amqp_url), agent.name, runtime.instance_id,
                 "/v".join(str(v) for v in agent.versions), agent.offered())
        try:
            yield runtime
        finally:
            runtime.stopping.set()
            heartbeat_stop.set()
            # A heartbeat stuck on a lost broker must not eat the shutdown grace period.
            heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeats
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(announcer.publish(Phase.PHASE_STOPPING),
                                       timeout=min(5.0, settings.shutdown_grace_s))
            log.info("agent %s stopping: draining in-flight tasks", agent.name)
            await bus.stop()


async def serve_agent(
    agent: Agent,
    settings: AgentSettings,
    *,
    stop: asyncio.Event | None = None,
    llm: LLMBackend | None = None,
    inbox: Inbox | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`), with /healthz, /readyz and /metrics on the health port."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    state: dict[str, Bus | None] = {"bus": None}

    def ready() -> bool:
        bus = state["bus"]
        return bus is not None and bus.ready and not stop.is_set()

    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(health_server(settings.health_port, ready=ready))
        except OSError as exc:
            raise ConfigurationError(
                f"agent {agent.name}: cannot serve health endpoints on port {settings.health_port} "
                f"({exc}); set AGENTBUS_HEALTH_PORT to a free port (0 turns them off)") from exc
        async with running_agent(agent, settings, llm=llm, inbox=inbox) as runtime:
            state["bus"] = runtime.bus
            await stop.wait()


def run_agent(agent: Agent, settings: AgentSettings | None = None) -> int:
    """Run `agent` until SIGTERM and return the exit code (2: configuration problem, 1: broker)."""
    try:
        settings = settings_for(agent, settings)
    except ConfigurationError as exc:
        print(f"agent {agent.name}: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.service_name)
    try:
        event_loop.run(serve_agent(agent, settings), choice=settings.event_loop)
    except AgentBusError as exc:
        log.error("%s", exc)
        return 1 if exc.retryable else 2
    except KeyboardInterrupt:
        return 130
    return 0
