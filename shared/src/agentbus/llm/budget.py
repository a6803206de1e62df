"""A per-agent token budget, checked before every call so an exhausted agent sends nothing."""

from __future__ import annotations

from agentbus.llm.errors import TokenBudgetExceededError


class TokenBudget:
    """Count the tokens each agent spends and refuse a request that would go past `limit`.

    The check happens before the call with an estimate of the prompt, and the real usage is
    recorded after it; concurrent calls of one agent may therefore overshoot by one completion.
    """

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be positive or None")
        self.limit = limit
        self._used: dict[str, int] = {}

    def used(self, agent: str) -> int:
        """Tokens `agent` has spent so far."""
        return self._used.get(agent, 0)

    def remaining(self, agent: str) -> int | None:
        """Tokens `agent` may still spend (None when unlimited)."""
        if self.limit is None:
            return None
        return max(0, self.limit - self.used(agent))

    def check(self, agent: str, prompt_tokens: int) -> None:
        """Raise `TokenBudgetExceededError` if sending `prompt_tokens` more would exceed the limit."""
        if self.limit is None:
            return
        used = self.used(agent)
        if used + prompt_tokens > self.limit:
            raise TokenBudgetExceededError(
                f"agent {agent!r} has used {used} of its {self.limit} LLM tokens and this request "
                f"needs about {prompt_tokens} more; raise AGENTBUS_LLM_TOKEN_BUDGET or restart the "
                "agent to start a new budget",
                agent=agent, used=used, budget=self.limit,
            )

    def record(self, agent: str, tokens: int) -> None:
        """Add `tokens` actually spent by `agent`."""
        self._used[agent] = self.used(agent) + max(0, tokens)
