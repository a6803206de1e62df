"""Phone numbers: real numbering plans, without prefixes like tel: or extensions."""

from __future__ import annotations

import pytest

from tests.unit.guardrail.helpers import pii


@pytest.mark.parametrize(("text", "value"), [
    ("Call the Madrid office on +34 915 23 45 67 tomorrow.", "+34 915 23 45 67"),
    ("Her number is +61 2 9374 4000.", "+61 2 9374 4000"),
    ("Rome desk: +39 06 4991 2345", "+39 06 4991 2345"),
    ("Osaka +81 6-6345-1234 answered", "+81 6-6345-1234"),
    ("Support line 0044 20 7946 0018 (from abroad)", "0044 20 7946 0018"),
    ("Dial tel:+44 161 496 0000 now", "+44 161 496 0000"),
    ("Main line +1 212 555 0198 ext. 42", "+1 212 555 0198"),
    ("Ring (212) 736-5000 before noon", "(212) 736-5000"),
    ("Cell: 646.555.0142", "646.555.0142"),
    ("Leeds landline 0113 496 0000 is staffed", "0113 496 0000"),
    ("Hamburg: 040 4289 1234", "040 4289 1234"),
    ("Lyon: 04 72 10 30 30", "04 72 10 30 30"),
    ("Bengaluru 080-4112 3456 desk", "080-4112 3456"),
    ("Recife (81) 99123-4567 courier", "(81) 99123-4567"),
    ("Mobile 98450 12345 (India)", "98450 12345"),
    ("Madrid mobile 612 34 56 78", "612 34 56 78"),
    ("Number +49 30\n1234 5678 split by a line break", "+49 30\n1234 5678"),
    ("Hidden +33\u200b6 12 34\u200d56 78 in text", "+33\u200b6 12 34\u200d56 78"),
    ("Wide \uff10\uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff10\uff11\uff18",
     "\uff10\uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff10\uff11\uff18"),
])
def test_phone_found(text: str, value: str) -> None:
    assert pii(text) == [("PHONE", value)]


@pytest.mark.parametrize("text", [
    "The meeting moved to 2024-11-05 at 14:30.",
    "Delivered on 05.11.2024 to the depot.",
    "Order 0161 496 0000 was cancelled.",                   # labelled as an order
    "Invoice no. 040 4289 1234 is overdue.",
    "Part RX-212-736-5000 is on backorder.",                # glued to a part prefix
    "Population grew by 1 234 567 people.",
    "Scores were 12 34 56 and 78.",
    "Build 20241105 1234 finished.",
    "Coordinates 48.8584, 2.2945 mark the tower.",
    "Version 10.0.19045.3693 is installed.",
    "We sold 300 400 500 units.",
    "Wire to NL91 ABNA 0417 1643 00 today.",                 # an IBAN's digits
])
def test_not_a_phone(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "PHONE"] == []
