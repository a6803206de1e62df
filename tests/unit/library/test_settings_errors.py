"""An invalid AGENTBUS_* value stops a process with one line naming the variable, exit status 2."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentbus.agent.settings import AgentSettings
from agentbus.errors import ConfigurationError
from agentbus.settings import Settings, load_settings


class _TokenSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTBUS_TEST_")
    api_token: int = Field(0)


def test_the_variable_its_value_and_the_fix_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBUS_PREFETCH", "0")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(Settings)
    message = str(caught.value)
    assert "AGENTBUS_PREFETCH='0'" in message
    assert "greater than or equal to 1" in message
    assert "Fix or unset it" in message


def test_nested_llm_settings_are_named_with_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBUS_LLM_TIMEOUT_S", "-1")
    monkeypatch.setenv("AGENTBUS_LLM_BACKEND", "gpt9")
    with pytest.raises(ConfigurationError, match=r"AGENTBUS_LLM_(TIMEOUT_S|BACKEND)='"):
        load_settings(AgentSettings)


def test_values_of_secret_looking_variables_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBUS_TEST_API_TOKEN", "s3cr3t-value")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_TokenSettings)
    assert "AGENTBUS_TEST_API_TOKEN" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)


def test_services_agents_and_the_cli_exit_2_with_the_message(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from agentbus.agent.runner import run_agent
    from agentbus.cli.main import main as cli_main
    from services.agents.guardrail_standin.__main__ import main as standin_main
    from services.agents.writer.agent import agent
    from services.guardrail.__main__ import main as guardrail_main
    from services.orchestrator.__main__ import main as orchestrator_main

    monkeypatch.setenv("AGENTBUS_PREFETCH", "0")
    runs: list[Callable[[], int]] = [lambda: guardrail_main([]), lambda: orchestrator_main([]),
                                     lambda: run_agent(agent), lambda: cli_main(["agents"]), standin_main]
    for run in runs:
        assert run() == 2
        err = capsys.readouterr().err
        assert "AGENTBUS_PREFETCH='0'" in err
        assert "Traceback" not in err


def test_an_invalid_scanner_choice_stops_the_guardrail(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from services.guardrail.__main__ import main as guardrail_main

    monkeypatch.setenv("AGENTBUS_GUARDRAIL_SCANNER", "fast")
    assert guardrail_main([]) == 2
    assert "AGENTBUS_GUARDRAIL_SCANNER='fast'" in capsys.readouterr().err
