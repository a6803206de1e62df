"""The rule type every executable-payload detector is written in: a pattern guarded by literal hints."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from services.guardrail.scanning.anchors import Anchors, anchors_of
from services.guardrail.scanning.firstchar import gated

IGNORECASE: Final = re.IGNORECASE
STRONG: Final = 2
WEAK: Final = 1

# Hints are lower-case tokens (letters, digits, underscores, `$`) or, for punctuation, substrings.
# Every substring hint costs a scan of each text, so tokens are preferred wherever they can serve.
_WORD_HINT: Final = re.compile(r"^[a-z0-9_$]+$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One payload shape: its kind, its pattern, the hints it needs, and its weight."""

    name: str
    kind: str
    pattern: re.Pattern[str]
    # The rule runs only when the text has one of these tokens or contains one of these strings;
    # every match of the pattern necessarily contains one of them.
    words: frozenset[str]
    substrings: tuple[str, ...]
    weight: int = STRONG
    check: Callable[[re.Match[str]], bool] | None = None
    # Further hint groups that must all be present too (each: any of its words or substrings).
    requires: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = ()
    # For weak prompt-injection cues: what kind of cue it is (markup, policy talk, an action).
    group: str = ""
    # Where a match can start, so the pattern is tried only there (None: everywhere).
    anchors: Anchors | None = None


def split_hints(hints: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Hints split into word tokens and substrings (anything with punctuation)."""
    return (frozenset(h for h in hints if _WORD_HINT.match(h)),
            tuple(h for h in hints if not _WORD_HINT.match(h)))


def rule(name: str, kind: str, pattern: str, hints: tuple[str, ...], *, weight: int = STRONG,
         flags: int = IGNORECASE, check: Callable[[re.Match[str]], bool] | None = None,
         requires: tuple[tuple[str, ...], ...] = (), group: str = "") -> Rule:
    """A compiled rule; `hints` are lower-case tokens or substrings every match contains."""
    words, substrings = split_hints(hints)
    compiled = gated(pattern, flags)
    return Rule(name, kind, compiled, words, substrings, weight, check,
                tuple(split_hints(hint_group) for hint_group in requires), group,
                anchors_of(compiled))
