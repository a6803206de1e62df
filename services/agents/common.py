"""Helpers the reference agents share: the saga key of a task, input checks, the side-effect store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from agentbus.agent import TaskContext, TaskFailed
from services.agents.side_effects import SideEffectStore

_T = TypeVar("_T")


def saga_key(task: TaskContext) -> str:
    """What side effects are keyed by: the saga id, or the task id outside a saga."""
    return task.saga_id or task.task_id


def text_input(task: TaskContext, key: str) -> str:
    """A required non-empty text field of the task's input; a non-retryable failure otherwise."""
    value = task.input.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaskFailed(
            f"{task.agent}.{task.action} needs a non-empty text {key!r} in its input (got "
            f"{type(value).__name__}); check the saga definition's input mapping", code="bad_input")
    return value.strip()


def list_of_text(value: Any) -> list[str]:
    """A model's list answer as a list of strings (a lone string becomes one item)."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return []


async def in_store(action: Callable[[SideEffectStore], _T]) -> _T:
    """Run `action` on the side-effect store in a thread (sqlite3 blocks)."""
    store = SideEffectStore.from_env()
    return await asyncio.to_thread(action, store)
