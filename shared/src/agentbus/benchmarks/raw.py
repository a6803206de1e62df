"""Run the team's raw aio-pika saga (`../shared/bench/saga_bench.py`), our speed limit, and parse it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from agentbus.errors import ConfigurationError

DEFAULT_RAW_BENCH = Path(__file__).resolve().parents[4] / ".." / "shared" / "bench" / "saga_bench.py"


@dataclass(frozen=True)
class RawResult:
    """The raw saga's figures for one run."""

    sagas_per_s: float
    p50_ms: float
    p99_ms: float


def run_raw(script: Path, *, amqp_url: str, sagas: int, concurrency: int, guardrail: bool = True,
            timeout_s: float = 600) -> RawResult:
    """Run the raw bench once and return its figures."""
    if not script.exists():
        raise ConfigurationError(
            f"raw saga bench not found at {script}; pass --raw-bench PATH (it lives in the team's "
            "shared/bench/ folder beside the repository)")
    cmd = [sys.executable, str(script), "--inflight", str(concurrency), "--sagas", str(sagas),
           "--warmup", str(min(200, max(10, sagas // 10)))]
    if guardrail:
        cmd.append("--guardrail")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False,
                          env={**os.environ, "AMQP_URL": amqp_url}, cwd=script.parent)
    values: dict[str, float] = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("saga_"):
            for suffix in ("sagas_per_s", "p50_ms", "p99_ms"):
                if key.endswith(suffix):
                    values[suffix] = float(value)
    if done.returncode != 0 or len(values) != 3:
        raise ConfigurationError(
            f"raw saga bench failed (exit {done.returncode}): {(done.stderr or done.stdout)[-500:]}")
    return RawResult(values["sagas_per_s"], values["p50_ms"], values["p99_ms"])
