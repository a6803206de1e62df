"""What must hold after any run of `pipeline` sagas, however the orchestrator was treated.

Every saga finished as its input asked (completed, or compensated when told to fail); every step
took effect through exactly one task id (no attempt was sent again after a crash), every
compensation once, every step that took effect in a compensated saga was undone, later stages
before earlier ones, and the v1-only tagger only ever got v1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from services.orchestrator.machine import parse_task_id
from services.orchestrator.record import SagaRecord, SagaState, StepStatus
from tests.support.stand_in_agents import Effect, EffectLog

STEPS = ("fetch", "summarise", "tag", "store")
V1_ONLY = {"tagger"}


@dataclass(frozen=True)
class Summary:
    """What the run did, for the test's report."""

    completed: int
    compensated: int
    step_effects: int
    compensation_effects: int
    duplicate_deliveries: int


def check_run(records: Mapping[str, SagaRecord], inputs: Mapping[str, Mapping[str, object]],
              effects: EffectLog) -> Summary:
    """Assert every property above; returns counts."""
    assert set(records) == set(inputs), f"sagas missing from the store: {set(inputs) - set(records)}"
    assert effects.refusals() == [], f"tasks an agent could not read: {effects.refusals()[:5]}"
    by_saga: dict[str, list[Effect]] = defaultdict(list)
    for effect in effects.effects():
        by_saga[effect.saga_id].append(effect)
    for saga_id, saga_input in inputs.items():
        check_saga(records[saga_id], saga_input, by_saga.get(saga_id, []))
    all_effects = [e for found in by_saga.values() for e in found]
    statuses = [r.status for r in records.values()]
    return Summary(
        completed=statuses.count(SagaState.COMPLETED),
        compensated=statuses.count(SagaState.COMPENSATED),
        step_effects=sum(not e.compensation for e in all_effects),
        compensation_effects=sum(e.compensation for e in all_effects),
        duplicate_deliveries=sum(e.deliveries - 1 for e in all_effects))


def check_saga(record: SagaRecord, saga_input: Mapping[str, object], found: list[Effect]) -> None:
    """One saga's status and effects."""
    saga_id, fail = record.saga_id, saga_input.get("fail")
    expected = SagaState.COMPENSATED if fail else SagaState.COMPLETED
    assert record.status is expected, f"saga {saga_id}: {record.status}, expected {expected}"
    steps: dict[str, set[str]] = defaultdict(set)
    undos: dict[str, set[str]] = defaultdict(set)
    undo_seq: dict[str, int] = {}
    done: set[str] = set()
    for effect in found:
        assert effect.executions == 1, f"{effect.task_id} executed {effect.executions} times"
        assert effect.schema == (1 if effect.agent in V1_ONLY else 2), (
            f"{effect.task_id} reached {effect.agent} as v{effect.schema}")
        ref = parse_task_id(effect.task_id)
        assert ref is not None, effect.task_id
        if effect.compensation:
            undos[ref.step].add(effect.task_id)
            undo_seq[ref.step] = effect.seq
        else:
            steps[ref.step].add(effect.task_id)
            if effect.ok:
                done.add(ref.step)
    for step, task_ids in {**steps, **undos}.items():
        assert len(task_ids) == 1, f"saga {saga_id}: step {step} took effect as {sorted(task_ids)}"
    if expected is SagaState.COMPLETED:
        assert done == set(STEPS), f"saga {saga_id}: only {sorted(done)} took effect"
        assert not undos, f"saga {saga_id} completed but undid {sorted(undos)}"
        return
    assert fail in steps, f"saga {saga_id}: the failing step {fail} never ran"
    compensated = {c.step for c in record.compensations}
    assert all(c.status is StepStatus.COMPENSATED for c in record.compensations), record.compensations
    assert set(undos) == compensated, (
        f"saga {saga_id}: undone {sorted(undos)}, the record says {sorted(compensated)}")
    assert done <= compensated, f"saga {saga_id}: {sorted(done - compensated)} took effect, never undone"
    later = [undo_seq[s] for s in ("summarise", "tag", "store") if s in undo_seq]
    if "fetch" in undo_seq and later:
        assert undo_seq["fetch"] > max(later), f"saga {saga_id}: fetch undone before a later stage"
