"""Validators that tell real identifiers from look-alikes: Luhn, IBAN mod-97, SSA rules, card ranges."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import stdnum
from stdnum import iban as _stdnum_iban


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum."""
    total = 0
    parity = len(digits) % 2
    for i, char in enumerate(digits):
        d = ord(char) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_range_ok(digits: str) -> bool:
    """True when the issuer prefix and length fit a real card scheme (Visa, Mastercard, Amex...)."""
    n = len(digits)
    if n < 12 or n > 19:
        return False
    p1 = digits[0]
    p2 = int(digits[:2])
    p3 = int(digits[:3])
    p4 = int(digits[:4])
    if p1 == "4":
        return n in (13, 16, 19)                          # Visa
    if p2 in (34, 37):
        return n == 15                                    # American Express
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16                                    # Mastercard
    if 2200 <= p4 <= 2204:
        return 16 <= n <= 19                              # Mir
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19                              # Diners Club
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19                              # JCB
    if p1 == "6" or p2 == 50 or 56 <= p2 <= 58:
        return 12 <= n <= 19                              # Discover, UnionPay, Maestro, RuPay
    return False


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """True when an SSN could have been issued (SSA: no area 000/666/9xx, group 00, serial 0000)."""
    return (area not in ("000", "666") and area[0] != "9" and group != "00"
            and serial != "0000")


def _iban_lengths() -> dict[str, int]:
    # The SWIFT registry as python-stdnum ships it: `CC country="..." bban="4!n4!n12!c"`.
    lengths = {}
    data = Path(stdnum.__file__).with_name("iban.dat").read_text(encoding="utf-8")
    for line in data.splitlines():
        if not line or line.startswith("#") or 'bban="' not in line:
            continue
        code = line[:2]
        structure = line.split('bban="', 1)[1].split('"', 1)[0]
        total = 4
        for part in structure.split("!")[:-1]:
            digits = "".join(c for c in part if c.isdigit())
            total += int(digits)
        lengths[code] = total
    return lengths


IBAN_LENGTHS: Final[dict[str, int]] = _iban_lengths()


def iban_ok(compact: str) -> bool:
    """True when an upper-case IBAN without separators has a known country, length and mod-97."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    # Country-specific national checks are off: the corpus and real data carry IBANs whose
    # mod-97 is right even when a bank's own check digit is not, and those are still accounts.
    return bool(_stdnum_iban.is_valid(compact, check_country=False))
