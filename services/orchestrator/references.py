"""`${...}` references in step inputs: finding them (to validate a definition) and resolving them.

A string that is exactly one reference (`"${steps.research.output}"`) takes the referenced value with
its structure (a mapping stays a mapping); a reference inside longer text is rendered as text. `$${`
writes a literal `${`. A trailing `?` makes a reference optional: when the saga input has no `note`,
`note: ${saga.input.note?}` leaves the key out (null in a list, empty inside text) instead of failing
the step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from services.orchestrator.errors import UnresolvedReferenceError
from services.orchestrator.record import json_copy

# Group 1 is set for the `$${...}` escape; group 2 is the dotted path.
_REFERENCE = re.compile(r"\$(\$)?\{([^{}]*)\}")
_WHOLE = re.compile(r"\$\{([^{}]*)\}")
_PART = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_-]*|[0-9]+)$")


@dataclass(frozen=True)
class Reference:
    """One `${a.b.c}` found in a template: its text and its dotted parts."""

    text: str
    parts: tuple[str, ...]


def is_optional(expression: str) -> bool:
    """Whether a reference ends in `?` (missing values resolve to null)."""
    return expression.strip().endswith("?")


def parse_path(expression: str) -> tuple[str, ...]:
    """Split `a.b.0.c` (or `a.b?`) into parts; raise ValueError with the reason when it is malformed."""
    stripped = expression.strip().removesuffix("?")
    if not stripped:
        raise ValueError("empty reference ${}")
    parts = tuple(stripped.split("."))
    for part in parts:
        if not _PART.match(part):
            raise ValueError(
                f"malformed reference ${{{expression}}}: each dotted part must be a name or an index")
    return parts


def find_references(template: Any) -> Iterator[Reference]:
    """Yield every reference in a template (strings, mappings and lists, walked in order)."""
    if isinstance(template, str):
        for match in _REFERENCE.finditer(template):
            if match.group(1) is None:
                yield Reference(match.group(0), _parts_or_raw(match.group(2)))
    elif isinstance(template, Mapping):
        for key, value in template.items():
            yield from find_references(key)
            yield from find_references(value)
    elif isinstance(template, list | tuple):
        for item in template:
            yield from find_references(item)


def _parts_or_raw(expression: str) -> tuple[str, ...]:
    # Validation reports malformed paths; here we only need something to point at.
    try:
        return parse_path(expression)
    except ValueError:
        return (expression,)


class _Missing:
    """An optional reference whose value is absent: a mapping leaves the key out."""


_MISSING = _Missing()


def resolve(template: Any, context: Mapping[str, Any]) -> Any:
    """Return a copy of `template` with every reference replaced by its value from `context`."""
    value = _resolve(template, context)
    return None if value is _MISSING else value


def _resolve(template: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        return _resolve_string(template, context)
    if isinstance(template, Mapping):
        resolved = {
            str(_resolve_string(k, context) if isinstance(k, str) else k): _resolve(v, context)
            for k, v in template.items()
        }
        return {k: v for k, v in resolved.items() if v is not _MISSING}
    if isinstance(template, list | tuple):
        return [resolve(item, context) for item in template]
    return template


def lookup(parts: tuple[str, ...], context: Mapping[str, Any]) -> Any:
    """Follow dotted parts into nested mappings and lists; raise UnresolvedReferenceError if absent."""
    value: Any = context
    for depth, part in enumerate(parts):
        here = "${" + ".".join(parts) + "}"
        if isinstance(value, Mapping):
            if part not in value:
                walked = ".".join(parts[:depth]) or "the context"
                raise UnresolvedReferenceError(
                    f"{here}: {walked} has no key {part!r}"
                    + (f" (it has: {', '.join(sorted(map(str, value)))})" if value else ""))
            value = value[part]
        elif isinstance(value, list) and part.isdigit():
            if int(part) >= len(value):
                raise UnresolvedReferenceError(
                    f"{here}: index {part} is out of range (the list has {len(value)} items)")
            value = value[int(part)]
        elif value is None:
            raise UnresolvedReferenceError(
                f"{here}: {'.'.join(parts[:depth])} is null (the step produced no output?)")
        else:
            raise UnresolvedReferenceError(
                f"{here}: cannot take {part!r} of a {type(value).__name__}")
    return json_copy(value)


def _resolve_string(text: str, context: Mapping[str, Any]) -> Any:
    whole = _WHOLE.fullmatch(text)
    if whole:
        return _value(whole.group(1), context)

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "${" + match.group(2) + "}"
        value = _value(match.group(2), context)
        return "" if value is _MISSING else render(value)

    return _REFERENCE.sub(replace, text)


def _value(expression: str, context: Mapping[str, Any]) -> Any:
    try:
        return lookup(_checked_path(expression), context)
    except UnresolvedReferenceError:
        if is_optional(expression):
            return _MISSING
        raise


def _checked_path(expression: str) -> tuple[str, ...]:
    try:
        return parse_path(expression)
    except ValueError as exc:
        raise UnresolvedReferenceError(str(exc)) from exc


def render(value: Any) -> str:
    """Text of a value embedded in a longer string: JSON for structures, `3` for the float 3.0."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    # Struct turns every number into a float; 3.0 reads better as 3 inside text.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
