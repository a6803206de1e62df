"""The saga record: everything the orchestrator knows about one saga, serialisable to JSON.

The store keeps it, the CLI prints it (`--json`), and every LifecycleEvent carries it as a Struct.
`to_dict()` gives JSON types only (timestamps as ISO 8601 text in UTC); `from_dict()` reads it back,
also after a trip through a protobuf Struct (where every number became a float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar


class SagaState(StrEnum):
    """Where a saga is; `completed`, `compensated` and `escalated` take no further automatic action."""

    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"
    ESCALATED = "escalated"

    @property
    def finished(self) -> bool:
        """True when the orchestrator will not act on this saga again by itself."""
        return self in (SagaState.COMPLETED, SagaState.COMPENSATED, SagaState.ESCALATED)


class StepStatus(StrEnum):
    """Where a step is."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    """How one attempt (of a step or a compensation) ended."""

    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    BLOCKED = "blocked"
    # The saga stopped waiting for it (a sibling failed); the agent may still have acted.
    ABANDONED = "abandoned"


def dt_to_text(value: datetime | None) -> str | None:
    """ISO 8601 text in UTC with microseconds, so texts sort as the instants do."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts and lists copied, scalars shared): deepcopy's job, faster."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_copy(item) for item in value]
    return value


_D = TypeVar("_D")


def _shallow(obj: _D) -> _D:
    """A new instance of a (non-slotted) dataclass with the same field values."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def dt_from_text(value: Any) -> datetime | None:
    """Read what `dt_to_text` wrote (None stays None)."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _required_dt(data: Any, key: str) -> datetime:
    value = dt_from_text(data.get(key))
    if value is None:
        raise ValueError(f"saga record field {key!r} is missing")
    return value


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


@dataclass
class ErrorInfo:
    """Why something failed, and whether trying again may help."""

    code: str
    message: str
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable}

    @classmethod
    def from_dict(cls, data: Any) -> ErrorInfo | None:
        """Read the JSON form (None stays None)."""
        if not data:
            return None
        return cls(str(data.get("code", "")), str(data.get("message", "")),
                   bool(data.get("retryable", False)))


@dataclass
class AttemptRecord:
    """One attempt sent to an agent, of the step itself or of its compensation."""

    attempt: int
    task_id: str
    sent_at: datetime
    compensation: bool = False
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "attempt": self.attempt, "task_id": self.task_id, "compensation": self.compensation,
            "sent_at": dt_to_text(self.sent_at), "finished_at": dt_to_text(self.finished_at),
            "outcome": None if self.outcome is None else self.outcome.value,
            "error": None if self.error is None else self.error.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> AttemptRecord:
        """Read the JSON form."""
        return cls(
            attempt=_int(data["attempt"]), task_id=str(data["task_id"]),
            sent_at=_required_dt(data, "sent_at"),
            compensation=bool(data.get("compensation", False)),
            finished_at=dt_from_text(data.get("finished_at")),
            outcome=None if data.get("outcome") is None else Outcome(data["outcome"]),
            error=ErrorInfo.from_dict(data.get("error")),
        )


@dataclass
class StepRecord:
    """One step of one saga: its plan (agent, action, compensation) and what happened to it."""

    name: str
    stage: int
    agent: str
    action: str
    compensation: str | None
    status: StepStatus = StepStatus.PENDING
    # The latest attempt sent (0: never sent), and whether its reply is still awaited.
    attempt: int = 0
    awaiting: bool = False
    # Set when an attempt went unanswered (timeout, abandoned): the agent may have acted.
    maybe_acted: bool = False
    input: Any = None
    output: Any = None
    error: ErrorInfo | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deadline: datetime | None = None
    retry_at: datetime | None = None
    compensation_attempt: int = 0
    compensation_awaiting: bool = False
    compensation_input: Any = None
    compensation_error: ErrorInfo | None = None
    compensation_started_at: datetime | None = None
    compensation_finished_at: datetime | None = None
    compensation_deadline: datetime | None = None
    compensation_retry_at: datetime | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)

    def clone(self) -> StepRecord:
        """A copy the state machine may change without touching this one."""
        new = _shallow(self)
        new.input = json_copy(self.input)
        new.output = json_copy(self.output)
        new.compensation_input = json_copy(self.compensation_input)
        new.attempts = [_shallow(entry) for entry in self.attempts]
        return new

    def find_attempt(self, attempt: int, *, compensation: bool) -> AttemptRecord | None:
        """The record of one attempt, if it was sent."""
        for entry in self.attempts:
            if entry.attempt == attempt and entry.compensation == compensation:
                return entry
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name, "stage": self.stage, "agent": self.agent, "action": self.action,
            "compensation": self.compensation, "status": self.status.value,
            "attempt": self.attempt, "awaiting": self.awaiting, "maybe_acted": self.maybe_acted,
            "input": self.input, "output": self.output,
            "error": None if self.error is None else self.error.to_dict(),
            "started_at": dt_to_text(self.started_at), "finished_at": dt_to_text(self.finished_at),
            "deadline": dt_to_text(self.deadline), "retry_at": dt_to_text(self.retry_at),
            "compensation_attempt": self.compensation_attempt,
            "compensation_awaiting": self.compensation_awaiting,
            "compensation_input": self.compensation_input,
            "compensation_error": (
                None if self.compensation_error is None else self.compensation_error.to_dict()),
            "compensation_started_at": dt_to_text(self.compensation_started_at),
            "compensation_finished_at": dt_to_text(self.compensation_finished_at),
            "compensation_deadline": dt_to_text(self.compensation_deadline),
            "compensation_retry_at": dt_to_text(self.compensation_retry_at),
            "attempts": [entry.to_dict() for entry in self.attempts],
        }

    @classmethod
    def from_dict(cls, data: Any) -> StepRecord:
        """Read the JSON form."""
        return cls(
            name=str(data["name"]), stage=_int(data["stage"]), agent=str(data["agent"]),
            action=str(data["action"]), compensation=data.get("compensation"),
            status=StepStatus(data.get("status", StepStatus.PENDING)),
            attempt=_int(data.get("attempt")), awaiting=bool(data.get("awaiting", False)),
            maybe_acted=bool(data.get("maybe_acted", False)),
            input=data.get("input"), output=data.get("output"),
            error=ErrorInfo.from_dict(data.get("error")),
            started_at=dt_from_text(data.get("started_at")),
            finished_at=dt_from_text(data.get("finished_at")),
            deadline=dt_from_text(data.get("deadline")),
            retry_at=dt_from_text(data.get("retry_at")),
            compensation_attempt=_int(data.get("compensation_attempt")),
            compensation_awaiting=bool(data.get("compensation_awaiting", False)),
            compensation_input=data.get("compensation_input"),
            compensation_error=ErrorInfo.from_dict(data.get("compensation_error")),
            compensation_started_at=dt_from_text(data.get("compensation_started_at")),
            compensation_finished_at=dt_from_text(data.get("compensation_finished_at")),
            compensation_deadline=dt_from_text(data.get("compensation_deadline")),
            compensation_retry_at=dt_from_text(data.get("compensation_retry_at")),
            attempts=[AttemptRecord.from_dict(entry) for entry in data.get("attempts") or []],
        )


@dataclass
class CompensationEntry:
    """One compensation the saga ran, in the order they started."""

    step: str
    action: str
    started_at: datetime
    status: StepStatus = StepStatus.COMPENSATING
    attempts: int = 1
    finished_at: datetime | None = None
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "step": self.step, "action": self.action, "status": self.status.value,
            "attempts": self.attempts, "started_at": dt_to_text(self.started_at),
            "finished_at": dt_to_text(self.finished_at),
            "error": None if self.error is None else self.error.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> CompensationEntry:
        """Read the JSON form."""
        return cls(
            step=str(data["step"]), action=str(data["action"]),
            started_at=_required_dt(data, "started_at"),
            status=StepStatus(data.get("status", StepStatus.COMPENSATING)),
            attempts=_int(data.get("attempts", 1)),
            finished_at=dt_from_text(data.get("finished_at")),
            error=ErrorInfo.from_dict(data.get("error")),
        )


@dataclass
class Failure:
    """The step failure that made the saga compensate."""

    step: str
    error: ErrorInfo
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"step": self.step, "error": self.error.to_dict(), "at": dt_to_text(self.at)}

    @classmethod
    def from_dict(cls, data: Any) -> Failure | None:
        """Read the JSON form (None stays None)."""
        if not data:
            return None
        error = ErrorInfo.from_dict(data["error"]) or ErrorInfo("unknown", "")
        return cls(str(data["step"]), error, _required_dt(data, "at"))


@dataclass
class Escalation:
    """What a human needs when a compensation kept failing: which one, and every error it got."""

    step: str
    action: str
    reason: str
    at: datetime
    errors: list[ErrorInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"step": self.step, "action": self.action, "reason": self.reason,
                "at": dt_to_text(self.at), "errors": [e.to_dict() for e in self.errors]}

    @classmethod
    def from_dict(cls, data: Any) -> Escalation | None:
        """Read the JSON form (None stays None)."""
        if not data:
            return None
        errors = [ErrorInfo.from_dict(e) for e in data.get("errors") or []]
        return cls(str(data["step"]), str(data["action"]), str(data["reason"]),
                   _required_dt(data, "at"),
                   [e for e in errors if e is not None])


@dataclass
class SagaRecord:
    """One saga: identity, input, state, its steps, the compensations run, and the outcome."""

    saga_id: str
    saga_type: str
    input: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    steps: list[StepRecord]
    status: SagaState = SagaState.RUNNING
    # Index of the stage running; when compensating, the stage where the failure happened.
    stage: int = 0
    output: Any = None
    failure: Failure | None = None
    escalation: Escalation | None = None
    # Stages to compensate, latest first, each a list of step names; filled when compensation starts.
    compensation_plan: list[list[str]] = field(default_factory=list)
    # Index into compensation_plan of the stage being compensated.
    compensation_cursor: int = 0
    compensations: list[CompensationEntry] = field(default_factory=list)
    # Bumped by the store on every write (optimistic concurrency); not touched by the state machine.
    version: int = 0

    def clone(self) -> SagaRecord:
        """A deep copy, like `copy.deepcopy` but several times cheaper.

        Error, failure and escalation objects are shared: they are replaced, never changed in place.
        """
        new = _shallow(self)
        new.input = json_copy(self.input)
        new.output = json_copy(self.output)
        new.steps = [step.clone() for step in self.steps]
        new.compensation_plan = [list(names) for names in self.compensation_plan]
        new.compensations = [_shallow(entry) for entry in self.compensations]
        return new

    def step(self, name: str) -> StepRecord:
        """The step called `name`; KeyError if the saga has none."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def has_step(self, name: str) -> bool:
        """True if the saga has a step called `name`."""
        return any(step.name == name for step in self.steps)

    def stage_steps(self, stage: int) -> list[StepRecord]:
        """The steps of one stage, in declaration order."""
        return [step for step in self.steps if step.stage == stage]

    @property
    def stage_count(self) -> int:
        """How many stages the saga has."""
        return 1 + max(step.stage for step in self.steps)

    def is_settled(self, step: str, attempt: int, *, compensation: bool = False) -> bool:
        """True if a reply for this (step, attempt) would be a duplicate or late: nothing awaits it."""
        if not self.has_step(step):
            return True
        record = self.step(step)
        if compensation:
            return not (record.compensation_awaiting and record.compensation_attempt == attempt)
        return not (record.awaiting and record.attempt == attempt)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "saga_id": self.saga_id, "saga_type": self.saga_type, "status": self.status.value,
            "input": self.input, "created_at": dt_to_text(self.created_at),
            "updated_at": dt_to_text(self.updated_at), "stage": self.stage, "output": self.output,
            "failure": None if self.failure is None else self.failure.to_dict(),
            "escalation": None if self.escalation is None else self.escalation.to_dict(),
            "compensation_plan": [list(names) for names in self.compensation_plan],
            "compensation_cursor": self.compensation_cursor,
            "compensations": [entry.to_dict() for entry in self.compensations],
            "steps": [step.to_dict() for step in self.steps],
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SagaRecord:
        """Read the JSON form."""
        return cls(
            saga_id=str(data["saga_id"]), saga_type=str(data["saga_type"]),
            input=dict(data.get("input") or {}), created_at=_required_dt(data, "created_at"),
            updated_at=_required_dt(data, "updated_at"),
            steps=[StepRecord.from_dict(step) for step in data["steps"]],
            status=SagaState(data.get("status", SagaState.RUNNING)), stage=_int(data.get("stage")),
            output=data.get("output"), failure=Failure.from_dict(data.get("failure")),
            escalation=Escalation.from_dict(data.get("escalation")),
            compensation_plan=[[str(n) for n in names]
                               for names in data.get("compensation_plan") or []],
            compensation_cursor=_int(data.get("compensation_cursor")),
            compensations=[CompensationEntry.from_dict(e) for e in data.get("compensations") or []],
            version=_int(data.get("version")),
        )


def now_utc() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
