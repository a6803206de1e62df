"""LLM backends for agents: one protocol, a deterministic offline backend, an OpenAI-compatible one."""

from agentbus.llm.budget import TokenBudget
from agentbus.llm.deterministic import DeterministicBackend
from agentbus.llm.errors import (
    LLMError,
    LLMRequestError,
    LLMResponseError,
    LLMTimeoutError,
    LLMUnavailableError,
    PromptTemplateError,
    StructuredOutputError,
    TokenBudgetExceededError,
)
from agentbus.llm.factory import create_backend
from agentbus.llm.jsonparse import parse_json_object
from agentbus.llm.metered import MeteredBackend
from agentbus.llm.metrics import LLMMetrics, metrics_for
from agentbus.llm.openai_compat import OpenAICompatibleBackend
from agentbus.llm.prompts import PromptTemplate, load_prompt, load_prompts
from agentbus.llm.ratelimit import AsyncTokenBucket
from agentbus.llm.settings import LLMSettings
from agentbus.llm.types import ChatMessage, Completion, CompletionRequest, LLMBackend, Usage

__all__ = [
    "AsyncTokenBucket",
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "DeterministicBackend",
    "LLMBackend",
    "LLMError",
    "LLMMetrics",
    "LLMRequestError",
    "LLMResponseError",
    "LLMSettings",
    "LLMTimeoutError",
    "LLMUnavailableError",
    "MeteredBackend",
    "OpenAICompatibleBackend",
    "PromptTemplate",
    "PromptTemplateError",
    "StructuredOutputError",
    "TokenBudget",
    "TokenBudgetExceededError",
    "Usage",
    "create_backend",
    "load_prompt",
    "load_prompts",
    "metrics_for",
    "parse_json_object",
]
