#!/usr/bin/env bash
# Check the Helm chart without a cluster (`make helm-lint`):
#   helm lint --strict, with the default values and with values-production.yaml;
#   helm template with both, validated: built-in kinds strictly against the Kubernetes schemas
#   (kubernetes-validate), custom resources (ScaledObject, ServiceMonitor) against
#   k8s/schemas/custom-resources.yaml (kubernetes-validate would only warn about them).
# Environment: AGENTBUS_RENDER_DIR (keep the rendered YAML there; default a temp dir),
# AGENTBUS_KUBERNETES_VERSION (default 1.34), AGENTBUS_HELM, AGENTBUS_PYTHON.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
helm="${AGENTBUS_HELM:-$root/tools/node_modules/.bin/helm}"
python="${AGENTBUS_PYTHON:-$root/.venv/bin/python}"
kube="${AGENTBUS_KUBERNETES_VERSION:-1.34}"
chart=helm/agentbus
out="${AGENTBUS_RENDER_DIR:-}"
if [[ -z "$out" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

if [[ ! -x "$helm" ]]; then
  echo "helm-lint: $helm not found; run scripts/install_deploy_tools.sh (installs the locked tools/ packages)" >&2
  exit 1
fi

for variant in default production; do
  args=()
  [[ "$variant" == production ]] && args=(-f "$chart/values-production.yaml")
  "$helm" lint --strict "$chart" "${args[@]}" >"$out/helm-lint-$variant.log" 2>&1 || {
    cat "$out/helm-lint-$variant.log" >&2
    echo "helm-lint: helm lint failed with the $variant values" >&2
    exit 1
  }
  rendered="$out/helm-$variant.yaml"
  "$helm" template agentbus "$chart" --namespace agentbus --kube-version "$kube" "${args[@]}" >"$rendered"
  printf 'helm-lint: %s values: lint ok; ' "$variant"
  "$python" k8s/schemas/validate.py -k "$kube" "$rendered"
done
