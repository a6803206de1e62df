"""k8s/schemas/validate.py, the validator behind helm_lint.sh and k8s_check.sh, refuses what it must."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import ROOT, run

VALIDATE = ROOT / "k8s" / "schemas" / "validate.py"

QUEUE: dict[str, Any] = {
    "apiVersion": "rabbitmq.com/v1beta1", "kind": "Queue", "metadata": {"name": "agentbus.guardrail"},
    "spec": {"name": "agentbus.guardrail", "vhost": "agentbus", "type": "quorum", "durable": True,
             "arguments": {"x-queue-type": "quorum"},
             "rabbitmqClusterReference": {"name": "agentbus-rabbitmq"}},
}
SCALED: dict[str, Any] = {
    "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "agentbus-writer"},
    "spec": {"scaleTargetRef": {"name": "agentbus-writer"},
             "triggers": [{"type": "rabbitmq",
                           "metadata": {"queueName": "agentbus.agent.writer", "value": "20"}}]},
}
CONFIGMAP: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                             "data": {"a": "b"}}


def validate(tmp_path: Path, *docs: dict[str, Any]) -> tuple[int, str]:
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    proc = run([sys.executable, VALIDATE, "-k", "1.34", path], check=False)
    return proc.returncode, proc.stdout + proc.stderr


def mutated(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return out


def test_valid_documents_pass(tmp_path: Path) -> None:
    code, out = validate(tmp_path, QUEUE, SCALED, CONFIGMAP)
    assert code == 0, out
    assert "3 resource(s) valid: 1 built-in against Kubernetes 1.34 (strict), 2 custom" in out


@pytest.mark.parametrize(("doc", "message"), [
    (mutated(QUEUE, "spec.type", "quorom"), "spec.type: 'quorom' is not one of"),
    (mutated(QUEUE, "spec.durabel", True),
     "Additional properties are not allowed ('durabel' was unexpected)"),
    (mutated(QUEUE, "metadata.name", "agentbus.agent.style_reviewer"),
     "metadata.name: 'agentbus.agent.style_reviewer' does not match"),
    (mutated(SCALED, "spec.triggers.0.metadata.value", 20),
     "spec.triggers.0.metadata.value: 20 is not of type 'string'"),
    (mutated(CONFIGMAP, "dta", {}), "Additional properties are not allowed ('dta' was unexpected)"),
    ({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
     "no schema for example.com/v1 Widget"),
])
def test_invalid_documents_fail_with_the_reason(tmp_path: Path, doc: dict[str, Any], message: str) -> None:
    code, out = validate(tmp_path, doc)
    assert code == 1
    assert message in out


def test_a_resource_defined_twice_fails(tmp_path: Path) -> None:
    code, out = validate(tmp_path, QUEUE, QUEUE)
    assert code == 1
    assert "Queue/agentbus.guardrail: defined twice" in out


def test_permission_needs_exactly_one_user_reference(tmp_path: Path) -> None:
    permission = {
        "apiVersion": "rabbitmq.com/v1beta1", "kind": "Permission", "metadata": {"name": "p"},
        "spec": {"vhost": "agentbus", "permissions": {"configure": "", "write": "", "read": ""},
                 "rabbitmqClusterReference": {"name": "agentbus-rabbitmq"}},
    }
    assert validate(tmp_path, permission)[0] == 1
    assert validate(tmp_path, mutated(permission, "spec.user", "agentbus-guardrail"))[0] == 0
