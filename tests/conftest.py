"""Fixtures every test shares: the real broker, a fresh vhost per test, and settings pointing at it.

Like aio-pika's own suite, every broker test runs against a live RabbitMQ: an AMQP handshake probe
fails the run early with a clear message when none answers, and each test gets its own vhost (and
its own broker-user prefix), deleted afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from agentbus.bus import Bus
from agentbus.management import CredentialStore, ManagementClient, apply_topology
from agentbus.settings import Settings
from agentbus.topology import Topology, build_topology

DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--amqp-url", default=os.environ.get("AGENTBUS_AMQP_URL", DEFAULT_AMQP_URL),
                     help="broker to test against (an administrator account; default: local guest)")
    parser.addoption("--management-url",
                     default=os.environ.get("AGENTBUS_MANAGEMENT_URL", "http://localhost:15672"),
                     help="the broker's management API")


@dataclass(frozen=True)
class Broker:
    """Where the test broker is."""

    amqp_url: str
    management_url: str

    def url_for(self, vhost: str, user: str | None = None, password: str | None = None) -> str:
        parts = urlsplit(self.amqp_url)
        auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else (
            parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else "")
        host = parts.netloc.rsplit("@", 1)[-1]
        return f"{parts.scheme}://{auth}{host}/{quote(vhost, safe='')}"

    def admin(self) -> tuple[str, str]:
        parts = urlsplit(self.amqp_url)
        return parts.username or "guest", parts.password or "guest"


def _amqp_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5672), timeout=3) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            return bool(s.recv(8))
    except OSError:
        return False


@pytest.fixture(scope="session")
def broker(pytestconfig: pytest.Config) -> Broker:
    url = str(pytestconfig.getoption("--amqp-url"))
    if not _amqp_answers(url):
        pytest.fail(f"no RabbitMQ answers at {url}: run `make broker` (or pass --amqp-url)", pytrace=False)
    return Broker(url, str(pytestconfig.getoption("--management-url")))


@pytest.fixture(scope="session")
def management(broker: Broker) -> Iterator[ManagementClient]:
    with ManagementClient(broker.management_url, *broker.admin()) as client:
        if not client.alive():
            pytest.fail(f"the management API at {broker.management_url} does not answer: run `make broker`",
                        pytrace=False)
        yield client


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def vhost(management: ManagementClient, broker: Broker, run_id: str) -> Iterator[str]:
    name = f"agentbus-test-{run_id}"
    management.put(f"/vhosts/{quote(name, safe='')}", {})
    user = broker.admin()[0]
    management.put(f"/permissions/{quote(name, safe='')}/{quote(user, safe='')}",
                   {"configure": ".*", "write": ".*", "read": ".*"})
    yield name
    management.delete(f"/vhosts/{quote(name, safe='')}")


@pytest.fixture
def settings(broker: Broker, vhost: str, tmp_path: Path) -> Settings:
    return Settings(
        amqp_url=broker.url_for(vhost), management_url=broker.management_url, service_name="test",
        retry_delay_ms=200, retry_attempts=2, delivery_limit=3, connect_attempts=3, health_port=0,
        shutdown_grace_s=5, credentials_file=tmp_path / "credentials.env", partitions=2,
    )


@pytest.fixture
def user_prefix(run_id: str) -> str:
    return f"t{run_id}-"


@pytest.fixture
def topo(settings: Settings, management: ManagementClient, user_prefix: str) -> Iterator[Topology]:
    """The agentbus topology applied in this test's vhost, with users removed afterwards."""
    topo = build_topology(vhost=settings.vhost, agents=("researcher", "writer"), partitions=2,
                          delivery_limit=settings.delivery_limit, retry_delay_ms=settings.retry_delay_ms,
                          user_prefix=user_prefix)
    apply_topology(management, topo, CredentialStore(settings.credentials_file))
    yield topo
    for user in topo.users:
        management.delete(f"/users/{quote(user.name, safe='')}")


@pytest.fixture
def credentials(settings: Settings, topo: Topology) -> CredentialStore:
    return CredentialStore(settings.credentials_file)


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[Bus]:
    async with Bus.connect(settings) as connected:
        yield connected
