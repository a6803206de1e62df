"""`agentbus bench saga`: sagas/s and latency of the real services, beside the raw aio-pika saga."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

from agentbus import event_loop
from agentbus.benchmarks.raw import DEFAULT_RAW_BENCH, RawResult, run_raw
from agentbus.benchmarks.saga import SagaBench, SagaBenchResult, progress_printer, result_dict
from agentbus.errors import AgentBusError
from agentbus.settings import Settings

EPILOG = """\
Starts, in a throwaway vhost with its own broker users: the guardrail (default policy), the
orchestrator (default durable store: SQLite, or --store-url), and three echo agents, each its own
process; then runs a 3-step saga with 1 KiB inputs, `--concurrency` in flight, and prints sagas/s and
latency p50/p99 from saga.start to saga.completed.

With --compare-raw it also runs ../shared/bench/saga_bench.py (raw aio-pika, the same shape plus a
republishing hop) in alternating rounds and prints the medians side by side: this machine is noisy
(20-30%), so compare medians of one sitting, never one run against a number.
Examples:
  agentbus bench saga --sagas 2000 --concurrency 100 --compare-raw --rounds 3
  agentbus bench saga --sagas 200 --concurrency 1 --compare-raw --json"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `bench saga`."""
    parser.epilog = EPILOG
    parser.add_argument("--sagas", type=int, default=2000, help="measured sagas per round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=100, help="sagas in flight (default 100)")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured sagas first (default 10%%)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (default 1)")
    parser.add_argument("--compare-raw", action="store_true", help="also run the raw aio-pika saga")
    parser.add_argument("--raw-bench", type=Path, default=DEFAULT_RAW_BENCH, help="path to saga_bench.py")
    parser.add_argument("--no-guardrail", action="store_true",
                        help="forward tasks unscanned (to see what the guardrail costs)")
    parser.add_argument("--store-url", default=None, help="saga store (default: SQLite in a temp dir)")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")


def run(args: argparse.Namespace) -> int:
    """Run the rounds and print the figures."""
    settings = Settings()
    warmup = args.warmup if args.warmup is not None else min(200, max(10, args.sagas // 10))
    ours: list[SagaBenchResult] = []
    raw: list[RawResult] = []

    async def rounds() -> None:
        async with SagaBench(settings, out=sys.stderr, guardrail=not args.no_guardrail,
                             store_url=args.store_url) as bench:
            for index in range(args.rounds):
                order = ("raw", "ours") if index % 2 == 0 else ("ours", "raw")
                for which in order:
                    if which == "raw" and args.compare_raw:
                        bench.say(f"round {index + 1}: raw aio-pika saga")
                        raw.append(await asyncio.to_thread(
                            run_raw, args.raw_bench, amqp_url=settings.amqp_url, sagas=args.sagas,
                            concurrency=args.concurrency))
                        bench.say(f"  raw: {raw[-1].sagas_per_s} sagas/s, p50 {raw[-1].p50_ms} ms")
                    elif which == "ours":
                        bench.say(f"round {index + 1}: agentbus")
                        result = await bench.run(sagas=args.sagas, concurrency=args.concurrency,
                                                 warmup=warmup, on_progress=progress_printer(args.sagas))
                        ours.append(result)
                        bench.say(f"  agentbus: {result.sagas_per_s} sagas/s, p50 {result.p50_ms} ms")

    try:
        event_loop.run(rounds(), choice=settings.event_loop)
    except AgentBusError as exc:
        print(f"bench saga failed: {exc}", file=sys.stderr)
        return 1
    summary: dict[str, object] = {
        "sagas": args.sagas, "concurrency": args.concurrency, "rounds": args.rounds,
        "guardrail": not args.no_guardrail,
        "sagas_per_s": statistics.median(r.sagas_per_s for r in ours),
        "p50_ms": statistics.median(r.p50_ms for r in ours),
        "p99_ms": statistics.median(r.p99_ms for r in ours),
        "failed": sum(r.failed for r in ours),
        "runs": [result_dict(r) for r in ours],
    }
    print(f"agentbus saga: {summary['sagas_per_s']} sagas/s, p50 {summary['p50_ms']} ms, "
          f"p99 {summary['p99_ms']} ms ({args.concurrency} in flight, median of {len(ours)}, "
          f"{'with' if not args.no_guardrail else 'WITHOUT'} the guardrail, {summary['failed']} failed)")
    if raw:
        raw_rate = statistics.median(r.sagas_per_s for r in raw)
        raw_p50 = statistics.median(r.p50_ms for r in raw)
        summary.update(raw_sagas_per_s=raw_rate, raw_p50_ms=raw_p50,
                       raw_p99_ms=statistics.median(r.p99_ms for r in raw),
                       throughput_ratio=round(float(summary["sagas_per_s"]) / raw_rate, 3),  # type: ignore[arg-type]
                       p50_ratio=round(float(summary["p50_ms"]) / raw_p50, 3))  # type: ignore[arg-type]
        print(f"raw aio-pika:  {raw_rate} sagas/s, p50 {raw_p50} ms -> agentbus is "
              f"{summary['throughput_ratio']:.0%} of raw throughput, p50 x{summary['p50_ratio']}")
    if args.json:
        print(json.dumps(summary))
    return 0 if summary["failed"] == 0 else 1
