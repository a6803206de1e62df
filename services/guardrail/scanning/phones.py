"""Phone numbers: a cheap shape filter finds candidates, then libphonenumber checks numbering plans.

libphonenumber is slow (tens of microseconds per parse) and permissive (German numbering accepts
most digit strings), so a candidate must first look like a phone number: an international prefix
(`+44`, `0044`), a national trunk prefix `0` (GB, DE, FR, IN, IT, NL, JP...), or a well-known
national layout (NANP `(212) 555-0142`, Mexican `226.089.8482`, Brazilian `(11) 91234-5678`, Indian
mobile `98765 43210`, Iberian `612 34 56 78` / `910 796 040`). After a phone word (`tel`, `call`,
`móvil`, `Handy`, `ligue`...) any layout counts that is valid in one of the regions our traffic
comes from (`Ring Wei on 8204 7199`, Singapore). Dates, SSN-shaped numbers, IPv4 addresses, amounts
and numbers labelled as orders, invoices or parts are not phones.

"Only real values count": with an international prefix a number must fit its country's numbering
plan (the national number pattern of libphonenumber's metadata, e.g. NANP `NXX NXX XXXX`), though
not necessarily an allocated range, since the prefix itself says "phone"; `+1 (101) 855-4055` and
`+44 066 643 0594` are not numbers anyone can have. Without a prefix a number must be valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Final

import phonenumbers

from services.guardrail.scanning.numbers import Clusters, windows
from services.guardrail.scanning.pii import IBAN_HEAD_BEFORE
from services.guardrail.scanning.types import Detection

_SEP: Final = r"(?:[ \t]{1,2}|[ \t]?[\-./][ \t]?\n?[ \t]?|[ \t]?\n[ \t]?)"
# The groups' digits are possessive (`\d{1,6}+`): with the separator optional, a plain `\d{1,6}`
# can cut one digit run into groups in exponentially many ways, all retried when the lookahead at
# the end fails (39 characters took 14 s). A match can only end where a digit run ends, and greedy
# groups need the fewest repetitions, so the possessive form finds the same matches.
_CANDIDATE: Final = re.compile(
    rf"""(?<![\w+\-/.#@$€£¥%,])
    (?:\+[ ]?|00)?(?:\([ ]?\+?\d{{1,4}}[ ]?\)|\d{{1,5}})
    (?:{_SEP}?(?:\([ ]?0[ ]?\)[ ]?)?(?:\([ ]?\d{{1,5}}[ ]?\)|\d{{1,6}}+)){{1,14}}
    (?![\w\-]|[./,]\d)""",
    re.VERBOSE)

# Regions tried for numbers written without an international prefix.
TRUNK_ZERO_REGIONS: Final = ("GB", "DE", "FR", "IN", "IT", "NL", "BE", "AT", "CH", "AU", "JP",
                             "BR", "ZA", "TR")
_NANP: Final = re.compile(r"^(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}$")
# NANP numbers are NXX NXX XXXX: neither the area code nor the exchange starts with 0 or 1.
_NANP_STRUCTURE: Final = re.compile(r"^1?[2-9]\d{2}[2-9]\d{6}$")
_BRAZIL: Final = re.compile(r"^(?:\(\d{2}\) ?|\d{2} )9?\d{4}-\d{4}$")
_INDIA_MOBILE: Final = re.compile(r"^[6-9]\d{4}[ \-]?\d{5}$")
# Mexico City, Guadalajara, Monterrey: a two-digit area code, then 4-4.
_MEXICO_METRO: Final = re.compile(r"^(?:\(\d{2}\) ?|\d{2}[ .\-])\d{4}[ .\-]\d{4}$")
# Spain and Portugal: nine digits, 3-3-3 or 3-2-2-2, mobiles from 6/7, landlines from 8/9.
_IBERIAN: Final = re.compile(r"^[6-9]\d{2}([ .])\d{3}\1\d{3}$|^[6-9]\d{2}([ .])\d{2}\2\d{2}\2\d{2}$")
# Regions tried after a phone word, whatever the layout.
CONTEXT_REGIONS: Final = (
    "US", "CA", "MX", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "LU", "ES", "PT", "IT", "SE",
    "NO", "DK", "FI", "PL", "CZ", "BR", "AR", "CL", "CO", "PE", "IN", "SG", "HK", "MY", "PH", "AU",
    "NZ", "JP", "KR", "ZA", "TR", "IL", "AE")
# Words that announce a phone number, in the languages our agents relay.
_PHONE_WORD: Final = re.compile(
    r"""(?:\b(?:tel|t[ée]l|tlf|tfno|phones?|telephone|tel[ée]fono|t[ée]l[ée]phone|telefon|telefone
        |telefoon|call|calls|calling|ring|dial|mobile|mobil|m[óo]vil|cell|cellphone|celular|cellulare
        |portable|handy|telem[óo]vel|gsm|fax|whatsapp|sms|text|hotline|helpline|switchboard|landline
        |dispatcher|dispatch|reception|contact|reach|ll[áa]m[a-zá]*|llame|llamar|appel[a-zé]*
        |anruf[a-z]*|ruf|chiam[a-z]*|ligue|ligar|liga|bel|bellen|hp|handphone|mob|ph|rufnummer
        |durchwahl|festnetz|fijo|fixe|fisso|fixo|(?:number|nummer|n[úu]mero|num[ée]ro)(?!\s+of\b))\b)
        [^\n]{0,40}$""",
    re.IGNORECASE | re.VERBOSE)
_PHONE_WORD_WINDOW: Final = 48
# Amounts written with space or dot thousands separators are not phones.
_AMOUNT_BEFORE: Final = re.compile(r"(?:[$€£¥]|\b(?:eur|usd|gbp|chf|brl|mxn|r\$))\s*$", re.IGNORECASE)
_AMOUNT_AFTER: Final = re.compile(
    r"\s*(?:[$€£¥%]|(?:eur|euros?|usd|dollars?|gbp|pounds?|chf|brl|mxn|pesos?|reais|units|people"
    r"|persons|users|visitors|km|kg|tonnes?|tons|barrels|shares|votes|bytes|rows|records)\b)",
    re.IGNORECASE)

# After a phone word: digits in groups of 2-4 (the first 1-4), as people write phone numbers.
_GROUPED: Final = re.compile(r"^\(?\d{1,4}\)?(?:[ .\-/]{1,2}\d{2,4})+$")
# A count with thousands separators (`12 345 678 calls`); nine digits in threes are also the
# Iberian phone layout, which has its own rule.
_THOUSANDS: Final = re.compile(r"^(?!\d{3}\D\d{3}\D\d{3}$)\d{1,3}([ .,])\d{3}(?:\1\d{3})+$")
# Dates, times and decimals, which a phone word nearby ("the call on 2024.05.01") does not make phones.
_DATE_OR_DECIMAL: Final = re.compile(
    r"^(?:(?:19|20)\d\d[ .\-/]?(?:0[1-9]|1[0-2])[ .\-/]?(?:0[1-9]|[12]\d|3[01])(?:\D|$)"
    r"|\d{1,2}[ .\-/]\d{1,2}[ .\-/](?:19|20)?\d\d(?:\D|$)|\d+\.\d{1,3}$)")
_NOT_PHONE_SHAPES: Final = re.compile(
    r"""^(?:\d{3}-\d{2}-\d{4}                                   # SSN
        |(?:19|20)\d\d[\-./]\d{1,2}[\-./]\d{1,2}                 # ISO date
        |\d{1,2}[\-./]\d{1,2}[\-./](?:19|20)\d\d                 # European / US date
        |(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)  # IPv4
        )$""", re.VERBOSE)
# Labels that make the following number an identifier rather than a phone.
_ID_LABEL: Final = re.compile(
    r"""\b(?:order|invoice|inv|ref|reference|case|ticket|batch|pallet|part|p/n|sku|serial|item
        |catalog(?:ue)?|kit|account|acct|tracking|claim|file|badge|id|build|version|release
        |iban|bic|policy|contract|shipment|parcel|lot|model|isbn|issn|doi|product|component
        |article|art|cat|asset|licen[cs]e|permit|registration|reg|vin|imei|timestamp|epoch
        |unix|record|row|seq|sequence|offset|pid|uid|nonce|checksum|txn|transaction|receipt|booking
        |reservation|confirmation|pnr|waybill|container|voucher|coupon|pin|otp|zip|postcode
        |(?<!area\s)code)
        \.?\s*(?:no\.?|number|\#|:)?\s*$""",
    re.IGNORECASE | re.VERBOSE)
_LINE_BREAK: Final = re.compile(r"([\-./])?[ \t]*\n[ \t]*")


def _compact_layout(raw: str) -> str:
    # A line break inside a number replaces a separator; keep the layout readable for the checks.
    return _LINE_BREAK.sub(lambda m: m.group(1) or " ", raw)


def _digits(raw: str) -> str:
    return "".join(c for c in raw if c.isdigit())


@cache
def _general_pattern(region: str) -> tuple[re.Pattern[str], str] | None:
    # The region's national number pattern (its numbering plan) and its trunk prefix.
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    pattern = metadata.general_desc.national_number_pattern
    if not pattern:
        return None
    return re.compile(pattern), metadata.national_prefix or ""


@cache
def _general_pattern_for_code(country_code: int) -> re.Pattern[str] | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None or metadata.general_desc is None:
        return None
    pattern = metadata.general_desc.national_number_pattern
    return re.compile(pattern) if pattern else None


def _fits_plan(parsed: phonenumbers.PhoneNumber) -> bool:
    # The national number fits the country's numbering plan, allocated or not.
    pattern = _general_pattern_for_code(parsed.country_code)
    national = phonenumbers.national_significant_number(parsed)
    if parsed.country_code == 1 and not _NANP_STRUCTURE.match(national):
        return False  # the metadata checks the area code only, not the exchange
    return pattern is not None and pattern.fullmatch(national) is not None


def _valid_somewhere(layout: str, digits: str) -> bool:
    # Valid in one of the context regions; the plan patterns rule most regions out before parsing.
    candidates = []
    for region in CONTEXT_REGIONS:
        plan = _general_pattern(region)
        if plan is None:
            continue
        pattern, trunk = plan
        national = digits[len(trunk):] if trunk and digits.startswith(trunk) else digits
        if pattern.fullmatch(national) or pattern.fullmatch(digits):
            candidates.append(region)
    return bool(candidates) and _valid_in(layout, tuple(candidates))


def _valid_in(number: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def _is_phone(raw: str, after_phone_word: Callable[[], bool] = lambda: False) -> bool:
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
        # An international prefix already says "phone"; ranges not yet allocated still are,
        # as long as the number fits the country's numbering plan.
        return bool(phonenumbers.is_possible_number(parsed)
                    and len(str(parsed.national_number)) >= 7 and _fits_plan(parsed))
    if _NOT_PHONE_SHAPES.match(layout):
        return False
    if not any(c in layout for c in " -./()"):
        return False  # a bare digit string is an identifier far more often than a phone
    if _national_layout(layout, digits):
        return True
    return (8 <= len(digits) <= 11 and _GROUPED.match(layout) is not None
            and not _DATE_OR_DECIMAL.match(layout) and not _THOUSANDS.match(layout)
            and after_phone_word()
            and _valid_somewhere(layout, digits))


def _national_layout(layout: str, digits: str) -> bool:
    # Layouts that say "phone" on their own, checked against the regions that use them.
    if digits.startswith("0"):
        return _valid_in(layout, TRUNK_ZERO_REGIONS)
    if _NANP.match(layout):
        if layout.startswith("(") and _NANP_STRUCTURE.match(digits):
            return True  # (NXX) NXX-XXXX is a NANP number, allocated or not
        return _valid_in(layout, ("US", "CA", "MX"))
    if _BRAZIL.match(layout):
        return _valid_in(layout, ("BR", "MX"))
    if _MEXICO_METRO.match(layout):
        return _valid_in(layout, ("MX",))
    if _INDIA_MOBILE.match(layout):
        return _valid_in(layout, ("IN",))
    if _IBERIAN.match(layout):
        return _valid_in(layout, ("ES", "PT"))
    return False


def find_phones(text: str, clusters: Clusters | None = None) -> list[Detection]:
    """Phone numbers, without `tel:` or extensions; see the module docstring for the rules."""
    out = []
    candidates = (m for pos, endpos in windows(text, clusters, 7)
                  for m in _CANDIDATE.finditer(text, pos, endpos))
    for m in candidates:
        raw = m.group()
        ndigits = sum(map(str.isdigit, raw))
        if ndigits < 7:
            continue
        if _ID_LABEL.search(text, max(0, m.start() - 24), m.start()):
            continue
        if IBAN_HEAD_BEFORE.search(text, max(0, m.start() - 40), m.start()):
            continue
        if (_AMOUNT_BEFORE.search(text, max(0, m.start() - 6), m.start())
                or _AMOUNT_AFTER.match(text, m.end(), m.end() + 12)):
            continue
        start = m.start()

        def after_phone_word(start: int = start) -> bool:
            return _PHONE_WORD.search(text, max(0, start - _PHONE_WORD_WINDOW), start) is not None

        if _is_phone(raw, after_phone_word):
            out.append(Detection("PHONE", m.start(), m.end(), "+" + _digits(raw)
                                 if raw.startswith("+") else _digits(raw)))
    return out
