"""`topology apply` against the real broker: idempotent, and the broker enforces least privilege."""

from __future__ import annotations

import pytest

from agentbus import codec, topology
from agentbus.bus import Bus
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import PermissionDeniedError
from agentbus.management import CredentialStore, ManagementClient, apply_topology
from agentbus.settings import Settings
from agentbus.topology import Topology
from tests.conftest import Broker

pytestmark = pytest.mark.integration


def test_second_apply_changes_nothing(topo: Topology, management: ManagementClient,
                                      settings: Settings) -> None:
    report = apply_topology(management, topo, CredentialStore(settings.credentials_file))
    assert report.changes == []
    assert report.passwords_written_to is None


def test_apply_repairs_drift(topo: Topology, management: ManagementClient, settings: Settings) -> None:
    guardrail = topo.user("guardrail")
    management.put(f"/permissions/{settings.vhost}/{guardrail.name}",
                   {"configure": ".*", "write": ".*", "read": ".*"})
    report = apply_topology(management, topo, CredentialStore(settings.credentials_file))
    assert report.changes == [f"set permissions of {guardrail.name}"]


def _as(broker: Broker, settings: Settings, topo: Topology, service: str) -> Settings:
    user = topo.user(service)
    password = CredentialStore(settings.credentials_file).password(user.name)
    return settings.model_copy(update={
        "amqp_url": broker.url_for(settings.vhost, user.name, password), "service_name": service,
        "connect_attempts": 1})


def _message(body: codec.BodyMessage) -> v2.Message:
    return codec.new_envelope(body, source="test", saga_id="s")


TASK = v2.Task(task_id="t", agent="writer", action="write")
RESULT = v2.Result(task_id="t", agent="writer", action="write", status=v2.Result.STATUS_OK)
START = v2.SagaStart(saga_type="content_pipeline")


@pytest.mark.parametrize(("service", "exchange", "key", "body", "allowed"), [
    # Only the guardrail may write to agentbus.agents: agents and the orchestrator are refused.
    ("guardrail", topology.AGENTS, "task.writer.write", TASK, True),
    ("agent:writer", topology.AGENTS, "task.writer.write", TASK, False),
    ("orchestrator", topology.AGENTS, "task.writer.write", TASK, False),
    # Topic permissions: each user publishes only its own routing keys on ingress.
    ("orchestrator", topology.INGRESS, "task.writer.write", TASK, True),
    ("agent:writer", topology.INGRESS, "result.writer.write", RESULT, True),
    ("agent:writer", topology.INGRESS, "result.researcher.research", RESULT, False),
    ("agent:writer", topology.INGRESS, "task.writer.write", TASK, False),
    ("client", topology.INGRESS, "saga.start.content_pipeline", START, True),
    ("client", topology.INGRESS, "task.writer.write", TASK, False),
    ("guardrail", topology.INGRESS, "saga.start.content_pipeline", START, False),
])
async def test_broker_enforces_who_may_publish_what(
        broker: Broker, settings: Settings, topo: Topology, service: str, exchange: str, key: str,
        body: codec.BodyMessage, allowed: bool) -> None:
    async with Bus.connect(_as(broker, settings, topo, service)) as bus:
        if allowed:
            await bus.publish(exchange, key, _message(body))
        else:
            with pytest.raises(PermissionDeniedError, match="ACCESS_REFUSED"):
                await bus.publish(exchange, key, _message(body))
            # The channel recovers: the same connection can still publish what it may.
            if service == "agent:writer":
                await bus.publish(topology.INGRESS, "result.writer.write", _message(RESULT))
