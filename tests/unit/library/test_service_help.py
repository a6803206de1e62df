"""`--help` of the service processes: made from the settings classes, and nothing but --help accepted."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentbus.agent.settings import AgentSettings
from agentbus.service_help import parse_service_args, settings_help
from agentbus.settings import Settings


class _Inner(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTBUS_INNER_")
    depth: int = Field(3, description="How deep.")


class _Outer(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTBUS_")
    token: SecretStr = Field(SecretStr("hunter2"), description="A secret.")
    inner: _Inner = Field(default_factory=_Inner)
    name: str = Field("x", description="A name " * 30)


def test_every_setting_is_listed_with_its_default_and_nested_prefix() -> None:
    text = settings_help(_Outer)
    assert "  AGENTBUS_TOKEN (default: (secret))" in text
    assert "hunter2" not in text
    assert "  AGENTBUS_INNER_DEPTH (default: 3)\n      How deep." in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_the_shared_settings_are_all_there() -> None:
    text = settings_help(AgentSettings)
    for name in Settings.model_fields:
        assert f"AGENTBUS_{name.upper()} (default:" in text
    assert "AGENTBUS_LLM_BACKEND (default: deterministic)" in text
    assert "AGENTBUS_AGENT_INBOX_URL" in text


def test_help_exits_0_and_other_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse_service_args("svc", "Does one thing.", [_Outer], ["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "Does one thing." in out
    assert "AGENTBUS_INNER_DEPTH" in out
    with pytest.raises(SystemExit) as done:
        parse_service_args("svc", "Does one thing.", [_Outer], ["--port", "1"])
    assert done.value.code == 2
    assert "unrecognized arguments: --port 1" in capsys.readouterr().err
    parse_service_args("svc", "Does one thing.", [_Outer], [])  # no arguments: run


def test_the_services_answer_help_without_touching_the_broker(capsys: pytest.CaptureFixture[str]) -> None:
    from services.agents.writer.agent import agent
    from services.guardrail.__main__ import main as guardrail_main
    from services.orchestrator.__main__ import main as orchestrator_main

    for run, expected in ((guardrail_main, ["AGENTBUS_GUARDRAIL_POLICY", "AGENTBUS_GUARDRAIL_SCANNER"]),
                          (orchestrator_main, ["AGENTBUS_SAGA_STORE_URL", "compensations"]),
                          (agent.run, ["task.writer.<action>", "'write'", "AGENTBUS_LLM_BACKEND"])):
        with pytest.raises(SystemExit) as done:
            run(["--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        for word in expected:
            assert word in out, (run, word)
