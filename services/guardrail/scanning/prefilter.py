"""Exact prefilters: C-level string searches that prove a hint or a pattern cannot occur in a text.

A regex scan costs tens of nanoseconds per position, so a full scan of a 1 KiB message costs
10-40 us whatever the pattern; most detectors find nothing in clean prose. The helpers here answer
"can there be a match at all?" with `str.find`, `in` and `str.translate`, which run at memory
speed, and never change what the scan that follows them finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final, Generic, TypeVar

# Characters from most to least frequent in English prose; anything not listed (`@`, `<`, `|`,
# `#`, `=`...) counts as rarer than all of them.
_FREQUENT: Final = " etaoinsrhldcumfpgwybvkxjqz,.ETAOINSRHLDCUMFPGWYBVKXJQZ0123456789-'\":()/\n"

T = TypeVar("T")


def ascii_table(mapping: dict[int, str]) -> bytes:
    """A `bytes.translate` table for `ascii_translate` from a `str.maketrans` table of ASCII.

    Every ASCII character must map to one ASCII character (absent ones map to themselves).
    """
    out = bytearray(range(256))
    for code, new in mapping.items():
        if not (0 <= code < 128 and len(new) == 1 and new.isascii()):
            raise ValueError("ASCII characters mapped to one ASCII character each")
        out[code] = ord(new)
    return bytes(out)


def ascii_translate(text: str, table: bytes) -> str:
    """`text` translated by an `ascii_table`, every non-ASCII character first replaced by `?`.

    The result has the text's length and offsets; for classes of ASCII characters only (and not
    `?`) it answers as the text would. `str.translate` looks each character up in a dict (~20 ns a
    character); `bytes.translate` indexes a 256-byte table in C, ~4x faster on a short message.
    """
    return text.encode("ascii", "replace").translate(table).decode("ascii")


def rarest_char(literal: str) -> str:
    """The character of `literal` least likely to occur in prose (a hint's cheapest witness)."""
    return max(literal, key=lambda c: _FREQUENT.find(c) if c in _FREQUENT else len(_FREQUENT))


class KeyedLiterals(Generic[T]):
    """Literals grouped under their rarest character, each with a payload.

    A literal can only occur in a text that contains each of its characters, so a group is
    skipped when a one-character search (a `memchr`, far cheaper than a substring search) does
    not find its key: what `present` yields is exactly what testing every literal would give.
    """

    __slots__ = ("_groups",)

    def __init__(self, items: Iterable[tuple[str, T]]) -> None:
        groups: dict[str, list[tuple[str, T]]] = {}
        for literal, payload in items:
            if not literal:
                raise ValueError("an empty literal occurs everywhere: nothing to key it by")
            groups.setdefault(rarest_char(literal), []).append((literal, payload))
        self._groups = tuple((key, tuple(group)) for key, group in groups.items())

    def present(self, text: str) -> Iterator[T]:
        """The payloads of the literals that occur in `text` (grouped by key, not in input order)."""
        for key, group in self._groups:
            if key in text:
                for literal, payload in group:
                    if literal in text:
                        yield payload


class Literals:
    """A set of literal hints; `any_in(text)` is `any(h in text for h in hints)`, faster."""

    __slots__ = ("_keyed",)

    def __init__(self, hints: Iterable[str]) -> None:
        self._keyed = KeyedLiterals((hint, True) for hint in hints)

    def any_in(self, text: str) -> bool:
        """Whether any of the hints occurs in `text`."""
        return next(self._keyed.present(text), False)


class RunShape:
    """Where runs of at least `length` characters from an ASCII class can be, found in C.

    `str.translate` maps a text to a shape string, `a` for each class character and a
    space for every other one (non-ASCII characters are never in the class: they are replaced by
    `?` first), where `str.find` locates the first run of `length` by a substring search: shape
    position `i` starts such a run exactly when text position `i` does.
    """

    __slots__ = ("_needle", "_table")

    def __init__(self, chars: str, length: int) -> None:
        if not chars.isascii() or "?" in chars or length < 1:
            raise ValueError("an ASCII class without `?`, and a positive length")
        self._table = ascii_table(
            str.maketrans({chr(i): "a" if chr(i) in chars else " " for i in range(128)}))
        self._needle = "a" * length

    def shape(self, text: str) -> str:
        """The shape of `text`: `a` where a class character is, a space elsewhere."""
        return ascii_translate(text, self._table)

    def find(self, shape: str, start: int = 0) -> int:
        """The first run start at or after `start` (-1 if none): `start` may lie inside a run."""
        return shape.find(self._needle, start)

    def has_run(self, text: str) -> bool:
        """Whether `text` has a run of `length` class characters."""
        return self._needle in self.shape(text)


def leftmost_runs(pattern: re.Pattern[str], runs: RunShape, text: str) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)` for a pattern whose matches all start with a run `runs` finds.

    The caller guarantees that every match of `pattern` begins with `length` class characters
    and that `pattern` matches wherever such a run begins (no anchors or look-behinds): then the
    leftmost match at or after a position is the one at the first run there, so jumping from run
    to run finds the same matches as the regex engine trying every position.
    """
    shape = runs.shape(text)
    last = 0
    pos = runs.find(shape)
    while pos != -1:
        match = pattern.match(text, pos)
        if match is None or match.end() == pos:
            # Not the pattern the caller promised: let the engine go on from the last match.
            yield from pattern.finditer(text, last)
            return
        yield match
        last = match.end()
        pos = runs.find(shape, last)
