"""A cheap token estimate, for budgets before a call and for backends that report no usage."""

from __future__ import annotations

import math

# About four characters per token for English text with BPE tokenisers; good enough for budgets.
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """Estimate how many tokens `text` costs (at least one for non-empty text)."""
    if not text:
        return 0
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))
