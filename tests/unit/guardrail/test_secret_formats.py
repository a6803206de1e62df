"""Vendor secret formats recognised by their structure, and e-mails spelled with dashes or words."""

from __future__ import annotations

import base64
import random
import string

import pytest

from tests.unit.guardrail.helpers import pii

_RNG = random.Random(20240611)


def _rand(alphabet: str, n: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_B64_KEY = base64.b64encode(bytes(_RNG.randrange(256) for _ in range(64))).decode()
_SAS_SIG = base64.b64encode(bytes(_RNG.randrange(256) for _ in range(32))).decode().replace("=", "%3D")

_TOKENS = [
    f"pypi-AgEIcHlwaS5vcmc{_rand(_ALNUM, 60)}",
    f"HRKU-{_rand(_ALNUM, 40)}",
    f"key-{_rand(_HEX, 32)}",
    f"dop_v1_{_rand(_HEX, 64)}",
    f"hvs.{_rand(_ALNUM, 90)}",
    f"ATATT3xFfGF0{_rand(_ALNUM, 150)}",
    f"glrt-{_rand(_ALNUM, 20)}",
    f"shpat_{_rand(_HEX, 32)}",
    f"sq0atp-{_rand(_ALNUM, 22)}",
    f"https://discord.com/api/webhooks/112233445566778899/{_rand(_ALNUM, 68)}",
    f"{_rand('0123456789', 10)}:AA{_rand(_ALNUM, 33)}",
    f"GOCSPX-{_rand(_ALNUM, 28)}",
    f"PMAK-{_rand(_HEX, 24)}-{_rand(_HEX, 34)}",
    f"dapi{_rand(_HEX, 32)}",
    f"lin_api_{_rand(_ALNUM, 40)}",
    f"{_rand(_HEX, 32)}-us14",
    f"npm_{_rand(_ALNUM, 36)}",
    f"SG.{_rand(_ALNUM, 22)}.{_rand(_ALNUM, 43)}",
]


@pytest.mark.parametrize("token", _TOKENS)
def test_vendor_token_is_one_secret_span(token: str) -> None:
    text = f"Leaked in the build log on Tuesday: {token} (rotated since)."
    assert pii(text) == [("API_SECRET", token)]


def test_azure_connection_string_marks_the_key_only() -> None:
    text = ("DefaultEndpointsProtocol=https;AccountName=stcontoso;"
            f"AccountKey={_B64_KEY};EndpointSuffix=core.windows.net")
    assert pii(text) == [("API_SECRET", _B64_KEY)]


def test_sas_token_marks_the_signature() -> None:
    text = (f"https://stcontoso.blob.core.windows.net/c/a.csv?sv=2022-11-02&ss=b&srt=o&sp=r"
            f"&se=2025-01-01T00:00:00Z&sig={_SAS_SIG}")
    assert pii(text) == [("API_SECRET", _SAS_SIG)]


def test_gcp_service_account_key_id() -> None:
    key_id = _rand(_HEX, 40)
    text = f'{{"type": "service_account", "private_key_id": "{key_id}", "client_email": "x"}}'
    assert ("API_SECRET", key_id) in pii(text)


@pytest.mark.parametrize("text", [
    "the key-value store keeps key-0123 entries",
    "Our Discord server token system uses roles, see docs.",
    "sig=pending review by the board",
    "AccountKey=<your-storage-key>",
    "Use hvs. tokens from Vault, never root tokens.",
    "build 1234567890:AAA failed",
])
def test_secret_look_alikes(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "API_SECRET"] == []


@pytest.mark.parametrize(("text", "email"), [
    ("write to maria.lopez -at- uni-example -dot- edu for the dataset",
     "maria.lopez -at- uni-example -dot- edu"),
    ("contact: jdoe<at>example<dot>com", "jdoe<at>example<dot>com"),
    ("reach me at kpatel AT example DOT org please", "kpatel AT example DOT org"),
    ("mail b.chen-at-lab.example.net", "b.chen-at-lab.example.net"),
])
def test_spelled_out_email(text: str, email: str) -> None:
    assert ("EMAIL", email) in pii(text)


@pytest.mark.parametrize("text", [
    "data-at-rest encryption is on",
    "meet me at the station dot five",
    "state-at-exit is logged",
])
def test_email_look_alikes(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "EMAIL"] == []
