#!/usr/bin/env bash
# `make run`, after set-up, broker and `agentbus topology apply`: the whole system as local processes
# (agentbus up), a content_pipeline saga that completes and one that compensates, shown live, then a
# clean stop. Extra arguments go to `agentbus demo` (e.g. --show-logs, --base-port 9100).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/agentbus demo "$@"
