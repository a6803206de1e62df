"""A small client of the RabbitMQ management HTTP API, and `apply_topology` built on it.

Apply is idempotent and says what it changed: it reads what exists and writes only the difference,
so a second run reports no changes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from agentbus.errors import ConfigurationError, ManagementAPIError
from agentbus.topology import Topology, User

log = logging.getLogger(__name__)


def _q(value: str) -> str:
    return quote(value, safe="")


class ManagementClient:
    """Synchronous calls to /api on one broker."""

    def __init__(self, base_url: str, user: str, password: str, *, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/api", auth=(user, password), timeout=timeout_s)

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def request(self, method: str, path: str, *, json: Any = None, ok_missing: bool = False) -> Any:
        """Call the API; returns the decoded JSON body, or None for 404 when `ok_missing`."""
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ManagementAPIError(
                f"management API at {self.base_url} unreachable ({exc}); is the rabbitmq_management "
                "plugin enabled? (`rabbitmq-plugins enable rabbitmq_management`)") from exc
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code in (401, 403):
            raise ManagementAPIError(
                f"management API refused {method} {path} ({response.status_code}); use an administrator "
                "account (AGENTBUS_MANAGEMENT_USER / AGENTBUS_MANAGEMENT_PASSWORD).", retryable=False)
        if response.status_code >= 400:
            raise ManagementAPIError(
                f"management API {method} {path} failed: {response.status_code} {response.text[:300]}",
                retryable=response.status_code >= 500)
        if not response.content:
            return None
        return response.json()

    def get(self, path: str) -> Any:
        """GET, None when missing."""
        return self.request("GET", path, ok_missing=True)

    def put(self, path: str, body: Any) -> None:
        """PUT a resource."""
        self.request("PUT", path, json=body)

    def post(self, path: str, body: Any) -> Any:
        """POST to a resource."""
        return self.request("POST", path, json=body)

    def delete(self, path: str) -> None:
        """DELETE a resource; a missing one is fine."""
        self.request("DELETE", path, ok_missing=True)

    def alive(self) -> bool:
        """Whether the API answers at all."""
        try:
            self._http.get("/overview")
        except httpx.HTTPError:
            return False
        return True

    def exchange_types(self) -> set[str]:
        """Exchange types the broker offers (plugins add some)."""
        overview = self.get("/overview") or {}
        return {t["name"] for t in overview.get("exchange_types", [])}

    def close_connections(self, vhost: str, *, reason: str = "closed by agentbus") -> int:
        """Force-close every client connection in a vhost; returns how many."""
        closed = 0
        for conn in self.get(f"/vhosts/{_q(vhost)}/connections") or []:
            self._http.request("DELETE", f"/connections/{_q(conn['name'])}",
                               headers={"X-Reason": reason})
            closed += 1
        return closed


def rabbit_password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether a stored sha256 hash is the hash of `password`."""
    try:
        raw = base64.b64decode(stored_hash)
    except ValueError:
        return False
    return len(raw) > 4 and rabbit_password_hash(password, raw[:4]) == stored_hash


@dataclass
class ApplyReport:
    """What `apply_topology` changed (empty when the broker already matched)."""

    changes: list[str] = field(default_factory=list)
    passwords_written_to: Path | None = None


class CredentialStore:
    """Passwords of the service users: AGENTBUS_PASSWORD_<USER> from the environment, else a local file.

    Generated passwords are written to the file (mode 0600) so `agentbus up` and the services can read
    them; production deployments pass them in from Secrets instead.
    """

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self._environ = os.environ if environ is None else environ
        self._saved = self._read()
        self._dirty = False

    @staticmethod
    def env_name(user: str) -> str:
        """The environment variable that may carry `user`'s password."""
        return "AGENTBUS_PASSWORD_" + user.upper().replace("-", "_")

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        pairs = (line.split("=", 1) for line in self.path.read_text().splitlines() if "=" in line)
        return {k.strip(): v.strip() for k, v in pairs}

    def password(self, user: str) -> str:
        """The password for `user`, generated and remembered when there is none yet."""
        key = self.env_name(user)
        if key in self._environ:
            return self._environ[key]
        if key not in self._saved:
            self._saved[key] = secrets.token_urlsafe(24)
            self._dirty = True
        return self._saved[key]

    def save(self) -> bool:
        """Write generated passwords; returns whether the file changed."""
        if not self._dirty:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{k}={v}\n" for k, v in sorted(self._saved.items()))
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
        self._dirty = False
        return True


def ensure_plugins(client: ManagementClient | None, plugins: tuple[str, ...], *, local: bool) -> list[str]:
    """Enable missing plugins with rabbitmq-plugins when the broker is on this machine."""
    missing = list(plugins)
    if client is not None and client.alive():
        have = client.exchange_types()
        missing = [p for p in plugins if p == "rabbitmq_consistent_hash_exchange"
                   and "x-consistent-hash" not in have]
    if not missing:
        return []
    tool = shutil.which("rabbitmq-plugins")
    if not local or tool is None:
        raise ConfigurationError(
            f"the broker lacks plugins {missing}; enable them on the broker "
            f"(`rabbitmq-plugins enable {' '.join(missing)}`, or `plugins:` in the RabbitmqCluster spec).")
    subprocess.run([tool, "enable", *missing], check=True, capture_output=True, timeout=120)
    return [f"enabled plugin {p}" for p in missing]


def wait_for_api(client: ManagementClient, *, timeout_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait until the management API answers (it takes a few seconds after the plugin is enabled)."""
    deadline = time.monotonic() + timeout_s
    while not client.alive():
        if time.monotonic() > deadline:
            raise ManagementAPIError(
                f"management API at {client.base_url} did not answer within {timeout_s:.0f}s; "
                "check `rabbitmq-plugins list` and the broker log.", retryable=False)
        sleep(0.5)


def is_local(url: str) -> bool:
    """Whether a URL points at this machine."""
    return (urlsplit(url).hostname or "") in {"localhost", "127.0.0.1", "::1"}


def apply_topology(
    client: ManagementClient,
    topology: Topology,
    credentials: CredentialStore,
    *,
    on_change: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Make the broker match `topology`, writing only what differs."""
    report = ApplyReport()

    def changed(what: str) -> None:
        report.changes.append(what)
        if on_change is not None:
            on_change(what)

    v = _q(topology.vhost)
    if client.get(f"/vhosts/{v}") is None:
        client.put(f"/vhosts/{v}", {})
        changed(f"created vhost {topology.vhost}")

    for ex in topology.exchanges:
        current = client.get(f"/exchanges/{v}/{_q(ex.name)}")
        wanted = {"type": ex.type, "durable": True, "auto_delete": False, "internal": False,
                  "arguments": ex.arguments}
        if current is None:
            client.put(f"/exchanges/{v}/{_q(ex.name)}", wanted)
            changed(f"declared exchange {ex.name} ({ex.type})")
        elif current["type"] != ex.type or current.get("arguments", {}) != ex.arguments:
            raise ConfigurationError(
                f"exchange {ex.name} exists as {current['type']} {current.get('arguments')}; agentbus "
                f"needs {ex.type} {ex.arguments}. Delete it (rabbitmqadmin delete exchange) and apply again.")

    for queue in topology.queues:
        current = client.get(f"/queues/{v}/{_q(queue.name)}")
        if current is None:
            client.put(f"/queues/{v}/{_q(queue.name)}",
                       {"durable": True, "auto_delete": False, "arguments": queue.arguments})
            changed(f"declared queue {queue.name}")
        elif current.get("arguments", {}) != queue.arguments:
            raise ConfigurationError(
                f"queue {queue.name} exists with arguments {current.get('arguments')}, agentbus needs "
                f"{queue.arguments}. Drain and delete it, or apply with the settings it was made with.")

    for binding in topology.bindings:
        kind = "q" if binding.destination_type == "queue" else "e"
        path = f"/bindings/{v}/e/{_q(binding.source)}/{kind}/{_q(binding.destination)}"
        existing = client.get(path) or []
        if not any(b.get("routing_key") == binding.routing_key for b in existing):
            client.post(path, {"routing_key": binding.routing_key, "arguments": {}})
            changed(f"bound {binding.source} -> {binding.destination} on {binding.routing_key!r}")

    for user in topology.users:
        _apply_user(client, topology.vhost, user, credentials.password(user.name), changed)

    if credentials.save():
        report.passwords_written_to = credentials.path
    return report


def _apply_user(client: ManagementClient, vhost: str, user: User, password: str,
                changed: Callable[[str], None]) -> None:
    u, v = _q(user.name), _q(vhost)
    current = client.get(f"/users/{u}")
    if (current is None or current.get("hashing_algorithm") != "rabbit_password_hashing_sha256"
            or not password_matches(current.get("password_hash", ""), password)
            or _tags(current.get("tags")) != _tags(user.tags)):
        client.put(f"/users/{u}", {"password_hash": rabbit_password_hash(password), "tags": user.tags,
                                   "hashing_algorithm": "rabbit_password_hashing_sha256"})
        changed(f"{'created' if current is None else 'updated'} user {user.name}")

    wanted = {"configure": user.configure, "write": user.write, "read": user.read}
    current_perm = client.get(f"/permissions/{v}/{u}")
    if current_perm is None or {k: current_perm.get(k) for k in wanted} != wanted:
        client.put(f"/permissions/{v}/{u}", wanted)
        changed(f"set permissions of {user.name}")

    existing = {t["exchange"]: t for t in client.get(f"/topic-permissions/{v}/{u}") or []}
    for tp in user.topic_permissions:
        want = {"exchange": tp.exchange, "write": tp.write, "read": tp.read}
        have = existing.get(tp.exchange)
        if have is None or {k: have.get(k) for k in want} != want:
            client.put(f"/topic-permissions/{v}/{u}", want)
            changed(f"set topic permission of {user.name} on {tp.exchange}")


def _tags(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(t) for t in value if t}
    return {t for t in str(value or "").split(",") if t}
