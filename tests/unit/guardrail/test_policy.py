"""Policy loading, validation errors, rule matching and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbus.errors import AgentBusError, ConfigurationError
from services.guardrail.policy import Policy, PolicyError, load_policy, topic_matches
from services.guardrail.scanning.types import EXEC_KINDS, PII_TYPES


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_default_redacts_pii_and_blocks_executables() -> None:
    actions = load_policy().actions_for(agent="writer", routing_key="task.writer.draft")
    assert all(actions[t] == "redact" for t in PII_TYPES)
    assert all(actions[k] == "block" for k in EXEC_KINDS)


def test_empty_document_means_defaults(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, ""))
    assert policy.actions_for()["EMAIL"] == "redact"
    assert policy.actions_for()["shell"] == "block"


def test_rules_by_agent_and_routing_key(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, """
version: 1
defaults: {pii: redact, executable: block}
rules:
  - name: reviewers read exploits
    agent: "*_reviewer"
    actions: {shell: allow, python: allow}
  - name: publisher keeps e-mails on publish only
    routing_key: "task.publisher.publish"
    actions: {EMAIL: allow}
  - name: everything under task.archive is left alone
    routing_key: ["task.archive.#", "task.*.archive"]
    actions: {pii: allow}
"""))
    reviewer = policy.actions_for(agent="security_reviewer", routing_key="task.security_reviewer.x")
    assert reviewer["shell"] == "allow"
    assert reviewer["sql_injection"] == "block"
    publish = policy.actions_for(agent="publisher", routing_key="task.publisher.publish")
    assert publish["EMAIL"] == "allow"
    assert publish["PHONE"] == "redact"
    unpublish = policy.actions_for(agent="publisher", routing_key="task.publisher.unpublish")
    assert unpublish["EMAIL"] == "redact"
    assert policy.actions_for(routing_key="task.archive.store.deep")["IBAN"] == "allow"
    assert policy.actions_for(routing_key="task.writer.archive")["IBAN"] == "allow"
    assert policy.actions_for(routing_key="task.writer.draft")["IBAN"] == "redact"


def test_agent_is_taken_from_the_routing_key_when_not_given(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, """
rules:
  - agent: editor
    actions: {prompt_injection: redact}
"""))
    assert policy.actions_for(routing_key="task.editor.edit")["prompt_injection"] == "redact"
    assert policy.actions_for(routing_key="task.writer.edit")["prompt_injection"] == "block"


def test_type_beats_category_in_a_rule_and_later_rules_win(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, """
rules:
  - agent: writer
    actions: {PHONE: redact, pii: allow}
  - agent: writer
    routing_key: task.writer.final
    actions: {pii: block}
"""))
    draft = policy.actions_for(agent="writer", routing_key="task.writer.draft")
    assert draft["PHONE"] == "redact"
    assert draft["EMAIL"] == "allow"
    final = policy.actions_for(agent="writer", routing_key="task.writer.final")
    assert final["PHONE"] == "block"


def test_keys_are_case_insensitive(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, "defaults: {email: ALLOW, Shell: Redact}\n"))
    assert policy.actions_for()["EMAIL"] == "allow"
    assert policy.actions_for()["shell"] == "redact"


@pytest.mark.parametrize(("document", "message"), [
    ("defaults: {EMAL: allow}\n", "unknown type 'EMAL' (did you mean 'EMAIL'?)"),
    ("defaults: {EMAIL: permit}\n", "unknown action 'permit'; use one of allow, redact, block"),
    ("rules:\n  - routing_key: 'task..x'\n    actions: {EMAIL: allow}\n", "bad pattern 'task..x'"),
    ("rules:\n  - routing_key: 'task.wri#ter'\n    actions: {EMAIL: allow}\n",
     "bad pattern 'task.wri#ter' (word 'wri#ter')"),
    ("rules:\n  - agent: 'writer.x'\n    actions: {EMAIL: allow}\n", "bad agent pattern"),
    ("rules:\n  - agent: writer\n", "missing 'actions'"),
    ("rules:\n  - agent: writer\n    action: {EMAIL: allow}\n",
     "unknown key 'action' (did you mean 'actions'?)"),
    ("rule: []\n", "unknown top-level key 'rule' (did you mean 'rules'?)"),
    ("version: 2\n", "unsupported policy version 2"),
    ("rules: {agent: writer}\n", "'rules' must be a list"),
    ("- just\n- a list\n", "must be a mapping"),
    ("defaults: [pii]\n", "expected a mapping of type or category to action"),
    ("rules:\n  - agent: []\n    actions: {EMAIL: allow}\n", "non-empty list of strings"),
    ("defaults: {pii: redact\n", "not valid YAML"),
])
def test_invalid_policies_are_refused_with_a_clear_message(
        tmp_path: Path, document: str, message: str) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(PolicyError) as excinfo:
        load_policy(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)
    assert isinstance(excinfo.value, ConfigurationError)
    assert isinstance(excinfo.value, AgentBusError)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "nope.yaml")


def test_rule_names_appear_in_errors() -> None:
    with pytest.raises(PolicyError, match=r"rules\[0\] \(mine\)\.actions: unknown type 'SSN'"):
        Policy.from_mapping({"rules": [{"name": "mine", "agent": "a", "actions": {"SSN": "allow"}}]})


@pytest.mark.parametrize(("pattern", "key", "expected"), [
    ("task.#", "task", True),
    ("task.#", "task.writer.draft", True),
    ("task.*", "task.writer.draft", False),
    ("task.*.draft", "task.writer.draft", True),
    ("#.draft", "task.writer.draft", True),
    ("#", "anything.at.all", True),
    ("task.#.draft", "task.draft", True),
    ("task.#.draft", "task.a.b.draft", True),
    ("task.#.draft", "task.a.b.final", False),
    ("task.writer", "task.writer.draft", False),
    ("*.*", "task", False),
])
def test_topic_matches(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern.split("."), key.split(".")) is expected


def test_packaged_default_lets_code_reviewers_read_code_but_not_injections() -> None:
    policy = load_policy()
    reviewer = policy.actions_for(agent="security_reviewer",
                                  routing_key="task.security_reviewer.review")
    assert (reviewer["python"], reviewer["shell"], reviewer["sql_injection"]) == (
        "allow", "allow", "allow")
    assert reviewer["prompt_injection"] == "block"
    assert reviewer["encoded"] == "block"
    assert reviewer["EMAIL"] == "redact"
    assert policy.actions_for(routing_key="task.writer.draft")["python"] == "block"
