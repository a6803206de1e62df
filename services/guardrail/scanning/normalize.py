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
import unicodedata
from bisect import bisect_right
from typing import Final

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


class NormalizedText:
    """A normalised copy of a text and the map from its offsets back to the original's."""

    __slots__ = ("_lengths", "_norm_starts", "_orig_starts", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        # Replacements, in order: where each one starts in the normalised text, which original
        # character it replaced, and how many normalised characters it produced (0 if removed).
        self._norm_starts: list[int] = []
        self._orig_starts: list[int] = []
        self._lengths: list[int] = []
        if original.isascii():
            self.text = original
            return
        pieces: list[str] = []
        last = 0
        norm_pos = 0
        fold = _FOLD
        for match in _NON_ASCII.finditer(original):
            run_start = match.start()
            for offset, char in enumerate(match.group()):
                folded = fold[char]
                if folded == char:
                    continue
                orig_pos = run_start + offset
                pieces.append(original[last:orig_pos])
                norm_pos += orig_pos - last
                pieces.append(folded)
                self._norm_starts.append(norm_pos)
                self._orig_starts.append(orig_pos)
                self._lengths.append(len(folded))
                norm_pos += len(folded)
                last = orig_pos + 1
        if not self._norm_starts:
            self.text = original
            return
        pieces.append(original[last:])
        self.text = "".join(pieces)

    @property
    def changed(self) -> bool:
        """True when normalisation changed anything."""
        return bool(self._norm_starts)

    def _original_index(self, pos: int) -> int:
        # The original character that produced normalised character `pos`.
        i = bisect_right(self._norm_starts, pos) - 1
        if i < 0:
            return pos
        norm_start = self._norm_starts[i]
        if pos < norm_start + self._lengths[i]:
            return self._orig_starts[i]
        return self._orig_starts[i] + 1 + (pos - norm_start - self._lengths[i])

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text to the original text."""
        if not self._norm_starts:
            return start, end
        if end <= start:
            pos = self._original_index(start) if start < len(self.text) else len(self.original)
            return pos, pos
        return self._original_index(start), self._original_index(end - 1) + 1


def normalize(text: str) -> NormalizedText:
    """Normalise a text for scanning; see the module docstring for what changes."""
    return NormalizedText(text)
