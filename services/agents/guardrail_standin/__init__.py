"""A development stand-in for the guardrail: forwards tasks to the agents UNSCANNED.

`agentbus up` runs it only when the real guardrail (`python -m services.guardrail`) is not
installed, and says so loudly: nothing is checked for PII or executable payloads. It consumes the
guardrail's own queue (`agentbus.guardrail`, bound `task.#` on agentbus.ingress) as the guardrail's
broker user, the only user allowed to write to agentbus.agents, and republishes each task there
byte for byte (same envelope version, same message id), so agents behave exactly as behind the
real guardrail.
"""
