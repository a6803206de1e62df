"""The Helm chart and the k8s/ broker side fit together: names, Secrets, queues and settings agree."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.deploy.support import CHART, Docs, HelmTemplate, by_kind


@pytest.fixture(scope="module")
def broker(kustomize: Callable[[str], Docs]) -> Docs:
    return kustomize("prod")


@pytest.fixture(scope="module")
def chart(helm_template: HelmTemplate) -> Docs:
    return helm_template(files=[CHART / "values-production.yaml"])


def containers(docs: Docs) -> dict[str, dict[str, Any]]:
    return {name: d["spec"]["template"]["spec"]["containers"][0]
            for name, d in by_kind(docs, "Deployment").items()}


def test_chart_finds_the_broker_the_overlay_creates(broker: Docs, chart: Docs) -> None:
    (cluster,) = by_kind(broker, "RabbitmqCluster")
    (vhost,) = [d["spec"]["name"] for d in broker if d["kind"] == "Vhost"]
    for c in containers(chart).values():
        env = {e["name"]: e.get("value") for e in c["env"]}
        # The operator's Service is named after the cluster.
        assert env["AGENTBUS_AMQP_URL"].endswith(f"@{cluster}:5672/{vhost}")
        assert env["AGENTBUS_MANAGEMENT_URL"] == f"http://{cluster}:15672"
    policy = by_kind(chart, "NetworkPolicy")["agentbus-workloads"]["spec"]
    broker_peer = policy["egress"][1]["to"][0]["podSelector"]["matchLabels"]
    assert broker_peer == {"app.kubernetes.io/name": cluster}  # the operator's pod label
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert defaults["topologyJob"]["adminSecret"]["name"] == f"{cluster}-default-user"


def test_each_service_reads_the_secret_the_operator_writes_for_its_user(broker: Docs, chart: Docs) -> None:
    users = by_kind(broker, "User")
    for name, c in containers(chart).items():
        env = {e["name"]: e for e in c["env"]}
        username = env["AGENTBUS_BROKER_USERNAME"]["value"]
        ref = env["AGENTBUS_BROKER_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert username in users, name
        # The Messaging Topology Operator writes <User name>-user-credentials with keys username, password.
        assert ref == {"name": f"{username}-user-credentials", "key": "password"}, name


def test_keda_watches_queues_that_exist(broker: Docs, chart: Docs) -> None:
    queues = {d["spec"]["name"] for d in broker if d["kind"] == "Queue"}
    watched = {so["spec"]["triggers"][0]["metadata"]["queueName"]
               for so in by_kind(chart, "ScaledObject").values()}
    assert watched
    assert watched <= queues


def test_chart_settings_match_the_queue_arguments_k8s_declares(broker: Docs, chart: Docs) -> None:
    queues = {d["spec"]["name"]: d["spec"]["arguments"] for d in broker if d["kind"] == "Queue"}
    partitions = sorted(q for q in queues if re.fullmatch(r"agentbus\.orchestrator\.p\d+", q))
    for c in containers(chart).values():
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert int(env["AGENTBUS_PARTITIONS"]) == len(partitions)
        assert int(env["AGENTBUS_DELIVERY_LIMIT"]) == queues["agentbus.guardrail"]["x-delivery-limit"]
        assert int(env["AGENTBUS_RETRY_DELAY_MS"]) == queues["agentbus.guardrail.retry"]["x-message-ttl"]
