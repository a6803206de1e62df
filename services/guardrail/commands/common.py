"""Helpers shared by the guardrail commands: policy loading and the default corpus path."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.guardrail.policy import Policy


def add_policy_option(parser: argparse.ArgumentParser) -> None:
    """Add `--policy FILE` (default: AGENTBUS_GUARDRAIL_POLICY, else the packaged policy)."""
    parser.add_argument(
        "--policy", metavar="FILE", type=Path, default=None,
        help="policy YAML (default: $AGENTBUS_GUARDRAIL_POLICY, else the packaged default: "
             "redact all PII, block all executable payloads)")


def policy_from(args: argparse.Namespace) -> Policy:
    """Load the policy named on the command line or in the environment."""
    # Imported here: `agentbus --help` loads every command module and should stay quick.
    from services.guardrail.policy import load_policy
    from services.guardrail.settings import GuardrailSettings

    path = args.policy if args.policy is not None else GuardrailSettings().guardrail_policy
    return load_policy(path)


def repo_root() -> Path:
    """The directory holding pyproject.toml above this package (the current directory if none)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def default_corpus() -> Path:
    """The shared dev corpus: `../shared/guardrail/dev.jsonl` relative to the repository root."""
    return repo_root().parent / "shared" / "guardrail" / "dev.jsonl"
