"""Find encoded runs in a text and decode the ones that hide readable text.

Encodings: base64 (standard and URL-safe, possibly gzip/zlib/bzip2/xz-compressed), base32, hex (bare,
spaced, `\\x..` escapes), `\\u00..` and octal escapes, URL encoding, HTML character references,
and character-code lists (`chr(105)+chr(100)`, `String.fromCharCode(105,100)`).

Decoding is cheap to attempt and strict to accept: the bytes must be valid UTF-8 (or UTF-16LE, as
PowerShell's -EncodedCommand uses) and almost entirely printable, so random tokens, hashes and
keys (which decode to noise) are left alone.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import html
import lzma
import re
import string
import zlib
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus

from services.guardrail.scanning.prefilter import Literals, RunShape, leftmost_runs


@dataclass(frozen=True, slots=True)
class EncodedRun:
    """A run of encoded text (offsets into the scanned text) and what it decodes to."""

    start: int
    end: int
    encoding: str
    decoded: str


# Runs of the base64 alphabet (standard and URL-safe); a run of hex digits is one too, and is
# decoded as hex instead. Boundaries are checked in code: a leading look-behind makes the scan slow.
_RUN: Final = re.compile(r"[A-Za-z0-9+/_\-]{10,}={0,6}")
# Every match of _RUN opens with ten alphabet characters and one matches wherever ten begin, so
# the scan can jump from one such stretch to the next (prose has few words of ten letters).
_RUN_SHAPE: Final = RunShape(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-", 10)
_RUN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
_HEX_ESCAPES: Final = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){6,}")
_UNICODE_ESCAPES: Final = re.compile(r"(?:\\u00[0-9A-Fa-f]{2}){6,}")
_SPACED_HEX: Final = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{2}[ :]){7,}[0-9A-Fa-f]{2}"
                                r"(?![0-9A-Za-z])")
_HEX_PAIR: Final = re.compile(r"[0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}[ :]")
_HEX_PAIRS: Final = frozenset(f"{i:02x}" for i in range(256))
_WORDS: Final = re.compile(r"[0-9a-z]+")
# Two escapes are enough for a short payload (`1'%20OR%201=1--`); decoding is cheap.
_URL_ENCODED: Final = re.compile(r"(?:[^\s%]*%[0-9A-Fa-f]{2}){2,}[^\s%]*")
_OCTAL_ESCAPES: Final = re.compile(r"(?:\\[0-7]{3}){6,}")
_HTML_REFS: Final = re.compile(r"(?:&#(?:[xX][0-9A-Fa-f]{1,4}|\d{1,5});){6,}")
_CHR_CONCAT: Final = re.compile(r"(?:chr\(\s*\d{1,3}\s*\)\s*\+\s*){5,}chr\(\s*\d{1,3}\s*\)",
                                re.IGNORECASE)
_CHAR_CODES: Final = re.compile(r"fromCharCode\(\s*(\d{1,3}(?:\s*,\s*\d{1,3}){5,})\s*\)",
                                re.IGNORECASE)
_BASE32_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567="
_MAX_INFLATED: Final = 65_536
_PRINTABLE_EXTRA: Final = frozenset("\n\r\t")
_HEX_DIGIT_SET: Final = frozenset(string.hexdigits)
_CHAR_CODE_HINTS: Final = Literals(("harCode", "HARCODE"))


def _readable(text: str) -> bool:
    if len(text) < 4:
        return False
    bad = sum(1 for c in text if not c.isprintable() and c not in _PRINTABLE_EXTRA)
    if bad > len(text) * 0.03:
        return False
    # Real payloads are mostly ASCII words and punctuation, not a spray of symbols.
    return sum(c.isalnum() or c == " " for c in text) >= len(text) * 0.5


def _decompress_capped(data: bytes) -> bytes | None:
    # bzip2 and xz streams, bounded like the others: a bomb yields its first _MAX_INFLATED bytes.
    decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor
    if data[:3] == b"BZh":
        decompressor = bz2.BZ2Decompressor()
    elif data[:6] == b"\xfd7zXZ\x00":
        decompressor = lzma.LZMADecompressor()
    else:
        return None
    try:
        return decompressor.decompress(data, max_length=_MAX_INFLATED)
    except (OSError, EOFError, lzma.LZMAError):
        return None


def _inflate(data: bytes) -> bytes | None:
    # gzip (1f 8b) or zlib (78 01/5e/9c/da) streams inside base64, bounded against zip bombs.
    if data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00":
        return _decompress_capped(data)
    if data[:2] == b"\x1f\x8b":
        wbits = 16 + zlib.MAX_WBITS
    elif len(data) > 2 and data[0] == 0x78 and data[1] in (0x01, 0x5E, 0x9C, 0xDA):
        wbits = zlib.MAX_WBITS
    else:
        return None
    try:
        return zlib.decompressobj(wbits).decompress(data, _MAX_INFLATED)
    except zlib.error:
        return None


def _bytes_to_text(data: bytes) -> str | None:
    inflated = _inflate(data)
    if inflated is not None:
        data = inflated
    if len(data) >= 8 and data[1::2].count(0) >= len(data) // 2 * 0.9:
        try:
            text = data.decode("utf-16-le")
        except UnicodeDecodeError:
            return None
        return text if _readable(text) else None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if _readable(text) else None


def _decode_base32(run: str) -> str | None:
    body = run.rstrip("=")
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return None
    return _bytes_to_text(data)


def _decode_base64(run: str) -> str | None:
    if run.isalpha() and not run.isupper():
        return None  # a long word
    if not run.strip(_BASE32_ALPHABET):  # empty exactly when every character is base32
        decoded = _decode_base32(run)
        if decoded is not None:
            return decoded
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            data = base64.urlsafe_b64decode(padded)
        else:
            data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _bytes_to_text(data)


def _decode_hex(digits: str) -> str | None:
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        return None
    return _bytes_to_text(data)


def _may_be_spaced_hex(text: str, words: frozenset[str] | None) -> bool:
    # Eight hex pairs need several distinct two-character hex words; prose has few.
    if words is None:
        words = frozenset(_WORDS.findall(text.lower()))
    return len(_HEX_PAIRS & words) >= 4 and _HEX_PAIR.search(text) is not None


def _has_two_url_escapes(text: str) -> bool:
    # Every _URL_ENCODED match holds two `%XX` escapes. The regex tries every position of every
    # word (`[^\s%]*` then a `%`), which on prose with a "12%" costs more than the rest of the
    # decoders together; counting escapes first takes a few `find` calls.
    found = 0
    i = text.find("%")
    while i != -1:
        if text[i + 1:i + 2] in _HEX_DIGIT_SET and text[i + 2:i + 3] in _HEX_DIGIT_SET:
            found += 1
            if found == 2:
                return True
        i = text.find("%", i + 1)
    return False


def find_encoded(text: str, words: frozenset[str] | None = None) -> list[EncodedRun]:
    """Every encoded run in `text` that decodes to readable text.

    `words`, the lower-cased word tokens of `text` if the caller has them, saves a scan.
    """
    out = []
    n = len(text)
    for m in leftmost_runs(_RUN, _RUN_SHAPE, text):
        start, end = m.start(), m.end()
        # `P=aGVsbG8...` assigns a run: an `=` before it ends a name (padding only trails a run).
        if ((start and text[start - 1] in _RUN_CHARS and text[start - 1] != "=")
                or (end < n and text[end] in _RUN_CHARS)):
            continue
        run = m.group()
        if len(run) < 12:
            continue
        body = run[2:] if run.startswith("0x") else run
        # `strip` empties the body exactly when every character is a hex digit (one C call).
        if len(body) % 2 == 0 and not body.strip(string.hexdigits):
            decoded, encoding = _decode_hex(body), "hex"
        else:
            decoded, encoding = _decode_base64(run), "base64"
        if decoded is not None:
            out.append(EncodedRun(start, end, encoding, decoded))
    # Escapes all start with a backslash: one character search rules all three kinds out.
    backslash = "\\" in text
    if backslash and "\\x" in text:
        for m in _HEX_ESCAPES.finditer(text):
            decoded = _decode_hex(m.group().replace("\\x", ""))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "hex", decoded))
    if backslash and "\\u00" in text:
        for m in _UNICODE_ESCAPES.finditer(text):
            decoded = _decode_hex(m.group().replace("\\u00", ""))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "unicode_escape", decoded))
    if _may_be_spaced_hex(text, words):
        for m in _SPACED_HEX.finditer(text):
            decoded = _decode_hex(m.group().replace(" ", "").replace(":", ""))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "hex", decoded))
    if _has_two_url_escapes(text):
        for m in _URL_ENCODED.finditer(text):
            decoded = unquote_plus(m.group())
            if decoded != m.group() and _readable(decoded):
                out.append(EncodedRun(m.start(), m.end(), "url", decoded))
    if backslash:
        for m in _OCTAL_ESCAPES.finditer(text):
            decoded = _bytes_to_text(bytes(int(o, 8) & 0xFF for o in m.group().split("\\")[1:]))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "octal", decoded))
    if "&#" in text:
        for m in _HTML_REFS.finditer(text):
            decoded = html.unescape(m.group())
            if _readable(decoded):
                out.append(EncodedRun(m.start(), m.end(), "html", decoded))
    if "(" in text and ("chr(" in text or "Chr(" in text or "CHR(" in text):
        for m in _CHR_CONCAT.finditer(text):
            codes = re.findall(r"\d{1,3}", m.group())
            decoded = "".join(chr(int(c)) for c in codes)
            if _readable(decoded):
                out.append(EncodedRun(m.start(), m.end(), "char_codes", decoded))
    if _CHAR_CODE_HINTS.any_in(text):
        for m in _CHAR_CODES.finditer(text):
            decoded = "".join(chr(int(c)) for c in re.findall(r"\d{1,3}", m.group(1)))
            if _readable(decoded):
                out.append(EncodedRun(m.start(), m.end(), "char_codes", decoded))
    return out
