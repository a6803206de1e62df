"""Loading saga definitions: the shipped ones load, and every mistake gets a clear message."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentbus.errors import AgentBusError
from agentbus.topology import REFERENCE_AGENTS
from services.orchestrator.definitions import (
    load_definition_file,
    load_definitions,
    parse_definition,
)
from services.orchestrator.errors import SagaDefinitionError
from tests.unit.orchestrator.harness import SAGAS_DIR

AGENTS = ("researcher", "writer", "editor", "publisher")


def saga(**overrides: Any) -> dict[str, Any]:
    """A valid three-step saga; tests break one thing at a time."""
    data: dict[str, Any] = {
        "name": "demo",
        "steps": [
            {"name": "research", "agent": "researcher", "action": "research",
             "compensation": "discard_notes", "input": {"topic": "${saga.input.topic}"}},
            {"name": "write", "agent": "writer", "action": "write", "compensation": "discard_draft",
             "input": {"notes": "${steps.research.output.notes}"}},
            {"name": "edit", "agent": "editor", "action": "edit", "compensation": None},
        ],
    }
    data.update(overrides)
    return data


def with_step(index: int, **changes: Any) -> dict[str, Any]:
    data = saga()
    step = copy.deepcopy(data["steps"][index])
    for key, value in changes.items():
        if value is ...:
            step.pop(key, None)
        else:
            step[key] = value
    data["steps"][index] = step
    return data


def error_of(data: Any, *, known_agents: tuple[str, ...] | None = AGENTS) -> SagaDefinitionError:
    with pytest.raises(SagaDefinitionError) as caught:
        parse_definition(data, source="sagas/demo.yaml", known_agents=known_agents)
    return caught.value


# ---------------------------------------------------------------- the shipped definitions


def test_reference_definitions_load_against_the_reference_agents() -> None:
    definitions = load_definitions(SAGAS_DIR, known_agents=REFERENCE_AGENTS)
    assert set(definitions) == {"content_pipeline", "code_review"}
    content = definitions["content_pipeline"]
    assert [s.name for s in content.steps] == ["research", "write", "edit", "publish"]
    assert [(s.agent, s.action) for s in content.steps] == [
        ("researcher", "research"), ("writer", "write"), ("editor", "edit"),
        ("publisher", "publish")]
    assert [s.compensation.action if s.compensation else None for s in content.steps] == [
        "discard_notes", "discard_draft", None, "unpublish"]
    unpublish = content.step("publish").compensation
    assert unpublish is not None
    assert unpublish.retry.attempts == 5
    review = definitions["code_review"]
    assert [[s.agent for s in stage] for stage in review.stages] == [
        ["style_reviewer", "security_reviewer", "performance_reviewer", "tests_reviewer"],
        ["synthesiser"]]
    assert all(s.compensation is not None and s.compensation.action == "retract_comments"
               for s in review.stages[0])
    assert review.step("synthesis").compensation is None


def test_defaults_apply_to_steps_without_their_own_values() -> None:
    definition = parse_definition(saga(defaults={
        "timeout": 15, "retry": {"attempts": 4, "backoff": {"initial": 0.5}}}))
    research = definition.step("research")
    assert research.timeout == 15.0
    assert research.retry.attempts == 4
    assert research.retry.backoff.initial == 0.5
    assert research.compensation is not None
    assert research.compensation.timeout == 15.0
    assert [research.retry.delay_after(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


def test_backoff_is_capped_by_its_max() -> None:
    definition = parse_definition(with_step(
        0, retry={"attempts": 6, "backoff": {"initial": 2, "multiplier": 3, "max": 10}}))
    assert [definition.step("research").retry.delay_after(n) for n in (1, 2, 3, 4)] == [
        2.0, 6.0, 10.0, 10.0]


def test_compensation_mapping_has_its_own_timeout_retry_and_input() -> None:
    definition = parse_definition(with_step(1, compensation={
        "action": "discard_draft", "timeout": 5, "retry": {"attempts": 7},
        "input": {"draft": "${steps.write.output.draft_id}"}}))
    compensation = definition.step("write").compensation
    assert compensation is not None
    assert (compensation.timeout, compensation.retry.attempts) == (5.0, 7)
    assert compensation.input == {"draft": "${steps.write.output.draft_id}"}


# ---------------------------------------------------------------- errors, message checked


def test_unknown_agent_names_the_step_and_suggests_the_right_one() -> None:
    error = error_of(with_step(0, agent="reseacher"))
    assert str(error) == (
        "sagas/demo.yaml: step 'research': unknown agent 'reseacher' (did you mean "
        "'researcher'?) (known agents: editor, publisher, researcher, writer)")
    assert error.step == "research"
    assert error.source == "sagas/demo.yaml"
    assert isinstance(error, AgentBusError)


def test_agents_are_not_checked_without_a_known_set() -> None:
    definition = parse_definition(with_step(0, agent="anyone"), known_agents=None)
    assert definition.step("research").agent == "anyone"


def test_missing_compensation_key_says_how_to_declare_none() -> None:
    error = error_of(with_step(2, compensation=...))
    assert str(error) == (
        "sagas/demo.yaml: step 'edit': missing key `compensation`: name the action that undoes "
        "this step, or write `compensation: null` if there is nothing to undo")


@pytest.mark.parametrize(("value", "message"), [
    (5, "`compensation` must be an action name, a mapping with `action`, or null, got a number"),
    ({"timeout": 3}, "`compensation` needs an `action` (the action that undoes the step)"),
    ("write", "compensation action 'write' is the step's own action; name the action that "
              "undoes it"),
    ("Discard Draft", "`compensation.action` must be lower_snake_case"),
    ({"action": "discard_draft", "retries": 3},
     "unknown key in `compensation`: 'retries' (did you mean 'retry'?)"),
])
def test_compensation_declared_wrong(value: Any, message: str) -> None:
    error = error_of(with_step(1, compensation=value))
    assert error.step == "write"
    assert message in str(error)


def test_forward_reference_is_refused() -> None:
    error = error_of(with_step(0, input={"draft": "${steps.write.output.draft}"}))
    assert str(error) == (
        "sagas/demo.yaml: step 'research': `input`: ${steps.write.output.draft} refers to "
        "'write', which runs later; a step can only use steps that finished before it starts")


def test_reference_to_unknown_step_is_refused_with_a_suggestion() -> None:
    error = error_of(with_step(1, input={"notes": "${steps.reserch.output.notes}"}))
    assert str(error) == (
        "sagas/demo.yaml: step 'write': `input`: ${steps.reserch.output.notes} refers to "
        "unknown step 'reserch' (did you mean 'research'?)")


def test_reference_to_itself_is_refused() -> None:
    error = error_of(with_step(1, input={"x": "${steps.write.output}"}))
    assert "refers to the step itself" in str(error)


def test_reference_inside_the_same_parallel_group_is_refused() -> None:
    data = {"name": "demo", "steps": [{"parallel": [
        {"name": "a", "agent": "researcher", "action": "x", "compensation": None},
        {"name": "b", "agent": "writer", "action": "y", "compensation": None,
         "input": {"from_a": "${steps.a.output}"}},
    ]}]}
    error = error_of(data)
    assert error.step == "b"
    assert "runs in the same parallel group" in str(error)


@pytest.mark.parametrize(("reference", "message"), [
    ("${saga.inputs.topic}", "must be ${saga.id}, ${saga.type} or ${saga.input...}"),
    ("${env.HOME}", "must start with `saga.` or `steps.`"),
    ("${steps.research.notes}", "must read ${steps.<step>.output...}"),
    ("${steps..output}", "malformed reference"),
    ("${}", "empty reference"),
])
def test_malformed_references_are_refused(reference: str, message: str) -> None:
    error = error_of(with_step(1, input={"x": reference}))
    assert message in str(error)


@pytest.mark.parametrize(("timeout", "shown"), [
    (0, "0"), (-5, "-5"), (86_401, "86401"), (10**9, "1000000000")])
def test_bad_timeout_is_refused(timeout: float, shown: str) -> None:
    error = error_of(with_step(0, timeout=timeout))
    assert str(error) == (
        f"sagas/demo.yaml: step 'research': `timeout` must be seconds, > 0 and <= 86400, "
        f"got {shown}")


@pytest.mark.parametrize("timeout", ["fast", True, None, [1]])
def test_non_numeric_timeout_is_refused(timeout: Any) -> None:
    error = error_of(with_step(0, timeout=timeout))
    assert f"`timeout` must be a number of seconds, got {timeout!r}" in str(error)


def test_bad_default_timeout_names_the_defaults() -> None:
    error = error_of(saga(defaults={"timeout": 0}))
    assert str(error) == "sagas/demo.yaml: defaults.timeout must be seconds, > 0 and <= 86400, got 0"


def test_duplicate_step_names_are_refused() -> None:
    error = error_of(with_step(2, name="research"))
    assert str(error) == (
        "sagas/demo.yaml: step 'research': duplicate step name; every step needs its own name")


def test_unknown_top_level_key_is_refused() -> None:
    error = error_of(saga(setps=[]))
    assert str(error) == (
        "sagas/demo.yaml: unknown key in the saga: 'setps' (did you mean 'steps'?) "
        "(allowed: name, description, defaults, steps)")


def test_unknown_step_key_is_refused() -> None:
    error = error_of(with_step(0, retires={"attempts": 2}))
    assert str(error) == (
        "sagas/demo.yaml: step 'research': unknown key in a step: 'retires' (did you mean "
        "'retry'?) (allowed: name, description, agent, action, compensation, timeout, retry, "
        "input)")


@pytest.mark.parametrize(("retry", "message"), [
    ({"attempts": 0}, "`retry`.attempts must be a whole number from 1 to 20"),
    ({"attempts": 2.5}, "`retry`.attempts must be a whole number from 1 to 20"),
    ({"attempts": 2, "backoff": {"initial": 5, "max": 1}},
     "`retry`.backoff.max must be >= initial (5) and <= 86400 seconds, got 1"),
    ({"attempts": 2, "backoff": {"multiplier": 0.5}},
     "`retry`.backoff.multiplier must be from 1 to 10, got 0.5"),
    ({"attempts": 2, "backoff": {"jitter": True}},
     "unknown key in `retry`.backoff: 'jitter'"),
])
def test_bad_retry_policy_is_refused(retry: dict[str, Any], message: str) -> None:
    error = error_of(with_step(0, retry=retry))
    assert error.step == "research"
    assert message in str(error)


def test_missing_agent_is_refused() -> None:
    error = error_of(with_step(0, agent=...))
    assert str(error) == "sagas/demo.yaml: step 'research': missing key `agent`"


def test_bad_names_are_refused() -> None:
    assert "the step name must be lower_snake_case" in str(error_of(with_step(0, name="Re search")))
    assert "the saga name must be lower_snake_case" in str(error_of(saga(name="content.pipeline")))
    assert "'compensate' is reserved" in str(error_of(with_step(0, name="compensate")))


def test_parallel_group_needs_two_steps() -> None:
    data = saga()
    data["steps"] = [{"parallel": [data["steps"][0]]}]
    assert "must list at least two steps" in str(error_of(data))


def test_empty_steps_and_empty_file_are_refused() -> None:
    assert "`steps` must be a non-empty list" in str(error_of(saga(steps=[])))
    assert "the file is empty" in str(error_of(None))


def test_non_json_input_is_refused() -> None:
    import datetime

    error = error_of(with_step(0, input={"when": datetime.date(2025, 1, 1)}))
    assert "only JSON values are allowed (quote dates and times)" in str(error)


# ---------------------------------------------------------------- files and directories


def test_file_name_must_match_the_saga_name(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(saga()))
    with pytest.raises(SagaDefinitionError) as caught:
        load_definition_file(path)
    assert str(caught.value) == (
        f"{path}: name 'demo' differs from the file name; call the file demo.yaml or the saga "
        "'other'")


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("name: demo\nsteps: [\n")
    with pytest.raises(SagaDefinitionError, match=re.escape(f"{path}: not valid YAML")):
        load_definition_file(path)


def test_references_in_block_yaml_need_no_quotes(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        "name: demo\nsteps:\n  - name: a\n    agent: writer\n    action: write\n"
        "    compensation: null\n    input:\n      topic: ${saga.input.topic}\n"
        "      all: ${saga.input}\n")
    definition = load_definition_file(path)
    assert definition.step("a").input == {"topic": "${saga.input.topic}", "all": "${saga.input}"}


def test_one_saga_type_per_directory(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump(saga()))
    (tmp_path / "demo.yml").write_text(yaml.safe_dump(saga()))
    with pytest.raises(SagaDefinitionError, match="saga type 'demo' is also defined in"):
        load_definitions(tmp_path)


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SagaDefinitionError, match="not a directory of saga definitions"):
        load_definitions(tmp_path / "nope")


def test_the_readme_example_is_a_valid_definition() -> None:
    text = (SAGAS_DIR / "README.md").read_text(encoding="utf-8")
    example = text.split("```yaml", 1)[1].split("```", 1)[0]
    definition = parse_definition(yaml.safe_load(example), source="README.md")
    assert [[s.name for s in stage] for stage in definition.stages] == [
        ["research"], ["write"], ["edit"], ["tweet", "mail"]]
