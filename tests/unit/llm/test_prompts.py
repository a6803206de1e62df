"""Prompt templates: rendering, missing variables, and loading prompts/<action>.txt."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentbus.llm import PromptTemplate, PromptTemplateError, load_prompt, load_prompts


def test_render_substitutes_named_variables_and_keeps_json_braces() -> None:
    template = PromptTemplate(
        'Research "$topic" for ${audience}s. Reply like {"notes": []}. Costs $$5.', name="research")
    assert template.variables == {"topic", "audience"}
    text = template.render({"topic": "tide pools"}, audience="student")
    assert text == 'Research "tide pools" for students. Reply like {"notes": []}. Costs $5.'


def test_missing_variables_are_all_listed() -> None:
    template = PromptTemplate("Write $title for $audience in $language.", name="write")
    with pytest.raises(PromptTemplateError) as caught:
        template.render(title="Tides")
    message = str(caught.value)
    assert "'write'" in message
    assert "['audience', 'language']" in message
    assert caught.value.retryable is False


def test_malformed_placeholder_is_refused_at_load() -> None:
    with pytest.raises(PromptTemplateError, match=r"\$\$"):
        PromptTemplate("Pay $5 for ${topic", name="bad")


def _agent_dir(root: Path) -> Path:
    prompts = root / "prompts"
    prompts.mkdir(parents=True)
    (prompts / "research.txt").write_text("Research $topic.\n", encoding="utf-8")
    (prompts / "discard_research.txt").write_text("Forget notes on $topic.\n", encoding="utf-8")
    (prompts / "README.md").write_text("not a prompt", encoding="utf-8")
    return root


def test_load_prompt_from_a_directory(tmp_path: Path) -> None:
    agent = _agent_dir(tmp_path / "researcher")
    template = load_prompt(agent, "research")
    assert template.render(topic="kelp") == "Research kelp.\n"
    assert template.name.endswith("research.txt")
    assert set(load_prompts(agent)) == {"research", "discard_research"}


def test_load_prompt_from_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _agent_dir(tmp_path / "fake_agent_pkg")
    (package / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_agent_pkg", raising=False)
    assert load_prompt("fake_agent_pkg", "discard_research").render(topic="kelp") == \
        "Forget notes on kelp.\n"
    import fake_agent_pkg  # type: ignore[import-not-found]

    assert load_prompt(fake_agent_pkg, "research").variables == {"topic"}


def test_unknown_action_lists_what_exists(tmp_path: Path) -> None:
    agent = _agent_dir(tmp_path / "researcher")
    with pytest.raises(PromptTemplateError) as caught:
        load_prompt(agent, "publish")
    assert "['discard_research', 'research']" in str(caught.value)


def test_action_names_cannot_escape_the_prompts_directory(tmp_path: Path) -> None:
    agent = _agent_dir(tmp_path / "researcher")
    with pytest.raises(PromptTemplateError, match="lower_snake_case"):
        load_prompt(agent, "../secrets")


def test_unknown_package_is_a_clear_error() -> None:
    with pytest.raises(PromptTemplateError, match="cannot locate package"):
        load_prompt("no_such_agent_package_xyz", "research")
