"""Tolerant extraction of the JSON object a model was asked for (bare, fenced or wrapped in prose)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from agentbus.llm.errors import StructuredOutputError

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


def _candidates(text: str) -> Iterator[str]:
    stripped = text.strip()
    yield stripped
    for match in _FENCE.finditer(text):
        yield match.group(1).strip()
    # Models sometimes add a sentence before or after the object: try the outermost braces.
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        yield stripped[start : end + 1]


def parse_json_object(text: str, *, expected_keys: Sequence[str] = ()) -> dict[str, Any]:
    """Return the JSON object in `text`, raising `StructuredOutputError` if none or keys are missing."""
    for candidate in _candidates(text):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            missing = [key for key in expected_keys if key not in value]
            if missing:
                raise StructuredOutputError(
                    f"the model's JSON object lacks the keys {missing} (it has {sorted(value)}); "
                    "make the prompt name every key or use a model that follows JSON mode",
                    text=text,
                )
            return value
    excerpt = text[:200] + ("..." if len(text) > 200 else "")
    raise StructuredOutputError(
        f"the model did not answer with a JSON object (got {excerpt!r}); "
        "ask for JSON explicitly in the prompt or use a model that supports JSON mode",
        text=text,
    )
