"""The saga orchestrator: saga types as data, a pure state machine, a durable store with an outbox."""
