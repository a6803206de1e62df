#!/usr/bin/env bash
# `make bench`: benchmarks against the real broker; each prints its own figures.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/agentbus bench guard
