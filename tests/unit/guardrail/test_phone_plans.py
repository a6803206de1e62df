"""Phones: numbering-plan structure for international numbers, national layouts, phone words."""

from __future__ import annotations

import pytest

from tests.unit.guardrail.helpers import pii


def _phones(text: str) -> list[str]:
    return [value for type_, value in pii(text) if type_ == "PHONE"]


@pytest.mark.parametrize("text", [
    # NANP: neither the area code nor the exchange may start with 0 or 1.
    "Escalations go to +1 (115) 420-7781 after hours.",
    "Fax +1 (087) 355-2019 is listed on the form.",
    "Backup line +1 213 055 1234 per the vendor sheet.",
    "Our desk (118) 540-2290 takes walk-ins.",
    # Outside the country's numbering plan.
    "Leeds office +44 055 812 3344 (typo in the brochure).",
    "Dial +33 0 00 00 00 00 for nothing.",
])
def test_numbers_outside_the_plan_are_not_phones(text: str) -> None:
    assert _phones(text) == []


@pytest.mark.parametrize(("text", "value"), [
    # Well formed in the plan, even if the range is not allocated yet.
    ("Call +1 (659) 224-8170 for the depot.", "+1 (659) 224-8170"),
    ("New trunk +1 472 318 5560 goes live Monday.", "+1 472 318 5560"),
    ("Cardiff switchboard +44 29 2018 0744 closes at six.", "+44 29 2018 0744"),
])
def test_numbers_inside_the_plan_are_phones(text: str, value: str) -> None:
    assert _phones(text) == [value]


@pytest.mark.parametrize(("text", "value"), [
    # National layouts that say "phone" on their own.
    ("Oficina de Sevilla: 954.21.33.80", "954.21.33.80"),
    ("Monterrey branch 818.347.2290 handles returns.", "818.347.2290"),
    ("Guadalajara desk 33 3615 8742 opens at nine.", "33 3615 8742"),
    ("Wide digits \uff18\uff11\uff18 \uff13\uff14\uff17 \uff12\uff12\uff19\uff10 in the signature",
     "\uff18\uff11\uff18 \uff13\uff14\uff17 \uff12\uff12\uff19\uff10"),
    # Any valid national layout right after a phone word, line breaks included.
    ("Text Priya on 9123\n4567 when you land.", "9123\n4567"),
    ("Handy: 0171 445 2290", "0171 445 2290"),
    ("Lisboa, tel. 213 590 442 (recepção)", "213 590 442"),
    ("Telemóvel 936 218 404, ligue depois das 18h.", "936 218 404"),
    ("WhatsApp 6317 2245 if the door is locked.", "6317 2245"),
])
def test_national_layouts(text: str, value: str) -> None:
    assert _phones(text) == [value]


@pytest.mark.parametrize("text", [
    # Identifiers, dates, times and amounts, with or without a phone word nearby.
    "Call about order 9123 4567 before Friday.",
    "Phone the carrier: tracking number 6317 2245 9011.",
    "We called on 2024.03.18 12.40.05 and again later.",
    "The call at 1716549002 timed out.",
    "Call duration 1716549002.215 s in the log.",
    "Revenue rose to 936 218 404 EUR.",
    "Ring the bell; ISBN 978 1 4028 9462 6 is on the spine.",
    "Contact us about invoice 818.347.2290 today.",
    "Server 10.20.30.40 answered the ping.",
    "The number of sessions hit 12 345 678 yesterday.",
    "The call centre answered 45 678 901 calls in 2023.",
    "Text me the code 4829 1173 when it arrives.",
])
def test_not_phones(text: str) -> None:
    assert _phones(text) == []
