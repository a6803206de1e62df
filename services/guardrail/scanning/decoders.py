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


_BASE64: Final = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/=_\-])")
_HEX_ESCAPES: Final = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){6,}")
_UNICODE_ESCAPES: Final = re.compile(r"(?:\\u00[0-9A-Fa-f]{2}){6,}")
_BARE_HEX: Final = re.compile(r"(?<![0-9A-Za-z])(?:0x)?(?:[0-9A-Fa-f]{2}){8,}(?![0-9A-Za-z])")
_SPACED_HEX: Final = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{2}[ :]){7,}[0-9A-Fa-f]{2}"
                                r"(?![0-9A-Za-z])")
_URL_ENCODED: Final = re.compile(r"(?:[^\s%]*%[0-9A-Fa-f]{2}){4,}[^\s%]*")
_PRINTABLE_EXTRA: Final = frozenset("\n\r\t")


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
    # Pure-hex or pure-letter runs are hashes and words far more often than base64.
    if run.isalpha() or all(c in "0123456789abcdefABCDEF" for c in run):
        return None
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
    for m in _BASE64.finditer(text):
        decoded = _decode_base64(m.group())
        if decoded is not None:
            out.append(EncodedRun(m.start(), m.end(), "base64", decoded))
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
    for pattern in (_BARE_HEX, _SPACED_HEX):
        for m in pattern.finditer(text):
            raw = m.group()
            digits = re.sub(r"[ :]", "", raw[2:] if raw.startswith("0x") else raw)
            decoded = _decode_hex(digits)
            if decoded is not None:
                out.append(EncodedRun(m.start(), m.end(), "hex", decoded))
    if "%" in text:
        for m in _URL_ENCODED.finditer(text):
            decoded = unquote_plus(m.group())
            if decoded != m.group() and _readable(decoded):
                out.append(EncodedRun(m.start(), m.end(), "url", decoded))
    return out
