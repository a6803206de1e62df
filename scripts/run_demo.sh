#!/usr/bin/env bash
# `make run`, after set-up, broker and topology: every service as a local process, then two sagas
# shown live (one completes, one compensates), then a clean stop. AGENTBUS_DEMO_ARGS passes extra
# options to `agentbus demo` (see `agentbus demo --help`), e.g. "--base-port 9100 --show-logs".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2086
exec .venv/bin/agentbus demo ${AGENTBUS_DEMO_ARGS:-}
