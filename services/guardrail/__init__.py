"""The guardrail: scans every task on its way to an agent, redacts PII and blocks executable payloads."""
