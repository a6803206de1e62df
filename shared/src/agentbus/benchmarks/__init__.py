"""Benchmarks that run the real services against the real broker (`agentbus bench ...`)."""
