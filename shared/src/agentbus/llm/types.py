"""The request and reply shapes every backend speaks, and the `LLMBackend` protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation."""

    role: Role
    content: str

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        """A message from the user (the task the agent received)."""
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str) -> ChatMessage:
        """A message the model wrote earlier in the conversation."""
        return cls("assistant", content)


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """What an agent asks a backend for; `expected_keys` turns on structured (JSON object) output."""

    messages: tuple[ChatMessage, ...]
    system: str = ""
    expected_keys: tuple[str, ...] = ()
    json_output: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    agent: str = ""

    def __post_init__(self) -> None:
        # Accept lists from callers while keeping the request hashable and immutable.
        object.__setattr__(self, "messages", tuple(self.messages))
        object.__setattr__(self, "expected_keys", tuple(self.expected_keys))

    @property
    def wants_json(self) -> bool:
        """True when the caller wants a JSON object back (explicitly or by naming its keys)."""
        return self.json_output or bool(self.expected_keys)

    def prompt_text(self) -> str:
        """All the input text (system prompt and messages), for token estimates and seeding."""
        return "\n".join([self.system, *(m.content for m in self.messages)])


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a completion consumed."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Completion:
    """A backend's reply: the text, the parsed object when JSON was asked for, usage and origin."""

    text: str
    usage: Usage
    model: str
    backend: str
    data: dict[str, Any] | None = field(default=None)
    finish_reason: str | None = None


@runtime_checkable
class LLMBackend(Protocol):
    """Anything that turns a `CompletionRequest` into a `Completion`."""

    @property
    def name(self) -> str:
        """Short backend name used in metrics labels (`deterministic`, `openai`)."""
        ...

    async def complete(self, request: CompletionRequest) -> Completion:
        """Return the model's reply to `request`, raising an `LLMError` on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections; the backend must not be used afterwards."""
        ...
