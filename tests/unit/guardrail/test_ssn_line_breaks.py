"""US SSNs pasted with a line break inside a group or before a separator."""

from __future__ import annotations

import pytest

from tests.unit.guardrail.helpers import pii


@pytest.mark.parametrize(("text", "value"), [
    ("Applicant SSN 532-71\n-4408 on the form", "532-71\n-4408"),
    ("W-2 shows 287-4\n1-6630 for the contractor", "287-4\n1-6630"),
    ("Social security number: 61\n8-20-3397", "61\n8-20-3397"),
    ("Copied from the PDF: 404-39-81\n27 (check)", "404-39-81\n27"),
    ("Wrapped: 733.\n14.5082", "733.\n14.5082"),
])
def test_ssn_split_by_a_line_break(text: str, value: str) -> None:
    assert pii(text) == [("US_SSN", value)]


@pytest.mark.parametrize("text", [
    "Never issued: 666-21\n-4409 and 912-4\n4-1234",      # area 666 and 9xx
    "Group zero: 532-0\n0-4408",
    "Rows:\n53\n271\n4408",                                 # digits on separate lines, no dashes
    "Ranges 12-34\n56-78 and 3-4\n5-6",
])
def test_not_an_ssn(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "US_SSN"] == []
