"""API secrets: vendor tokens, JWTs, PEM keys, AWS pairs and high-entropy assignments."""

from __future__ import annotations

import pytest

from services.guardrail.scanning.secrets import looks_random, shannon_entropy
from tests.unit.guardrail.helpers import pii

_JWT = ("eyJhbGciOiJFUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJhY21lIiwic3ViIjoiMTIzIn0."
        "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ")


@pytest.mark.parametrize(("text", "value"), [
    ("export GH_TOKEN=ghs_Zq81mXn2Lk93JdPq0aWe7RtYu6IoP5AsDfGh", "ghs_Zq81mXn2Lk93JdPq0aWe7RtYu6IoP5AsDfGh"),
    ("token glpat-Xk3mP9qR2sT7vW1yZ4bC in CI", "glpat-Xk3mP9qR2sT7vW1yZ4bC"),
    ("Slack bot: xoxb-2048-4096-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-2048-4096-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("stripe test key sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("OPENAI_API_KEY=sk-proj-Q2w3E4r5T6y7U8i9O0pA1sD2fG3hJ4kL", "sk-proj-Q2w3E4r5T6y7U8i9O0pA1sD2fG3hJ4kL"),
    ("anthropic sk-ant-api03-AbCdEf012345GhIjKl678901MnOp", "sk-ant-api03-AbCdEf012345GhIjKl678901MnOp"),
    ("maps key AIzaSyD3x4mPl3K3y0nlyF0rT3st1ng12345678 leaked",
     "AIzaSyD3x4mPl3K3y0nlyF0rT3st1ng12345678"),
    ("hf token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    (f"Cookie: session={_JWT}; Path=/", _JWT),
    ("db_password = 'Tr0ub4dor&3-horse!Staple'", "Tr0ub4dor&3-horse!Staple"),
    ('"client_secret": "9sKd02mXq7LzP4tR8vBn1cWy"', "9sKd02mXq7LzP4tR8vBn1cWy"),
    ("Authorization: Bearer a8F3kL0pQ9zX2mN7vB4cR6tY1uI5oP", "a8F3kL0pQ9zX2mN7vB4cR6tY1uI5oP"),
    ("s\u200bk_live_51HxYzAbCdEfGhIjKlMnOp hidden", "s\u200bk_live_51HxYzAbCdEfGhIjKlMnOp"),
])
def test_secret_found(text: str, value: str) -> None:
    assert pii(text) == [("API_SECRET", value)]


def test_aws_pair_is_two_spans() -> None:
    text = ("creds: AKIAZ7QW3ERT5YUI8OPA with secret "
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY in ~/.aws")
    assert pii(text) == [("API_SECRET", "AKIAZ7QW3ERT5YUI8OPA"),
                         ("API_SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]


def test_aws_secret_by_its_name_alone() -> None:
    text = "SecretAccessKey: Zx9Lm2Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8V"
    assert pii(text) == [("API_SECRET", "Zx9Lm2Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8V")]


def test_pem_private_key_is_one_span() -> None:
    key = ("-----BEGIN EC PRIVATE KEY-----\n"
           "MHcCAQEEIBk3S2x9Qw1Z8mA+u7Pq0rT5yV6bN4cX2dF1gH3jK8lMoAoGCCqGSM49\n"
           "AwEHoUQDQgAE0mP9q/w==\n-----END EC PRIVATE KEY-----")
    text = f"Attached by mistake:\n{key}\nplease rotate."
    assert pii(text) == [("API_SECRET", key)]


@pytest.mark.parametrize("text", [
    "Trace id 4bf92f3577b34da6a3ce929d0e0e4736 correlates the spans.",
    "Request 550e8400-e29b-41d4-a716-446655440000 timed out.",
    "Merged 9fceb02d0ae598e95dc970b74767f19372d61af8 into main.",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "token = os.environ['SERVICE_TOKEN']",
    "password: ${DB_PASSWORD}",
    "api_key: <your-api-key-here>",
    "The secret is to keep the batch small.",
    "Authorization header must be set to a bearer token.",
    "Rotate the public key ssh-ed25519 comment only.",
    "The pk_live publishable keys are public by design.",
    "Base64 of a greeting: SGVsbG8sIHdvcmxkIQ==",
])
def test_not_a_secret(text: str) -> None:
    assert [t for t, _ in pii(text) if t == "API_SECRET"] == []


def test_entropy_and_randomness() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert looks_random("q8ZkP2mN7vR4tY1wX6cB3nM9")
    assert not looks_random("passwordpassword")
    assert not looks_random("550e8400-e29b-41d4-a716-446655440000")
