#!/usr/bin/env bash
# Make sure the broker at AGENTBUS_AMQP_URL answers, with the plugins agentbus needs.
# Starts a locally installed rabbitmq-server when it is down; otherwise says how to get one.
set -euo pipefail

url="${AGENTBUS_AMQP_URL:-amqp://guest:guest@localhost:5672/}"
hostport=$(python3 - "$url" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "localhost", u.port or 5672)
PY
)
host=${hostport% *}
port=${hostport#* }

probe() {  # an AMQP handshake: the broker answers "AMQP" to a protocol header it does not expect
  python3 - "$1" "$2" <<'PY'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
        s.sendall(b"AMQP\x00\x00\x09\x01")
        sys.exit(0 if s.recv(8) else 1)
except OSError:
    sys.exit(1)
PY
}

is_local() { [[ "$host" == "localhost" || "$host" == "127.0.0.1" || "$host" == "::1" ]]; }

if ! probe "$host" "$port"; then
  if is_local && command -v rabbitmq-server >/dev/null 2>&1; then
    echo "broker: nothing answers on $host:$port; starting the local rabbitmq-server"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    for _ in $(seq 1 90); do probe "$host" "$port" && break; sleep 1; done
  fi
  if ! probe "$host" "$port"; then
    cat >&2 <<MSG
broker: no RabbitMQ answers at $host:$port (AGENTBUS_AMQP_URL).
Start one, then run this again:
  - docker compose up -d rabbitmq          (the compose file in this repo)
  - or install it: apt-get install rabbitmq-server && rabbitmq-server -detached
  - or point AGENTBUS_AMQP_URL at a broker you have (3.10 or newer).
MSG
    exit 1
  fi
fi
echo "broker: RabbitMQ answers at $host:$port"

# The management API (topology apply, tests) and the consistent-hash exchange (orchestrator partitions).
if is_local && command -v rabbitmq-plugins >/dev/null 2>&1; then
  enabled=$(rabbitmq-plugins list -e -m 2>/dev/null || true)
  missing=""
  for plugin in rabbitmq_management rabbitmq_consistent_hash_exchange; do
    grep -qx "$plugin" <<<"$enabled" || missing="$missing $plugin"
  done
  if [[ -n "$missing" ]]; then
    echo "broker: enabling plugins:$missing"
    # shellcheck disable=SC2086
    rabbitmq-plugins enable $missing >/dev/null
  fi
  mgmt="${AGENTBUS_MANAGEMENT_URL:-http://localhost:15672}"
  mhost=$(python3 -c "from urllib.parse import urlsplit as u; import sys; x=u(sys.argv[1]); print(x.hostname, x.port or 15672)" "$mgmt")
  for _ in $(seq 1 60); do
    (exec 3<>"/dev/tcp/${mhost% *}/${mhost#* }") 2>/dev/null && break
    sleep 1
  done
fi
