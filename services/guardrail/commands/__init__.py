"""The guardrail's `agentbus` commands: `guard scan`, `guard eval` and `bench guard`."""
