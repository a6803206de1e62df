"""The saga state machine: forward runs, compensation in reverse, retries, timeouts, escalation."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from services.orchestrator import machine
from services.orchestrator.machine import (
    CompensationResult,
    DefinitionMismatchError,
    EmitEvent,
    GuardrailBlocked,
    LifecycleStatus,
    SendTask,
    StepResult,
    TimerFired,
    TimerKind,
)
from services.orchestrator.record import ErrorInfo, Outcome, SagaRecord, SagaState
from tests.unit.orchestrator.harness import T0, Harness, inline, reference

TOPIC = {"topic": "sea otters"}


def content() -> Harness:
    return Harness(reference("content_pipeline"), TOPIC)


def review() -> Harness:
    return Harness(reference("code_review"), {"diff": "+x = 1", "repo": "agentbus"})


def run_content_until(h: Harness, step: str) -> None:
    """Complete every step before `step` (content_pipeline)."""
    outputs: dict[str, dict[str, Any]] = {
        "research": {"notes": ["otters hold hands"]}, "write": {"draft": "Otters..."},
               "edit": {"article": "Sea otters..."}}
    for name in ("research", "write", "edit", "publish"):
        if name == step:
            return
        h.ok(name, outputs.get(name))


# ---------------------------------------------------------------- happy paths


def test_sequential_saga_runs_steps_in_order_and_completes_with_every_output() -> None:
    h = content()
    assert h.sent() == ["researcher.research"]
    h.ok("research", {"notes": ["otters hold hands"]})
    assert h.sent() == ["writer.write"]
    write = h.last.of_type(SendTask)[0]
    assert write.input == {"topic": "sea otters", "notes": ["otters hold hands"]}
    assert write.routing_key == "task.writer.write"
    assert write.task_id == "saga-1:write:1"
    assert write.deadline == T0 + timedelta(seconds=120)
    h.ok("write", {"draft": "Otters..."})
    assert h.last.of_type(SendTask)[0].input == {"draft": "Otters..."}
    h.ok("edit", {"article": "Sea otters..."})
    assert h.last.of_type(SendTask)[0].input == {"title": "sea otters", "article": "Sea otters..."}
    h.ok("publish", {"url": "https://example.org/otters"})

    assert h.state() is SagaState.COMPLETED
    assert h.events() == ["started", "step_completed:research", "step_completed:write",
                          "step_completed:edit", "step_completed:publish", "completed"]
    completed = h.last.of_type(EmitEvent)[-1]
    assert completed.routing_key == "saga.completed.content_pipeline"
    assert completed.output == {
        "research": {"notes": ["otters hold hands"]}, "write": {"draft": "Otters..."},
        "edit": {"article": "Sea otters..."}, "publish": {"url": "https://example.org/otters"}}
    assert completed.record is not None
    assert completed.record["status"] == "completed"
    assert set(h.statuses().values()) == {"completed"}
    assert h.compensations_sent() == []


def test_every_lifecycle_event_carries_the_record_after_its_transition() -> None:
    h = content()
    started = h.last.of_type(EmitEvent)[0]
    assert started.routing_key == "saga.started.content_pipeline"
    assert started.record is not None
    assert started.record["steps"][0]["status"] == "running"
    assert started.record["input"] == TOPIC


def test_parallel_group_fans_out_then_fans_in() -> None:
    h = review()
    first = h.last.of_type(SendTask)
    assert [t.routing_key for t in first] == [
        "task.style_reviewer.review", "task.security_reviewer.review",
        "task.performance_reviewer.review", "task.tests_reviewer.review"]
    assert all(t.input == {"diff": "+x = 1", "repo": "agentbus"} for t in first)
    for name in ("tests", "style", "security"):
        h.ok(name, {"comments": [name]})
        assert h.sent() == [], "the synthesiser must wait for every reviewer"
    h.ok("performance", {"comments": ["performance"]})
    assert h.sent() == ["synthesiser.synthesise"]
    synthesis = h.last.of_type(SendTask)[0]
    assert synthesis.input["reviews"]["security"] == {"comments": ["security"]}
    assert synthesis.input["change"] == {"diff": "+x = 1", "repo": "agentbus"}
    h.ok("synthesis", {"review": "LGTM with nits"})
    assert h.state() is SagaState.COMPLETED
    assert h.record.output["synthesis"] == {"review": "LGTM with nits"}


# ---------------------------------------------------------------- compensation order


def test_failure_at_the_first_step_compensates_nothing() -> None:
    h = content()
    h.fail("research")
    assert h.state() is SagaState.COMPENSATED
    assert h.compensations_sent() == []
    assert h.statuses() == {"research": "failed", "write": "skipped", "edit": "skipped",
                            "publish": "skipped"}
    assert h.events() == ["started", "step_failed:research", "compensating", "compensated"]
    assert h.record.failure is not None
    assert h.record.failure.step == "research"
    compensated = h.last.of_type(EmitEvent)[-1]
    assert compensated.routing_key == "saga.compensated.content_pipeline"
    assert compensated.error is not None
    assert compensated.error.code == "boom"


def test_failure_in_the_middle_compensates_completed_steps_in_reverse_one_stage_at_a_time() -> None:
    h = content()
    run_content_until(h, "edit")
    h.fail("edit")
    assert h.state() is SagaState.COMPENSATING
    assert h.record.compensation_plan == [["write"], ["research"]]
    assert h.sent() == ["writer.discard_draft"]
    undo = h.last.of_type(SendTask)[0]
    assert undo.compensation is True
    assert undo.task_id == "saga-1:write:compensate:1"
    assert undo.input == {"step": "write", "input": {"topic": "sea otters",
                                                     "notes": ["otters hold hands"]},
                          "output": {"draft": "Otters..."}}
    h.comp_ok("write")
    assert h.sent() == ["researcher.discard_notes"]
    h.comp_ok("research")
    assert h.state() == SagaState.COMPENSATED
    assert [c.step for c in h.record.compensations] == ["write", "research"]
    assert [c.status.value for c in h.record.compensations] == ["compensated", "compensated"]
    assert h.statuses() == {"research": "compensated", "write": "compensated", "edit": "failed",
                            "publish": "skipped"}
    assert h.events()[-3:] == ["step_failed:edit", "compensating", "compensated"]


def test_failure_at_the_last_step_skips_steps_with_nothing_to_undo() -> None:
    h = content()
    run_content_until(h, "publish")
    h.fail("publish")
    # publish answered "failed" (it did nothing); edit has no compensation.
    assert h.record.compensation_plan == [["write"], ["research"]]
    h.comp_ok("write")
    h.comp_ok("research")
    assert h.compensations_sent() == ["write", "research"]
    assert h.statuses()["edit"] == "completed"
    assert h.state() is SagaState.COMPENSATED


def test_a_step_that_timed_out_for_good_is_compensated_first_since_it_may_have_acted() -> None:
    h = content()
    run_content_until(h, "publish")
    for attempt in (1, 2, 3):
        h.fire(TimerKind.STEP_TIMEOUT, "publish")
        if attempt < 3:
            h.fire(TimerKind.STEP_RETRY, "publish")
    assert h.record.step("publish").maybe_acted
    assert h.record.compensation_plan == [["publish"], ["write"], ["research"]]
    assert h.sent() == ["publisher.unpublish"]
    h.comp_ok("publish")
    h.comp_ok("write")
    h.comp_ok("research")
    assert h.compensations_sent() == ["publish", "write", "research"]
    assert h.state() is SagaState.COMPENSATED
    assert h.record.failure is not None
    assert h.record.failure.error.code == "timeout"


def test_failure_inside_a_parallel_group_compensates_completed_and_in_flight_siblings() -> None:
    h = review()
    h.ok("style", {"comments": ["nit"]})
    h.fail("tests", retryable=True)       # waits for its retry; this attempt did nothing
    h.fail("security", retryable=False)   # performance is still in flight
    assert h.state() is SagaState.COMPENSATING
    # Together, in one transition: the completed one and the one that may have acted.
    assert sorted(h.sent()) == ["performance_reviewer.retract_comments",
                                "style_reviewer.retract_comments"]
    assert h.record.compensation_plan == [["style", "performance"]]
    assert h.statuses() == {"style": "compensating", "security": "failed",
                            "performance": "compensating", "tests": "failed",
                            "synthesis": "skipped"}
    performance = h.record.step("performance")
    abandoned = performance.find_attempt(1, compensation=False)
    assert abandoned is not None
    assert abandoned.outcome is Outcome.ABANDONED
    assert performance.maybe_acted
    tests_error = h.record.step("tests").error
    assert tests_error is not None
    assert tests_error.code == "abandoned"
    h.comp_ok("performance")
    assert h.state() == SagaState.COMPENSATING, "a group compensates together"
    h.comp_ok("style")
    assert h.state() == SagaState.COMPENSATED
    assert h.compensations_sent() == ["style", "performance"]


def test_failure_after_a_parallel_group_compensates_the_whole_group_together() -> None:
    h = review()
    for name in ("style", "security", "performance", "tests"):
        h.ok(name, {"comments": [name]})
    h.fail("synthesis")
    assert sorted(h.sent()) == sorted(f"{r}_reviewer.retract_comments"
                                      for r in ("style", "security", "performance", "tests"))
    for name in ("tests", "style", "security", "performance"):
        h.comp_ok(name)
    assert h.state() is SagaState.COMPENSATED
    assert h.statuses()["synthesis"] == "failed"


# ---------------------------------------------------------------- retries and timeouts


def test_retryable_error_retries_with_backoff_and_the_same_input() -> None:
    h = content()
    h.fail("research", retryable=True)
    assert h.sent() == []
    retry_timer = h.timers["research:step_retry:2"]
    assert retry_timer.due_at == h.now + timedelta(seconds=1)
    h.fire(TimerKind.STEP_RETRY, "research")
    second = h.last.of_type(SendTask)[0]
    assert second.task_id == "saga-1:research:2"
    assert second.attempt == 2
    assert second.input == {"topic": "sea otters"}
    h.fail("research", retryable=True)
    assert h.timers["research:step_retry:3"].due_at == h.now + timedelta(seconds=2)
    h.fire(TimerKind.STEP_RETRY, "research")
    h.ok("research", {"notes": []})
    assert h.record.step("research").attempt == 3
    assert h.sent() == ["writer.write"]


def test_retries_run_out_then_the_step_fails() -> None:
    h = content()
    for _ in range(2):
        h.fail("research", retryable=True)
        h.fire(TimerKind.STEP_RETRY, "research")
    h.fail("research", retryable=True)
    assert h.record.step("research").status.value == "failed"
    assert [a.outcome for a in h.record.step("research").attempts] == [Outcome.FAILED] * 3
    assert h.state() is SagaState.COMPENSATED


def test_non_retryable_error_fails_the_step_at_once() -> None:
    h = content()
    h.ok("research", {"notes": []})
    h.fail("write", retryable=False)
    assert h.record.step("write").attempt == 1
    assert h.record.step("write").status.value == "failed"
    assert h.sent() == ["researcher.discard_notes"]


def test_timeout_retries_the_step_and_a_late_reply_of_the_old_attempt_is_ignored() -> None:
    h = content()
    assert h.timers["research:step_timeout:1"].due_at == T0 + timedelta(seconds=120)
    h.fire(TimerKind.STEP_TIMEOUT, "research")
    assert h.record.step("research").maybe_acted
    assert h.record.step("research").attempts[0].outcome is Outcome.TIMEOUT
    h.fire(TimerKind.STEP_RETRY, "research")
    assert h.last.of_type(SendTask)[0].attempt == 2
    late = h.ok("research", {"notes": ["old"]}, attempt=1)
    assert late.ignored is not None
    assert "attempt 1" in late.ignored
    h.ok("research", {"notes": ["new"]})
    assert h.record.step("research").output == {"notes": ["new"]}


def test_zero_backoff_retries_immediately() -> None:
    h = Harness(inline({"name": "quick", "steps": [
        {"name": "only", "agent": "a", "action": "do", "compensation": None,
         "retry": {"attempts": 2, "backoff": {"initial": 0, "max": 0}}}]}))
    h.fail("only", retryable=True)
    assert h.last.of_type(SendTask)[0].attempt == 2


def test_a_timer_fired_after_its_step_answered_is_ignored() -> None:
    h = content()
    h.ok("research")
    stale = h.apply(TimerFired(TimerKind.STEP_TIMEOUT, "research", 1))
    assert stale.ignored is not None
    stale_retry = h.apply(TimerFired(TimerKind.STEP_RETRY, "write", 2))
    assert stale_retry.ignored == "stale retry timer"


# ---------------------------------------------------------------- compensation failures


def test_compensation_is_retried_then_escalates_with_everything_a_human_needs() -> None:
    h = content()
    run_content_until(h, "edit")
    h.fail("edit")
    h.comp_fail("write")
    assert h.timers["write:compensation_retry:2"].due_at == h.now + timedelta(seconds=1)
    h.fire(TimerKind.COMPENSATION_RETRY, "write")
    assert h.last.of_type(SendTask)[0].task_id == "saga-1:write:compensate:2"
    h.comp_fail("write")
    h.fire(TimerKind.COMPENSATION_RETRY, "write")
    h.comp_fail("write")

    assert h.state() is SagaState.ESCALATED
    assert h.events()[-1] == "escalated"
    escalation = h.record.escalation
    assert escalation is not None
    assert escalation.step == "write"
    assert escalation.action == "discard_draft"
    assert "3 times" in escalation.reason
    assert [e.code for e in escalation.errors] == ["undo_failed"] * 3
    event = h.last.of_type(EmitEvent)[-1]
    assert event.routing_key == "saga.escalated.content_pipeline"
    assert event.error is not None
    assert "discard_draft" in event.error.message
    assert event.record is not None
    assert event.record["escalation"]["step"] == "write"
    # The state is kept: research was never undone, nothing else is sent.
    assert h.compensations_sent() == ["write", "write", "write"]
    assert h.statuses()["research"] == "completed"
    assert h.statuses()["write"] == "compensation_failed"
    assert h.record.compensations[-1].attempts == 3


def test_non_retryable_compensation_failure_escalates_at_once() -> None:
    h = content()
    h.ok("research")
    h.fail("write")
    h.comp_fail("research", retryable=False)
    assert h.state() is SagaState.ESCALATED
    assert h.record.escalation is not None
    assert h.record.escalation.reason == "it failed with a non-retryable error"


def test_compensation_timeouts_retry_then_escalate() -> None:
    h = content()
    h.ok("research")
    h.fail("write")
    for attempt in (1, 2, 3):
        h.fire(TimerKind.COMPENSATION_TIMEOUT, "research")
        if attempt < 3:
            h.fire(TimerKind.COMPENSATION_RETRY, "research")
    assert h.state() is SagaState.ESCALATED
    assert h.record.escalation is not None
    assert [e.code for e in h.record.escalation.errors] == ["timeout"] * 3


def test_after_escalation_a_sibling_compensation_reply_is_recorded_but_nothing_is_sent() -> None:
    h = review()
    for name in ("style", "security", "performance", "tests"):
        h.ok(name)
    h.fail("synthesis")
    h.apply(CompensationResult("style", 1, ErrorInfo("gone", "no such comment", False)))
    assert h.state() is SagaState.ESCALATED
    after = h.comp_ok("security")
    assert after.of_type(SendTask) == []
    assert h.statuses()["security"] == "compensated"
    assert h.statuses()["tests"] == "compensating"
    assert h.timers == {}


# ---------------------------------------------------------------- guardrail


def test_a_blocked_step_fails_at_once_and_is_not_compensated_itself() -> None:
    h = content()
    run_content_until(h, "publish")
    h.apply(GuardrailBlocked("publish", 1, reasons=("shell command in article",)))
    publish = h.record.step("publish")
    assert publish.status.value == "failed"
    assert publish.error is not None
    assert publish.error.code == "guardrail_blocked"
    assert "shell command in article" in publish.error.message
    assert publish.attempts[0].outcome is Outcome.BLOCKED
    assert h.record.compensation_plan == [["write"], ["research"]]
    assert h.events()[-2:] == ["step_failed:publish", "compensating"]


def test_a_blocked_compensation_escalates() -> None:
    h = content()
    h.ok("research")
    h.fail("write")
    h.apply(GuardrailBlocked("research", 1, compensation=True, reasons=("sql injection",)))
    assert h.state() is SagaState.ESCALATED
    assert h.record.escalation is not None
    assert h.record.escalation.reason == "the guardrail blocked it"


# ---------------------------------------------------------------- duplicates and late replies


def test_duplicate_reply_is_ignored_and_changes_nothing() -> None:
    h = content()
    h.ok("research", {"notes": ["a"]})
    before = h.record.to_dict()
    duplicate = h.apply(StepResult("research", 1, {"notes": ["b"]}))
    assert duplicate.ignored is not None
    assert "duplicate or late" in duplicate.ignored
    assert duplicate.commands == ()
    assert h.record.to_dict() == before


def test_duplicate_compensation_reply_is_ignored() -> None:
    h = content()
    h.ok("research")
    h.fail("write")
    h.comp_ok("research")
    again = h.apply(CompensationResult("research", 1))
    assert again.ignored is not None


def test_step_reply_while_compensating_is_late_and_ignored() -> None:
    h = review()
    h.fail("style")
    late = h.ok("performance", attempt=1)
    assert late.ignored is not None
    assert "late" in late.ignored
    assert h.record.step("performance").status.value == "compensating"


def test_reply_for_unknown_step_or_finished_saga_is_ignored() -> None:
    h = content()
    assert h.apply(StepResult("nope", 1)).ignored == "saga saga-1 has no step 'nope'"
    for name in ("research", "write", "edit", "publish"):
        h.ok(name)
    assert h.ok("publish", attempt=1).ignored is not None
    assert h.apply(CompensationResult("write", 1)).ignored is not None


# ---------------------------------------------------------------- input mapping


def test_missing_saga_input_fails_the_first_step_with_a_clear_error() -> None:
    h = Harness(reference("content_pipeline"), {"subject": "otters"})
    research = h.record.step("research")
    assert research.status.value == "failed"
    assert research.error is not None
    assert research.error.code == "input_mapping"
    assert "${saga.input.topic}" in research.error.message
    assert "has no key 'topic'" in research.error.message
    assert h.state() is SagaState.COMPENSATED
    assert h.sent() == []


def test_missing_output_of_an_earlier_step_fails_the_later_step_and_compensates() -> None:
    h = content()
    h.ok("research", {"summary": "no notes key"})
    assert h.statuses()["write"] == "failed"
    assert h.sent() == ["researcher.discard_notes"]


# ---------------------------------------------------------------- purity and records


def test_apply_is_pure_and_deterministic() -> None:
    h = content()
    h.ok("research", {"notes": ["a"]})
    before = json.dumps(h.record.to_dict(), sort_keys=True)
    event = StepResult("write", 1, error=ErrorInfo("x", "y", False))
    now = T0 + timedelta(seconds=5)
    first = machine.apply(h.definition, h.record, event, now)
    second = machine.apply(h.definition, h.record, event, now)
    assert json.dumps(h.record.to_dict(), sort_keys=True) == before
    assert first.commands == second.commands
    assert first.record.to_dict() == second.record.to_dict()


def test_record_round_trips_through_json() -> None:
    h = review()
    h.ok("style", {"comments": ["a"], "score": 3})
    h.fail("security")
    data = json.loads(json.dumps(h.record.to_dict()))
    again = SagaRecord.from_dict(data)
    assert again.to_dict() == h.record.to_dict()
    assert again.is_settled("style", 1)
    assert not again.is_settled("style", 1, compensation=True)


def test_a_changed_definition_is_refused() -> None:
    h = content()
    other = reference("code_review")
    with pytest.raises(DefinitionMismatchError, match="restore the old definition"):
        machine.apply(other, h.record, StepResult("research", 1), T0)


def test_lifecycle_routing_keys_use_every_status() -> None:
    statuses = {s.value for s in LifecycleStatus}
    assert statuses == {"started", "step_completed", "step_failed", "compensating",
                        "compensated", "completed", "escalated"}


@pytest.mark.parametrize(("value", "expected"), [
    ("s1:write:2", ("s1", "write", 2, False)),
    ("s1:write:compensate:3", ("s1", "write", 3, True)),
    ("urn:saga:42:publish:1", ("urn:saga:42", "publish", 1, False)),
    ("urn:saga:42:publish:compensate:1", ("urn:saga:42", "publish", 1, True)),
])
def test_task_ids_round_trip(value: str, expected: tuple[str, str, int, bool]) -> None:
    ref = machine.parse_task_id(value)
    assert ref is not None
    assert (ref.saga_id, ref.step, ref.attempt, ref.compensation) == expected
    assert machine.task_id(ref.saga_id, ref.step, ref.attempt,
                           compensation=ref.compensation) == value


@pytest.mark.parametrize("value", ["", "abc", "s1:write", "s1:write:x", ":write:1"])
def test_malformed_task_ids_are_refused(value: str) -> None:
    assert machine.parse_task_id(value) is None
