"""`agentbus bench guard`: how many messages per second the scanner handles in one process."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from agentbus.errors import AgentBusError
from services.guardrail.commands.common import add_policy_option, default_corpus, policy_from

DESCRIPTION = """\
Scan every text of a corpus with the guardrail scanner (detection, policy and redaction; no
broker) in this one process, and print the throughput in messages per second (wall clock, best
round; and per CPU second of this process, which other busy processes disturb less), the latency
per message, and which build of the scanner ran: mypyc-compiled (`make compile`, part of `make
setup`) or interpreted (no current build, or AGENTBUS_GUARDRAIL_SCANNER=interpreted). The corpus
defaults to the shared dev corpus, ../shared/guardrail/dev.jsonl next to the repository. With
--json the last line is one JSON object.

examples:
  agentbus bench guard
  agentbus bench guard --rounds 5 --json
  agentbus bench guard --corpus my.jsonl"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `bench guard`."""
    parser.description = DESCRIPTION
    parser.add_argument("--corpus", type=Path, default=None, metavar="FILE.jsonl",
                        help=f"corpus to scan (default: {default_corpus()})")
    parser.add_argument("--rounds", type=int, default=5, metavar="N",
                        help="scan the corpus N times after one warm-up round and report the "
                             "best round (default: 5)")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as one JSON object on the last line")
    add_policy_option(parser)


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def run(args: argparse.Namespace) -> int:
    """Time the scanner on the corpus and print the figures."""
    from services.guardrail.evaluation import load_corpus
    from services.guardrail.scanning import BUILD
    from services.guardrail.scanning.scanner import Scanner

    corpus = args.corpus if args.corpus is not None else default_corpus()
    try:
        texts = [record.text for record in load_corpus(corpus)]
        scanner = Scanner(policy_from(args))
    except AgentBusError as exc:
        print(f"agentbus bench guard: {exc}", file=sys.stderr)
        return 2
    if not texts:
        print(f"agentbus bench guard: {corpus} has no records", file=sys.stderr)
        return 2
    scan = scanner.scan_text
    for text in texts:  # warm-up: caches, lazy imports
        scan(text)
    best = best_cpu = float("inf")
    latencies: list[float] = []
    clock = time.perf_counter
    for _ in range(max(1, args.rounds)):
        round_latencies = []
        started, cpu_started = clock(), time.process_time()
        for text in texts:
            t0 = clock()
            scan(text)
            round_latencies.append(clock() - t0)
        elapsed = clock() - started
        best_cpu = min(best_cpu, time.process_time() - cpu_started)
        if elapsed < best:
            best, latencies = elapsed, round_latencies
    latencies.sort()
    figures = {
        "corpus": str(corpus), "messages": len(texts), "rounds": max(1, args.rounds),
        "seconds": round(best, 4), "messages_per_s": round(len(texts) / best, 1),
        "cpu_messages_per_s": round(len(texts) / best_cpu, 1) if best_cpu > 0 else None,
        "mean_us": round(best / len(texts) * 1e6, 1),
        "p50_us": round(_percentile(latencies, 0.50) * 1e6, 1),
        "p99_us": round(_percentile(latencies, 0.99) * 1e6, 1),
        "max_us": round(latencies[-1] * 1e6, 1),
        "scanner": BUILD.describe(),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"scanner:     {BUILD.describe()}")
        print(f"corpus:      {corpus} ({len(texts)} messages, best of {figures['rounds']} rounds)")
        print(f"throughput:  {figures['messages_per_s']:,.0f} messages/s "
              f"(per CPU second: {figures['cpu_messages_per_s'] or 0:,.0f})")
        print(f"latency:     mean {figures['mean_us']} us, p50 {figures['p50_us']} us, "
              f"p99 {figures['p99_us']} us, max {figures['max_us']} us")
    return 0
