"""PII detectors that work on normalised text: e-mail, payment card, IBAN, US SSN and IP address.

Every detector returns `Detection`s with offsets into the text it was given. Numbers may be split
by spaces, hyphens or line breaks (the way people paste them); a candidate only counts when its
checksum or issuing rules say it is real (Luhn, mod-97, SSA ranges, octets <= 255).
"""

from __future__ import annotations

import ipaddress
import re
import string
from typing import Final

from services.guardrail.scanning.checksums import (
    IBAN_LENGTHS,
    card_range_ok,
    iban_ok,
    luhn_ok,
    ssn_ok,
)
from services.guardrail.scanning.normalize import OffsetMap
from services.guardrail.scanning.numbers import Clusters, digit_clusters, windows
from services.guardrail.scanning.prefilter import Literals
from services.guardrail.scanning.types import Detection

# --- e-mail ---------------------------------------------------------------------------------

_LOCAL: Final = r"[A-Za-z0-9_%+\-](?:[A-Za-z0-9._%+\-]{0,63}[A-Za-z0-9_%+\-])?"
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
# Not followed by more of a host name, nor by `:path` (`git@github.com:org/repo` is a remote).
_TLD: Final = r"[A-Za-z]{2,24}(?![A-Za-z0-9\-]|:[A-Za-z0-9~/_.\-])"
# Deliberate obfuscation: `name [at] host [dot] com`, `name(at)host(dot)com`, `name[@]host[.]com`.
# Also `name -at- host -dot- edu`.
_BR_AT: Final = (r"\s*(?:\[\s*(?:at|@)\s*\]|\(\s*(?:at|@)\s*\)|\{\s*(?:at|@)\s*\}|<\s*at\s*>"
                 r"|-\s*at\s*-)\s*")
_BR_DOT: Final = (r"(?:\s*(?:\[\s*(?:dot|\.)\s*\]|\(\s*(?:dot|\.)\s*\)|\{\s*(?:dot|\.)\s*\}"
                  r"|<\s*dot\s*>|-\s*dot\s*-)\s*|\s+dot\s+)")
# Matching starts from the separator (an `@` or a spelled/bracketed "at"), then reads the mailbox
# name backwards and the domain forwards: scanning every position for a 64-character name would
# cost more than all the other detectors on long tokens.
_NAME_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_MAX_NAME: Final = 64
_DOMAIN: Final = re.compile(rf"(?:{_LABEL}\.)+{_TLD}")
# `logo@2x.png`, `icon@3x.webp`: asset names, not mailboxes.
_FILE_EXTENSIONS: Final = frozenset((
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "css", "js", "ts",
    "json", "yaml", "yml", "md", "txt", "pdf", "zip", "gz", "tgz", "tar", "py", "rb", "go", "rs",
    "java", "html", "htm", "xml", "csv", "log", "lock", "wasm", "map", "mp3", "mp4", "mov", "woff",
    "woff2", "ttf"))
_DOMAIN_OBFUSCATED: Final = re.compile(
    rf"{_LABEL}(?:(?:{_BR_DOT}|\.){_LABEL})*(?:{_BR_DOT}|\.){_TLD}", re.IGNORECASE)
_BRACKET_AT: Final = re.compile(r"[\[({<]\s*(?:at|@)\s*[\])}>]|-\s*at\s*-", re.IGNORECASE)
_BRACKET_HINTS: Final = ("[at", "(at", "{at", "<at", "[ at", "( at", "[@", "(@", "{@", "-at-", "- at -",
                         "-at -", "- at-")
# `name at host dot com`: a plain " at " is common prose, so the dots must be spelled out, or the
# name must look like a mailbox handle (`j.doe at example.com`, `maria88 at example.com`).
_HANDLE: Final = re.compile(r"[0-9._\-]")
_AT_FORM: Final = re.compile(_BR_AT + r"|\s+at\s+|\s@\s", re.IGNORECASE)
_DOT_FORM: Final = re.compile(_BR_DOT, re.IGNORECASE)
_OBFUSCATION_HINTS: Final = (" at ", " dot ", " @ ", "[at", "(at", "{at", "<at", "[ at", "( at", "[@",
                             "(@", "{@", "[.", "(.", "{.", "-at-", "- at -", "-at -", "- at-")
# The same hints keyed by a rare character: prose without brackets, `@` or `-` skips most of them.
_OBFUSCATION: Final = Literals(_OBFUSCATION_HINTS)
_BRACKETS: Final = Literals(_BRACKET_HINTS)


def _email_value(raw: str) -> str:
    # One canonical form per mailbox, however it was written, so it gets one placeholder.
    return _DOT_FORM.sub(".", _AT_FORM.sub("@", raw, count=1)).replace(" ", "").lower()


# Words before a plain " at " that make it prose ("look at example dot com"), not a mailbox.
_PROSE_WORDS: Final = frozenset((
    "a", "an", "and", "are", "arrive", "arrived", "based", "be", "been", "but", "even", "he",
    "her", "here", "him", "i", "is", "it", "just", "located", "look", "looking", "me", "meet",
    "met", "not", "now", "only", "or", "see", "seen", "she", "staying", "stay", "still", "the",
    "them", "then", "there", "they", "this", "that", "us", "was", "we", "were", "work", "working",
    "you", "also"))


def _name_before(text: str, end: int) -> int | None:
    # Start of the mailbox name that ends at `end` (at most 64 characters), or None.
    start = end
    floor = max(0, end - _MAX_NAME - 1)
    while start > floor and text[start - 1] in _NAME_CHARS:
        start -= 1
    if start == end or (start > 0 and text[start - 1] in _NAME_CHARS) or end - start > _MAX_NAME:
        return None  # no name, or one too long to be a mailbox
    if text[start] == "." or text[end - 1] == "." or (start > 0 and text[start - 1] == "@"):
        return None
    return start


def _anchors(text: str, lower: str) -> list[tuple[int, int, bool]]:
    # (start, end, is the plain word "at") of every separator that may join a name and a domain.
    found: list[tuple[int, int, bool]] = []
    if _BRACKETS.any_in(lower):
        found.extend((m.start(), m.end(), False) for m in _BRACKET_AT.finditer(text))
    for needle, word in ((" @ ", False), (" at ", True)):
        i = lower.find(needle)
        while i != -1:
            found.append((i, i + len(needle), word))
            i = lower.find(needle, i + 1)
    return found


def find_emails(text: str) -> list[Detection]:
    """E-mail addresses, plain or with a spelled-out or bracketed `at` / `dot`."""
    out: list[Detection] = []
    at = text.find("@")
    while at != -1:
        start = _name_before(text, at)
        if start is not None:
            m = _DOMAIN.match(text, at + 1) or _DOMAIN_OBFUSCATED.match(text, at + 1)
            if m is not None and m.group().rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS:
                out.append(Detection("EMAIL", start, m.end(), _email_value(text[start:m.end()])))
        at = text.find("@", at + 1)
    lower = text.lower()
    if len(lower) != len(text) or not _OBFUSCATION.any_in(lower):
        return out
    for anchor_start, anchor_end, word in _anchors(text, lower):
        name_end = anchor_start
        while name_end and text[name_end - 1] in " \t":
            name_end -= 1
        start = _name_before(text, name_end)
        if start is None:
            continue
        domain_start = anchor_end
        while domain_start < len(text) and text[domain_start] in " \t":
            domain_start += 1
        m = _DOMAIN_OBFUSCATED.match(text, domain_start)
        if m is None:
            continue
        if word:
            name = text[start:name_end]
            spelled = _DOT_FORM.search(text, domain_start, m.end()) is not None
            if name.lower() in _PROSE_WORDS or not (spelled or _HANDLE.search(name)):
                continue
        out.append(Detection("EMAIL", start, m.end(), _email_value(text[start:m.end()])))
    return out


# --- numbers split into groups -------------------------------------------------------------

# Digit groups separated by at most a hyphen and/or a line break and a couple of spaces.
_GROUP_SEP: Final = r"(?:[ \t]{1,2}|[ \t]?[\-.][ \t]?\n?[ \t]?|[ \t]?\n[ \t]?)"
_CARD_RUN: Final = re.compile(rf"(?<![\w.\-/+#])\d+(?:{_GROUP_SEP}\d+)*(?![\w\-]|[.,/]\d)")


# An IBAN's head (`DE89 `, `NL93 ABNA `): digits after it belong to the account, valid or not.
IBAN_HEAD_BEFORE: Final = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ \t\-][A-Za-z0-9]{4})*[ \t\-]$")


_DOTTED_CARD: Final = re.compile(r"^\d{4}\.(?:\d{4}\.\d{4}\.\d{4}(?:\.\d{1,3})?|\d{6}\.\d{4,5})$")


def find_cards(text: str, clusters: Clusters | None = None) -> list[Detection]:
    """Payment card numbers: 13-19 digits, a real issuer range, and a passing Luhn checksum."""
    out = []
    for pos, endpos in windows(text, clusters, 13):
        out.extend(_cards_in(text, pos, endpos))
    return out


def _cards_in(text: str, pos: int, endpos: int) -> list[Detection]:
    out = []
    for run in _CARD_RUN.finditer(text, pos, endpos):
        raw = run.group()
        digits = "".join(c for c in raw if c.isdigit())
        # The whole run must be the card: a window inside a longer number is a different number.
        if not 13 <= len(digits) <= 19 or not card_range_ok(digits) or not luhn_ok(digits):
            continue
        if IBAN_HEAD_BEFORE.search(text, max(0, run.start() - 40), run.start()):
            continue
        if "." in raw and not _DOTTED_CARD.match(raw):
            continue  # dots make sense only as 4-4-4-4 (or 4-6-5) groups, not in "10.1.2.3 4444"
        out.append(Detection("CREDIT_CARD", run.start(), run.end(), digits))
    return out


_IBAN_BODY_CHAR: Final = re.compile(r"[A-Za-z0-9]|[ \t\n\-]{1,3}(?=[A-Za-z0-9])")


def _iban_at(text: str, start: int) -> Detection | None:
    # The IBAN whose country code starts at `start`, consuming its registry length of characters
    # across single separators, or None.
    country = text[start:start + 2].upper()
    length = IBAN_LENGTHS.get(country)
    if length is None:
        return None
    n = len(text)
    chars = [country, text[start + 2:start + 4]]
    count = 4
    i = start + 4
    while count < length and i < n:
        c = text[i]
        if c.isascii() and c.isalnum():
            chars.append(c.upper())
            count += 1
            i += 1
            continue
        sep = _IBAN_BODY_CHAR.match(text, i)
        if sep is None or sep.end() - i > 3:
            break
        i = sep.end()
    if count != length or (i < n and text[i].isascii() and text[i].isalnum()):
        return None  # too short, or the account number runs on: not this IBAN
    compact = "".join(chars)
    return Detection("IBAN", start, i, compact) if iban_ok(compact) else None


def find_ibans(text: str, clusters: Clusters | None = None) -> list[Detection]:
    """IBANs, compact or grouped, any case: country length from the SWIFT registry, then mod-97."""
    if clusters is None:
        clusters = digit_clusters(text, min_length=2)
    out = []
    taken = 0
    for digits_start, _ in clusters:
        # The check digits open a digit cluster right after two letters that start a word.
        start = digits_start - 2
        if start < taken or start < 0 or not text[start:digits_start].isalpha():
            continue
        if start and (text[start - 1].isalnum() or not text[start:digits_start].isascii()):
            continue
        if not text[digits_start:digits_start + 2].isdigit():
            continue
        found = _iban_at(text, start)
        if found is not None:
            out.append(found)
            taken = found.end
    return out


_SSN_SEP: Final = r"(?:[\-.][ \t]?\n?[ \t]?|[ \t]?\n[ \t]?| )"
_SSN: Final = re.compile(
    rf"(?<![\w\-/.+])(\d{{3}})({_SSN_SEP})(\d{{2}})({_SSN_SEP})(\d{{4}})(?![\w\-]|[./]\d)")
_SSN_BARE: Final = re.compile(r"(?<![\w\-/.+,])(\d{3})(\d{2})(\d{4})(?![\w\-]|[./,]\d)")
# Nine bare digits are an SSN only with a tax or identity word nearby (before or after).
_SSN_CONTEXT: Final = re.compile(
    r"\b(?:ssns?|social[ \-]security|taxpayer|tax[ \-]?(?:id|payer)|tin|itin|w-?2|w-?9|ssa"
    r"|identity|identities)\b", re.IGNORECASE)
_SSN_CONTEXT_HINTS: Final = ("ssn", "social", "tax", "tin", "w-2", "w2", "w-9", "w9", "ssa",
                             "identit")
_SSN_CONTEXT_WINDOW: Final = 80


# A line break pasted into a number, inside a digit group or before a separator (`450-65\n-9550`,
# `176-5\n4-5175`): joining the lines gives the number back.
_BROKEN_LINE: Final = re.compile(r"(?<=[\d\-.])[ \t]*\n[ \t]*(?=[\d\-.])")


def _grouped_ssns(text: str, spans: list[tuple[int, int]] | None) -> list[Detection]:
    out = []
    matches = (_SSN.finditer(text) if spans is None
               else (m for pos, endpos in spans for m in _SSN.finditer(text, pos, endpos)))
    for m in matches:
        # AAA-GG-SSSS, AAA GG SSSS, AAA.GG.SSSS (a line break may replace or follow a separator);
        # mixed punctuation (`123-45.6789`) is some other identifier.
        marks = {c for c in m.group(2) + m.group(4) if c in "-."}
        if len(marks) > 1 or not ssn_ok(m.group(1), m.group(3), m.group(5)):
            continue
        out.append(Detection("US_SSN", m.start(), m.end(), m.group(1) + m.group(3) + m.group(5)))
    return out


def find_ssns(text: str, clusters: Clusters | None = None) -> list[Detection]:
    """US social security numbers the SSA could issue: AAA-GG-SSSS, or 9 digits near "SSN"."""
    spans = list(windows(text, clusters, 9))
    out = _grouped_ssns(text, spans)
    for pos, endpos in spans:
        if "\n" not in text[pos:endpos]:
            continue
        window = text[pos:endpos]
        joined = OffsetMap(window, [(m.start(), m.end(), "") for m in _BROKEN_LINE.finditer(window)])
        if not joined.changed:
            continue
        for d in _grouped_ssns(joined.text, None):
            start, end = joined.to_original(d.start, d.end)
            start, end = start + pos, end + pos
            if all(end <= o.start or start >= o.end for o in out):
                out.append(Detection(d.type, start, end, d.value))
    if not spans:
        return out  # bare SSNs are only looked for in the windows: no windows, nothing to find
    lower = text.lower()
    if not any(map(lower.__contains__, _SSN_CONTEXT_HINTS)):
        return out
    for m in (m for pos, endpos in spans for m in _SSN_BARE.finditer(text, pos, endpos)):
        if not ssn_ok(m.group(1), m.group(2), m.group(3)):
            continue
        if _SSN_CONTEXT.search(text, max(0, m.start() - _SSN_CONTEXT_WINDOW),
                               m.end() + _SSN_CONTEXT_WINDOW):
            out.append(Detection("US_SSN", m.start(), m.end(), m.group()))
    return out


_OCTET: Final = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Not after a letter, digit or dot (v10.0.0.1, 1.10.0.0.1), not before a pre-release or build
# suffix (10.0.0.1-rc2, +build) or another dotted number; a port, a prefix length, brackets and
# sentence punctuation may follow.
_IPV4: Final = re.compile(rf"(?<![\w.\-])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w\-+]|\.\d)")
# Defanged, as security reports write them: 192.0.2[.]1, 10(.)0(.)0(.)1.
_IPV4_DEFANGED: Final = re.compile(
    rf"(?<![\w.\-])(?:{_OCTET}(?:\.|\[\.\]|\(\.\)|\{{\.\}})){{3}}{_OCTET}(?![\w\-+]|\.\d)")
_IPV6_CANDIDATE: Final = re.compile(
    r"(?<![\w:.\-])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![\w\-]|\.\d)")
_VERSION_WORDS: Final = re.compile(
    r"(?:version|release|build|firmware|tag|rev|ver|v|section|clause|paragraph|para|chapter"
    r"|figure|fig|table|article|art|step|item|rule|§)\.?\s*$", re.IGNORECASE)


def _may_hold_ipv6(text: str) -> bool:
    # Every IPv6 candidate opens with two groups `[0-9A-Fa-f]{0,4}:`: a colon followed within five
    # characters by another with only hex digits between them. Prose colons ("Note: ...", "10:30")
    # have none, and finding that out costs a few `find` calls instead of a regex scan.
    colon = text.find(":")
    while colon != -1:
        following = text.find(":", colon + 1, colon + 6)
        if following != -1 and not text[colon + 1:following].strip(string.hexdigits):
            return True
        colon = text.find(":", colon + 1)
    return False


def find_ips(text: str, clusters: Clusters | None = None) -> list[Detection]:
    """IPv4 and IPv6 addresses, without ports, brackets or prefix lengths."""
    out = []
    spans: list[tuple[int, int]] = []
    if "." in text:
        spans = list(windows(text, clusters, 7))
        for m in (m for pos, endpos in spans for m in _IPV4.finditer(text, pos, endpos)):
            if _VERSION_WORDS.search(text, max(0, m.start() - 12), m.start()):
                continue
            out.append(Detection("IP_ADDRESS", m.start(), m.end(), m.group()))
    # Defanged addresses are only looked for in the windows of the plain ones.
    if spans and (".]" in text or ".)" in text or ".}" in text):
        for m in (m for pos, endpos in spans for m in _IPV4_DEFANGED.finditer(text, pos, endpos)):
            value = re.sub(r"[\[\](){}]", "", m.group())
            if value != m.group():
                out.append(Detection("IP_ADDRESS", m.start(), m.end(), value))
    if ("::" in text or text.count(":") >= 3) and _may_hold_ipv6(text):
        for m in _IPV6_CANDIDATE.finditer(text):
            candidate = m.group()
            groups = [g for g in re.split(r"[:]", candidate) if g]
            if len(groups) < 3 and sum(len(g) for g in groups) < 6:
                continue  # `::1`, `a[1::2]`: too little to identify anyone
            try:
                address = ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            out.append(Detection("IP_ADDRESS", m.start(), m.end(), address.compressed))
    return out
