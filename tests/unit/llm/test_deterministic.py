"""The deterministic backend: repeatable, input-dependent, structured and plausible."""

from __future__ import annotations

import json

import pytest

from agentbus.llm import (
    ChatMessage,
    CompletionRequest,
    DeterministicBackend,
    LLMBackend,
    LLMSettings,
    create_backend,
)


def ask(text: str, *keys: str, system: str = "You are a helpful agent.") -> CompletionRequest:
    return CompletionRequest(messages=(ChatMessage.user(text),), system=system,
                             expected_keys=keys, agent="researcher")


async def test_same_input_same_output_across_instances() -> None:
    req = ask("Research the topic: urban beekeeping and pollinator health", "title", "notes")
    first = await DeterministicBackend().complete(req)
    second = await DeterministicBackend().complete(req)
    assert first == second


async def test_different_input_different_output() -> None:
    backend = DeterministicBackend()
    a = await backend.complete(ask("Research quantum computing for logistics", "title", "summary"))
    b = await backend.complete(ask("Research coral reef restoration", "title", "summary"))
    assert a.data is not None
    assert b.data is not None
    assert a.data["title"] != b.data["title"]
    assert a.data["summary"] != b.data["summary"]
    plain_a = await backend.complete(ask("tell me about tide pools"))
    plain_b = await backend.complete(ask("tell me about glaciers"))
    assert plain_a.text != plain_b.text


async def test_structured_output_has_every_key_with_a_sensible_type() -> None:
    keys = ("title", "summary", "notes", "sources", "body", "tags", "word_count", "confidence",
            "url")
    completion = await DeterministicBackend().complete(
        ask("Write an article on urban beekeeping and pollinator health", *keys))
    data = completion.data
    assert data is not None
    assert list(data) == list(keys)
    assert json.loads(completion.text) == data
    assert isinstance(data["title"], str)
    assert data["title"][0].isupper()
    assert "Beekeeping" in data["title"] or "Pollinator" in data["title"]
    assert "beekeeping" in data["summary"] or "pollinator" in data["summary"]
    assert isinstance(data["notes"], list)
    assert 3 <= len(data["notes"]) <= 5
    assert all(isinstance(n, str) and n.endswith((".", "?")) for n in data["notes"])
    assert all("https://" in s for s in data["sources"])
    assert data["body"].count("\n\n") >= 2  # paragraphs, not a single line
    assert "urban beekeeping" in data["tags"]
    assert isinstance(data["word_count"], int)
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["url"].startswith("https://")


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("def login(pw):\n    # TODO check\n    return eval(pw) == password", "REQUEST_CHANGES"),
        ("import pickle\nobj = pickle.loads(blob)", "REQUEST_CHANGES"),
    ],
)
async def test_reviewer_verdict_flags_risky_code(code: str, verdict: str) -> None:
    completion = await DeterministicBackend().complete(
        ask(code, "verdict", "comments", "severity", "rationale"))
    data = completion.data
    assert data is not None
    assert data["verdict"] == verdict
    assert data["severity"] == "high"
    assert data["rationale"].startswith("Changes requested")
    assert any("`eval`" in c or "unpickle" in c for c in data["comments"])


async def test_verdicts_are_mostly_approvals_for_clean_code() -> None:
    backend = DeterministicBackend()
    verdicts = []
    for i in range(20):
        done = await backend.complete(ask(f"def add_{i}(a, b):\n    return a + b", "verdict"))
        assert done.data is not None
        verdicts.append(done.data["verdict"])
    assert set(verdicts) <= {"APPROVE", "REQUEST_CHANGES"}
    assert verdicts.count("APPROVE") >= 12


async def test_usage_is_estimated_from_the_text() -> None:
    req = ask("a" * 400)
    completion = await DeterministicBackend().complete(req)
    assert completion.usage.prompt_tokens == (len(req.prompt_text()) + 3) // 4
    assert completion.usage.completion_tokens == (len(completion.text) + 3) // 4
    assert completion.backend == "deterministic"


async def test_text_mode_respects_max_tokens() -> None:
    req = CompletionRequest(messages=(ChatMessage.user("explain tide pools"),), max_tokens=10)
    completion = await DeterministicBackend().complete(req)
    assert completion.data is None
    assert len(completion.text) <= 40
    assert completion.finish_reason == "length"


async def test_json_output_without_keys_gives_a_default_object() -> None:
    req = CompletionRequest(messages=(ChatMessage.user("glaciers"),), json_output=True)
    completion = await DeterministicBackend().complete(req)
    assert completion.data is not None
    assert set(completion.data) == {"title", "summary", "points"}


async def test_factory_builds_the_deterministic_backend_by_default() -> None:
    backend = create_backend(LLMSettings(), agent="writer")
    assert isinstance(backend, LLMBackend)
    assert backend.name == "deterministic"
    async with backend:
        completion = await backend.complete(ask("write about rivers", "title"))
    assert completion.data is not None
    assert "Rivers" in completion.data["title"]
