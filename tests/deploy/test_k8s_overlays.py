"""k8s/ overlays: what differs between dev and prod, and that k8s_check.sh validates both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from agentbus.topology import REFERENCE_AGENTS, build_topology
from tests.deploy.support import ROOT, Docs, by_kind, clean_env, run


def test_k8s_check_renders_and_validates_both_overlays(tmp_path: Path) -> None:
    proc = run([ROOT / "scripts" / "k8s_check.sh"], env=clean_env(AGENTBUS_RENDER_DIR=str(tmp_path)))
    assert proc.stdout.count("valid:") == 2, proc.stdout
    assert (tmp_path / "k8s-dev.yaml").stat().st_size > 0
    assert (tmp_path / "k8s-prod.yaml").stat().st_size > 0


def test_prod_runs_three_nodes_spread_over_zones(kustomize: Callable[[str], Docs]) -> None:
    docs = kustomize("prod")
    cluster = by_kind(docs, "RabbitmqCluster")["agentbus-rabbitmq"]
    assert cluster["spec"]["replicas"] == 3
    pod_spec = cluster["spec"]["override"]["statefulSet"]["spec"]["template"]["spec"]
    assert pod_spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    pdb = by_kind(docs, "PodDisruptionBudget")["agentbus-rabbitmq"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "agentbus-rabbitmq"}


def test_base_cluster_has_three_replicas() -> None:
    cluster = yaml.safe_load((ROOT / "k8s" / "base" / "rabbitmq-cluster.yaml").read_text())
    assert cluster["spec"]["replicas"] == 3
    assert "rabbitmq_consistent_hash_exchange" in cluster["spec"]["rabbitmq"]["additionalPlugins"]


def test_every_resource_lands_in_the_overlay_namespace(kustomize: Callable[[str], Docs]) -> None:
    for overlay, namespace in (("dev", "agentbus-dev"), ("prod", "agentbus")):
        docs = kustomize(overlay)
        assert by_kind(docs, "Namespace").keys() == {namespace}
        assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {namespace}


def test_prod_ships_no_secrets(kustomize: Callable[[str], Docs]) -> None:
    assert by_kind(kustomize("prod"), "Secret") == {}


def test_dev_has_an_import_secret_for_every_user_with_throwaway_passwords(
        kustomize: Callable[[str], Docs]) -> None:
    docs = kustomize("dev")
    secrets = by_kind(docs, "Secret")
    users = by_kind(docs, "User")
    assert {u["spec"]["importCredentialsSecret"]["name"] for u in users.values()} == set(secrets)
    for name, user in users.items():
        data = secrets[user["spec"]["importCredentialsSecret"]["name"]]["stringData"]
        assert data["username"] == name
        assert data["password"].startswith("dev-only-")
    assert len(users) == len(build_topology(agents=REFERENCE_AGENTS).users)
