"""The event loop choice: uvloop when installed (auto), asyncio's own on request, a clear error otherwise."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
import uvloop

from agentbus import event_loop
from agentbus.errors import ConfigurationError
from agentbus.settings import Settings


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_auto_runs_on_uvloop_when_installed() -> None:
    assert event_loop.run(_loop_type(), choice="auto") is uvloop.Loop


def test_asyncio_choice_runs_on_the_standard_loop() -> None:
    loop_type = event_loop.run(_loop_type(), choice="asyncio")
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_run_returns_the_coroutines_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert event_loop.run(answer(), choice="uvloop") == 42


def test_missing_uvloop_falls_back_on_auto_and_is_an_error_when_asked_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvloop" else real_find_spec(name, *a))
    assert event_loop.loop_factory("auto") is None
    coroutine = _loop_type()
    with pytest.raises(ConfigurationError, match="AGENTBUS_EVENT_LOOP=asyncio"):
        event_loop.run(coroutine, choice="uvloop")
    assert coroutine.cr_frame is None  # closed, not left dangling


def test_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBUS_EVENT_LOOP", "asyncio")
    assert Settings().event_loop == "asyncio"
    monkeypatch.setenv("AGENTBUS_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        Settings()
