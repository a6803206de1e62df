"""Settings shared by every agentbus process, read from environment variables prefixed AGENTBUS_."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentbus.errors import ConfigurationError
from agentbus.event_loop import EventLoopChoice

ENV_PREFIX = "AGENTBUS_"


class Settings(BaseSettings):
    """Connection, reliability and runtime options; every field is AGENTBUS_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    amqp_url: str = Field(
        "amqp://guest:guest@localhost:5672/",
        description="Broker URL; its path is the vhost (`/` when empty), its user the service's own.",
    )
    management_url: str = Field(
        "http://localhost:15672",
        description="RabbitMQ management HTTP API, used by `topology apply`, `dlq` and tests.",
    )
    management_user: str | None = Field(
        None, description="Management API user; defaults to the user in AGENTBUS_AMQP_URL.")
    management_password: SecretStr | None = Field(
        None, description="Management API password; defaults to the password in AGENTBUS_AMQP_URL.")
    service_name: str = Field("agentbus", description="Name this process publishes as (`source`).")
    prefetch: int = Field(64, ge=1, le=10_000, description="Unacked deliveries per consumer.")
    delivery_limit: int = Field(
        5, ge=1, le=1000,
        description="Deliveries of one message before the broker dead-letters it (poison messages).")
    partition_delivery_limit: int = Field(
        50, ge=1, le=1000,
        description="Delivery limit of the orchestrator's partition queues: a replica that dies "
        "returns every message it had prefetched, and each return counts as a delivery.")
    retry_attempts: int = Field(
        3, ge=0, le=100, description="Delayed retries for a handler's retryable error.")
    retry_delay_ms: int = Field(
        1000, ge=1, le=3_600_000, description="Delay before a retryable message is tried again.")
    max_message_bytes: int = Field(
        1_048_576, ge=1024,
        description="Larger messages are refused on publish and dead-lettered on receipt.")
    publish_timeout_s: float = Field(10.0, gt=0, description="Wait this long for a publisher confirm.")
    connect_attempts: int = Field(
        10, ge=1, description="Attempts to reach the broker at start-up before giving up.")
    reconnect_interval_s: float = Field(
        1.0, gt=0, description="After losing the broker, try to reconnect this often.")
    publish_retry_s: float = Field(
        30.0, gt=0, description="Keep retrying a publish this long while the connection is restored.")
    connect_backoff_max_s: float = Field(5.0, gt=0, description="Longest wait between attempts.")
    health_port: int = Field(
        8080, ge=0, le=65535, description="Port of /healthz, /readyz and /metrics (0 turns them off).")
    shutdown_grace_s: float = Field(
        20.0, gt=0, description="On SIGTERM, wait this long for in-flight messages to finish.")
    log_level: str = Field("INFO", description="Python logging level.")
    event_loop: EventLoopChoice = Field(
        "auto", description="Event loop: `uvloop` (faster; `auto` picks it when installed) or `asyncio`.")
    partitions: int = Field(
        4, ge=1, le=256, description="Orchestrator partition queues (sagas are spread over them by id).")
    user_prefix: str = Field(
        "agentbus-",
        description="Prefix of the per-service broker users (several installs can share a broker).")
    credentials_file: Path = Field(
        Path(".agentbus/credentials.env"),
        description="Where `topology apply` keeps the generated passwords of the service users.")

    @property
    def vhost(self) -> str:
        """The vhost named by AGENTBUS_AMQP_URL's path."""
        return vhost_of(self.amqp_url)

    def management_credentials(self) -> tuple[str, str]:
        """User and password for the management API."""
        parts = urlsplit(self.amqp_url)
        user = self.management_user or unquote(parts.username or "guest")
        if self.management_password is not None:
            return user, self.management_password.get_secret_value()
        return user, unquote(parts.password or "guest")


def vhost_of(amqp_url: str) -> str:
    """Return the vhost an AMQP URL names (`/` for an empty path, as RabbitMQ does)."""
    path = urlsplit(amqp_url).path
    if path in ("", "/"):
        return "/"
    return unquote(path[1:])


def redact_url(url: str) -> str:
    """Hide the password in a URL before it is logged or printed."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _settings_classes(root: type[BaseSettings]) -> list[type[BaseSettings]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_settings_classes(sub))
    return found


_SECRET_WORDS = ("PASSWORD", "API_KEY", "SECRET", "TOKEN", "URL")


def settings_error(exc: ValidationError) -> ConfigurationError:
    """Name the environment variable behind each invalid value and say what to do about it."""
    prefix = ENV_PREFIX
    for cls in _settings_classes(BaseSettings):
        if cls.__name__ == exc.title:
            prefix = str(cls.model_config.get("env_prefix", ""))
            break
    problems = []
    for error in exc.errors():
        name = (prefix + "_".join(str(part) for part in error["loc"])).upper()
        # URLs may carry a password: name the variable, never echo such values.
        shown = "" if any(word in name for word in _SECRET_WORDS) else f"={error.get('input')!r}"
        problems.append(f"{name}{shown}: {error['msg']}")
    return ConfigurationError(
        f"invalid setting{'s' if len(problems) > 1 else ''}: {'; '.join(problems)}. Fix or unset "
        f"{'them' if len(problems) > 1 else 'it'} (a service's --help lists every setting and its default)")


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """`cls()` from the environment; an invalid value raises ConfigurationError naming its variable."""
    try:
        return cls()
    except ValidationError as exc:
        raise settings_error(exc) from None
