"""Guardrail settings, from environment variables prefixed AGENTBUS_."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GuardrailSettings(BaseSettings):
    """Options of the guardrail and its commands (AGENTBUS_GUARDRAIL_POLICY...)."""

    model_config = SettingsConfigDict(env_prefix="AGENTBUS_", extra="ignore")

    guardrail_policy: Path | None = Field(
        None, description="Policy YAML file; unset means the packaged default "
                          "(redact all PII, block all executable payloads).")
    guardrail_scanner: Literal["auto", "compiled", "interpreted"] = Field(
        "auto", description="Which build of the scanner runs: `compiled` (mypyc, built by `make "
                            "compile`), `interpreted`, or `auto` (compiled when its build matches "
                            "the sources). Read when the scanner is imported.")
