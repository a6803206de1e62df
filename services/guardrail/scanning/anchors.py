"""Where a rule pattern can start matching, so it is tried only there instead of at every position.

`finditer` tries a pattern at each position of the text; for the rule patterns (case-insensitive
alternations behind `\\b`, which `re` cannot skip ahead to) that costs 50-150 ns per character,
100-250 us per rule on a 1.5 KiB message, even when nothing matches. Most rule patterns can only
start with one of a few short literals (`ign`, `dis`, `you`...), one character before one (`\\w'`),
at a line start or at a digit. `anchors_of` reads those from the parsed pattern;
`anchored_finditer` finds their occurrences with `str.find` (C speed) and runs `pattern.match` at
each, in text order, skipping positions inside a match already found. Every position where the
pattern can match is among the candidates, so the leftmost match at or after each point is the
one `finditer` finds there: the matches are the same, spans and groups alike. Where there would
be too many candidates, `finditer` runs as before.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from services.guardrail.scanning.prefilter import ascii_table, ascii_translate

# The parser and constants of `re` itself (private, stable across 3.11-3.13), as in firstchar.py:
# the anchors are derived from exactly what `re` compiles.
_parser: Any = importlib.import_module("re._parser")
_compiler: Any = importlib.import_module("re._compiler")
c: Any = importlib.import_module("re._constants")

_REPEATS: Final = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
# Literals up to this long: three characters tell most words apart; longer ones multiply.
_LENGTH: Final = 3
# Beyond this many literals the searches cost more than they save.
_MAX_LITERALS: Final = 48
# A class of this many characters or fewer is spelled out as literals (`summari[sz]e`, `["']`).
_MAX_CLASS: Final = 12
# The only non-ASCII characters that `re` matches to ASCII ones without regard to case
# (dotted and dotless i, long s, Kelvin sign); tests/unit/guardrail/test_anchors.py checks
# this against every code point.
CASE_FOLDS_TO_ASCII: Final = ("\u0130", "\u0131", "\u017f", "\u212a")
# Text with more candidate positions than one per this many characters is left to `finditer`:
# each `match` call costs about as much as the engine's scan of that many characters.
_CHARS_PER_CANDIDATE: Final = 24
# Text shorter than this many characters per literal to search is left to `finditer` too: on
# average anchoring pays from about 16 characters per literal up, but with a wide spread (long
# base64 or hex tokens are cheap for `finditer`); from 32 up it never cost on the corpus.
_CHARS_PER_LITERAL: Final = 32
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
_DIGIT_SHAPE: Final = ascii_table(
    str.maketrans({chr(i): "1" if chr(i).isdigit() else " " for i in range(128)}))


@dataclass(frozen=True, slots=True)
class _Starts:
    # What a match can start with: a literal, a literal of word characters at a word start
    # (`bounded`, behind `\b`), a character then a literal (`after_one`), a line start, the text
    # start, any digit, or a digit not right after another one.
    literals: frozenset[str] = frozenset()
    bounded: frozenset[str] = frozenset()
    after_one: frozenset[str] = frozenset()
    line: bool = False
    origin: bool = False
    digit: bool = False
    digit_run: bool = False

    def __or__(self, other: _Starts) -> _Starts:
        return _Starts(self.literals | other.literals, self.bounded | other.bounded,
                       self.after_one | other.after_one, self.line or other.line,
                       self.origin or other.origin, self.digit or other.digit,
                       self.digit_run or other.digit_run)

    def all_literals(self) -> frozenset[str]:
        return self.literals | self.bounded

    def only_literals(self) -> bool:
        return not (self.after_one or self.line or self.origin or self.digit or self.digit_run)


@dataclass(frozen=True, slots=True)
class Anchors:
    """Where matches of a pattern can start (see `_Starts`), and whether case is ignored."""

    ignore_case: bool
    literals: tuple[str, ...]
    bounded: tuple[str, ...]
    after_one: tuple[str, ...]
    line: bool
    origin: bool
    digit: bool
    digit_run: bool
    # Shorter text is cheaper to leave to `finditer` than to search for all of the above.
    min_length: int = 0


def _fold(char: str, ignore_case: bool) -> str | None:
    # The character as it stands in the folded text; None for a non-ASCII one matched without
    # regard to case, which only `re`'s own tables can fold (a literal ends before it).
    if not ignore_case:
        return char
    return char.lower() if char.isascii() else None


def _class_chars(items: Any, ignore_case: bool) -> set[str] | None:
    # The characters of a small positive class, or None (categories, negations, large ranges).
    chars: set[str | None] = set()
    for op, av in items:
        if op is c.LITERAL:
            chars.add(_fold(chr(av), ignore_case))
        elif op is c.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.update(_fold(chr(code), ignore_case) for code in range(av[0], av[1] + 1))
        else:
            return None
    if None in chars or len(chars) > _MAX_CLASS:
        return None
    return {char for char in chars if char is not None}


_DIGIT_CLASS: Final = [(c.CATEGORY, c.CATEGORY_DIGIT)]
# The characters `\b` counts as word characters, as far as ASCII goes (in ASCII and Unicode mode).
_ASCII_WORD: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _excludes_digits(assertion: Any) -> bool:
    # `(?<![\w.])`, `(?<!\d)`: a one-character look-behind that no digit may satisfy
    # (`\w` holds every character `\d` does, in Unicode and in ASCII mode alike).
    direction, sub = assertion
    items = list(sub)
    if direction != -1 or len(items) != 1 or items[0][0] is not c.IN:
        return False
    return any(op is c.CATEGORY and av in (c.CATEGORY_WORD, c.CATEGORY_DIGIT)
               for op, av in items[0][1])


def _single_char(op: Any, av: Any) -> bool:
    # An item that always consumes exactly one character.
    return op in (c.ANY, c.LITERAL, c.NOT_LITERAL) or (op is c.IN and bool(av))


def _starts(items: list[Any], need: int, flags: int, first: bool = True) -> _Starts | None:
    """What every match of `items` (then anything) starts with; None when it may be anything.

    Literals are cut at `need` characters: a shorter prefix is still a necessary start. `first`
    says `items` begin the match (a one-character item then a literal anchors on the literal).
    """
    if need == 0:
        return _Starts(frozenset({""}))
    if not items:
        return None
    ignore_case = bool(flags & re.IGNORECASE)
    (op, av), rest = items[0], items[1:]
    if op is c.AT:
        if av is c.AT_BEGINNING_LINE or (av is c.AT_BEGINNING and flags & re.MULTILINE):
            return _Starts(line=True)
        if av is c.AT_BEGINNING or av is c.AT_BEGINNING_STRING:
            return _Starts(origin=True)
        after = _starts(rest, need, flags, first)
        if av is c.AT_BOUNDARY and after is not None:
            # A literal of word characters right after `\b` starts a word.
            words = frozenset(lit for lit in after.literals if lit[0] in _ASCII_WORD)
            after = _Starts(after.literals - words, after.bounded | words, after.after_one,
                            after.line, after.origin, after.digit, after.digit_run)
        return after  # `$`, `\B`...: they only narrow where
    if op is c.ASSERT_NOT and _excludes_digits(av):
        after = _starts(rest, need, flags, first)
        if after is not None and after.digit:
            # A digit that follows no digit: the first of its run.
            after = _Starts(after.literals, after.bounded, after.after_one, after.line,
                            after.origin, False, True)
        return after
    if op is c.ASSERT or op is c.ASSERT_NOT:
        return _starts(rest, need, flags, first)  # look-arounds only narrow where, too
    if op is c.IN and list(av) == _DIGIT_CLASS:
        return _Starts(digit=True)
    if op is c.LITERAL or op is c.IN:
        if op is c.LITERAL:
            folded = _fold(chr(av), ignore_case)
            chars = None if folded is None else {folded}
        else:
            chars = _class_chars(av, ignore_case)
        if chars is not None:
            tail = _starts(rest, need - 1, flags, first=False)
            tails = tail.all_literals() if tail is not None else frozenset()
            tails = tails or frozenset({""})
            # Anything but a literal after the character (`a^`, `a\d`): the literal ends there.
            if tail is not None and not tail.only_literals():
                tails = tails | {""}
            return _Starts(frozenset(ch + t for ch in chars for t in tails))
    if first and _single_char(op, av):
        # `\w'`, `[\s.]assistant`: any one character, then what follows anchors the match.
        tail = _starts(rest, need, flags, first=False)
        if tail is None or not tail.only_literals():
            return None
        return _Starts(after_one=tail.all_literals())
    if op is c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        return _starts(list(sub) + rest, need, flags, first)
    if op is c.BRANCH:
        found = _Starts()
        for alternative in av[1]:
            one = _starts(list(alternative) + rest, need, flags, first)
            if one is None:
                return None
            found = found | one
        return found
    if op in _REPEATS:
        low, high, sub = av
        if high == 1 and op is not c.POSSESSIVE_REPEAT:
            # `x?`: x then the rest, or the rest alone.
            once = _starts(list(sub) + rest, need, flags, first)
            if once is None:
                return None
            if low == 0:
                skipped = _starts(rest, need, flags, first)
                return None if skipped is None else once | skipped
            return once
        # A repeated body starts the match (the rest may follow a second round of it).
        body = _starts(list(sub), need, flags, first)
        if body is None or "" in body.all_literals() or "" in body.after_one:
            return None
        if low == 0:
            skipped = _starts(rest, need, flags, first)
            return None if skipped is None else body | skipped
        return body
    return None


def _few_first_chars(charset: Any) -> bool:
    # A class prefix `re` scans for in C (`['"`]`), not one that passes most characters (`\w`).
    return bool(charset) and all(op is c.LITERAL or (op is c.RANGE and av[1] - av[0] < _MAX_CLASS)
                                 for op, av in charset)


def anchors_of(pattern: re.Pattern[str]) -> Anchors | None:
    """The anchors of `pattern`, or None when it can start at too many places to list."""
    try:
        return _anchors_of(pattern)
    except Exception:
        # `re`'s private parser changed under us (another Python): the pattern runs unanchored,
        # which is slower but finds the same matches, rather than failing the import.
        return None


def _anchors_of(pattern: re.Pattern[str]) -> Anchors | None:
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except re.error:
        return None
    # Inline global flags (`(?i)`) are in the parsed state, not in `pattern.flags` alone.
    flags = pattern.flags | parsed.state.flags
    if _compiler._get_literal_prefix(parsed, flags)[0] or _few_first_chars(
            _compiler._get_charset_prefix(parsed, flags)):
        return None  # `re` skips ahead to a literal or a rare character itself, faster
    for need in range(_LENGTH, 0, -1):
        try:
            starts = _starts(list(parsed), need, flags)
        except RecursionError:
            return None
        if starts is None or "" in starts.all_literals() or "" in starts.after_one:
            return None
        literals = _shortest(starts.literals)
        # A word-start literal that extends a plain one adds nothing; one that extends another
        # word-start literal adds nothing either.
        bounded = tuple(lit for lit in _shortest(starts.bounded)
                        if not any(lit.startswith(other) for other in literals))
        after_one = _shortest(starts.after_one)
        searches = len(literals) + len(bounded) + len(after_one)
        if searches <= _MAX_LITERALS:
            searches += (starts.line or starts.origin) + (starts.digit or starts.digit_run)
            return Anchors(bool(flags & re.IGNORECASE), literals, bounded, after_one,
                           starts.line, starts.origin, starts.digit, starts.digit_run,
                           _CHARS_PER_LITERAL * searches)
    return None


def _shortest(literals: frozenset[str]) -> tuple[str, ...]:
    # A literal that extends another adds no position the shorter one misses.
    ordered = sorted(literals)
    return tuple(lit for lit in ordered
                 if not any(lit != other and lit.startswith(other) for other in ordered))


class AnchorText:
    """A text prepared for anchored matching: what every rule on it shares, computed once."""

    __slots__ = ("_digits", "_digits_known", "_folded", "_folded_known", "_lines", "limit",
                 "lower", "text")

    def __init__(self, text: str, lower: str) -> None:
        """`lower` is `text.lower()`."""
        self.text = text
        self.lower = lower
        # More candidates than this and `finditer` is cheaper (the same bound for every rule).
        self.limit = len(text) // _CHARS_PER_CANDIDATE + 4
        self._folded: str | None = None
        self._folded_known = False
        self._digits: list[tuple[int, int]] | None = None
        self._digits_known = False
        self._lines: list[int] | None = None

    def folded(self) -> str | None:
        """A same-length text where an ASCII literal occurs wherever `re` matches it regardless
        of case: the lower-cased text, other non-ASCII characters as `?` (they match no ASCII
        literal); None when a character that folds to ASCII (`İ`, `K`...) makes that untrue."""
        if not self._folded_known:
            text = self.text
            if text.isascii():
                self._folded = self.lower
            elif not any(map(text.__contains__, CASE_FOLDS_TO_ASCII)):
                self._folded = text.encode("ascii", "replace").decode("ascii").lower()
            self._folded_known = True
        return self._folded

    def digit_runs(self) -> list[tuple[int, int]] | None:
        """Spans of the runs of characters `\\d` matches, or None if some are not ASCII digits."""
        if not self._digits_known:
            self._digits_known = True
            text = self.text
            if not text.isascii() and any(m.group().isdecimal() for m in _NON_ASCII.finditer(text)):
                return None  # digits of another script: rare enough to leave to `finditer`
            # One C translation, then one search per run start and end (prose has few numbers).
            shape = ascii_translate(text, _DIGIT_SHAPE)
            runs = []
            i = shape.find("1")
            while i != -1:
                end = shape.find(" ", i)
                if end == -1:
                    end = len(shape)
                runs.append((i, end))
                i = shape.find("1", end)
            self._digits = runs
        return self._digits

    def line_starts(self) -> list[int]:
        """Positions where a line starts (0 and after each `\\n`)."""
        if self._lines is None:
            found = [0]
            i = self.text.find("\n")
            while i != -1:
                found.append(i + 1)
                i = self.text.find("\n", i + 1)
            self._lines = found
        return self._lines


def _find_all(text: str, literal: str, word_start: bool, limit: int) -> list[int] | None:
    found = []
    seen = 0
    i = text.find(literal)
    while i != -1:
        # Right after a word character, `\b` cannot hold before a word character.
        if not word_start or i == 0 or text[i - 1] not in _ASCII_WORD:
            found.append(i)
            if len(found) > limit:
                return None
        seen += 1
        if seen > 4 * limit:
            return None  # mostly word middles (a one-letter literal): not worth it
        i = text.find(literal, i + 1)
    return found


def _candidates(anchors: Anchors, at: AnchorText) -> list[int] | None:
    # Every position where a match can start (sorted), or None past `at.limit`.
    limit = at.limit
    found: list[int] = []
    if anchors.line:
        found.extend(at.line_starts())
    elif anchors.origin:
        found.append(0)
    if anchors.digit or anchors.digit_run:
        runs = at.digit_runs()
        if runs is None:
            return None
        if anchors.digit:
            for start, end in runs:
                found.extend(range(start, end))
        else:
            found.extend(start for start, _ in runs)
    if len(found) > limit:
        return None
    text = at.folded() if anchors.ignore_case else at.text
    if text is None:
        return None
    for literals, word_start, shift in ((anchors.literals, False, 0),
                                        (anchors.bounded, True, 0), (anchors.after_one, False, 1)):
        for literal in literals:
            positions = _find_all(text, literal, word_start, limit)
            if positions is None:
                return None
            found.extend(pos - shift for pos in positions if pos >= shift)
            if len(found) > limit:
                return None
    return sorted(set(found))


def anchored_finditer(pattern: re.Pattern[str], anchors: Anchors | None,
                      at: AnchorText) -> Iterable[re.Match[str]]:
    """`pattern.finditer(at.text)`, trying the pattern only at its anchors."""
    text = at.text
    if anchors is None or len(text) < anchors.min_length:
        return pattern.finditer(text)
    positions = _candidates(anchors, at)
    if positions is None:
        return pattern.finditer(text)
    return _matches_at(pattern, text, positions)


def _matches_at(pattern: re.Pattern[str], text: str, positions: list[int]) -> Iterator[re.Match[str]]:
    end = 0
    for pos in positions:
        if pos < end:
            continue  # inside the match already found, where `finditer` does not look either
        match = pattern.match(text, pos)
        if match is None:
            continue
        if match.end() == pos:
            # An empty match: `finditer` goes on from here with rules of its own.
            yield from pattern.finditer(text, pos)
            return
        yield match
        end = match.end()
