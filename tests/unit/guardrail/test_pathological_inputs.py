"""Inputs built to make a regular expression backtrack forever must not stall the guardrail.

One message that takes seconds to scan stops every task behind it, so these are denial-of-service
tests: each input took 14 s to minutes before the phone candidate's digit groups became possessive.
"""

from __future__ import annotations

import random
import re

import pytest

from services.guardrail.scanning import phones
from tests.unit.guardrail.helpers import pii

# Digit runs that can be cut into groups in many ways, then a character that makes the final
# lookahead fail, so a backtracking matcher retries every cut.
PATHOLOGICAL = [
    "ref 703959494-970698449858-33333333-b5d",
    "ref 703959494-970698449858-3333333333-b5d",
    "token 12345678901234567890123456789012345678-x",
    "id 999999999999.888888888888.77777777777777_a",
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", PATHOLOGICAL)
def test_digit_runs_do_not_backtrack_for_ever(text: str) -> None:
    # None of these is a phone number: each digit run is glued to letters or too long.
    assert [t for t, _ in pii(text) if t == "PHONE"] == []


def test_possessive_groups_find_what_the_backtracking_pattern_finds() -> None:
    # The plain pattern (digit groups that give digits back) is the specification; on short
    # strings it is fast enough to compare against.
    reference = re.compile(phones._CANDIDATE.pattern.replace(r"\d{1,6}+", r"\d{1,6}"),
                           phones._CANDIDATE.flags)
    assert reference.pattern != phones._CANDIDATE.pattern
    rnd = random.Random(20261121)
    alphabet = "0123456789" * 3 + " -./()+\n"
    compared = 0
    for _ in range(4000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(4, 18)))
        expected = [(m.span(), m.group()) for m in reference.finditer(text)]
        assert [(m.span(), m.group()) for m in phones._CANDIDATE.finditer(text)] == expected, text
        compared += bool(expected)
    assert compared > 1000  # the sample really exercises matches, not only misses
