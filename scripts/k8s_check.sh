#!/usr/bin/env bash
# Check the broker side in k8s/ without a cluster: the generated topology is fresh, every overlay
# renders with `kubectl kustomize`, and the result validates (built-in kinds strictly against the
# Kubernetes schemas, operator resources against k8s/schemas/custom-resources.yaml).
# Environment: AGENTBUS_RENDER_DIR (keep the rendered YAML there; default a temp dir),
# AGENTBUS_KUBECTL (default kubectl), AGENTBUS_PYTHON (default .venv/bin/python).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${AGENTBUS_PYTHON:-$root/.venv/bin/python}"
kubectl="${AGENTBUS_KUBECTL:-kubectl}"
out="${AGENTBUS_RENDER_DIR:-}"
if [[ -z "$out" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

if ! command -v "$kubectl" >/dev/null 2>&1; then
  echo "k8s-check: $kubectl not found; run scripts/install_deploy_tools.sh" >&2
  exit 1
fi

"$python" scripts/gen_k8s_topology.py --check

for overlay in dev prod; do
  rendered="$out/k8s-$overlay.yaml"
  # Newer kustomize notes deprecated-but-portable fields on stderr; show it only when rendering fails.
  if ! "$kubectl" kustomize "k8s/overlays/$overlay" >"$rendered" 2>"$out/k8s-$overlay.stderr"; then
    cat "$out/k8s-$overlay.stderr" >&2
    echo "k8s-check: kubectl kustomize k8s/overlays/$overlay failed" >&2
    exit 1
  fi
  printf 'k8s-check: overlay %s: ' "$overlay"
  "$python" k8s/schemas/validate.py "$rendered"
done
