"""The vocabulary of the scanner: PII types, executable kinds, actions and what a scan returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

PII_TYPES: Final = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "API_SECRET")
EXEC_KINDS: Final = ("shell", "python", "sql_injection", "powershell", "encoded", "prompt_injection")
ACTIONS: Final = ("allow", "redact", "block")
CATEGORIES: Final = ("pii", "executable")

Category = Literal["pii", "executable"]
Action = Literal["allow", "redact", "block"]
Decision = Literal["allowed", "redacted", "blocked"]


def category_of(type_: str) -> Category:
    """The category ("pii" or "executable") a finding type belongs to."""
    return "pii" if type_ in PII_TYPES else "executable"


@dataclass(frozen=True, slots=True)
class Detection:
    """Something a detector found, before any policy: a type and half-open code-point offsets."""

    type: str
    start: int
    end: int
    # A canonical form of the value (digits only, lower-cased e-mail...), so that one value
    # written two ways gets one placeholder.
    value: str = ""

    @property
    def category(self) -> Category:
        """Whether this is PII or an executable payload."""
        return category_of(self.type)


@dataclass(frozen=True, slots=True)
class Finding:
    """A detection with the policy's action applied; offsets index the original text."""

    type: str
    category: Category
    start: int
    end: int
    action: Action
    placeholder: str = ""

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view."""
        return {"type": self.type, "category": self.category, "start": self.start,
                "end": self.end, "action": self.action, "placeholder": self.placeholder}


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What scanning one text gave: findings, the redacted text and the overall decision."""

    text: str
    findings: tuple[Finding, ...] = ()
    redacted: str = ""
    decision: Decision = "allowed"
    reasons: tuple[str, ...] = field(default=())

    @property
    def blocked(self) -> bool:
        """True when at least one finding's action is block."""
        return self.decision == "blocked"
