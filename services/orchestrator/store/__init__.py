"""Saga stores: the contract and its SQLite (default) and PostgreSQL implementations."""

from __future__ import annotations

from typing import Final

from services.orchestrator.errors import SagaStoreError
from services.orchestrator.store.base import DueTimer, OutboxMessage, OutboxRow, SagaStore

DEFAULT_STORE_URL: Final = "sqlite:///.agentbus/sagas.db"

__all__ = [
    "DEFAULT_STORE_URL",
    "DueTimer",
    "OutboxMessage",
    "OutboxRow",
    "SagaStore",
    "store_from_url",
]


def store_from_url(url: str) -> SagaStore:
    """The store a URL names: `sqlite:///path.db` or `postgresql://user@host/db` (not opened yet)."""
    if url.startswith("sqlite:"):
        from services.orchestrator.store.sqlite import SqliteSagaStore

        return SqliteSagaStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from services.orchestrator.store.postgres import PostgresSagaStore

        return PostgresSagaStore(url)
    scheme = url.partition(":")[0]
    raise SagaStoreError(
        f"unsupported saga store URL {scheme}:...: use sqlite:///path/to/sagas.db "
        "or postgresql://user:password@host:5432/dbname (AGENTBUS_SAGA_STORE_URL)",
        retryable=False)
