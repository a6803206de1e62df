#!/usr/bin/env bash
# buf lint on proto/, then buf breaking against the previous commit's contracts (when it had any).
set -euo pipefail
cd "$(dirname "$0")/.."
buf=tools/node_modules/.bin/buf
if [[ ! -x "$buf" ]]; then
  echo "buf: installing the pinned @bufbuild/buf (locked in tools/package-lock.json)"
  npm install --prefix tools --no-audit --no-fund --no-save >/dev/null
fi
"$buf" lint proto
echo "buf lint: ok"
against="${AGENTBUS_BUF_AGAINST:-}"
if [[ -z "$against" ]]; then
  if git rev-parse -q --verify HEAD~1 >/dev/null && [[ -n "$(git ls-tree HEAD~1 proto/agentbus 2>/dev/null)" ]]; then
    against=".git#ref=HEAD~1,subdir=proto"
  fi
fi
if [[ -z "$against" ]]; then
  echo "buf breaking: the previous commit has no contracts to compare with (first contract commit)"
  exit 0
fi
"$buf" breaking proto --against "$against"
echo "buf breaking: no breaking change against ${against}"
