"""`${...}` references: whole values keep their structure, embedded ones become text."""

from __future__ import annotations

from typing import Any

import pytest

from services.orchestrator.errors import UnresolvedReferenceError
from services.orchestrator.references import find_references, resolve

CONTEXT: dict[str, Any] = {
    "saga": {"id": "s1", "type": "demo", "input": {"topic": "otters", "count": 3.0,
                                                    "tags": ["a", "b"]}},
    "steps": {"research": {"input": {}, "output": {"notes": ["n1", "n2"], "meta": {"k": 1}}},
              "write": {"input": None, "output": None}},
}


def test_whole_value_reference_keeps_structure() -> None:
    assert resolve("${steps.research.output}", CONTEXT) == {"notes": ["n1", "n2"],
                                                             "meta": {"k": 1}}
    assert resolve({"notes": "${steps.research.output.notes}"}, CONTEXT) == {
        "notes": ["n1", "n2"]}
    assert resolve(["${saga.input.tags.1}"], CONTEXT) == ["b"]


def test_embedded_references_render_as_text() -> None:
    assert resolve("About ${saga.input.topic} (${saga.input.count} of them), "
                   "tags ${saga.input.tags}", CONTEXT) == 'About otters (3 of them), tags ["a", "b"]'


def test_resolution_copies_values() -> None:
    out = resolve("${steps.research.output.notes}", CONTEXT)
    out.append("mutated")
    assert CONTEXT["steps"]["research"]["output"]["notes"] == ["n1", "n2"]


def test_escape_writes_a_literal_reference() -> None:
    assert resolve("cost: $${price}", CONTEXT) == "cost: ${price}"
    assert list(find_references("cost: $${price}")) == []


def test_non_string_values_pass_through() -> None:
    assert resolve({"n": 1, "ok": True, "none": None}, CONTEXT) == {"n": 1, "ok": True,
                                                                     "none": None}


@pytest.mark.parametrize(("template", "message"), [
    ("${saga.input.subject}", "${saga.input.subject}: saga.input has no key 'subject' "
                              "(it has: count, tags, topic)"),
    ("${saga.input.tags.5}", "index 5 is out of range (the list has 2 items)"),
    ("${steps.write.output.draft}", "steps.write.output is null (the step produced no output?)"),
    ("${saga.input.topic.x}", "cannot take 'x' of a str"),
])
def test_unresolved_references_say_what_is_missing(template: str, message: str) -> None:
    with pytest.raises(UnresolvedReferenceError) as caught:
        resolve(template, CONTEXT)
    assert message in str(caught.value)


def test_find_references_walks_nested_templates() -> None:
    found = [r.parts for r in find_references(
        {"a": ["${saga.input.x}", {"b": "x ${steps.s.output.y} ${saga.id}"}]})]
    assert found == [("saga", "input", "x"), ("steps", "s", "output", "y"), ("saga", "id")]


def test_optional_reference_is_null_when_missing_and_the_value_when_present() -> None:
    context = {"saga": {"input": {"topic": "otters", "note": {"a": 1}}}}
    template = {"note": "${saga.input.note?}", "missing": "${saga.input.footer?}",
                "text": "see ${saga.input.footer?}!", "topic": "${saga.input.topic}",
                "listed": ["${saga.input.footer?}"]}
    assert resolve(template, context) == {"note": {"a": 1}, "text": "see !", "topic": "otters",
                                          "listed": [None]}
    assert resolve("${saga.input.footer?}", context) is None


def test_a_required_reference_still_fails_when_missing() -> None:
    with pytest.raises(UnresolvedReferenceError, match="has no key 'footer'"):
        resolve({"x": "${saga.input.footer}"}, {"saga": {"input": {}}})
