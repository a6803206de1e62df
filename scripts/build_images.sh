#!/usr/bin/env bash
# Build one image per agentbus service from the Dockerfile (`make images`).
#   scripts/build_images.sh                 build every image with the container engine (docker or podman)
#   scripts/build_images.sh --dry-run       print the build commands only (no engine needed)
# Environment: AGENTBUS_IMAGE_PREFIX (default agentbus/), AGENTBUS_IMAGE_TAG (default: pyproject version),
# AGENTBUS_AGENTS (default: agentbus.topology.REFERENCE_AGENTS; space-separated), AGENTBUS_PYTHON,
# CONTAINER_ENGINE (docker or podman; default: the first one found).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dry_run=0
[[ "${1:-}" == "--dry-run" ]] && dry_run=1

prefix="${AGENTBUS_IMAGE_PREFIX:-agentbus/}"
tag="${AGENTBUS_IMAGE_TAG:-$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/pyproject.toml" | head -n1)}"
python="${AGENTBUS_PYTHON:-$root/.venv/bin/python}"

# The agents come from agentbus.topology, the source of truth (services/agents/ also holds test
# stand-ins that are not deployed).
agents="${AGENTBUS_AGENTS:-}"
if [[ -z "$agents" ]]; then
  agents=$("$python" -c 'from agentbus.topology import REFERENCE_AGENTS as a; print(*a)') || {
    echo "images: cannot read the agent list from agentbus.topology with $python; run make setup" >&2
    exit 1
  }
fi
services="topology guardrail orchestrator $agents"

engine="${CONTAINER_ENGINE:-}"
if [[ -z "$engine" ]]; then
  for candidate in docker podman; do
    if command -v "$candidate" >/dev/null 2>&1; then engine="$candidate"; break; fi
  done
fi

if [[ $dry_run -eq 0 ]]; then
  if [[ -z "$engine" ]]; then
    echo "images: no container engine client found (docker or podman), so nothing was built; install one, or use --dry-run" >&2
    exit 1
  fi
  if ! err=$("$engine" info 2>&1 >/dev/null); then
    echo "images: the $engine client cannot reach a container engine, so nothing was built." >&2
    echo "images: start the engine (or set DOCKER_HOST), or run this on a machine that has one." >&2
    echo "images: $engine said: $(printf '%s' "$err" | tail -n 1)" >&2
    exit 1
  fi
fi

for service in $services; do
  cmd=("${engine:-docker}" build --build-arg "SERVICE=$service" --build-arg "VERSION=$tag"
       --tag "${prefix}${service}:${tag}" "$root")
  if [[ $dry_run -eq 1 ]]; then
    printf '%s\n' "${cmd[*]}"
  else
    echo "images: building ${prefix}${service}:${tag}"
    "${cmd[@]}"
  fi
done
