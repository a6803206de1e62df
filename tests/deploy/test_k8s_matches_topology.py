"""The broker side in k8s/, as `kubectl kustomize` renders it, is exactly agentbus.topology.

Users, permission regexes, topic permissions, exchanges and their arguments, queues and their
arguments, bindings: a difference would make the services fail to redeclare their queues, or would
let something other than the guardrail write to agentbus.agents.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import pytest

from agentbus.topology import AGENTS, REFERENCE_AGENTS, Topology, build_topology
from tests.deploy.support import ROOT, Docs, by_kind, run

OVERLAYS = ("dev", "prod")
VHOST = "agentbus"


@pytest.fixture(scope="module")
def topology() -> Topology:
    return build_topology(vhost=VHOST, agents=REFERENCE_AGENTS)


@pytest.fixture(params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, kustomize: Callable[[str], Docs]) -> Docs:
    return kustomize(request.param)


def specs(docs: Docs, kind: str) -> list[dict[str, Any]]:
    return [d["spec"] for d in docs if d["kind"] == kind]


def test_one_vhost_and_every_resource_in_it(rendered: Docs) -> None:
    assert [s["name"] for s in specs(rendered, "Vhost")] == [VHOST]
    for kind in ("Exchange", "Queue", "Binding", "Permission", "TopicPermission"):
        assert {s["vhost"] for s in specs(rendered, kind)} == {VHOST}, kind


def test_every_resource_points_at_the_rendered_cluster(rendered: Docs) -> None:
    clusters = by_kind(rendered, "RabbitmqCluster")
    assert len(clusters) == 1
    (cluster,) = clusters
    refs = {d["spec"]["rabbitmqClusterReference"]["name"] for d in rendered
            if d["apiVersion"] == "rabbitmq.com/v1beta1" and d["kind"] != "RabbitmqCluster"}
    assert refs == {cluster}


def test_users_are_topology_users(rendered: Docs, topology: Topology) -> None:
    users = by_kind(rendered, "User")
    assert set(users) == {u.name for u in topology.users}
    for user in topology.users:
        spec = users[user.name]["spec"]
        assert spec.get("tags", []) == [t for t in user.tags.split(",") if t]
        assert spec["importCredentialsSecret"] == {"name": f"{user.name}-password"}


def test_permissions_are_the_same_regexes(rendered: Docs, topology: Topology) -> None:
    got = {s["userReference"]["name"]: s["permissions"] for s in specs(rendered, "Permission")}
    want = {u.name: {"configure": u.configure, "write": u.write, "read": u.read} for u in topology.users}
    assert got == want


def test_topic_permissions_are_the_same_regexes(rendered: Docs, topology: Topology) -> None:
    got = sorted((s["userReference"]["name"], s["permissions"]["exchange"], s["permissions"]["write"],
                  s["permissions"]["read"]) for s in specs(rendered, "TopicPermission"))
    want = sorted((u.name, tp.exchange, tp.write, tp.read) for u in topology.users
                  for tp in u.topic_permissions)
    assert got == want


def test_only_the_guardrail_may_write_to_the_agents_exchange(rendered: Docs) -> None:
    # RabbitMQ matches permission regexes against the resource name with search semantics.
    writers = {s["userReference"]["name"] for s in specs(rendered, "Permission")
               if re.search(s["permissions"]["write"], AGENTS)}
    assert writers == {"agentbus-guardrail"}
    topic_writers = {s["userReference"]["name"] for s in specs(rendered, "TopicPermission")
                     if s["permissions"]["exchange"] == AGENTS
                     and re.search(s["permissions"]["write"], "task.writer.write")}
    assert topic_writers == {"agentbus-guardrail"}


def test_exchanges_with_types_and_arguments(rendered: Docs, topology: Topology) -> None:
    got = {s["name"]: (s["type"], s.get("arguments", {}), s["durable"], s["autoDelete"])
           for s in specs(rendered, "Exchange")}
    want = {e.name: (e.type, e.arguments, True, False) for e in topology.exchanges}
    assert got == want
    assert got["agentbus.orchestrator.hash"][:2] == ("x-consistent-hash", {"hash-property": "correlation_id"})


def test_queues_with_identical_arguments(rendered: Docs, topology: Topology) -> None:
    got = {s["name"]: s for s in specs(rendered, "Queue")}
    assert set(got) == {q.name for q in topology.queues}
    for queue in topology.queues:
        spec = got[queue.name]
        assert spec["arguments"] == queue.arguments, queue.name
        assert spec["type"] == queue.arguments["x-queue-type"] == "quorum"
        assert spec["durable"] is True
        assert spec["autoDelete"] is False


def test_bindings_are_topology_bindings(rendered: Docs, topology: Topology) -> None:
    got = sorted((s["source"], s["destination"], s["destinationType"], s["routingKey"])
                 for s in specs(rendered, "Binding"))
    want = sorted((b.source, b.destination, b.destination_type, b.routing_key) for b in topology.bindings)
    assert got == want


def test_cluster_enables_the_plugins_agentbus_needs(rendered: Docs, topology: Topology) -> None:
    (cluster,) = by_kind(rendered, "RabbitmqCluster").values()
    assert set(topology.plugins) <= set(cluster["spec"]["rabbitmq"]["additionalPlugins"])


def test_generated_file_is_fresh() -> None:
    proc = run([sys.executable, ROOT / "scripts" / "gen_k8s_topology.py", "--check"])
    assert "up to date" in proc.stdout


def test_freshness_check_catches_a_stale_file(tmp_path: Any) -> None:
    stale = tmp_path / "topology.yaml"
    stale.write_text((ROOT / "k8s" / "base" / "topology.yaml").read_text().replace(
        "x-delivery-limit: 5", "x-delivery-limit: 6", 1))
    proc = run([sys.executable, ROOT / "scripts" / "gen_k8s_topology.py", "--check",
                "--output", stale], check=False)
    assert proc.returncode == 1
    assert "is stale" in proc.stderr
