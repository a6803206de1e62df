"""Drive the pure state machine in tests: keep the record, the armed timers and every command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.orchestrator import machine
from services.orchestrator.definitions import SagaDefinition, load_definitions, parse_definition
from services.orchestrator.machine import (
    ArmTimer,
    CancelTimer,
    EmitEvent,
    Event,
    SendTask,
    Timer,
    TimerFired,
    TimerKind,
    Transition,
)
from services.orchestrator.record import ErrorInfo, SagaRecord, SagaState

SAGAS_DIR = Path(__file__).resolve().parents[3] / "services" / "orchestrator" / "sagas"
T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def reference(name: str) -> SagaDefinition:
    """One of the shipped reference definitions."""
    return load_definitions(SAGAS_DIR)[name]


def inline(yaml_like: dict[str, Any]) -> SagaDefinition:
    """A definition built from a dict, validated like a file."""
    return parse_definition(yaml_like, source="test.yaml")


class Harness:
    """One saga driven event by event; checks timer bookkeeping after every transition."""

    def __init__(self, definition: SagaDefinition, saga_input: dict[str, Any] | None = None,
                 *, saga_id: str = "saga-1") -> None:
        self.definition = definition
        self.now = T0
        self.timers: dict[str, Timer] = {}
        self.transitions: list[Transition] = []
        self.record: SagaRecord
        self._take(machine.start(definition, saga_id, saga_input or {}, self.now))

    # ------------------------------------------------------------ driving

    def apply(self, event: Event, *, after: float = 0.0) -> Transition:
        self.now += timedelta(seconds=after)
        transition = machine.apply(self.definition, self.record, event, self.now)
        if transition.ignored is None:
            self._take(transition)
        else:
            assert transition.commands == ()
            assert transition.record is self.record
            if isinstance(event, TimerFired):
                self.timers.pop(event.key, None)
        return transition

    def ok(self, step: str, output: dict[str, Any] | None = None, *,
           attempt: int | None = None) -> Transition:
        return self.apply(machine.StepResult(
            step, self.record.step(step).attempt if attempt is None else attempt,
            output=output if output is not None else {"by": step}))

    def fail(self, step: str, *, retryable: bool = False, code: str = "boom",
             attempt: int | None = None) -> Transition:
        return self.apply(machine.StepResult(
            step, self.record.step(step).attempt if attempt is None else attempt,
            error=ErrorInfo(code, f"{step} went wrong", retryable)))

    def comp_ok(self, step: str, *, attempt: int | None = None) -> Transition:
        return self.apply(machine.CompensationResult(
            step, self.record.step(step).compensation_attempt if attempt is None else attempt))

    def comp_fail(self, step: str, *, retryable: bool = True) -> Transition:
        return self.apply(machine.CompensationResult(
            step, self.record.step(step).compensation_attempt,
            error=ErrorInfo("undo_failed", f"cannot undo {step}", retryable)))

    def fire(self, kind: TimerKind, step: str, attempt: int | None = None) -> Transition:
        """Fire an armed timer at its due time (fails if no such timer is armed)."""
        if attempt is None:
            matching = [t for t in self.timers.values() if t.kind is kind and t.step == step]
            assert len(matching) == 1, f"expected one {kind} timer for {step}: {self.timers}"
            timer = matching[0]
        else:
            timer = self.timers[machine.timer_key(kind, step, attempt)]
        self.now = max(self.now, timer.due_at)
        return self.apply(TimerFired(timer.kind, timer.step, timer.attempt))

    # ------------------------------------------------------------ reading

    def _take(self, transition: Transition) -> None:
        for command in transition.commands:
            if isinstance(command, ArmTimer):
                assert command.timer.key not in self.timers, f"armed twice: {command.timer.key}"
                self.timers[command.timer.key] = command.timer
            elif isinstance(command, CancelTimer):
                assert command.key in self.timers, f"cancelled a timer never armed: {command.key}"
                del self.timers[command.key]
        self.record = transition.record
        self.transitions.append(transition)
        if self.record.status.finished:
            assert self.timers == {}, f"a finished saga keeps timers: {sorted(self.timers)}"

    def state(self) -> SagaState:
        return self.record.status

    @property
    def last(self) -> Transition:
        return self.transitions[-1]

    def sent(self, transition: Transition | None = None) -> list[str]:
        """`agent.action` of the tasks a transition sent (the last one by default)."""
        chosen = transition or self.last
        return [f"{t.agent}.{t.action}" for t in chosen.of_type(SendTask)]

    def all_tasks(self) -> list[SendTask]:
        return [t for tr in self.transitions for t in tr.of_type(SendTask)]

    def compensations_sent(self) -> list[str]:
        return [t.step for t in self.all_tasks() if t.compensation]

    def events(self) -> list[str]:
        """Every lifecycle status emitted, with the step for step events: `step_failed:write`."""
        out = []
        for tr in self.transitions:
            for e in tr.of_type(EmitEvent):
                out.append(f"{e.status.value}:{e.step}" if e.status.value.startswith("step_")
                           else e.status.value)
        return out

    def statuses(self) -> dict[str, str]:
        return {s.name: s.status.value for s in self.record.steps}
