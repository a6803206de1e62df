"""The event loop agentbus services run on: uvloop where it is installed, asyncio's own otherwise.

uvloop cuts the per-message cost of the asyncio machinery (callbacks, sockets, timers) that dominates
a service whose handler is short; measured on the guardrail hop and the saga benchmark (ARCHITECTURE.md).
AGENTBUS_EVENT_LOOP=asyncio turns it off, for debugging or a platform without uvloop.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from agentbus.errors import ConfigurationError

EventLoopChoice = Literal["auto", "uvloop", "asyncio"]
T = TypeVar("T")


def loop_factory(choice: EventLoopChoice) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory for `choice`; None means asyncio's default loop."""
    if choice == "asyncio":
        return None
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            raise ConfigurationError(
                "AGENTBUS_EVENT_LOOP=uvloop but uvloop is not installed: `pip install uvloop`, "
                "or set AGENTBUS_EVENT_LOOP=asyncio (or auto) to run on asyncio's own loop")
        return None
    import uvloop

    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, choice: EventLoopChoice = "auto") -> T:
    """Run `main` to completion on the chosen loop, like `asyncio.run`."""
    try:
        factory = loop_factory(choice)
    except ConfigurationError:
        main.close()  # never awaited: close it so Python does not warn about it
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
