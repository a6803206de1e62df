"""Typed placeholders (`[EMAIL_1]`, `[PHONE_2]`), stable within one message, and their application."""

from __future__ import annotations

from collections.abc import Sequence


class Placeholders:
    """Numbers values per type in order of appearance; the same value gets the same placeholder."""

    __slots__ = ("_counts", "_seen")

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def for_value(self, type_: str, value: str) -> str:
        """The placeholder of `value` (a canonical form: digits only, lower-cased e-mail...)."""
        key = (type_, value)
        placeholder = self._seen.get(key)
        if placeholder is None:
            number = self._counts.get(type_, 0) + 1
            self._counts[type_] = number
            placeholder = f"[{type_.upper()}_{number}]"
            self._seen[key] = placeholder
        return placeholder


def apply_redactions(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """Replace non-overlapping `(start, end, placeholder)` spans of `text`."""
    if not spans:
        return text
    pieces = []
    last = 0
    for start, end, placeholder in sorted(spans):
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
