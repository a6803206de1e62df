"""Find base64, hex and URL-encoded runs in a text and decode the ones that hide readable text.

Decoding is cheap to attempt and strict to accept: the bytes must be valid UTF-8 (or UTF-16LE, as
PowerShell's -EncodedCommand uses) and almost entirely printable, so random tokens, hashes and
keys (which decode to noise) are left alone.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus


@dataclass(frozen=True, slots=True)
class EncodedRun:
    """A run of encoded text (offsets into the scanned text) and what it decodes to."""

    start: int
    end: int
    encoding: str
    decoded: str


# Runs of the base64 alphabet (standard and URL-safe); a run of hex digits is one too, and is
# decoded as hex instead. Boundaries are checked in code: a leading look-behind makes the scan slow.
_RUN: Final = re.compile(r"[A-Za-z0-9+/_\-]{12,}={0,2}")
_RUN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
_HEX_ESCAPES: Final = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){6,}")
_UNICODE_ESCAPES: Final = re.compile(r"(?:\\u00[0-9A-Fa-f]{2}){6,}")
_SPACED_HEX: Final = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{2}[ :]){7,}[0-9A-Fa-f]{2}"
                                r"(?![0-9A-Za-z])")
_HEX_PAIR: Final = re.compile(r"\b[0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}\b")
_URL_ENCODED: Final = re.compile(r"(?:[^\s%]*%[0-9A-Fa-f]{2}){4,}[^\s%]*")
_PRINTABLE_EXTRA: Final = frozenset("\n\r\t")
_HEX_CHARS: Final = frozenset("0123456789abcdefABCDEF")


def _readable(text: str) -> bool:
    if len(text) < 4:
        return False
    bad = sum(1 for c in text if not c.isprintable() and c not in _PRINTABLE_EXTRA)
    if bad > len(text) * 0.03:
        return False
    # Real payloads are mostly ASCII words and punctuation, not a spray of symbols.
    return sum(c.isalnum() or c == " " for c in text) >= len(text) * 0.5


def _bytes_to_text(data: bytes) -> str | None:
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


def _decode_base64(run: str) -> str | None:
    if run.isalpha():
        return None  # a long word
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


def find_encoded(text: str) -> list[EncodedRun]:
    """Every encoded run in `text` that decodes to readable text."""
    out = []
    n = len(text)
    for m in _RUN.finditer(text):
        start, end = m.start(), m.end()
        if (start and text[start - 1] in _RUN_CHARS) or (end < n and text[end] in _RUN_CHARS):
            continue
        run = m.group()
        body = run[2:] if run.startswith("0x") else run
        if len(body) % 2 == 0 and all(c in _HEX_CHARS for c in body):
            decoded, encoding = _decode_hex(body), "hex"
        else:
            decoded, encoding = _decode_base64(run), "base64"
        if decoded is not None:
            out.append(EncodedRun(start, end, encoding, decoded))
    if "\\x" in text:
        for m in _HEX_ESCAPES.finditer(text):
            decoded = _decode_hex(m.group().replace("\\x", ""))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "hex", decoded))
    if "\\u00" in text:
        for m in _UNICODE_ESCAPES.finditer(text):
            decoded = _decode_hex(m.group().replace("\\u00", ""))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "unicode_escape", decoded))
    if _HEX_PAIR.search(text):
        for m in _SPACED_HEX.finditer(text):
            decoded = _decode_hex(m.group().replace(" ", "").replace(":", ""))
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "hex", decoded))
    if "%" in text:
        for m in _URL_ENCODED.finditer(text):
            decoded = unquote_plus(m.group())
            if decoded != m.group() and _readable(decoded):
                out.append(EncodedRun(m.start(), m.end(), "url", decoded))
    return out
