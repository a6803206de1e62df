"""Normalise text before scanning and map offsets in the normalised text back to the original.

Each non-ASCII character is replaced by its NFKC form, with invisible characters (zero-width,
bidi controls, soft hyphens, variation selectors) removed, Cyrillic/Greek lookalikes folded to the
Latin letters they imitate, and typographic dashes, quotes and spaces made ASCII. Detectors then
see `exаmple` (Cyrillic а) as `example` and `５５５` as `555`.

Normalisation is per character, so the offset map is a short list of replacements; ASCII text (the
common case) costs one `isascii()` and maps offsets to themselves. Spelled-out separators
(`[at]`, ` dot `) and digits split by spaces or line breaks are left to the detectors, which accept
them inside the values they match.
"""

from __future__ import annotations

import re
import string
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from itertools import filterfalse
from typing import Final

from services.guardrail.scanning.prefilter import ascii_table, ascii_translate

# Letters that render like Latin ones; NFKC leaves them alone because they are real letters of
# other scripts. Only letters that are near-identical in common fonts are listed, so that text
# written in those scripts still reads as text (detection only ever sees the folded copy).
_HOMOGLYPHS: Final[dict[str, str]] = {
    # Cyrillic, lower case
    "а": "a", "е": "e", "ё": "e", "к": "k", "о": "o", "р": "p", "с": "c", "у": "y",
    "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w",
    "ү": "y", "ӏ": "l", "ɡ": "g", "т": "t", "м": "m",
    # Cyrillic, upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "К": "K",
    "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y",
    "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "Ԁ": "D",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "α": "a", "ο": "o", "ρ": "p", "ν": "v",
    "ι": "i", "κ": "k", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ε": "e",
    # Latin and Armenian lookalikes
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "օ": "o", "ս": "u", "ց": "g", "ᴠ": "v",
    # Typography that hides ASCII punctuation from patterns
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\ufe63": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2028": "\n", "\u2029": "\n", "\u0085": "\n",
}

_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]+")


def _is_invisible(char: str) -> bool:
    code = ord(char)
    return (unicodedata.category(char) == "Cf"          # zero-width, bidi, soft hyphen, BOM...
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF  # variation selectors
            or code in (0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0))  # grapheme joiner, fillers


def fold_char(char: str) -> str:
    """The normalised form of one character ("" for an invisible one)."""
    if char in _HOMOGLYPHS:
        return _HOMOGLYPHS[char]
    if _is_invisible(char):
        return ""
    nfkc = unicodedata.normalize("NFKC", char)
    return "".join(_HOMOGLYPHS.get(c, c) for c in nfkc if not _is_invisible(c))


class _FoldCache(dict[str, str]):
    # A bounded memo: real traffic reuses a few hundred distinct non-ASCII characters.
    def __missing__(self, char: str) -> str:
        folded = fold_char(char)
        if len(self) < 65_536:
            self[char] = folded
        return folded


_FOLD: Final = _FoldCache()


class OffsetMap:
    """A text derived from an original by replacing some pieces, and the map back to the original."""

    __slots__ = (
        "_norm_lengths",
        "_norm_starts",
        "_orig_lengths",
        "_orig_starts",
        "original",
        "text",
    )

    def __init__(self, original: str,
                 replacements: list[tuple[int, int, str]] | None = None) -> None:
        """Apply `(start, end, new_text)` replacements (sorted, disjoint) to `original`."""
        self.original = original
        # Per replacement: where it starts in the derived text and how long it is there, where
        # the piece it replaced starts in the original and how long that piece was.
        self._norm_starts: list[int] = []
        self._norm_lengths: list[int] = []
        self._orig_starts: list[int] = []
        self._orig_lengths: list[int] = []
        if not replacements:
            self.text = original
            return
        pieces: list[str] = []
        last = 0
        norm_pos = 0
        for start, end, new in replacements:
            pieces.append(original[last:start])
            norm_pos += start - last
            pieces.append(new)
            self._norm_starts.append(norm_pos)
            self._norm_lengths.append(len(new))
            self._orig_starts.append(start)
            self._orig_lengths.append(end - start)
            norm_pos += len(new)
            last = end
        pieces.append(original[last:])
        self.text = "".join(pieces)

    @property
    def changed(self) -> bool:
        """True when anything was replaced."""
        return bool(self._norm_starts)

    def _piece(self, pos: int) -> tuple[int, int]:
        # The original piece [start, end) that produced derived character `pos`.
        i = bisect_right(self._norm_starts, pos) - 1
        if i < 0:
            return pos, pos + 1
        norm_start = self._norm_starts[i]
        orig_start = self._orig_starts[i]
        if pos < norm_start + self._norm_lengths[i]:
            return orig_start, orig_start + self._orig_lengths[i]
        orig = orig_start + self._orig_lengths[i] + (pos - norm_start - self._norm_lengths[i])
        return orig, orig + 1

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the derived text to the original text."""
        if not self._norm_starts:
            return start, end
        if end <= start:
            pos = self._piece(start)[0] if start < len(self.text) else len(self.original)
            return pos, pos
        return self._piece(start)[0], self._piece(end - 1)[1]


class NormalizedText(OffsetMap):
    """A normalised copy of a text and the map from its offsets back to the original's."""

    __slots__ = ()

    def __init__(self, original: str) -> None:
        if original.isascii():
            super().__init__(original)
            return
        replacements = []
        fold = _FOLD
        for match in _NON_ASCII.finditer(original):
            run_start = match.start()
            for offset, char in enumerate(match.group()):
                folded = fold[char]
                if folded != char:
                    pos = run_start + offset
                    replacements.append((pos, pos + 1, folded))
        super().__init__(original, replacements)


def normalize(text: str) -> NormalizedText:
    """Normalise a text for scanning; see the module docstring for what changes."""
    return NormalizedText(text)


# --- a lossy word-level view for phrase detectors ---------------------------------------------

# `i g n o r e`, `i.g.n.o.r.e`: letters separated by single spacers.
_SPACED_LETTERS: Final = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z][ .\-_*]){3,}[A-Za-z](?![A-Za-z0-9])")
# `1gn0r3 pr3v10us`, `$ystem`: digits and dollars standing in for letters inside words.
_LEET_TOKEN: Final = re.compile(r"(?<![A-Za-z0-9$])[A-Za-z0-9$]*[013457$][A-Za-z0-9$]*")
_LEET: Final = str.maketrans("013457$", "oieasts")
_LEET_CHARS: Final = frozenset("013457$")
_SINGLE_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_WORD_TOKEN: Final = re.compile(r"[a-z0-9_$]+")
# The two scans above try every position (a look-behind first), 50-100 us on a 1.5 KiB message,
# though prose has a leet word ("3rd", "4xx") far more often than a leet sentence. Shapes of the
# text (ASCII letters `L`, spacers `s`, the rest `o`; leet characters `b`, other letters and
# digits `a`, the rest space) let both jump to where a match can begin.
_SPACING_SHAPE: Final = ascii_table(str.maketrans(
    {chr(i): "L" if chr(i).isalpha() else "s" if chr(i) in " .-_*" else "o" for i in range(128)}))
_SPACED_START: Final = "LsLsLsL"  # how every _SPACED_LETTERS match begins
_LEET_SHAPE: Final = ascii_table(str.maketrans(
    {chr(i): "b" if chr(i) in "013457$" else "a" if chr(i).isalnum() else " " for i in range(128)}))


def _spaced_letters(text: str) -> Iterator[re.Match[str]]:
    # `_SPACED_LETTERS.finditer(text)`, tried only where a match can start: four letters with a
    # spacer after each of the first three. Non-ASCII characters are none of those (`?` is `o`).
    shape = ascii_translate(text, _SPACING_SHAPE)
    end = 0
    i = shape.find(_SPACED_START)
    while i != -1:
        match = _SPACED_LETTERS.match(text, i)
        if match is not None:
            yield match
            end = match.end()
        i = shape.find(_SPACED_START, max(i + 1, end))


def _leet_runs(text: str) -> Iterator[re.Match[str]]:
    # `_LEET_TOKEN.finditer(text)`: its look-behind keeps a match at the start of a run of
    # `[A-Za-z0-9$]` and its stars take the whole run, so each match is a whole run that holds
    # a leet character. Jump from a leet character to the start of its run, then past its end.
    shape = ascii_translate(text, _LEET_SHAPE)
    end = 0
    i = shape.find("b")
    while i != -1:
        match = _LEET_TOKEN.match(text, shape.rfind(" ", 0, i) + 1)
        if match is None:
            # Not a run start after all (cannot happen): let the engine go on from here.
            yield from _LEET_TOKEN.finditer(text, end)
            return
        yield match
        end = match.end()
        i = shape.find("b", end)


def _is_leet(token: str) -> bool:
    if not token.strip(string.hexdigits):
        return False  # hashes and ids
    leet = [i for i, c in enumerate(token) if not c.isalpha()]
    if len(token) - len(leet) < 2 or not leet or not _LEET_CHARS.issuperset(
            [token[i] for i in leet]):
        return False
    # `python3`, `ipv4`: one trailing digit is a name, not a disguise.
    return len(leet) >= 2 or leet[0] < len(token) - 1


_LEET_MODE: Final = 2


def _is_leet_in_leet_text(token: str) -> bool:
    # Letters and leet digits only, at least one leet digit (`m3`, `45`, `c450`).
    return (len(token) >= 2 and any(c in _LEET_CHARS for c in token)
            and all(c.isalpha() or c in _LEET_CHARS for c in token))


def reveal_words(text: str, tokens: frozenset[str] | None = None) -> OffsetMap:
    """Undo letter spacing and leetspeak (`i g n o r e`, `1gn0r3`), for phrase detectors only.

    `tokens`, the lower-cased `[a-z0-9_$]+` tokens of `text` if the caller has them, lets clean
    text skip the scans.
    """
    if tokens is None:
        tokens = frozenset(_WORD_TOKEN.findall(text.lower()))
    replacements: list[tuple[int, int, str]] = []
    if len(tokens & _SINGLE_LETTERS) >= 4:
        for m in _spaced_letters(text):
            replacements.append((m.start(), m.end(), m.group()[::2]))
    # A leet token has a leet character and a letter: one C pass drops the words (most tokens),
    # the set check the rest of the ids and plain numbers.
    leet_tokens = sum(map(_is_leet, [t for t in filterfalse(str.isalpha, tokens)
                                     if not _LEET_CHARS.isdisjoint(t) and not t.isdigit()]))
    if leet_tokens:
        # In text written in leetspeak, short and hex-looking words are disguised too (`n0`,
        # `45`, `c450`), though alone they would be numbers or ids.
        leet_text = leet_tokens >= _LEET_MODE
        for m in _leet_runs(text):
            token = m.group()
            if (len(token) >= 3 and _is_leet(token)) or (leet_text and _is_leet_in_leet_text(token)):
                replacements.append((m.start(), m.end(), token.translate(_LEET)))
    if len(replacements) > 1:
        replacements.sort()
        disjoint = [replacements[0]]
        for item in replacements[1:]:
            if item[0] >= disjoint[-1][1]:
                disjoint.append(item)
        replacements = disjoint
    return OffsetMap(text, replacements)


# --- a lossy view for command detectors -------------------------------------------------------

# Shell tricks that keep a command working while hiding its words from a scanner:
# `c''url`, `c\u\r\l`, `w'g'et`, `${IFS}` instead of spaces, backslash-newline continuations.
_SHELL_TRICK: Final = re.compile(
    r"\$\{IFS\}|\$IFS(?:\$\d)?|(?<=\w)(?:''|\"\")(?=\w)|\\\n"
    # A backslash inside a word (`c\u\r\l`), but not a \x41 or \u0041 escape.
    r"|(?<=\w)\\(?=\w)(?!x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})"
    r"|(?<=\w)(['\"])(\w{1,3})\1|(['\"])(\w{1,3})\3(?=\w)")
_QUOTED_FRAGMENT: Final = re.compile(r"'\w{1,3}'|\"\w{1,3}\"")


def _may_hide_shell(text: str) -> bool:
    # Substring checks first: a regex scan of every text would cost more than the rules.
    if "IFS" in text or "''" in text or '""' in text or "\\" in text:
        return True
    return ("'" in text or '"' in text) and _QUOTED_FRAGMENT.search(text) is not None


def reveal_shell(text: str) -> OffsetMap:
    """Undo shell quoting tricks (`c''url`, `w'g'et`, `${IFS}`), for command detectors only."""
    if not _may_hide_shell(text):
        return OffsetMap(text)
    replacements = []
    for m in _SHELL_TRICK.finditer(text):
        trick = m.group()
        if "IFS" in trick:
            new = " "
        elif m.group(2) is not None or m.group(4) is not None:
            new = m.group(2) or m.group(4)
        else:
            new = ""
        replacements.append((m.start(), m.end(), new))
    return OffsetMap(text, replacements)


# --- a lossy view for SQL detectors -----------------------------------------------------------

# MySQL runs the body of a versioned comment (`/*!50000UNION*/`) and treats an inline comment
# (`UNION/**/SELECT`) as a space: both keep an injection working while splitting its keywords.
_SQL_COMMENT: Final = re.compile(r"/\*!\d{0,6}([^*\n]{0,40})\*/|/\*[^*\n]{0,40}\*/")


def reveal_sql(text: str) -> OffsetMap:
    """Undo SQL comment tricks (`/*!50000UNION*/`, `UNION/**/SELECT`), for SQL detectors only."""
    if "/*" not in text:
        return OffsetMap(text)
    replacements = [(m.start(), m.end(), f" {m.group(1) or ''} ")
                    for m in _SQL_COMMENT.finditer(text)]
    return OffsetMap(text, replacements)


# --- a lossy view for code detectors ----------------------------------------------------------

# Names split into string pieces so that no rule sees them whole: `'o'+'s'`, `"Am" + "siUtils"`,
# `'metsys'[::-1]`, `''.join(['o', 's'])`. The view joins the pieces back into one literal.
_CONCAT: Final = re.compile(
    r"(['\"])\s*\+\s*\1"
    r"|(['\"])(\w{2,24})\2\s*\[\s*::\s*-1\s*\]"
    r"|(['\"])\4\s*\.\s*join\s*\(\s*[\[(]\s*((?:['\"]\w{0,12}['\"]\s*,\s*){1,12}['\"]\w{0,12}['\"])"
    r"\s*,?\s*[\])]\s*\)")
_LITERAL_PIECE: Final = re.compile(r"['\"](\w{0,12})['\"]")


def _may_split_names(text: str) -> bool:
    return ("+" in text and ("'" in text or '"' in text)) or "[::-1]" in text or ".join(" in text


def reveal_concat(text: str) -> OffsetMap:
    """Join string literals split to hide a name (`'sys'+'tem'`, `'so'[::-1]`), for code rules."""
    if not _may_split_names(text):
        return OffsetMap(text)
    replacements = []
    for m in _CONCAT.finditer(text):
        if m.group(1) is not None:
            new = ""
        elif m.group(3) is not None:
            new = f"{m.group(2)}{m.group(3)[::-1]}{m.group(2)}"
        else:
            new = "'" + "".join(_LITERAL_PIECE.findall(m.group(5))) + "'"
        replacements.append((m.start(), m.end(), new))
    return OffsetMap(text, replacements)
