"""The broker side of agentbus as data: exchanges, queues, bindings, users and their permissions.

`build_topology()` says what must exist; `agentbus.management.apply_topology()` makes it so through the
management API. Queue arguments come from here for both `topology apply` and the library's own
declarations, so the two can never disagree (RabbitMQ refuses a redeclare with other arguments).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

INGRESS: Final = "agentbus.ingress"
AGENTS: Final = "agentbus.agents"
DLX: Final = "agentbus.dlx"
ORCHESTRATOR_HASH: Final = "agentbus.orchestrator.hash"
GUARDRAIL_QUEUE: Final = "agentbus.guardrail"
QUARANTINE_QUEUE: Final = "agentbus.guardrail.quarantine"

REFERENCE_AGENTS: Final = (
    "researcher", "writer", "editor", "publisher",
    "style_reviewer", "security_reviewer", "performance_reviewer", "tests_reviewer", "synthesiser",
)
DEFAULT_PARTITIONS: Final = 4
ORCHESTRATOR_BINDING_KEYS: Final = ("saga.start.#", "result.#", "guardrail.blocked.#")
AGENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def agent_queue(agent: str) -> str:
    """The work queue of an agent, bound to `task.<agent>.#` on agentbus.agents."""
    return f"agentbus.agent.{agent}"


def partition_queue(index: int) -> str:
    """The orchestrator's partition queue number `index`."""
    return f"agentbus.orchestrator.p{index}"


def dead_letter_queue(queue: str) -> str:
    """Where `queue`'s dead letters are kept, with their reasons."""
    return f"{queue}.dlq"


def retry_queue(queue: str) -> str:
    """Where `queue`'s retryable failures wait before they are delivered again."""
    return f"{queue}.retry"


def retry_routing_key(queue: str) -> str:
    """The key on agentbus.dlx that routes to `queue`'s retry queue."""
    return f"retry.{queue}"


def work_queue_arguments(
    queue: str, *, delivery_limit: int, single_active_consumer: bool = False,
) -> dict[str, Any]:
    """Arguments of every work queue: quorum, bounded redelivery, dead letters to `<queue>.dlq`.

    Orchestrator partitions add single-active-consumer: one replica owns a partition at a time and a
    standby takes over when it dies.
    """
    args: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": DLX,
        "x-dead-letter-routing-key": queue,
    }
    if single_active_consumer:
        args["x-single-active-consumer"] = True
    return args


def dead_letter_queue_arguments() -> dict[str, Any]:
    """Arguments of a dead-letter queue: quorum, kept until someone looks."""
    return {"x-queue-type": "quorum"}


def retry_queue_arguments(queue: str, *, delay_ms: int) -> dict[str, Any]:
    """A retry queue holds a message `delay_ms`, then the broker sends it back to `queue`."""
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": delay_ms,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue,
    }


@dataclass(frozen=True)
class Exchange:
    """An exchange to declare."""

    name: str
    type: str = "topic"
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Binding:
    """A binding from exchange `source` to a queue or exchange `destination`."""

    source: str
    destination: str
    routing_key: str
    destination_type: str = "queue"


@dataclass(frozen=True)
class Queue:
    """A queue to declare with its arguments."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class TopicPermission:
    """Which routing keys a user may publish (`write`) to one topic exchange."""

    exchange: str
    write: str
    read: str = ".*"


@dataclass(frozen=True)
class User:
    """A broker user for one service, with least-privilege permissions in the vhost."""

    name: str
    service: str
    configure: str
    write: str
    read: str
    topic_permissions: tuple[TopicPermission, ...]
    tags: str = ""


@dataclass(frozen=True)
class Topology:
    """Everything agentbus needs in one vhost."""

    vhost: str
    exchanges: tuple[Exchange, ...]
    queues: tuple[Queue, ...]
    bindings: tuple[Binding, ...]
    users: tuple[User, ...]
    plugins: tuple[str, ...] = ("rabbitmq_management", "rabbitmq_consistent_hash_exchange")

    def user(self, service: str) -> User:
        """The user of a service ("guardrail", "orchestrator", "client", "agent:<name>")."""
        for user in self.users:
            if user.service == service:
                return user
        raise KeyError(service)


def _own(prefix: str) -> str:
    return rf"{re.escape(prefix)}(\..*)?"


def _any_of(*patterns: str) -> str:
    return "^(" + "|".join(patterns) + ")$"


def user_name(service: str, prefix: str = "agentbus-") -> str:
    """The broker user name of a service: agentbus-guardrail, agentbus-agent-writer..."""
    return prefix + service.replace(":", "-").replace("_", "-")


def build_users(agents: Sequence[str], prefix: str = "agentbus-") -> tuple[User, ...]:
    """The per-service users. Only the guardrail may write to agentbus.agents."""
    ingress, agents_x, dlx, hashx = (re.escape(x) for x in (INGRESS, AGENTS, DLX, ORCHESTRATOR_HASH))
    users = [
        User(
            name=user_name("guardrail", prefix), service="guardrail",
            configure=_any_of(_own(GUARDRAIL_QUEUE)),
            write=_any_of(ingress, agents_x, dlx, _own(GUARDRAIL_QUEUE)),
            read=_any_of(ingress, dlx, _own(GUARDRAIL_QUEUE)),
            topic_permissions=(
                TopicPermission(INGRESS, write=r"^guardrail\.blocked\..+$"),
                TopicPermission(AGENTS, write=r"^task\..+$"),
            ),
        ),
        User(
            name=user_name("orchestrator", prefix), service="orchestrator",
            configure=_any_of(_own("agentbus.orchestrator")),
            write=_any_of(ingress, dlx, _own("agentbus.orchestrator")),
            read=_any_of(ingress, dlx, hashx, _own("agentbus.orchestrator")),
            topic_permissions=(TopicPermission(INGRESS, write=r"^(task|saga)\..+$"),),
        ),
        User(
            name=user_name("client", prefix), service="client",
            configure=_any_of(_own("agentbus.client")),
            write=_any_of(ingress, _own("agentbus.client")),
            read=_any_of(ingress, _own("agentbus.client")),
            topic_permissions=(TopicPermission(INGRESS, write=r"^saga\.start\..+$"),),
        ),
    ]
    for agent in agents:
        own = _own(agent_queue(agent))
        users.append(User(
            name=user_name(f"agent:{agent}", prefix), service=f"agent:{agent}",
            configure=_any_of(own),
            write=_any_of(ingress, dlx, own),
            read=_any_of(agents_x, dlx, own),
            topic_permissions=(
                TopicPermission(INGRESS, write=rf"^(result\.{agent}\..+|agent\.announce\.{agent})$"),
            ),
        ))
    return tuple(users)


def work_queue_with_dead_letters(
    name: str, bindings: Sequence[tuple[str, str]], *, delivery_limit: int, retry_delay_ms: int,
    single_active_consumer: bool = False,
) -> tuple[list[Queue], list[Binding]]:
    """A work queue, its dead-letter and retry queues, and the bindings that connect them."""
    queues = [
        Queue(name, work_queue_arguments(name, delivery_limit=delivery_limit,
                                         single_active_consumer=single_active_consumer)),
        Queue(dead_letter_queue(name), dead_letter_queue_arguments()),
        Queue(retry_queue(name), retry_queue_arguments(name, delay_ms=retry_delay_ms)),
    ]
    links = [Binding(source, name, key) for source, key in bindings]
    links.append(Binding(DLX, dead_letter_queue(name), name))
    links.append(Binding(DLX, retry_queue(name), retry_routing_key(name)))
    return queues, links


def build_topology(
    *,
    vhost: str = "/",
    agents: Sequence[str] = REFERENCE_AGENTS,
    partitions: int = DEFAULT_PARTITIONS,
    delivery_limit: int = 5,
    retry_delay_ms: int = 1000,
    user_prefix: str = "agentbus-",
    partition_delivery_limit: int = 50,
) -> Topology:
    """What agentbus needs on the broker for these agents and this many orchestrator partitions."""
    for agent in agents:
        if not AGENT_NAME.match(agent):
            raise ValueError(f"agent name {agent!r} must be lower_snake_case (it appears in routing keys)")
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    exchanges = (
        Exchange(INGRESS), Exchange(AGENTS), Exchange(DLX),
        Exchange(ORCHESTRATOR_HASH, "x-consistent-hash", {"hash-property": "correlation_id"}),
    )
    queues: list[Queue] = []
    bindings: list[Binding] = [
        Binding(INGRESS, ORCHESTRATOR_HASH, key, "exchange") for key in ORCHESTRATOR_BINDING_KEYS
    ]
    work: list[tuple[str, list[tuple[str, str]]]] = [(GUARDRAIL_QUEUE, [(INGRESS, "task.#")])]
    work += [(partition_queue(i), [(ORCHESTRATOR_HASH, "1")]) for i in range(partitions)]
    work += [(agent_queue(a), [(AGENTS, f"task.{a}.#")]) for a in agents]
    for name, sources in work:
        is_partition = name.startswith("agentbus.orchestrator.p")
        q, b = work_queue_with_dead_letters(
            name, sources, delivery_limit=partition_delivery_limit if is_partition else delivery_limit,
            retry_delay_ms=retry_delay_ms, single_active_consumer=is_partition)
        queues += q
        bindings += b
    queues.append(Queue(QUARANTINE_QUEUE, dead_letter_queue_arguments()))
    bindings.append(Binding(DLX, QUARANTINE_QUEUE, QUARANTINE_QUEUE))
    return Topology(
        vhost=vhost, exchanges=exchanges, queues=tuple(queues), bindings=tuple(bindings),
        users=build_users(agents, user_prefix),
    )
