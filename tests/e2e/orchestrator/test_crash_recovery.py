"""SIGKILL the orchestrator process at random moments while 200 sagas run; nothing is lost or doubled.

The kills land anywhere: during start-up, between a commit and its publish, between a publish and
marking it sent, in the middle of a fan-out or a compensation. After the last restart every saga
must finish and every effect must have happened exactly once (see `checks`).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from agentbus.bus import Bus
from services.orchestrator.record import SagaState
from tests.e2e.orchestrator.checks import check_run
from tests.e2e.orchestrator.conftest import Stack, read_records, start_sagas
from tests.e2e.orchestrator.processes import wait_until_ready
from tests.support.broker import wait_for
from tests.support.stand_in_agents import EffectLog

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SAGAS = 200
BATCHES = 4
KILLS = 6


def saga_inputs(rng: random.Random) -> dict[str, dict[str, object]]:
    """200 sagas: most complete, some fail at `store`, some at the v1-only `tag` (fan-out sibling)."""
    inputs: dict[str, dict[str, object]] = {}
    for n in range(SAGAS):
        saga_input: dict[str, object] = {"n": n, "delay_ms": rng.choice([0, 5, 20])}
        if n % 8 == 3:
            saga_input["fail"] = "store"
        elif n % 8 == 6:
            saga_input["fail"] = "tag"
        inputs[f"crash-{n:03d}"] = saga_input
    return inputs


async def test_sigkill_at_random_moments_loses_and_doubles_nothing(
        stack: Stack, effects: EffectLog, admin_bus: Bus, tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    print(f"kill schedule seed {seed}")
    store_url = f"sqlite:///{tmp_path}/sagas.db"
    inputs = saga_inputs(rng)
    ids = list(inputs)
    await stack.start_stand_ins(tmp_path / "effects.db")
    orchestrator, port = await stack.start_orchestrator("orchestrator", store_url)

    started = time.monotonic()
    batch = SAGAS // BATCHES
    for kill in range(KILLS):
        if kill < BATCHES:
            await start_sagas(admin_bus, {i: inputs[i] for i in ids[kill * batch:(kill + 1) * batch]})
        # The chaos schedule is time on purpose: kill wherever the orchestrator happens to be.
        await asyncio.sleep(rng.uniform(0.05, 1.5))
        orchestrator.kill9()
        orchestrator.start()
        if rng.random() < 0.3:
            continue  # sometimes kill it again before it is even ready
        await wait_until_ready(orchestrator, port, timeout=30)
    await wait_until_ready(orchestrator, port, timeout=30)

    async def all_finished() -> bool:
        records = await read_records(store_url)
        return len(records) == SAGAS and all(r.status.finished for r in records.values())

    try:
        await wait_for(all_finished, timeout=90, interval=0.5, what="every saga to finish")
    except AssertionError as exc:
        records = await read_records(store_url)
        stuck = {k: r.status.value for k, r in records.items() if not r.status.finished}
        raise AssertionError(f"{exc}; seed {seed}; {len(records)} stored, unfinished: "
                             f"{dict(list(stuck.items())[:10])}\n{stack.logs()}") from None
    took = time.monotonic() - started

    records = await read_records(store_url)
    summary = check_run(records, inputs, effects)
    print(f"seed {seed}: {orchestrator.starts} orchestrator starts, {SAGAS} sagas in {took:.1f} s: "
          f"{summary}")
    assert orchestrator.starts == KILLS + 1
    assert summary.completed == 150
    assert summary.compensated == 50
    assert not any(r.status is SagaState.ESCALATED for r in records.values())
    assert orchestrator.stop() == 0, orchestrator.tail()  # SIGTERM: a clean exit
