"""The Helm chart as `helm template` renders it: workloads, credentials, probes, policies, KEDA, hooks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentbus.management import CredentialStore
from agentbus.settings import Settings
from agentbus.topology import REFERENCE_AGENTS, agent_queue, build_topology, user_name
from tests.deploy.support import (
    CHART,
    KUBERNETES_VERSION,
    ROOT,
    Docs,
    HelmTemplate,
    by_kind,
    clean_env,
    load_docs,
    run,
)

PRODUCTION = CHART / "values-production.yaml"
SERVICES = ("guardrail", "orchestrator")


def component(name: str) -> str:
    return name.replace("_", "-")


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = only
    return result


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}


@pytest.fixture(scope="module")
def default(helm_template: HelmTemplate) -> Docs:
    return helm_template()


@pytest.fixture(scope="module")
def production(helm_template: HelmTemplate) -> Docs:
    return helm_template(files=[PRODUCTION])


def test_helm_lint_script_lints_renders_and_validates_both_value_sets(tmp_path: Path) -> None:
    proc = run([ROOT / "scripts" / "helm_lint.sh"], env=clean_env(AGENTBUS_RENDER_DIR=str(tmp_path)))
    assert "default values: lint ok" in proc.stdout
    assert "production values: lint ok" in proc.stdout
    assert proc.stdout.count("valid:") == 2
    # The production render has KEDA and Prometheus resources, validated against our schemas.
    assert "10 custom against" in proc.stdout


def test_one_deployment_per_service_and_agent(default: Docs) -> None:
    deployments = by_kind(default, "Deployment")
    want = {f"agentbus-{component(n)}": n for n in (*SERVICES, *REFERENCE_AGENTS)}
    assert set(deployments) == set(want)
    for name, workload in want.items():
        module = f"services.{workload}" if workload in SERVICES else f"services.agents.{workload}"
        c = container(deployments[name])
        assert c["command"] == ["python", "-m", module]
        assert c["image"] == f"agentbus/{workload}:0.1.0"


def test_each_workload_connects_as_its_own_broker_user(default: Docs) -> None:
    topology = build_topology(agents=REFERENCE_AGENTS)
    for name, deployment in by_kind(default, "Deployment").items():
        workload = name.removeprefix("agentbus-").replace("-", "_")
        service = workload if workload in SERVICES else f"agent:{workload}"
        env = env_of(container(deployment))
        assert env["AGENTBUS_BROKER_USERNAME"] == topology.user(service).name == user_name(service)
        assert env["AGENTBUS_BROKER_PASSWORD"] == {"secretKeyRef": {
            "name": "agentbus-broker-credentials", "key": user_name(service)}}
        assert env["AGENTBUS_AMQP_URL"] == (
            "amqp://$(AGENTBUS_BROKER_USERNAME):$(AGENTBUS_BROKER_PASSWORD)@agentbus-rabbitmq:5672/agentbus")
        # $(VAR) only expands from variables defined earlier in the list.
        names = [e["name"] for e in container(deployment)["env"]]
        assert names.index("AGENTBUS_BROKER_PASSWORD") < names.index("AGENTBUS_AMQP_URL")


def test_probes_security_and_resources(default: Docs) -> None:
    for name, deployment in by_kind(default, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        c = container(deployment)
        assert c["ports"] == [{"name": "health", "containerPort": 8080, "protocol": "TCP"}]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}, name
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}, name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert pod["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"] == "agentbus"
        assert c["resources"]["limits"]["memory"]
        assert c["resources"]["requests"]["cpu"]


def test_shared_settings_match_the_library_defaults_and_k8s(default: Docs) -> None:
    defaults = {name: f.default for name, f in Settings.model_fields.items()}  # not the environment
    generated = (ROOT / "k8s" / "base" / "topology.yaml").read_text()
    for deployment in by_kind(default, "Deployment").values():
        env = env_of(container(deployment))
        assert env["AGENTBUS_PARTITIONS"] == str(defaults["partitions"])
        assert env["AGENTBUS_DELIVERY_LIMIT"] == str(defaults["delivery_limit"])
        assert env["AGENTBUS_RETRY_DELAY_MS"] == str(defaults["retry_delay_ms"])
    assert f"x-delivery-limit: {defaults['delivery_limit']}\n" in generated
    assert f"x-message-ttl: {defaults['retry_delay_ms']}\n" in generated
    assert f"agentbus.orchestrator.p{defaults['partitions'] - 1}\n" in generated
    assert f"agentbus.orchestrator.p{defaults['partitions']}\n" not in generated


def test_every_workload_has_a_service_and_a_disruption_budget(default: Docs) -> None:
    deployments = set(by_kind(default, "Deployment"))
    services = by_kind(default, "Service")
    assert set(services) == deployments
    assert set(by_kind(default, "PodDisruptionBudget")) == deployments
    for svc in services.values():
        assert svc["spec"]["ports"] == [{"name": "http-health", "port": 8080, "targetPort": "health",
                                         "protocol": "TCP"}]


def test_network_policy_allows_dns_and_the_broker_only(default: Docs) -> None:
    policies = by_kind(default, "NetworkPolicy")
    assert "agentbus-llm" not in policies  # the deterministic backend needs no egress
    workloads = policies["agentbus-workloads"]["spec"]
    assert workloads["policyTypes"] == ["Ingress", "Egress"]
    dns, broker = workloads["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert broker["ports"] == [{"protocol": "TCP", "port": 5672}]
    assert broker["to"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "agentbus-rabbitmq"}}}]
    assert workloads["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8080}]}]
    selected = workloads["podSelector"]["matchLabels"]
    for deployment in by_kind(default, "Deployment").values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selected.items() <= labels.items()


def test_llm_egress_only_for_agents(production: Docs) -> None:
    llm = by_kind(production, "NetworkPolicy")["agentbus-llm"]["spec"]
    assert llm["egress"] == [{"to": [{"ipBlock": {"cidr": "10.20.0.0/24"}}],
                              "ports": [{"protocol": "TCP", "port": 443}]}]
    for name, deployment in by_kind(production, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        is_agent = name.removeprefix("agentbus-") not in SERVICES
        assert (labels.get("agentbus-llm-client") == "true") is is_agent, name
        env = env_of(container(deployment))
        assert ("AGENTBUS_LLM_API_KEY" in env) is is_agent
        if is_agent:
            assert env["AGENTBUS_LLM_API_KEY"] == {"secretKeyRef": {"name": "agentbus-llm", "key": "api-key"}}


def test_topology_job_is_a_pre_install_hook_with_every_password(default: Docs) -> None:
    job = by_kind(default, "Job")["agentbus-topology"]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    c = container({"spec": {"template": job["spec"]["template"]}})
    assert c["command"] == ["agentbus", "topology", "apply", "--agents", ",".join(REFERENCE_AGENTS)]
    env = env_of(c)
    topology = build_topology(agents=REFERENCE_AGENTS)
    # The names `agentbus topology apply` reads (CredentialStore), one per topology user.
    wanted = {CredentialStore.env_name(u.name): u.name for u in topology.users}
    got = {k: v["secretKeyRef"]["key"] for k, v in env.items() if k.startswith("AGENTBUS_PASSWORD_")}
    assert got == wanted
    assert env["AGENTBUS_AMQP_URL"] == "amqp://agentbus-rabbitmq:5672/agentbus"
    assert env["AGENTBUS_MANAGEMENT_USER"]["secretKeyRef"]["name"] == "agentbus-rabbitmq-default-user"


def test_adding_an_agent_is_a_values_change(helm_template: HelmTemplate) -> None:
    agents = [{"name": a} for a in REFERENCE_AGENTS] + [{"name": "fact_checker", "keda": {"enabled": True}}]
    docs = helm_template(values={"agents": agents})
    deployment = by_kind(docs, "Deployment")["agentbus-fact-checker"]
    c = container(deployment)
    assert c["command"] == ["python", "-m", "services.agents.fact_checker"]
    assert env_of(c)["AGENTBUS_BROKER_USERNAME"] == user_name("agent:fact_checker")
    assert "replicas" not in deployment["spec"]  # KEDA owns the replica count
    scaled = by_kind(docs, "ScaledObject")
    assert set(scaled) == {"agentbus-fact-checker"}
    trigger = scaled["agentbus-fact-checker"]["spec"]["triggers"][0]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == agent_queue("fact_checker")
    assert trigger["metadata"]["vhostName"] == "agentbus"
    assert all(isinstance(v, str) for v in trigger["metadata"].values())
    for key in ("hostFromEnv", "usernameFromEnv", "passwordFromEnv"):
        assert trigger["metadata"][key] in env_of(c)
    assert "fact_checker" in container(by_kind(docs, "Job")["agentbus-topology"])["command"][-1]
    orchestrator = env_of(container(by_kind(docs, "Deployment")["agentbus-orchestrator"]))
    assert orchestrator["AGENTBUS_KNOWN_AGENTS"].split(",")[-1] == "fact_checker"


def test_production_example(production: Docs) -> None:
    assert "Job" not in {d["kind"] for d in production}  # k8s/ operators own the broker side
    assert by_kind(production, "Secret") == {}
    deployments = by_kind(production, "Deployment")
    orchestrator = deployments["agentbus-orchestrator"]
    assert orchestrator["spec"]["replicas"] == 3
    env = env_of(container(orchestrator))
    assert env["AGENTBUS_SAGA_STORE_URL"] == {"secretKeyRef": {"name": "agentbus-saga-store", "key": "url"}}
    assert env["AGENTBUS_BROKER_PASSWORD"] == {"secretKeyRef": {
        "name": "agentbus-orchestrator-user-credentials", "key": "password"}}
    assert by_kind(production, "PersistentVolumeClaim") == {}
    scaled = by_kind(production, "ScaledObject")
    assert set(scaled) == {f"agentbus-{component(a)}" for a in REFERENCE_AGENTS}
    assert scaled["agentbus-synthesiser"]["spec"]["maxReplicaCount"] == 4
    assert scaled["agentbus-writer"]["spec"]["maxReplicaCount"] == 10
    for name in scaled:
        assert "replicas" not in deployments[name]["spec"]
    assert deployments["agentbus-guardrail"]["spec"]["replicas"] == 3
    monitor = by_kind(production, "ServiceMonitor")["agentbus"]
    assert monitor["spec"]["endpoints"] == [{"port": "http-health", "path": "/metrics", "interval": "30s"}]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    selector = monitor["spec"]["selector"]["matchLabels"]
    for svc in by_kind(production, "Service").values():
        assert selector.items() <= svc["metadata"]["labels"].items()
    assert "agentbus-orchestrator" in by_kind(production, "NetworkPolicy")


def test_sqlite_saga_store_gets_a_volume_and_recreate_strategy(default: Docs) -> None:
    orchestrator = by_kind(default, "Deployment")["agentbus-orchestrator"]
    assert orchestrator["spec"]["strategy"] == {"type": "Recreate"}
    assert env_of(container(orchestrator))["AGENTBUS_SAGA_STORE_URL"] == "sqlite:////app/.agentbus/sagas.db"
    volumes = {v["name"]: v for v in orchestrator["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "agentbus-orchestrator-data"
    pvc = by_kind(default, "PersistentVolumeClaim")["agentbus-orchestrator-data"]
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_create_mode_makes_one_secret_before_the_hook_job(helm_template: HelmTemplate) -> None:
    users = [u.name for u in build_topology(agents=REFERENCE_AGENTS).users]
    passwords = {u: f"dev-only-{u}" for u in users}
    docs = helm_template(values={"broker": {"credentials": {"mode": "create", "passwords": passwords}},
                                 "llm": {"apiKey": {"value": "sk-dev-only"}}})
    secret = by_kind(docs, "Secret")["agentbus-broker"]
    assert secret["stringData"] == passwords
    assert secret["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"  # before the Job (0)
    assert by_kind(docs, "Secret")["agentbus-llm"]["stringData"] == {"api-key": "sk-dev-only"}
    writer = env_of(container(by_kind(docs, "Deployment")["agentbus-writer"]))
    assert writer["AGENTBUS_BROKER_PASSWORD"] == {"secretKeyRef": {"name": "agentbus-broker",
                                                                   "key": "agentbus-agent-writer"}}
    assert writer["AGENTBUS_LLM_API_KEY"] == {"secretKeyRef": {"name": "agentbus-llm", "key": "api-key"}}


def test_notes_say_how_to_start_a_saga(helm: Path, tmp_path: Path) -> None:
    # `helm template` does not render NOTES.txt: render a copy of the chart where it is a template.
    chart = tmp_path / "agentbus"
    shutil.copytree(CHART, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "_notes.tpl").write_text('{{- define "test.notes" -}}\n' + notes + "{{- end -}}\n")
    (chart / "templates" / "zz-notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n"
        '  notes: {{ include "test.notes" . | toJson }}\n')
    out = run([helm, "template", "agentbus", chart, "--kube-version", KUBERNETES_VERSION,
               "--show-only", "templates/zz-notes.yaml"]).stdout
    text = load_docs(out)[0]["data"]["notes"]
    assert "agentbus publish saga.start.content_pipeline --input '{\"topic\": \"quorum queues\"}'" in text
    assert "agentbus saga start content_pipeline --input" in text
    assert "agentbus-client" in text
    assert "agentbus-style-reviewer" in text  # every workload is listed


def test_chart_version_follows_the_project() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == project["version"]  # default image tag == scripts/build_images.sh tag


def test_chart_does_not_depend_on_the_helm_npm_package() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert "dependencies" not in chart
    for path in CHART.rglob("*"):
        if path.is_file():
            assert "node_modules" not in path.read_text(), path


def test_per_agent_values_override_defaults_even_when_false_or_zero(helm_template: HelmTemplate) -> None:
    agents: list[dict[str, Any]] = [{"name": a} for a in REFERENCE_AGENTS]
    agents[0] = {"name": "researcher", "replicas": 0}
    agents[1] = {"name": "writer", "keda": {"enabled": False}}
    agents[2] = {"name": "editor", "keda": {"maxReplicaCount": 3},
                 "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}}
    docs = helm_template(values={"agents": agents, "keda": {"enabled": True},
                                 "defaults": {"replicas": 3}})
    deployments = by_kind(docs, "Deployment")
    scaled = by_kind(docs, "ScaledObject")
    assert "agentbus-writer" not in scaled
    assert deployments["agentbus-writer"]["spec"]["replicas"] == 3
    assert scaled["agentbus-editor"]["spec"]["maxReplicaCount"] == 3
    assert scaled["agentbus-editor"]["spec"]["minReplicaCount"] == 1
    # A workload's resources replace the defaults whole (no half-merged requests).
    assert container(deployments["agentbus-editor"])["resources"] == {"limits": {"cpu": "2", "memory": "1Gi"}}
    assert deployments["agentbus-guardrail"]["spec"]["replicas"] == 2  # guardrail's own value
    assert deployments["agentbus-orchestrator"]["spec"]["replicas"] == 1

    docs = helm_template(values={"agents": agents})
    assert by_kind(docs, "Deployment")["agentbus-researcher"]["spec"]["replicas"] == 0
