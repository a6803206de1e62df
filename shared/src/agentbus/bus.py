"""The transport: connection, confirmed publishing, declared consumers with an ack policy.

Services declare handlers on a `Router` and hand it to a `Bus`; they never touch aio-pika. Every
delivery ends in exactly one of: ack after the handler succeeds; a delayed retry (retryable
AgentBusError); a dead letter with reason headers (contract error, RejectMessage, retries or delivery
limit exhausted); or a requeue when even the dead-letter publish failed. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiormq.exceptions
import pamqp.exceptions
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from agentbus import codec, topology
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import (
    AgentBusError,
    BrokerError,
    ConfigurationError,
    ConnectionLostError,
    ContractError,
    PermissionDeniedError,
    PublishError,
    RejectMessage,
    UnroutableError,
)
from agentbus.observability import BusMetrics
from agentbus.settings import Settings, redact_url

log = logging.getLogger(__name__)

DEAD_LETTER_REASON = "x-agentbus-dead-letter-reason"
DEAD_LETTER_DETAIL = "x-agentbus-dead-letter-detail"
DEAD_LETTER_QUEUE = "x-agentbus-dead-letter-queue"
ORIGINAL_EXCHANGE = "x-agentbus-original-exchange"
ORIGINAL_ROUTING_KEY = "x-agentbus-original-routing-key"
RETRIES_HEADER = "x-agentbus-retries"
DELIVERY_COUNT = "x-delivery-count"

# Connection-level failures worth retrying at start-up (aio-pika's own tuple, minus programming errors).
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AMQPConnectionError, ConnectionError, OSError, asyncio.TimeoutError,
)


@dataclass(frozen=True)
class Delivery:
    """What a handler knows about the delivery besides the decoded message."""

    queue: str
    exchange: str
    routing_key: str
    headers: Mapping[str, Any]
    schema: int
    message_id: str
    redelivered: bool
    delivery_count: int
    body: bytes
    message_type: str


Handler = Callable[[v2.Message, Delivery], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A handler bound to a queue, with how the queue is declared and consumed."""

    queue: str
    handler: Handler
    bindings: tuple[tuple[str, str], ...]
    prefetch: int | None
    temporary: bool
    single_active_consumer: bool
    declare: bool
    delivery_limit: int | None = None


class Router:
    """Collects handlers declared with `@router.subscribe(...)`."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []

    def subscribe(
        self,
        queue: str,
        *,
        exchange: str | None = None,
        binding_keys: Sequence[str] = (),
        prefetch: int | None = None,
        temporary: bool = False,
        single_active_consumer: bool = False,
        declare: bool = True,
        delivery_limit: int | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare `handler` as the consumer of `queue`, bound to `binding_keys` on `exchange`.

        `temporary` queues are exclusive and vanish with the connection (observers, `agentbus tail`);
        other queues are durable quorum queues with a dead-letter and a retry queue.
        `delivery_limit` overrides AGENTBUS_DELIVERY_LIMIT for this queue.
        """
        if binding_keys and exchange is None:
            raise ConfigurationError(f"subscription to {queue}: binding_keys need an exchange")

        def register(handler: Handler) -> Handler:
            self.subscriptions.append(Subscription(
                queue=queue, handler=handler,
                bindings=tuple((exchange or "", key) for key in binding_keys),
                prefetch=prefetch, temporary=temporary,
                single_active_consumer=single_active_consumer, declare=declare,
                delivery_limit=delivery_limit,
            ))
            return handler

        return register

    def include(self, other: Router) -> None:
        """Add another router's subscriptions to this one."""
        self.subscriptions.extend(other.subscriptions)


def translate_broker_error(exc: BaseException, what: str) -> AgentBusError:
    """Turn an aio-pika/aiormq/pamqp exception into the agentbus hierarchy."""
    text = str(exc)
    if isinstance(exc, AgentBusError):
        return exc
    if isinstance(exc, aiormq.exceptions.PublishError):
        return UnroutableError(
            f"{what}: no queue is bound for this routing key, so the broker returned it. "
            "Check the routing key, or start the consumer / run `agentbus topology apply` first.")
    if isinstance(exc, aiormq.exceptions.DeliveryError):
        return PublishError(f"{what}: the broker refused the message (nack): {text}")
    if "ACCESS_REFUSED" in text or isinstance(exc, pamqp.exceptions.AMQPAccessRefused):
        return PermissionDeniedError(
            f"{what}: the broker refused it for lack of permission ({text}). Each service may only "
            "publish its own routing keys; see ARCHITECTURE.md, 'Security'.")
    if "NOT_FOUND" in text or isinstance(exc, aiormq.exceptions.ChannelNotFoundEntity):
        return ConfigurationError(
            f"{what}: {text}. Run `agentbus topology apply` to declare the exchanges and queues.")
    if "PRECONDITION_FAILED" in text:
        return ConfigurationError(
            f"{what}: {text}. The queue exists with other arguments; delete it or use the settings "
            "it was created with (AGENTBUS_DELIVERY_LIMIT, AGENTBUS_RETRY_DELAY_MS).")
    if isinstance(exc, asyncio.TimeoutError):
        return PublishError(f"{what}: no confirm from the broker in time", retryable=True)
    return ConnectionLostError(f"{what}: {type(exc).__name__}: {text}")


@dataclass
class _Consumer:
    subscription: Subscription
    channel: AbstractChannel
    queue: AbstractQueue
    tag: str = ""


@dataclass
class _InFlight:
    count: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class Bus:
    """A live connection to the broker; create it with `async with Bus.connect(settings) as bus`."""

    def __init__(self, settings: Settings, connection: AbstractRobustConnection,
                 publish_channel: AbstractRobustChannel, metrics: BusMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._connection = connection
        self._publish_channel = publish_channel
        self._exchanges: dict[str, AbstractExchange] = {}
        self._consumers: list[_Consumer] = []
        self._inflight = _InFlight()
        self._inflight.idle.set()
        self._stopping = False

    # ------------------------------------------------------------ lifecycle

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, settings: Settings, *, metrics: BusMetrics | None = None) -> AsyncIterator[Bus]:
        """Connect (retrying with backoff), yield the bus, and close it gracefully on exit."""
        connection = await _connect_with_retry(settings)
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            bus = cls(settings, connection, channel, metrics or BusMetrics.default())
            try:
                yield bus
            finally:
                await bus.stop()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    @property
    def connected(self) -> bool:
        """Whether the connection is open right now."""
        return not self._connection.is_closed

    @property
    def ready(self) -> bool:
        """Connected and consuming every subscription (what /readyz reports)."""
        return self.connected and not self._stopping and bool(self._consumers)

    async def start(self, router: Router) -> None:
        """Declare each subscription's queues and start consuming."""
        for sub in router.subscriptions:
            self._consumers.append(await self._start_consumer(sub))

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop consuming, let in-flight handlers finish (up to the grace period), then return."""
        if self._stopping:
            return
        self._stopping = True
        for consumer in self._consumers:
            with contextlib.suppress(Exception):
                await consumer.queue.cancel(consumer.tag)
        grace = self.settings.shutdown_grace_s if grace_s is None else grace_s
        try:
            await asyncio.wait_for(self._inflight.idle.wait(), timeout=grace)
        except TimeoutError:
            log.warning("%d message(s) still in flight after %.1fs; they will be redelivered",
                        self._inflight.count, grace)
        for consumer in self._consumers:
            with contextlib.suppress(Exception):
                await consumer.channel.close()
        self._consumers.clear()

    async def serve(self, router: Router, *, stop: asyncio.Event | None = None) -> None:
        """Consume until SIGTERM/SIGINT (or `stop` is set), then drain and return."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await self.start(router)
        log.info("consuming %s", ", ".join(s.queue for s in router.subscriptions))
        await stop.wait()
        log.info("stopping: draining in-flight messages")
        await self.stop()

    # ------------------------------------------------------------ publishing

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        message: v2.Message,
        *,
        schema: int = 2,
        headers: Mapping[str, Any] | None = None,
        mandatory: bool = True,
    ) -> None:
        """Publish persistently with a confirm; raises UnroutableError when nothing is bound.

        Pass `mandatory=False` for events nobody may be listening to (lifecycle notifications).
        """
        encoded = codec.encode(message, schema=schema, max_bytes=self.settings.max_message_bytes)
        all_headers = dict(encoded.headers)
        if headers:
            all_headers.update(headers)
        await self.publish_raw(
            exchange, routing_key, encoded.body, headers=all_headers,
            message_type=encoded.message_type, message_id=encoded.message_id,
            correlation_id=encoded.correlation_id, mandatory=mandatory,
        )

    async def publish_raw(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        headers: Mapping[str, Any] | None = None,
        message_type: str | None = None,
        message_id: str | None = None,
        correlation_id: str | None = None,
        content_type: str = codec.CONTENT_TYPE,
        mandatory: bool = True,
    ) -> None:
        """Publish bytes as they are (dead letters, quarantine, replays), persistent and confirmed."""
        amqp_message = aio_pika.Message(
            body,
            headers=dict(headers or {}),
            content_type=content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            type=message_type,
            message_id=message_id,
            correlation_id=correlation_id or None,
            app_id=self.settings.service_name,
        )
        what = f"publish to {exchange or '(default)'} with key {routing_key!r}"
        # A lost connection or confirm is retried once the robust channel is back: at-least-once,
        # so consumers deduplicate (task ids, saga/step/attempt). Refusals are raised at once.
        try:
            try:
                # First attempt outside the retry machinery, which costs more than the publish.
                await self._publish_once(exchange, routing_key, amqp_message, mandatory, what)
            except AgentBusError as exc:
                if not _transient(exc):
                    raise
                async for attempt in AsyncRetrying(
                    stop=stop_after_delay(self.settings.publish_retry_s),
                    wait=wait_exponential(multiplier=0.1, max=self.settings.reconnect_interval_s),
                    retry=retry_if_exception(_transient),
                    before_sleep=before_sleep_log(log, logging.WARNING),
                    reraise=True,
                ):
                    with attempt:
                        await self._publish_once(exchange, routing_key, amqp_message, mandatory,
                                                 what)
        except AgentBusError:
            self.metrics.published.labels(exchange=exchange, outcome="error").inc()
            raise
        self.metrics.published.labels(exchange=exchange, outcome="ok").inc()

    async def _publish_once(self, exchange: str, routing_key: str, message: aio_pika.Message,
                            mandatory: bool, what: str) -> None:
        try:
            if self._publish_channel.is_closed and self._connection.connected.is_set():
                # A refusal (403, 404) closes only the channel; the connection is fine, so reopen.
                await self._publish_channel.reopen()
            if self._publish_channel.is_closed or not self._connection.connected.is_set():
                # Reconnecting: wait for the channel to be restored (an open one needs no wait).
                await asyncio.wait_for(self._publish_channel.ready(),
                                       timeout=self.settings.publish_timeout_s)
            if exchange not in self._exchanges:
                self._exchanges[exchange] = (
                    self._publish_channel.default_exchange if exchange == ""
                    else await self._publish_channel.get_exchange(exchange, ensure=False))
            await self._exchanges[exchange].publish(
                message, routing_key, mandatory=mandatory, timeout=self.settings.publish_timeout_s)
        except Exception as exc:
            raise translate_broker_error(exc, what) from exc

    async def fetch(self, queue: str, *, limit: int) -> AsyncIterator[AbstractIncomingMessage]:
        """Pull up to `limit` messages one by one (basic.get), for tools like `agentbus dlq replay`.

        The caller settles each message (ack / nack); whatever it leaves unsettled is requeued when
        the iteration ends.
        """
        channel = await self._connection.channel()
        try:
            source = await channel.get_queue(queue, ensure=True)
            for _ in range(limit):
                message = await source.get(fail=False, no_ack=False)
                if message is None:
                    return
                yield message
        except aiormq.exceptions.AMQPError as exc:
            raise translate_broker_error(exc, f"read {queue}") from exc
        finally:
            with contextlib.suppress(Exception):
                await channel.close()

    # ------------------------------------------------------------ consuming

    async def _start_consumer(self, sub: Subscription) -> _Consumer:
        what = f"subscribe {sub.queue}"
        try:
            channel = await self._connection.channel()
            await channel.set_qos(prefetch_count=sub.prefetch or self.settings.prefetch)
            queue = await self._declare(channel, sub)
            consumer = _Consumer(sub, channel, queue)
            consumer.tag = await queue.consume(functools.partial(self._on_message, sub))
        except AgentBusError:
            raise
        except Exception as exc:
            raise translate_broker_error(exc, what) from exc
        return consumer

    async def _declare(self, channel: AbstractChannel, sub: Subscription) -> AbstractQueue:
        s = self.settings
        if not sub.declare:
            return await channel.get_queue(sub.queue, ensure=False)
        if sub.temporary:
            queue = await channel.declare_queue(sub.queue, exclusive=True, auto_delete=True, durable=False)
        else:
            args = topology.work_queue_arguments(sub.queue, delivery_limit=self._delivery_limit(sub),
                                                 single_active_consumer=sub.single_active_consumer)
            queue = await channel.declare_queue(sub.queue, durable=True, arguments=args)
            dlq = await channel.declare_queue(
                topology.dead_letter_queue(sub.queue), durable=True,
                arguments=topology.dead_letter_queue_arguments())
            await dlq.bind(topology.DLX, routing_key=sub.queue)
            retry = await channel.declare_queue(
                topology.retry_queue(sub.queue), durable=True,
                arguments=topology.retry_queue_arguments(sub.queue, delay_ms=s.retry_delay_ms))
            await retry.bind(topology.DLX, routing_key=topology.retry_routing_key(sub.queue))
        for exchange, key in sub.bindings:
            await queue.bind(exchange, routing_key=key)
        return queue

    async def _on_message(self, sub: Subscription, message: AbstractIncomingMessage) -> None:
        self._inflight.count += 1
        self._inflight.idle.clear()
        started = time.perf_counter()
        outcome = "ack"
        try:
            outcome = await self._process(sub, message)
        finally:
            self.metrics.consumed.labels(queue=sub.queue, outcome=outcome).inc()
            self.metrics.handler_seconds.labels(queue=sub.queue).observe(time.perf_counter() - started)
            self._inflight.count -= 1
            if self._inflight.count == 0:
                self._inflight.idle.set()

    async def _process(self, sub: Subscription, message: AbstractIncomingMessage) -> str:
        headers = dict(message.headers or {})
        delivery_count = _int_header(headers, DELIVERY_COUNT)
        routing_key = str(headers.get(ORIGINAL_ROUTING_KEY) or message.routing_key or "")
        try:
            decoded = codec.decode(message.body, message_type=message.type, headers=headers,
                                   max_bytes=self.settings.max_message_bytes)
        except ContractError as exc:
            return await self._dead_letter(sub, message, exc.reason, str(exc))
        delivery = Delivery(
            queue=sub.queue, exchange=str(headers.get(ORIGINAL_EXCHANGE) or message.exchange or ""),
            routing_key=routing_key, headers=headers, schema=decoded.schema,
            message_id=message.message_id or decoded.message.id, redelivered=bool(message.redelivered),
            delivery_count=delivery_count, body=message.body, message_type=message.type or "",
        )
        try:
            await sub.handler(decoded.message, delivery)
        except RejectMessage as exc:
            return await self._dead_letter(sub, message, exc.reason, str(exc))
        except AgentBusError as exc:
            if not exc.retryable:
                return await self._dead_letter(sub, message, type(exc).__name__, str(exc))
            return await self._retry_later(sub, message, exc)
        except asyncio.CancelledError:
            await self._settle(message.nack(requeue=True))
            raise
        except Exception as exc:
            # Unexpected: let the broker redeliver; on the last delivery we dead-letter it ourselves so
            # the reason travels with it (the queue's delivery limit is the backstop for crashes).
            if delivery_count + 1 >= self._delivery_limit(sub):
                log.exception("handler for %s failed on delivery %d; dead-lettering",
                              sub.queue, delivery_count + 1)
                return await self._dead_letter(
                    sub, message, "handler_error",
                    f"{type(exc).__name__}: {exc} (after {delivery_count + 1} deliveries). Fix the handler "
                    "or the message, then replay it with `agentbus dlq replay`.")
            log.warning("handler for %s failed (%s: %s); redelivering", sub.queue, type(exc).__name__, exc)
            await self._settle(message.nack(requeue=True))
            return "requeued"
        await self._settle(message.ack())
        return "ack"

    def _delivery_limit(self, sub: Subscription) -> int:
        return sub.delivery_limit or self.settings.delivery_limit

    async def _retry_later(self, sub: Subscription, message: AbstractIncomingMessage,
                           exc: AgentBusError) -> str:
        headers = dict(message.headers or {})
        retries = _int_header(headers, RETRIES_HEADER)
        if sub.temporary or retries >= self.settings.retry_attempts:
            return await self._dead_letter(
                sub, message, "retries_exhausted",
                f"{type(exc).__name__}: {exc} (after {retries} delayed retries)")
        headers[RETRIES_HEADER] = retries + 1
        headers.setdefault(ORIGINAL_ROUTING_KEY, message.routing_key or "")
        headers.setdefault(ORIGINAL_EXCHANGE, message.exchange or "")
        try:
            await self.publish_raw(
                topology.DLX, topology.retry_routing_key(sub.queue), message.body, headers=headers,
                message_type=message.type, message_id=message.message_id,
                correlation_id=message.correlation_id, content_type=message.content_type or "")
        except AgentBusError:
            log.exception("could not schedule a retry for %s; requeueing", sub.queue)
            await self._settle(message.nack(requeue=True))
            return "requeued"
        await self._settle(message.ack())
        return "retry"

    async def _dead_letter(self, sub: Subscription, message: AbstractIncomingMessage,
                           reason: str, detail: str) -> str:
        log.warning("dead-lettering a message from %s: %s: %s", sub.queue, reason, detail)
        if sub.temporary:
            await self._settle(message.ack())
            return "dropped_temporary"
        headers = dict(message.headers or {})
        headers.update({
            DEAD_LETTER_REASON: reason,
            DEAD_LETTER_DETAIL: detail[:2000],
            DEAD_LETTER_QUEUE: sub.queue,
        })
        headers.setdefault(ORIGINAL_ROUTING_KEY, message.routing_key or "")
        headers.setdefault(ORIGINAL_EXCHANGE, message.exchange or "")
        try:
            await self.publish_raw(
                topology.DLX, sub.queue, message.body, headers=headers, message_type=message.type,
                message_id=message.message_id, correlation_id=message.correlation_id,
                content_type=message.content_type or "")
        except AgentBusError:
            log.exception("could not dead-letter a message from %s; requeueing it", sub.queue)
            await self._settle(message.nack(requeue=True))
            return "requeued"
        await self._settle(message.ack())
        return "dead_lettered"

    @staticmethod
    async def _settle(action: Awaitable[None]) -> None:
        # The channel may have died under us; the broker then redelivers the message, so an
        # un-settled message is never lost, only seen again.
        try:
            await action
        except (aiormq.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
            log.warning("could not settle a delivery (%s); the broker will redeliver it", exc)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, BrokerError) and exc.retryable


def _int_header(headers: Mapping[str, Any], key: str) -> int:
    value = headers.get(key)
    try:
        return int(value.decode() if isinstance(value, bytes) else value or 0)
    except (TypeError, ValueError):
        return 0


async def _connect_with_retry(settings: Settings) -> AbstractRobustConnection:
    url = settings.amqp_url
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(settings.connect_attempts),
            wait=wait_exponential(multiplier=0.2, max=settings.connect_backoff_max_s),
            retry=retry_if_exception_type(CONNECT_ERRORS),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        ):
            with attempt:
                return await aio_pika.connect_robust(
                    url, client_properties={"connection_name": settings.service_name},
                    timeout=10, reconnect_interval=settings.reconnect_interval_s,
                )
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise ConnectionLostError(
            f"the broker at {redact_url(url)} refused the credentials; check AGENTBUS_AMQP_URL "
            "(service users come from `agentbus topology apply`).", retryable=False) from exc
    except CONNECT_ERRORS as exc:
        raise ConnectionLostError(
            f"cannot reach the broker at {redact_url(url)} after {settings.connect_attempts} attempts "
            f"({type(exc).__name__}: {exc}). Start one: `make broker`, `docker compose up rabbitmq`, "
            "or install the rabbitmq-server package.") from exc
    raise BrokerError("unreachable")  # pragma: no cover  (AsyncRetrying always returns or raises)
