"""Bad values are refused before anything reaches a cluster, with a message that names the problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentbus.topology import REFERENCE_AGENTS

Refuse = Callable[[dict[str, Any]], str]
AGENTS = [{"name": a} for a in REFERENCE_AGENTS]


@pytest.mark.parametrize(("values", "message"), [
    # values.schema.json
    ({"agents": [{"name": "Fact-Checker"}]},
     "agents.0.name: Does not match pattern '^[a-z][a-z0-9_]{0,62}$'"),
    ({"agents": [{"replicas": 1}]}, "agents.0: name is required"),
    ({"guardrail": {"replicas": -1}}, "guardrail.replicas: Must be greater than or equal to 0"),
    ({"guardrail": {"replica": 2}}, 'guardrail: Property name of "replica" does not match'),
    ({"broker": {"credentials": {"mode": "plaintext"}}},
     'broker.credentials.mode must be one of the following: "existingSecret", "perUser", "create"'),
    ({"broker": {"port": 70000}}, "broker.port: Must be less than or equal to 65535"),
    ({"config": {"partitions": 0}}, "config.partitions: Must be greater than or equal to 1"),
    ({"config": {"logLevel": "verbose"}}, "config.logLevel must be one of the following"),
    ({"llm": {"backend": "gpt"}}, 'llm.backend must be one of the following: "deterministic", "openai"'),
    ({"keda": {"queueLength": "20"}}, "keda.queueLength: Invalid type. Expected: integer, given: string"),
    ({"defaults": {"resources": {"limits": {"memory": "lots"}}}}, "defaults.resources.limits.memory"),
    ({"serviceMonitr": {"enabled": True}}, "Additional property serviceMonitr is not allowed"),
    ({"broker": {"credentials": {"mode": "create", "passwords": {"agentbus-guardrail": "p@ss:word"}}}},
     "broker.credentials.passwords.agentbus-guardrail: Does not match pattern"),
    # checks the templates make (what a schema cannot express)
    ({"orchestrator": {"replicas": 3}},
     "orchestrator.replicas=3 needs a saga store every replica shares: "
     "set orchestrator.sagaStore.existingSecret"),
    ({"agents": [*AGENTS, {"name": "writer"}]}, '"writer" is listed twice'),
    ({"keda": {"enabled": True, "minReplicaCount": 5, "maxReplicaCount": 2}},
     "minReplicaCount (5) is above maxReplicaCount (2)"),
    ({"broker": {"credentials": {"mode": "create", "passwords": {"agentbus-guardrail": "dev-only-pw"}}}},
     "needs broker.credentials.passwords for every broker user; missing: agentbus-orchestrator"),
    ({"broker": {"credentials": {"mode": "existingSecret", "existingSecret": ""}}},
     "broker.credentials.existingSecret: name the Secret"),
])
def test_bad_values_are_refused_with_a_clear_message(
        helm_failure: Refuse, values: dict[str, Any], message: str) -> None:
    assert message in helm_failure(values)
