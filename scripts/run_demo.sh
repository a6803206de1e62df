#!/usr/bin/env bash
# `make run`: the whole system locally. Until every service exists it runs what exists and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
if .venv/bin/agentbus --help | grep -q " up "; then
  exec .venv/bin/agentbus demo
fi
cat <<'MSG'
The broker is ready and the agentbus topology is applied (exchanges, queues, per-service users).
The agents and `agentbus up` are not built yet, so there is no demo saga to run: nothing is faked.
What you can do now:
  .venv/bin/agentbus tail 'saga.#'                                   # watch lifecycle events
  .venv/bin/agentbus publish saga.start.content_pipeline --input '{"topic": "otters"}'
MSG
