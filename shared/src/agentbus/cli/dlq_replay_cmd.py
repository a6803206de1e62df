"""`agentbus dlq replay`: registered separately; the logic lives with `dlq list` in dlq_cmd."""

from agentbus.cli.dlq_cmd import configure_replay as configure
from agentbus.cli.dlq_cmd import run_replay as run

__all__ = ["configure", "run"]
