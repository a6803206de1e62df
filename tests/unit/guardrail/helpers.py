"""Shared helpers for the guardrail unit tests."""

from __future__ import annotations

from services.guardrail.scanning.detector import detect


def pii(text: str) -> list[tuple[str, str]]:
    """(type, original substring) of every PII detection in `text`."""
    return [(d.type, text[d.start:d.end]) for d in detect(text) if d.category == "pii"]


def kinds(text: str) -> set[str]:
    """The executable kinds detected in `text`."""
    return {d.type for d in detect(text) if d.category == "executable"}
