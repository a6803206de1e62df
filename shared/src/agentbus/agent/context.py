"""What a handler receives: the task, its saga coordinates, and LLM helpers that count tokens."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from agentbus import codec
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.llm.errors import PromptTemplateError
from agentbus.llm.prompts import PromptTemplate
from agentbus.llm.types import ChatMessage, Completion, CompletionRequest, LLMBackend, Usage

SYSTEM_PROMPT = "system"


def as_text(value: Any) -> str:
    """Render a value for a prompt: text as is, a list as bullet lines, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "\n".join(f"- {as_text(item)}" for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Struct turns every number into a float
    return json.dumps(value, ensure_ascii=False, indent=1 if isinstance(value, dict) else None)


@dataclass
class TaskContext:
    """One task as a handler sees it; `complete` / `complete_json` ask the agent's LLM backend."""

    message: v2.Message
    agent: str
    llm: LLMBackend
    prompts: Mapping[str, PromptTemplate] = field(default_factory=dict)
    received_schema: int = 2
    system: str = ""
    usage: Usage = field(default_factory=Usage)

    # ------------------------------------------------------------ the task

    @property
    def task(self) -> v2.Task:
        """The Task body."""
        return self.message.task

    @property
    def task_id(self) -> str:
        """Stable per (saga, step, attempt, compensation); the inbox deduplicates on it."""
        return self.message.task.task_id

    @property
    def action(self) -> str:
        """The action or compensation asked for."""
        return self.message.task.action

    @property
    def compensation(self) -> bool:
        """True when this task undoes an earlier step."""
        return self.message.task.compensation

    @cached_property
    def input(self) -> dict[str, Any]:
        """The task's input as a dict (numbers arrive as floats: Struct has no integers)."""
        return codec.struct_to_dict(self.message.task.input)

    @property
    def saga_id(self) -> str:
        """The saga this task belongs to (empty outside a saga)."""
        return self.message.saga_id or self.message.correlation_id

    @property
    def step(self) -> str:
        """The saga step's name."""
        return self.message.step

    @property
    def attempt(self) -> int:
        """1 for the first try of the step or compensation, then 2, 3..."""
        return self.message.attempt

    @property
    def deadline(self) -> datetime | None:
        """After this instant the orchestrator no longer waits for the answer."""
        if not self.message.HasField("deadline"):
            return None
        return self.message.deadline.ToDatetime(tzinfo=UTC)

    @property
    def context_items(self) -> dict[str, str]:
        """Extra texts sent with the task (notes, earlier outputs), by name."""
        return {item.name: item.text for item in self.message.task.context}

    # ------------------------------------------------------------ the LLM

    def prompt(self, name: str | None = None) -> PromptTemplate:
        """The prompt template `prompts/<name>.txt` (default: the action's)."""
        key = name or self.action
        try:
            return self.prompts[key]
        except KeyError:
            raise PromptTemplateError(
                f"agent {self.agent!r} has no prompt {key!r} (it has {sorted(self.prompts)}); add "
                f"prompts/{key}.txt next to the agent") from None

    def record_usage(self, usage: Usage) -> None:
        """Add tokens spent on this task (the LLM helpers do it; call it for calls made by hand)."""
        self.usage = Usage(self.usage.prompt_tokens + usage.prompt_tokens,
                           self.usage.completion_tokens + usage.completion_tokens)

    async def complete(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        prompt: str | None = None,
        keys: Sequence[str] = (),
        json_output: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Completion:
        """Render `prompts/<prompt or action>.txt` with `values` and ask the LLM; usage is recorded."""
        rendered = self.prompt(prompt).render({k: as_text(v) for k, v in (values or {}).items()})
        system = self.system
        if not system and SYSTEM_PROMPT in self.prompts:
            system = self.prompts[SYSTEM_PROMPT].render()
        request = CompletionRequest(
            messages=(ChatMessage.user(rendered),), system=system, expected_keys=tuple(keys),
            json_output=json_output, max_tokens=max_tokens, temperature=temperature, agent=self.agent)
        completion = await self.llm.complete(request)
        self.record_usage(completion.usage)
        return completion

    async def complete_json(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        keys: Sequence[str],
        prompt: str | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """Like `complete`, for a JSON object with `keys` (missing keys raise StructuredOutputError)."""
        completion = await self.complete(values, prompt=prompt, keys=keys, json_output=True,
                                         max_tokens=max_tokens)
        return dict(completion.data or {})
