"""A synchronous publisher on pika, for the CLI and scripts (no event loop needed)."""

from __future__ import annotations

from typing import Any

import pika
import pika.exceptions

from agentbus import codec
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import (
    ConfigurationError,
    ConnectionLostError,
    PermissionDeniedError,
    PublishError,
    UnroutableError,
)
from agentbus.settings import Settings, redact_url


class SyncPublisher:
    """Publishes agentbus envelopes with confirms and `mandatory`, over one blocking connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        try:
            params = pika.URLParameters(settings.amqp_url)
            params.client_properties = {"connection_name": f"{settings.service_name}-sync"}
            self._connection = pika.BlockingConnection(params)
        except pika.exceptions.ProbableAuthenticationError as exc:
            raise ConnectionLostError(
                f"the broker at {redact_url(settings.amqp_url)} refused the credentials; check "
                "AGENTBUS_AMQP_URL.", retryable=False) from exc
        except pika.exceptions.AMQPError as exc:
            raise ConnectionLostError(
                f"cannot reach the broker at {redact_url(settings.amqp_url)} ({exc!r}); start one "
                "(`make broker` or `docker compose up rabbitmq`) or fix AGENTBUS_AMQP_URL.") from exc
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()

    def __enter__(self) -> SyncPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        if self._connection.is_open:
            self._connection.close()

    def publish(self, exchange: str, routing_key: str, message: v2.Message, *, schema: int = 2,
                headers: dict[str, Any] | None = None) -> None:
        """Publish one envelope; raises UnroutableError, PermissionDeniedError or PublishError."""
        encoded = codec.encode(message, schema=schema, max_bytes=self.settings.max_message_bytes)
        props = pika.BasicProperties(
            content_type=encoded.content_type, delivery_mode=pika.DeliveryMode.Persistent,
            type=encoded.message_type, message_id=encoded.message_id,
            correlation_id=encoded.correlation_id or None, headers={**encoded.headers, **(headers or {})},
            app_id=self.settings.service_name)
        what = f"publish to {exchange} with key {routing_key!r}"
        try:
            self._channel.basic_publish(exchange, routing_key, encoded.body, props, mandatory=True)
        except pika.exceptions.UnroutableError as exc:
            raise UnroutableError(
                f"{what}: no queue is bound for this routing key; check it, or start the consumer / "
                "run `agentbus topology apply` first.") from exc
        except pika.exceptions.NackError as exc:
            raise PublishError(f"{what}: the broker refused the message (nack)") from exc
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 403:
                raise PermissionDeniedError(
                    f"{what}: refused for lack of permission ({exc.reply_text}); this user may not "
                    "publish that routing key.") from exc
            if exc.reply_code == 404:
                raise ConfigurationError(
                    f"{what}: {exc.reply_text}; run `agentbus topology apply` first.") from exc
            raise PublishError(f"{what}: channel closed by the broker: {exc.reply_text}") from exc
        except pika.exceptions.AMQPError as exc:
            raise ConnectionLostError(f"{what}: {exc!r}") from exc
