"""Where the numbers are: one scan for digit clusters, so number detectors look only there.

A cluster is a run of digits joined by at most four separator characters (spaces, line breaks,
hyphens, dots, slashes, brackets). Card, SSN, IPv4 and phone detectors run their patterns on a
small window around each cluster long enough to hold their shortest value, instead of scanning
the whole text four times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

_CLUSTER: Final = re.compile(r"\d(?:[ \t\-./()\[\]{}\n]{0,4}\d)*")
# Context a pattern may need around a cluster: a leading `+` or `(` and a trailing look-ahead.
_BEFORE: Final = 3
_AFTER: Final = 3

Clusters = Sequence[tuple[int, int]]


def digit_clusters(text: str, *, min_length: int = 2) -> list[tuple[int, int]]:
    """Spans of the digit clusters of `text` that are at least `min_length` characters long."""
    # A cluster starts with a digit; in ASCII text the only ones `\d` knows are 0-9, which ten
    # one-character searches rule out far faster than the regex's scan of every position.
    if text.isascii() and not any(map(text.__contains__, "0123456789")):
        return []
    return [m.span() for m in _CLUSTER.finditer(text) if m.end() - m.start() >= min_length]


def windows(text: str, clusters: Clusters | None, min_length: int) -> Iterator[tuple[int, int]]:
    """`(pos, endpos)` windows around clusters at least `min_length` long (all text if None)."""
    if clusters is None:
        yield 0, len(text)
        return
    n = len(text)
    for start, end in clusters:
        if end - start >= min_length:
            yield max(0, start - _BEFORE), min(n, end + _AFTER)
