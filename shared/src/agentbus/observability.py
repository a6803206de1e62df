"""Logging set-up, Prometheus metrics of the bus, and the /healthz /readyz /metrics endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import ClassVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

log = logging.getLogger(__name__)


def configure_logging(level: str, service: str) -> None:
    """One line per record on stderr, prefixed with the service name."""
    logging.basicConfig(
        level=level.upper(),
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # aiormq/aio-pika narrate every reconnect attempt at INFO/WARNING; we log our own summary.
    logging.getLogger("aiormq").setLevel(logging.ERROR)
    logging.getLogger("aio_pika").setLevel(logging.ERROR)


@dataclass(frozen=True)
class BusMetrics:
    """Counters and histograms of what the bus publishes and consumes."""

    published: Counter
    consumed: Counter
    handler_seconds: Histogram

    _default: ClassVar[BusMetrics | None] = None

    @classmethod
    def create(cls, registry: CollectorRegistry) -> BusMetrics:
        """Register the bus metrics in `registry`."""
        return cls(
            published=Counter("agentbus_published_total", "Messages published",
                              ["exchange", "outcome"], registry=registry),
            consumed=Counter("agentbus_consumed_total", "Deliveries handled, by outcome",
                             ["queue", "outcome"], registry=registry),
            handler_seconds=Histogram("agentbus_handler_seconds", "Time spent handling a delivery",
                                      ["queue"], registry=registry),
        )

    @classmethod
    def default(cls) -> BusMetrics:
        """The metrics registered once in prometheus_client's default registry."""
        if cls._default is None:
            cls._default = cls.create(REGISTRY)
        return cls._default


@contextlib.asynccontextmanager
async def health_server(
    port: int,
    *,
    ready: Callable[[], bool],
    registry: CollectorRegistry = REGISTRY,
    host: str = "0.0.0.0",  # probes come from the kubelet, outside the pod
) -> AsyncIterator[int]:
    """Serve /healthz, /readyz and /metrics on `port` (0 = off); yields the bound port."""
    if port == 0:
        yield 0
        return

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            path = request.split(b" ")[1].decode() if request.count(b" ") >= 2 else "/"
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            if path == "/healthz":
                status, body, ctype = 200, b"ok\n", "text/plain"
            elif path == "/readyz":
                is_ready = ready()
                status, body, ctype = (200 if is_ready else 503), (b"ready\n" if is_ready
                                                                   else b"not ready\n"), "text/plain"
            elif path == "/metrics":
                status, body, ctype = 200, generate_latest(registry), CONTENT_TYPE_LATEST
            else:
                status, body, ctype = 404, b"not found\n", "text/plain"
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    log.info("health endpoints on :%d (/healthz /readyz /metrics)", bound)
    try:
        yield bound
    finally:
        server.close()
        await server.wait_closed()
