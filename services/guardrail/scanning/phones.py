"""Phone numbers: a cheap shape filter finds candidates, then libphonenumber checks numbering plans.

libphonenumber is slow (tens of microseconds per parse) and permissive (German numbering accepts
most digit strings), so a candidate must first look like a phone number: an international prefix
(`+44`, `0044`), a national trunk prefix `0` (GB, DE, FR, IN, IT, NL, JP...), or a well-known
national layout (NANP `(212) 555-0142`, Brazilian `(11) 91234-5678`, Indian mobile `98765 43210`).
Dates, SSN-shaped numbers, dotted quads and numbers labelled as orders, invoices or parts are not
phones. With an international prefix a number only has to be possible for its country (length),
since the prefix itself says "phone"; without one it must be valid in a region we expect.
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers

from services.guardrail.scanning.numbers import Clusters, windows
from services.guardrail.scanning.pii import IBAN_HEAD_BEFORE
from services.guardrail.scanning.types import Detection

_SEP: Final = r"(?:[ \t]{1,2}|[ \t]?[\-./][ \t]?\n?[ \t]?|[ \t]?\n[ \t]?)"
_CANDIDATE: Final = re.compile(
    rf"""(?<![\w+\-/.#@$€£¥%,])
    (?:\+[ ]?|00)?(?:\([ ]?\+?\d{{1,4}}[ ]?\)|\d{{1,5}})
    (?:{_SEP}?(?:\([ ]?0[ ]?\)[ ]?)?(?:\([ ]?\d{{1,5}}[ ]?\)|\d{{1,6}})){{1,14}}
    (?![\w\-]|[./,]\d)""",
    re.VERBOSE)

# Regions tried for numbers written without an international prefix.
TRUNK_ZERO_REGIONS: Final = ("GB", "DE", "FR", "IN", "IT", "NL", "BE", "AT", "CH", "AU", "JP",
                             "BR", "ZA", "TR")
_NANP: Final = re.compile(r"^(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}$")
_BRAZIL: Final = re.compile(r"^(?:\(\d{2}\) ?|\d{2} )9?\d{4}-\d{4}$")
_INDIA_MOBILE: Final = re.compile(r"^[6-9]\d{4}[ \-]?\d{5}$")
_SPAIN_MOBILE: Final = re.compile(r"^[6-7]\d{2} \d{3} \d{3}$|^[6-7]\d{2} \d{2} \d{2} \d{2}$")

_NOT_PHONE_SHAPES: Final = re.compile(
    r"""^(?:\d{3}-\d{2}-\d{4}                                   # SSN
        |(?:19|20)\d\d[\-./]\d{1,2}[\-./]\d{1,2}                 # ISO date
        |\d{1,2}[\-./]\d{1,2}[\-./](?:19|20)\d\d                 # European / US date
        |\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}                      # dotted quad
        )$""", re.VERBOSE)
# Labels that make the following number an identifier rather than a phone.
_ID_LABEL: Final = re.compile(
    r"""\b(?:order|invoice|inv|ref|reference|case|ticket|batch|pallet|part|p/n|sku|serial|item
        |catalog(?:ue)?|kit|account|acct|tracking|claim|file|badge|id|build|version|release
        |iban|bic|policy|contract|shipment|parcel|lot|model|isbn|issn|doi|product|component
        |article|art|cat|asset|licen[cs]e|permit|registration|reg|vin|imei)
        \.?\s*(?:no\.?|number|\#|:)?\s*$""",
    re.IGNORECASE | re.VERBOSE)
_LINE_BREAK: Final = re.compile(r"([\-./])?[ \t]*\n[ \t]*")


def _compact_layout(raw: str) -> str:
    # A line break inside a number replaces a separator; keep the layout readable for the checks.
    return _LINE_BREAK.sub(lambda m: m.group(1) or " ", raw)


def _digits(raw: str) -> str:
    return "".join(c for c in raw if c.isdigit())


def _valid_in(number: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def _is_phone(raw: str) -> bool:
    layout = _compact_layout(raw)
    digits = _digits(layout)
    if layout.startswith("00") and not layout.startswith("00 "):
        layout = "+" + layout[2:]
        digits = digits[2:]
    if not 7 <= len(digits) <= 15:
        return False
    if layout.startswith(("+", "(+")):
        try:
            parsed = phonenumbers.parse(layout.replace("(+", "+").replace(")", " ", 1)
                                        if layout.startswith("(+") else layout, None)
        except phonenumbers.NumberParseException:
            return False
        if phonenumbers.is_valid_number(parsed):
            return True
        # An international prefix already says "phone"; ranges not yet allocated still are.
        return bool(phonenumbers.is_possible_number(parsed)
                    and len(str(parsed.national_number)) >= 7)
    if _NOT_PHONE_SHAPES.match(layout):
        return False
    if not any(c in layout for c in " -./()"):
        return False  # a bare digit string is an identifier far more often than a phone
    if digits.startswith("0"):
        return _valid_in(layout, TRUNK_ZERO_REGIONS)
    if _NANP.match(layout):
        if layout.startswith("("):
            return _valid_in(layout, ("US",)) or bool(phonenumbers.is_possible_number(
                phonenumbers.parse(layout, "US")))
        return _valid_in(layout, ("US", "CA"))
    if _BRAZIL.match(layout):
        return _valid_in(layout, ("BR",))
    if _INDIA_MOBILE.match(layout):
        return _valid_in(layout, ("IN",))
    if _SPAIN_MOBILE.match(layout):
        return _valid_in(layout, ("ES",))
    return False


def find_phones(text: str, clusters: Clusters | None = None) -> list[Detection]:
    """Phone numbers, without `tel:` or extensions; see the module docstring for the rules."""
    out = []
    candidates = (m for pos, endpos in windows(text, clusters, 7)
                  for m in _CANDIDATE.finditer(text, pos, endpos))
    for m in candidates:
        raw = m.group()
        ndigits = sum(c.isdigit() for c in raw)
        if ndigits < 7:
            continue
        if _ID_LABEL.search(text, max(0, m.start() - 24), m.start()):
            continue
        if IBAN_HEAD_BEFORE.search(text, max(0, m.start() - 40), m.start()):
            continue
        if _is_phone(raw):
            out.append(Detection("PHONE", m.start(), m.end(), "+" + _digits(raw)
                                 if raw.startswith("+") else _digits(raw)))
    return out
