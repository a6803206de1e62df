"""An echo agent for benchmarks: answers every task with its input, named by AGENTBUS_ECHO_AGENT."""
