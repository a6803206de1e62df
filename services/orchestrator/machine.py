"""The saga state machine: pure and deterministic, no I/O and no clock of its own.

`start()` and `apply()` take a record (never modified: they work on a copy), an event and the time,
and return a `Transition`: the new record and the commands it causes (tasks to send, lifecycle events
to emit, timers to arm or cancel). The caller commits both in one store transaction (the outbox), so
replaying an event against the same record always yields the same result.

Semantics in brief (the README of `sagas/` has the full story):
- stages run in order; a stage of several steps fans out, and the saga moves on when all completed;
- a retryable error or a timeout retries the step per its policy; a final failure, a non-retryable
  error or a guardrail block fails it, and the saga compensates, latest stage first, every step that
  completed or may have acted (an attempt went unanswered), a stage's compensations together;
- a compensation is retried the same way; one that keeps failing (or is blocked, or fails with a
  non-retryable error) escalates the saga, which then waits for a human;
- a reply whose (step, attempt) nothing awaits any more is a duplicate or late: it is ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from agentbus.errors import AgentBusError
from services.orchestrator.definitions import SagaDefinition, StepDefinition
from services.orchestrator.errors import UnresolvedReferenceError
from services.orchestrator.record import (
    AttemptRecord,
    CompensationEntry,
    ErrorInfo,
    Escalation,
    Failure,
    Outcome,
    SagaRecord,
    SagaState,
    StepRecord,
    StepStatus,
    json_copy,
)
from services.orchestrator.references import resolve

COMPENSATE = "compensate"
_C = TypeVar("_C")


# ---------------------------------------------------------------- task ids


def task_id(saga_id: str, step: str, attempt: int, *, compensation: bool = False) -> str:
    """The deterministic id agents deduplicate on: `<saga>:<step>:<n>` or `<saga>:<step>:compensate:<n>`."""
    if compensation:
        return f"{saga_id}:{step}:{COMPENSATE}:{attempt}"
    return f"{saga_id}:{step}:{attempt}"


@dataclass(frozen=True)
class TaskRef:
    """What a task id says: saga, step, attempt, and whether it is a compensation."""

    saga_id: str
    step: str
    attempt: int
    compensation: bool


def parse_task_id(value: str) -> TaskRef | None:
    """Read a task id written by `task_id()`; None if it is not one (saga ids may contain ':')."""
    parts = value.split(":")
    if len(parts) < 3 or not parts[-1].isdigit():
        return None
    attempt = int(parts[-1])
    if len(parts) >= 4 and parts[-2] == COMPENSATE:
        saga_id, step = ":".join(parts[:-3]), parts[-3]
        return TaskRef(saga_id, step, attempt, True) if saga_id and step else None
    saga_id, step = ":".join(parts[:-2]), parts[-2]
    return TaskRef(saga_id, step, attempt, False) if saga_id and step else None


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class StepResult:
    """An agent answered a step: success when `error` is None."""

    step: str
    attempt: int
    output: dict[str, Any] | None = None
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class CompensationResult:
    """An agent answered a compensation: success when `error` is None."""

    step: str
    attempt: int
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class GuardrailBlocked:
    """The guardrail refused a task (of a step or of a compensation); it never reached the agent."""

    step: str
    attempt: int
    compensation: bool = False
    reasons: tuple[str, ...] = ()


class TimerKind(StrEnum):
    """What a timer is for."""

    STEP_TIMEOUT = "step_timeout"
    STEP_RETRY = "step_retry"
    COMPENSATION_TIMEOUT = "compensation_timeout"
    COMPENSATION_RETRY = "compensation_retry"


@dataclass(frozen=True)
class Timer:
    """A deadline of one saga: a step's or compensation's timeout, or when to send the next attempt."""

    kind: TimerKind
    step: str
    # For a timeout, the attempt it guards; for a retry, the attempt it will send.
    attempt: int
    due_at: datetime

    @property
    def key(self) -> str:
        """Unique within the saga; the store keys timers by (saga id, key)."""
        return timer_key(self.kind, self.step, self.attempt)


def timer_key(kind: TimerKind, step: str, attempt: int) -> str:
    """The key of the timer `kind` for (step, attempt)."""
    return f"{step}:{kind.value}:{attempt}"


@dataclass(frozen=True)
class TimerFired:
    """A timer came due."""

    kind: TimerKind
    step: str
    attempt: int

    @property
    def key(self) -> str:
        """The key of the timer that fired."""
        return timer_key(self.kind, self.step, self.attempt)


Event = StepResult | CompensationResult | GuardrailBlocked | TimerFired


# ---------------------------------------------------------------- commands


class LifecycleStatus(StrEnum):
    """The `<status>` of a `saga.<status>.<saga_type>` lifecycle event."""

    STARTED = "started"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPLETED = "completed"
    ESCALATED = "escalated"


@dataclass(frozen=True)
class SendTask:
    """Publish a Task (a step attempt or a compensation attempt) on `task.<agent>.<action>`."""

    saga_id: str
    task_id: str
    agent: str
    action: str
    step: str
    attempt: int
    compensation: bool
    input: Any
    deadline: datetime

    @property
    def routing_key(self) -> str:
        """`task.<agent>.<action>`."""
        return f"task.{self.agent}.{self.action}"


@dataclass(frozen=True)
class EmitEvent:
    """Publish a LifecycleEvent on `saga.<status>.<saga_type>`, carrying the record after the transition."""

    saga_id: str
    saga_type: str
    status: LifecycleStatus
    step: str = ""
    output: Any = None
    error: ErrorInfo | None = None
    record: dict[str, Any] | None = None

    @property
    def routing_key(self) -> str:
        """`saga.<status>.<saga_type>`."""
        return f"saga.{self.status.value}.{self.saga_type}"


@dataclass(frozen=True)
class ArmTimer:
    """Store a deadline; when it comes due, feed `TimerFired` back into the machine."""

    timer: Timer


@dataclass(frozen=True)
class CancelTimer:
    """Forget a deadline that no longer matters (its attempt was answered)."""

    key: str


Command = SendTask | EmitEvent | ArmTimer | CancelTimer


@dataclass(frozen=True)
class Transition:
    """The record after an event and what it causes; `ignored` says why nothing changed.

    An ignored transition has no commands and the input record unchanged: for a fired timer the
    caller simply deletes the stale timer.
    """

    record: SagaRecord
    commands: tuple[Command, ...] = ()
    ignored: str | None = None
    # record.to_dict() as the transition left it (the store writes it; events carry it).
    snapshot: dict[str, Any] | None = None

    def of_type(self, kind: type[_C]) -> list[_C]:
        """The commands of one type, in order."""
        return [command for command in self.commands if isinstance(command, kind)]


class DefinitionMismatchError(AgentBusError):
    """A stored saga's steps differ from its definition (the definition changed under it)."""


# ---------------------------------------------------------------- entry points


def start(definition: SagaDefinition, saga_id: str, saga_input: dict[str, Any],
          now: datetime) -> Transition:
    """Create the record of a new saga and send its first stage."""
    record = SagaRecord(
        saga_id=saga_id, saga_type=definition.name, input=json_copy(saga_input),
        created_at=now, updated_at=now,
        steps=[
            StepRecord(name=step.name, stage=step.stage, agent=step.agent, action=step.action,
                       compensation=None if step.compensation is None else step.compensation.action)
            for step in definition.steps
        ],
    )
    run = _Run(definition, record, now)
    run.emit(LifecycleStatus.STARTED)
    run.enter_stage(0)
    return run.finish()


def apply(definition: SagaDefinition, record: SagaRecord, event: Event,
          now: datetime) -> Transition:
    """Apply one event to a saga; the given record is left untouched."""
    expected = definition.step_names
    actual = [step.name for step in record.steps]
    if record.saga_type != definition.name or expected != actual:
        raise DefinitionMismatchError(
            f"saga {record.saga_id} ({record.saga_type}) has steps {actual} but the definition "
            f"{definition.name!r} now has {expected}; restore the old definition until it finishes")
    working = record.clone()
    run = _Run(definition, working, now)
    reason = run.handle(event)
    if reason is not None:
        return Transition(record, (), ignored=reason)
    return run.finish()


# ---------------------------------------------------------------- the machine


class _Run:
    """One transition in progress: mutates its own copy of the record, collects commands."""

    def __init__(self, definition: SagaDefinition, record: SagaRecord, now: datetime) -> None:
        self.definition = definition
        self.record = record
        self.now = now
        self.commands: list[Command] = []

    def finish(self) -> Transition:
        self.record.updated_at = self.now
        snapshot = self.record.to_dict()
        commands = tuple(
            dataclasses.replace(c, record=snapshot) if isinstance(c, EmitEvent) else c
            for c in self.commands
        )
        return Transition(self.record, commands, snapshot=snapshot)

    # ------------------------------------------------------------ helpers

    def emit(self, status: LifecycleStatus, *, step: str = "", output: Any = None,
             error: ErrorInfo | None = None) -> None:
        self.commands.append(EmitEvent(
            saga_id=self.record.saga_id, saga_type=self.record.saga_type, status=status,
            step=step, output=json_copy(output), error=error))

    def arm(self, kind: TimerKind, step: str, attempt: int, due_at: datetime) -> None:
        self.commands.append(ArmTimer(Timer(kind, step, attempt, due_at)))

    def cancel(self, kind: TimerKind, step: str, attempt: int) -> None:
        self.commands.append(CancelTimer(timer_key(kind, step, attempt)))

    def later(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=seconds)

    def context(self) -> dict[str, Any]:
        return {
            "saga": {"id": self.record.saga_id, "type": self.record.saga_type,
                     "input": self.record.input},
            "steps": {s.name: {"input": s.input, "output": s.output} for s in self.record.steps},
        }

    def step_definition(self, name: str) -> StepDefinition:
        return self.definition.step(name)

    # ------------------------------------------------------------ dispatch

    def handle(self, event: Event) -> str | None:
        """Apply the event; return why it was ignored, or None if it changed the saga."""
        if not self.record.has_step(event.step):
            return f"saga {self.record.saga_id} has no step {event.step!r}"
        step = self.record.step(event.step)
        if isinstance(event, StepResult):
            return self.on_step_reply(step, event.attempt, event.output, event.error,
                                      Outcome.OK if event.error is None else Outcome.FAILED)
        if isinstance(event, CompensationResult):
            return self.on_compensation_reply(
                step, event.attempt, event.error,
                Outcome.OK if event.error is None else Outcome.FAILED)
        if isinstance(event, GuardrailBlocked):
            error = ErrorInfo("guardrail_blocked", "the guardrail blocked the task: "
                              + ("; ".join(event.reasons) or "no reason given"), retryable=False)
            if event.compensation:
                return self.on_compensation_reply(step, event.attempt, error, Outcome.BLOCKED)
            return self.on_step_reply(step, event.attempt, None, error, Outcome.BLOCKED)
        return self.on_timer(step, event)

    def on_timer(self, step: StepRecord, event: TimerFired) -> str | None:
        if event.kind is TimerKind.STEP_TIMEOUT:
            timeout = self.step_definition(step.name).timeout
            error = ErrorInfo("timeout", f"no reply within {timeout:g} s", retryable=True)
            return self.on_step_reply(step, event.attempt, None, error, Outcome.TIMEOUT)
        if event.kind is TimerKind.COMPENSATION_TIMEOUT:
            compensation = self.step_definition(step.name).compensation
            timeout = compensation.timeout if compensation else 0.0
            error = ErrorInfo("timeout", f"no reply within {timeout:g} s", retryable=True)
            return self.on_compensation_reply(step, event.attempt, error, Outcome.TIMEOUT)
        if event.kind is TimerKind.STEP_RETRY:
            if (self.record.status is not SagaState.RUNNING or step.status is not StepStatus.RUNNING
                    or step.awaiting or step.retry_at is None or step.attempt != event.attempt - 1):
                return "stale retry timer"
            self.commands.append(CancelTimer(event.key))
            self.send_step(step, event.attempt)
            return None
        if (self.record.status is not SagaState.COMPENSATING
                or step.status is not StepStatus.COMPENSATING or step.compensation_awaiting
                or step.compensation_retry_at is None
                or step.compensation_attempt != event.attempt - 1):
            return "stale compensation retry timer"
        self.commands.append(CancelTimer(event.key))
        self.send_compensation(step, event.attempt)
        return None

    # ------------------------------------------------------------ forward

    def enter_stage(self, stage: int) -> None:
        self.record.stage = stage
        members = self.definition.stages[stage]
        context = self.context()
        inputs: dict[str, Any] = {}
        for member in members:
            template = "${saga.input}" if member.input is None else member.input
            try:
                inputs[member.name] = resolve(template, context)
            except UnresolvedReferenceError as exc:
                # Nothing of this stage was sent yet: fail this step, the siblings never run.
                step = self.record.step(member.name)
                step.status = StepStatus.FAILED
                step.error = ErrorInfo("input_mapping", f"cannot build the step's input: {exc}")
                step.finished_at = self.now
                self.emit(LifecycleStatus.STEP_FAILED, step=step.name, error=step.error)
                self.abort(step)
                return
        for member in members:
            step = self.record.step(member.name)
            step.input = inputs[member.name]
            step.started_at = self.now
            self.send_step(step, 1)

    def send_step(self, step: StepRecord, attempt: int) -> None:
        definition = self.step_definition(step.name)
        step.status = StepStatus.RUNNING
        step.attempt = attempt
        step.awaiting = True
        step.retry_at = None
        step.deadline = self.later(definition.timeout)
        tid = task_id(self.record.saga_id, step.name, attempt)
        step.attempts.append(AttemptRecord(attempt=attempt, task_id=tid, sent_at=self.now))
        self.commands.append(SendTask(
            saga_id=self.record.saga_id, task_id=tid, agent=step.agent, action=step.action,
            step=step.name, attempt=attempt, compensation=False, input=json_copy(step.input),
            deadline=step.deadline))
        self.arm(TimerKind.STEP_TIMEOUT, step.name, attempt, step.deadline)

    def on_step_reply(self, step: StepRecord, attempt: int, output: dict[str, Any] | None,
                      error: ErrorInfo | None, outcome: Outcome) -> str | None:
        if self.record.status is not SagaState.RUNNING:
            return f"saga is {self.record.status.value}; the reply for {step.name} is late"
        if step.status is not StepStatus.RUNNING or not step.awaiting or step.attempt != attempt:
            return (f"duplicate or late reply for step {step.name} attempt {attempt} "
                    f"(step is {step.status.value}, attempt {step.attempt})")
        step.awaiting = False
        step.deadline = None
        # Answered: its timeout no longer matters. Timed out: the fired timer is consumed.
        self.cancel(TimerKind.STEP_TIMEOUT, step.name, attempt)
        if outcome is Outcome.TIMEOUT:
            step.maybe_acted = True
        entry = step.find_attempt(attempt, compensation=False)
        if entry is not None:
            entry.finished_at = self.now
            entry.outcome = outcome
            entry.error = error
        if error is None:
            step.status = StepStatus.COMPLETED
            step.output = {} if output is None else json_copy(output)
            step.error = None
            step.finished_at = self.now
            self.emit(LifecycleStatus.STEP_COMPLETED, step=step.name, output=step.output)
            self.advance_if_stage_done()
            return None
        step.error = error
        policy = self.step_definition(step.name).retry
        if error.retryable and attempt < policy.attempts:
            delay = policy.delay_after(attempt)
            if delay <= 0:
                self.send_step(step, attempt + 1)
            else:
                step.retry_at = self.later(delay)
                self.arm(TimerKind.STEP_RETRY, step.name, attempt + 1, step.retry_at)
            return None
        step.status = StepStatus.FAILED
        step.finished_at = self.now
        self.emit(LifecycleStatus.STEP_FAILED, step=step.name, error=error)
        self.abort(step)
        return None

    def advance_if_stage_done(self) -> None:
        stage = self.record.stage
        if any(s.status is not StepStatus.COMPLETED for s in self.record.stage_steps(stage)):
            return
        if stage + 1 < self.record.stage_count:
            self.enter_stage(stage + 1)
            return
        self.record.status = SagaState.COMPLETED
        self.record.output = {s.name: s.output for s in self.record.steps}
        self.emit(LifecycleStatus.COMPLETED, output=self.record.output)

    # ------------------------------------------------------------ backward

    def abort(self, failed: StepRecord) -> None:
        """A step failed for good: stop the stage, skip what is left, compensate what was done."""
        assert failed.error is not None
        self.record.failure = Failure(failed.name, failed.error, self.now)
        self.record.status = SagaState.COMPENSATING
        stage = self.record.stage
        for step in self.record.steps:
            if step is failed or step.stage < stage:
                continue
            if step.status is StepStatus.PENDING:
                step.status = StepStatus.SKIPPED
            elif step.status is StepStatus.RUNNING:
                self.abandon(step, failed.name)
        self.emit(LifecycleStatus.COMPENSATING, step=failed.name, error=failed.error)
        plan = []
        for index in range(stage, -1, -1):
            names = [s.name for s in self.record.stage_steps(index) if _needs_compensation(s)]
            if names:
                plan.append(names)
        self.record.compensation_plan = plan
        self.record.compensation_cursor = 0
        self.compensate_current_stage()

    def abandon(self, step: StepRecord, because: str) -> None:
        """Stop waiting for a sibling of the failed step; if its attempt is out, it may have acted."""
        if step.awaiting:
            self.cancel(TimerKind.STEP_TIMEOUT, step.name, step.attempt)
            entry = step.find_attempt(step.attempt, compensation=False)
            if entry is not None:
                entry.finished_at = self.now
                entry.outcome = Outcome.ABANDONED
            step.maybe_acted = True
            step.awaiting = False
            step.deadline = None
        elif step.retry_at is not None:
            self.cancel(TimerKind.STEP_RETRY, step.name, step.attempt + 1)
            step.retry_at = None
        step.status = StepStatus.FAILED
        step.error = ErrorInfo("abandoned", f"the saga stopped waiting because step {because} failed")
        step.finished_at = self.now

    def compensate_current_stage(self) -> None:
        plan, cursor = self.record.compensation_plan, self.record.compensation_cursor
        if cursor >= len(plan):
            self.record.status = SagaState.COMPENSATED
            failure = self.record.failure
            self.emit(LifecycleStatus.COMPENSATED, step=failure.step if failure else "",
                      error=failure.error if failure else None)
            return
        for name in plan[cursor]:
            if self.record.status is not SagaState.COMPENSATING:
                return  # an earlier compensation of this stage escalated
            step = self.record.step(name)
            compensation = self.step_definition(name).compensation
            assert compensation is not None
            step.status = StepStatus.COMPENSATING
            step.compensation_started_at = self.now
            self.record.compensations.append(CompensationEntry(
                step=name, action=compensation.action, started_at=self.now, attempts=0))
            template = compensation.input
            if template is None:
                template = {"step": name, "input": f"${{steps.{name}.input}}",
                            "output": f"${{steps.{name}.output}}"}
            try:
                step.compensation_input = resolve(template, self.context())
            except UnresolvedReferenceError as exc:
                self.escalate(step, ErrorInfo("input_mapping",
                                              f"cannot build the compensation's input: {exc}"),
                              "its input could not be built")
                return
            self.send_compensation(step, 1)

    def send_compensation(self, step: StepRecord, attempt: int) -> None:
        compensation = self.step_definition(step.name).compensation
        assert compensation is not None
        step.compensation_attempt = attempt
        step.compensation_awaiting = True
        step.compensation_retry_at = None
        step.compensation_deadline = self.later(compensation.timeout)
        tid = task_id(self.record.saga_id, step.name, attempt, compensation=True)
        step.attempts.append(
            AttemptRecord(attempt=attempt, task_id=tid, sent_at=self.now, compensation=True))
        entry = self._compensation_entry(step.name)
        if entry is not None:
            entry.attempts = attempt
        self.commands.append(SendTask(
            saga_id=self.record.saga_id, task_id=tid, agent=step.agent, action=compensation.action,
            step=step.name, attempt=attempt, compensation=True,
            input=json_copy(step.compensation_input), deadline=step.compensation_deadline))
        self.arm(TimerKind.COMPENSATION_TIMEOUT, step.name, attempt, step.compensation_deadline)

    def on_compensation_reply(self, step: StepRecord, attempt: int, error: ErrorInfo | None,
                              outcome: Outcome) -> str | None:
        if self.record.status not in (SagaState.COMPENSATING, SagaState.ESCALATED):
            return f"saga is {self.record.status.value}; no compensation is awaited"
        if (step.status is not StepStatus.COMPENSATING or not step.compensation_awaiting
                or step.compensation_attempt != attempt):
            return (f"duplicate or late compensation reply for step {step.name} attempt {attempt} "
                    f"(step is {step.status.value}, compensation attempt "
                    f"{step.compensation_attempt})")
        if self.record.status is SagaState.ESCALATED and outcome is Outcome.TIMEOUT:
            return "saga is escalated; its compensation timers no longer act"
        step.compensation_awaiting = False
        if step.compensation_deadline is not None:
            # Escalation already cancelled the timeout of a compensation still out.
            self.cancel(TimerKind.COMPENSATION_TIMEOUT, step.name, attempt)
        step.compensation_deadline = None
        entry = step.find_attempt(attempt, compensation=True)
        if entry is not None:
            entry.finished_at = self.now
            entry.outcome = outcome
            entry.error = error
        log = self._compensation_entry(step.name)
        if error is None:
            step.status = StepStatus.COMPENSATED
            step.compensation_error = None
            step.compensation_finished_at = self.now
            if log is not None:
                log.status = StepStatus.COMPENSATED
                log.finished_at = self.now
            if self.record.status is SagaState.COMPENSATING and all(
                    self.record.step(name).status is StepStatus.COMPENSATED
                    for name in self.record.compensation_plan[self.record.compensation_cursor]):
                self.record.compensation_cursor += 1
                self.compensate_current_stage()
            return None
        step.compensation_error = error
        if self.record.status is SagaState.ESCALATED:
            # A human owns the saga now: record what happened, retry nothing.
            self._mark_compensation_failed(step, error)
            return None
        compensation = self.step_definition(step.name).compensation
        assert compensation is not None
        policy = compensation.retry
        if error.retryable and attempt < policy.attempts:
            delay = policy.delay_after(attempt)
            if delay <= 0:
                self.send_compensation(step, attempt + 1)
            else:
                step.compensation_retry_at = self.later(delay)
                self.arm(TimerKind.COMPENSATION_RETRY, step.name, attempt + 1,
                         step.compensation_retry_at)
            return None
        if outcome is Outcome.BLOCKED:
            reason = "the guardrail blocked it"
        elif not error.retryable:
            reason = "it failed with a non-retryable error"
        else:
            reason = f"it failed {attempt} times (its retry policy allows {policy.attempts})"
        self.escalate(step, error, reason)
        return None

    def escalate(self, step: StepRecord, error: ErrorInfo, reason: str) -> None:
        """A compensation cannot succeed by itself: stop everything, keep the state, call a human."""
        compensation = self.step_definition(step.name).compensation
        assert compensation is not None
        step.compensation_error = error
        self._mark_compensation_failed(step, error)
        self.record.status = SagaState.ESCALATED
        errors = [a.error for a in step.attempts if a.compensation and a.error is not None]
        if not errors:
            errors = [error]
        self.record.escalation = Escalation(
            step=step.name, action=compensation.action, reason=reason, at=self.now, errors=errors)
        for other in self.record.steps:
            if other is step or other.status is not StepStatus.COMPENSATING:
                continue
            if other.compensation_awaiting:
                # Its reply may still come and will be recorded; its timeout no longer acts.
                self.cancel(TimerKind.COMPENSATION_TIMEOUT, other.name, other.compensation_attempt)
                other.compensation_deadline = None
            elif other.compensation_retry_at is not None:
                self.cancel(TimerKind.COMPENSATION_RETRY, other.name,
                            other.compensation_attempt + 1)
                other.compensation_retry_at = None
                self._mark_compensation_failed(
                    other, other.compensation_error
                    or ErrorInfo("escalated", "not retried: the saga escalated"))
        self.emit(LifecycleStatus.ESCALATED, step=step.name, error=ErrorInfo(
            "compensation_failed",
            f"compensation {compensation.action!r} of step {step.name!r} cannot complete: "
            f"{reason}; last error: {error.code}: {error.message}. The saga is kept as it is "
            "for a human (see record.escalation)."))

    def _mark_compensation_failed(self, step: StepRecord, error: ErrorInfo) -> None:
        step.status = StepStatus.COMPENSATION_FAILED
        step.compensation_finished_at = self.now
        log = self._compensation_entry(step.name)
        if log is not None:
            log.status = StepStatus.COMPENSATION_FAILED
            log.finished_at = self.now
            log.error = error

    def _compensation_entry(self, step: str) -> CompensationEntry | None:
        for entry in reversed(self.record.compensations):
            if entry.step == step:
                return entry
        return None


def _needs_compensation(step: StepRecord) -> bool:
    if step.compensation is None:
        return False
    return step.status is StepStatus.COMPLETED or step.maybe_acted
