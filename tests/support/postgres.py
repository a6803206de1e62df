"""A throwaway PostgreSQL database per test run (the saga store and agent inbox contract tests)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "AGENTBUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards; fail clearly if no server."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL} ({exc}); start it or set "
                    "AGENTBUS_TEST_POSTGRES_URL", pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
