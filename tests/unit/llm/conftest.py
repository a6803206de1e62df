"""Fixtures of the LLM backend tests: a real fake OpenAI server and an isolated metrics registry."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from agentbus.llm import LLMSettings
from tests.support.fake_openai import FakeOpenAI

SettingsFactory = Callable[..., LLMSettings]


@pytest.fixture(autouse=True)
def _clean_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep AGENTBUS_LLM_* variables of the calling shell out of the tests."""
    for name in list(os.environ):
        if name.startswith("AGENTBUS_LLM_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started fake OpenAI server, stopped after the test."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def registry() -> CollectorRegistry:
    """A registry of its own, so metric assertions see only this test's calls."""
    return CollectorRegistry()


@pytest.fixture
def openai_settings(fake_openai: FakeOpenAI) -> SettingsFactory:
    """Build settings pointing the openai backend at the fake server, with short waits."""

    def build(**overrides: Any) -> LLMSettings:
        values: dict[str, Any] = {
            "backend": "openai",
            "base_url": fake_openai.base_url,
            "model": "fake-model",
            "api_key": "sk-test-123",
            "timeout_s": 2.0,
            "connect_timeout_s": 1.0,
            "max_retries": 2,
            "retry_initial_wait_s": 0.01,
            "retry_max_wait_s": 0.05,
        }
        values.update(overrides)
        return LLMSettings(**values)

    return build
