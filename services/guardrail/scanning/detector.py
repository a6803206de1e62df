"""Run every detector on the normalised text and return detections in original-text offsets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from services.guardrail.scanning.executable import find_executables
from services.guardrail.scanning.normalize import normalize
from services.guardrail.scanning.numbers import Clusters, digit_clusters
from services.guardrail.scanning.phones import find_phones
from services.guardrail.scanning.pii import find_cards, find_emails, find_ibans, find_ips, find_ssns
from services.guardrail.scanning.secrets import find_secrets
from services.guardrail.scanning.types import Detection

# Detectors that only look where digit clusters are.
NUMBER_DETECTORS: Final[tuple[Callable[[str, Clusters], list[Detection]], ...]] = (
    find_cards, find_ssns, find_ips, find_phones)
# When two PII spans overlap, the more specific type wins: a secret's digits are not a phone, an
# IBAN's digits are not a card, a card is not a phone.
_PRIORITY: Final = {"API_SECRET": 0, "EMAIL": 1, "IBAN": 2, "CREDIT_CARD": 3, "US_SSN": 4,
                    "IP_ADDRESS": 5, "PHONE": 6}


def _resolve_overlaps(detections: list[Detection]) -> list[Detection]:
    ranked = sorted(detections, key=lambda d: (_PRIORITY.get(d.type, 9), d.start - d.end, d.start))
    kept: list[Detection] = []
    for d in ranked:
        if all(d.end <= k.start or d.start >= k.end for k in kept):
            kept.append(d)
    kept.sort(key=lambda d: (d.start, d.end))
    return kept


def detect(text: str) -> list[Detection]:
    """Every PII value and executable payload in `text`, offsets into `text`, sorted by start."""
    norm = normalize(text)
    normalized = norm.text
    pii: list[Detection] = find_secrets(normalized)
    pii.extend(find_emails(normalized))
    clusters = digit_clusters(normalized)
    pii.extend(find_ibans(normalized, clusters))
    for detector in NUMBER_DETECTORS:
        pii.extend(detector(normalized, clusters))
    # Most texts have at most one PII value: nothing to resolve, one list less.
    found = _resolve_overlaps(pii) if len(pii) > 1 else pii
    executables = find_executables(normalized)
    if executables:
        seen: set[tuple[str, int, int]] = set()
        for d in executables:
            key = (d.type, d.start, d.end)
            if key not in seen:
                seen.add(key)
                found.append(d)
    if not found:
        return found
    if norm.changed:
        mapped = []
        for d in found:
            start, end = norm.to_original(d.start, d.end)
            mapped.append(Detection(d.type, start, end, d.value))
        found = mapped
    if len(found) > 1:
        found.sort(key=lambda d: (d.start, d.end))
    return found
