"""Fixtures of the agent unit tests: a throwaway PostgreSQL database for the inbox contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import fresh_database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test run, dropped at the end."""
    with fresh_database("agentbus_inbox") as url:
        yield url
