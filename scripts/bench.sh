#!/usr/bin/env bash
# `make bench`: benchmarks against the real broker, each beside its reference, medians of one sitting.
# Override the sizes with BENCH_SAGAS, BENCH_ROUNDS.
set -euo pipefail
cd "$(dirname "$0")/.."
sagas="${BENCH_SAGAS:-2000}"
rounds="${BENCH_ROUNDS:-3}"
echo "== guardrail scanning (one process, dev corpus)"
.venv/bin/agentbus bench guard
echo
echo "== the guardrail hop: through it vs straight to the agent, one message at a time"
.venv/bin/agentbus bench guard-hop --messages 2000
echo
echo "== saga throughput: 100 in flight, agentbus vs the raw aio-pika saga (alternating rounds)"
.venv/bin/agentbus bench saga --sagas "$sagas" --concurrency 100 --rounds "$rounds" --compare-raw
echo
echo "== single saga latency: 1 in flight"
.venv/bin/agentbus bench saga --sagas 200 --concurrency 1 --rounds "$rounds" --compare-raw
