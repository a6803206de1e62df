"""A look-ahead of the characters a pattern can start with, so the regex engine skips other positions.

Python's `re` tries a pattern at every position; a pattern that opens with `\\b(?:end|ignore)|...`
costs a branch attempt per alternative at each of them. `(?=[eibp<])(?:...)` fails in one class
test wherever no match can start, which finds the same matches (same spans and groups) several
times faster. Patterns `re` already finds by a literal or class prefix are left alone, and so are
those with fewer than three possible first characters, where the look-ahead does not pay.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Final

# The parser and the prefix analysis of `re` itself (private, stable across 3.11-3.13), so the
# look-ahead is derived from exactly what `re` compiles.
_parser: Any = importlib.import_module("re._parser")
_compiler: Any = importlib.import_module("re._compiler")
c: Any = importlib.import_module("re._constants")

_CATEGORIES: Final = {
    c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D", c.CATEGORY_SPACE: r"\s",
    c.CATEGORY_NOT_SPACE: r"\S", c.CATEGORY_WORD: r"\w", c.CATEGORY_NOT_WORD: r"\W",
}
_ZERO_WIDTH: Final = (c.AT, c.ASSERT, c.ASSERT_NOT)
_REPEATS: Final = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
# With fewer distinct first characters, or a whole range of them, the look-ahead costs more at
# each position than the `\b` it saves (measured on the dev corpus).
_MIN_FIRST_CHARS: Final = 3
# A class holding white space or most of the alphabet passes nearly every word start: no gain.
_MAX_FIRST_CHARS: Final = 12
_SPACES: Final = frozenset(f"\\u{ord(ch):04x}" for ch in " \t\n\r\f\v")


def _char(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _first(items: Any) -> tuple[list[str], bool] | None:
    # The class pieces a match of `items` can start with, and whether `items` can match empty;
    # None when that is not simple to state (a negated class, any character, a flag change...).
    pieces: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            return [*pieces, _char(av)], False
        if op is c.IN:
            for in_op, in_av in av:
                if in_op is c.LITERAL:
                    pieces.append(_char(in_av))
                elif in_op is c.RANGE:
                    pieces.append(f"{_char(in_av[0])}-{_char(in_av[1])}")
                elif in_op is c.CATEGORY and in_av in _CATEGORIES:
                    pieces.append(_CATEGORIES[in_av])
                else:
                    return None
            return pieces, False
        if op in _ZERO_WIDTH:
            continue  # an assertion only narrows where a match starts
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                return None
            found = _first(sub)
        elif op is c.ATOMIC_GROUP:
            found = _first(av)
        elif op is c.BRANCH:
            found = None
            branch_pieces: list[str] = []
            nullable = False
            for alternative in av[1]:
                one = _first(alternative)
                if one is None:
                    return None
                branch_pieces.extend(one[0])
                nullable = nullable or one[1]
            found = (branch_pieces, nullable)
        elif op in _REPEATS:
            low, _high, sub = av
            inner = _first(sub)
            found = None if inner is None else (inner[0], inner[1] or low == 0)
        else:
            return None
        if found is None:
            return None
        pieces.extend(found[0])
        if not found[1]:
            return pieces, False
    return pieces, True


def gated(pattern: str, flags: int) -> re.Pattern[str]:
    """`pattern` compiled, behind a look-ahead of its possible first characters when that helps."""
    compiled = re.compile(pattern, flags)
    try:
        parsed = _parser.parse(pattern, flags)
        items = list(parsed)
        if (not items or flags & re.VERBOSE or _compiler._get_charset_prefix(parsed, flags)
                or _compiler._get_literal_prefix(parsed, flags)[0]):
            return compiled  # `re` already jumps to a literal or class prefix
        first = _first(items)
    except Exception:
        return compiled
    if first is None or first[1]:
        return compiled
    pieces = list(dict.fromkeys(first[0]))
    if (not _MIN_FIRST_CHARS <= len(pieces) <= _MAX_FIRST_CHARS
            or any(len(p) != 6 or p in _SPACES for p in pieces)):
        return compiled  # ranges, categories, spaces, too few or too many: not worth it
    return re.compile(f"(?=[{''.join(pieces)}])(?:{pattern})", flags)
