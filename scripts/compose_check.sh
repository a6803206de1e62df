#!/usr/bin/env bash
# Validate docker-compose.yml without a container engine (`make compose-check`): Debian's
# `docker-compose config` parses, interpolates and schema-checks the file (with and without the
# postgres profile), then every expected service must be there.
# Environment: AGENTBUS_COMPOSE (default docker-compose), AGENTBUS_PYTHON (default .venv/bin/python).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
compose="${AGENTBUS_COMPOSE:-docker-compose}"
python="${AGENTBUS_PYTHON:-$root/.venv/bin/python}"

if ! command -v "$compose" >/dev/null 2>&1; then
  echo "compose-check: $compose not found; run scripts/install_deploy_tools.sh" >&2
  exit 1
fi

"$compose" -f docker-compose.yml config -q
"$compose" -f docker-compose.yml --profile postgres config -q

# The services the system needs: the broker, the topology step, the guardrail, the orchestrator and
# every reference agent (agentbus.topology is the source of truth for the agents), plus postgres.
expected=$("$python" -c 'from agentbus.topology import REFERENCE_AGENTS as a; print(*("rabbitmq", "topology", "guardrail", "orchestrator", *a, "postgres"))')
present=$("$compose" -f docker-compose.yml --profile postgres config --services)
missing=""
for service in $expected; do
  grep -qx "$service" <<<"$present" || missing="$missing $service"
done
if [[ -n "$missing" ]]; then
  echo "compose-check: docker-compose.yml lacks services:$missing" >&2
  exit 1
fi
echo "compose-check: docker-compose.yml is valid; $(wc -w <<<"$expected") services present"
